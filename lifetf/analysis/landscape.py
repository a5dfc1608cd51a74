"""Loss-landscape tools: symmetries, aligned walks between networks, barriers, Hessians, saddles.

A network is a weight list [kernel0, bias0, kernel1, ...] for a tuple of
:class:`~lifetf.nets.models.LayerSpec`. Hidden units of ReLU and LeakyReLU networks can be permuted
and positively rescaled without changing the function; :func:`align` removes both symmetries
(a canonical rescaling plus weight matching as in Ainsworth et al., "Git Re-Basin") so that a
straight walk between two networks shows barriers of the landscape, not of the symmetry.
:func:`walks` evaluates many interpolation points at once as members of an
:class:`~lifetf.nets.ensemble.Ensemble`; :func:`hessian` and :func:`find_critical_points` examine
tiny networks exactly with float64 autodiff on the current Keras backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
from scipy.optimize import linear_sum_assignment

from lifetf.nets.backends import current
from lifetf.nets.models import OUTPUTS, LayerSpec, clamp, keras_activation
from lifetf.nets.train import cell_losses

Weights = list[np.ndarray]

ZERO_NORM = 1e-8  # a hidden unit whose incoming norm is at most this is left unscaled
HOMOGENEOUS = ("relu", "leaky_relu", "linear")  # act(c z) = c act(z) for c > 0
WALK_MEMORY_BYTES = 384 * 2**20  # activation budget of one evaluation batch in walks()
MAX_HESSIAN_PARAMS = 4000  # a dense float64 Hessian of this size takes 128 MB
EIGEN_RTOL, EIGEN_ATOL = 1e-6, 1e-9  # |eigenvalue| <= rtol * max|eigenvalue| + atol is flat


# --- weight lists ---------------------------------------------------------------------------


def _shapes(layers: Sequence[LayerSpec]) -> list[tuple[int, ...]]:
    """Expected shapes [kernel0, bias0, ...] of a network description's weight list."""
    return [
        shape
        for s in layers
        for shape in ((s.kernel, s.kernel, s.cin, s.cout), (s.cout,))
    ]


def check_weights(
    layers: Sequence[LayerSpec], weights: Sequence[np.ndarray], name: str = "weights"
) -> None:
    """Raise ValueError unless ``weights`` has exactly the shapes that ``layers`` needs."""
    expected = _shapes(layers)
    if len(weights) != len(expected):
        raise ValueError(
            f"{name} hold {len(weights)} arrays but the {len(layers)} layers need {len(expected)}"
        )
    for i, (w, shape) in enumerate(zip(weights, expected, strict=True)):
        if tuple(np.shape(w)) != shape:
            raise ValueError(f"{name}[{i}] has shape {tuple(np.shape(w))}, expected {shape}")


def _check_same_shapes(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> None:
    if len(a) != len(b):
        raise ValueError(f"weight lists differ in length: {len(a)} and {len(b)} arrays")
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if np.shape(x) != np.shape(y):
            raise ValueError(f"weights[{i}] differ in shape: {np.shape(x)} and {np.shape(y)}")


def flatten(weights: Sequence[np.ndarray]) -> np.ndarray:
    """All parameters of a weight list as one float64 vector (C order, list order)."""
    if len(weights) == 0:
        return np.zeros(0)
    return np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights])


def unflatten(vector: np.ndarray, like: Sequence[np.ndarray]) -> Weights:
    """Split a flat vector into float32 arrays shaped like ``like`` (the inverse of flatten)."""
    vector = np.asarray(vector)
    sizes = [int(np.size(w)) for w in like]
    if vector.ndim != 1 or vector.size != sum(sizes):
        raise ValueError(
            f"vector of shape {vector.shape} does not fit weights holding {sum(sizes)} parameters"
        )
    parts = np.split(vector, np.cumsum(sizes)[:-1])
    return [p.reshape(np.shape(w)).astype(np.float32) for p, w in zip(parts, like, strict=True)]


def distance(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """Euclidean distance between two weight lists in parameter space."""
    _check_same_shapes(a, b)
    return float(np.linalg.norm(flatten(a) - flatten(b)))


# --- symmetries -----------------------------------------------------------------------------


def _hidden_layers(layers: Sequence[LayerSpec]) -> range:
    """Indices of the layers whose output channels are hidden units (all but the last)."""
    for i, spec in enumerate(layers[:-1]):
        if spec.activation not in HOMOGENEOUS:
            raise ValueError(f"layer {i} has activation {spec.activation!r}, which is not "
                             f"positively homogeneous ({', '.join(HOMOGENEOUS)})")
    return range(len(layers) - 1)


def _incoming(weights: Sequence[np.ndarray], layer: int) -> np.ndarray:
    """(cout, k*k*cin + 1): each unit's kernel slice and bias, one row per unit."""
    kernel, bias = weights[2 * layer], weights[2 * layer + 1]
    return np.concatenate([np.reshape(kernel, (-1, kernel.shape[-1])).T, bias[:, None]], axis=1)


def _outgoing(weights: Sequence[np.ndarray], layer: int) -> np.ndarray:
    """(cout, k*k*cout_next): each unit's weights in the next layer's kernel, one row per unit."""
    nxt = np.moveaxis(np.asarray(weights[2 * layer + 2]), 2, 0)
    return nxt.reshape(nxt.shape[0], -1)


def rescale(layers: Sequence[LayerSpec], weights: Sequence[np.ndarray]) -> Weights:
    """Canonical rescaling: every hidden unit's incoming weights and bias get unit L2 norm.

    Each unit's outgoing weights are multiplied by its old norm, so the function is unchanged
    (ReLU and LeakyReLU are positively homogeneous). Layers go in order, so a layer's norms
    include the scaling passed on from the layer before. Units of norm <= ZERO_NORM stay as they
    are.
    """
    check_weights(layers, weights)
    out = [np.asarray(w, dtype=np.float64).copy() for w in weights]
    for layer in _hidden_layers(layers):
        norms = np.linalg.norm(_incoming(out, layer), axis=1)
        scale = np.where(norms > ZERO_NORM, norms, 1.0)
        out[2 * layer] /= scale
        out[2 * layer + 1] /= scale
        out[2 * layer + 2] *= scale[None, None, :, None]
    return [w.astype(np.float32) for w in out]


def permute(
    layers: Sequence[LayerSpec], weights: Sequence[np.ndarray], layer_index: int, perm
) -> Weights:
    """Reorder hidden layer ``layer_index``'s units: new unit j is old unit perm[j].

    The next layer's input channels are reordered to match, so the function is unchanged.
    """
    check_weights(layers, weights)
    hidden = _hidden_layers(layers)
    if layer_index not in hidden:
        raise ValueError(
            f"layer_index {layer_index!r} is not a hidden layer (0..{len(hidden) - 1})"
        )
    perm = np.asarray(perm)
    cout = layers[layer_index].cout
    if perm.shape != (cout,) or not np.array_equal(np.sort(perm), np.arange(cout)):
        raise ValueError(f"perm {perm.tolist()!r} is not a permutation of the {cout} units "
                         f"of layer {layer_index}")
    out = [np.array(w) for w in weights]
    out[2 * layer_index] = out[2 * layer_index][..., perm]
    out[2 * layer_index + 1] = out[2 * layer_index + 1][perm]
    out[2 * layer_index + 2] = out[2 * layer_index + 2][:, :, perm, :]
    return out


def _match(reference: Sequence[np.ndarray], other: Sequence[np.ndarray], layer: int,
           outgoing: bool) -> np.ndarray:
    """The permutation of other's units in ``layer`` that maximises the summed similarity."""
    similarity = _incoming(reference, layer) @ _incoming(other, layer).T
    if outgoing:
        similarity += _outgoing(reference, layer) @ _outgoing(other, layer).T
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    return cols[np.argsort(rows)]


def align(
    layers: Sequence[LayerSpec],
    reference: Sequence[np.ndarray],
    other: Sequence[np.ndarray],
    sweeps: int = 5,
) -> tuple[Weights, Weights]:
    """(reference, other) in canonical scale, other's units permuted to lie close to reference.

    Weight matching as in Git Re-Basin: one forward pass matching incoming weights only (exact
    for a permuted copy), then up to ``sweeps`` coordinate-descent sweeps over the hidden layers,
    each a linear assignment on incoming plus outgoing similarities, until nothing changes.
    Both results compute the same functions as the inputs.
    """
    check_weights(layers, reference, "reference")
    check_weights(layers, other, "other")
    if isinstance(sweeps, bool) or not isinstance(sweeps, int | np.integer) or sweeps < 0:
        raise ValueError(f"sweeps must be a non-negative integer, got {sweeps!r}")
    ref = rescale(layers, reference)
    aligned = rescale(layers, other)
    hidden = _hidden_layers(layers)
    for layer in hidden:
        aligned = permute(layers, aligned, layer, _match(ref, aligned, layer, outgoing=False))
    for _ in range(sweeps):
        changed = False
        for layer in hidden:
            perm = _match(ref, aligned, layer, outgoing=True)
            if not np.array_equal(perm, np.arange(perm.size)):
                aligned = permute(layers, aligned, layer, perm)
                changed = True
        if not changed:
            break
    return ref, aligned


def match_scales(
    layers: Sequence[LayerSpec], reference: Sequence[np.ndarray], other: Sequence[np.ndarray]
) -> Weights:
    """``other`` rescaled unit by unit so that its incoming norms equal ``reference``'s.

    Layers go in order and outgoing weights compensate, so the function is unchanged; units of
    (near-)zero norm in either network keep their scale.
    """
    check_weights(layers, reference, "reference")
    check_weights(layers, other, "other")
    out = [np.asarray(w, dtype=np.float64).copy() for w in other]
    for layer in _hidden_layers(layers):
        wanted = np.linalg.norm(_incoming(reference, layer), axis=1)
        have = np.linalg.norm(_incoming(out, layer), axis=1)
        usable = (wanted > ZERO_NORM) & (have > ZERO_NORM)
        scale = np.where(usable, wanted / np.where(usable, have, 1.0), 1.0)
        out[2 * layer] *= scale
        out[2 * layer + 1] *= scale
        out[2 * layer + 2] /= scale[None, None, :, None]
    return [w.astype(np.float32) for w in out]


def align_to(
    layers: Sequence[LayerSpec], reference: Sequence[np.ndarray], other: Sequence[np.ndarray]
) -> Weights:
    """``other`` permuted (as :func:`align`) and rescaled to ``reference``'s unit norms.

    The reference stays as it is, so a walk from it to the result starts at the same network
    as the raw walk; only the symmetries of the other end are taken out.
    """
    _, aligned = align(layers, reference, other)
    return match_scales(layers, reference, aligned)


def aligned_distance(
    layers: Sequence[LayerSpec], a: Sequence[np.ndarray], b: Sequence[np.ndarray]
) -> float:
    """Parameter distance between ``a`` and ``b`` once both symmetries are taken out."""
    ref, aligned = align(layers, a, b)
    return distance(ref, aligned)


# --- walks and barriers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Walk:
    """Loss and errors at equally spaced points of the straight line from end a to end b."""

    alphas: np.ndarray  # (points,) from 0 (end a) to 1 (end b)
    distance: np.ndarray  # (points,) Euclidean distance from end a in parameter space
    loss: np.ndarray  # (points,) mean BCE per cell on the evaluation boards
    board_error: np.ndarray  # (points,) share of boards not entirely right (outputs > 0.5 alive)
    cell_error: np.ndarray  # (points,) share of cells wrong


@dataclass(frozen=True)
class Barrier:
    """How far a curve rises above its ends: over the chord, and over the ends' mean."""

    over_line: float  # max over points of value(t) - ((1-t) value(0) + t value(1)); >= 0
    over_mean: float  # max(value) - (value(0) + value(1)) / 2; >= 0
    peak_at: float  # t of the maximum of value(t) - line


def _check_boards(boards: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    boards, targets = np.asarray(boards), np.asarray(targets)
    if boards.ndim != 3 or boards.shape[0] < 1:
        raise ValueError(f"boards must have shape (N, H, W) with N >= 1, got {boards.shape}")
    if targets.shape != boards.shape:
        raise ValueError(f"targets have shape {targets.shape}, boards {boards.shape}")
    return boards.astype(np.float32), targets.astype(np.float32)


def _check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}: expected one of {', '.join(OUTPUTS)}")
    return output


def _check_count(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return int(value)


def _member_floats_per_cell(layers: Sequence[LayerSpec]) -> int:
    """Rough float32 values one member keeps per board cell while evaluating (all layers)."""
    per_layer = sum(2 * s.kernel**2 * s.cin + 3 * s.cout for s in layers)
    return per_layer + 8  # boards, targets, losses and error masks


def _make_scorer(ensemble):
    """A compiled (params, boards, targets) -> per-member sums of losses, wrong cells and boards."""
    from keras import ops

    def score(params, boards, targets):
        shape = (ensemble.members, *ops.shape(boards))
        stacked = ops.broadcast_to(boards, shape)
        full_targets = ops.broadcast_to(targets, shape)
        logits = ensemble.apply(params, stacked)
        losses = cell_losses(ensemble.output_kind, full_targets, logits, ensemble.activate)
        wrong = ops.not_equal(ensemble.activate(logits) > 0.5, full_targets > 0.5)
        # the sums are exact in float32 for wrong cells; the loss sums are summed per board
        # first, so that a long running sum does not drift
        per_board = ops.sum(losses, axis=(2, 3))
        return (
            ops.sum(per_board, axis=1),
            ops.sum(ops.cast(wrong, "float32"), axis=(1, 2, 3)),
            ops.sum(ops.cast(ops.any(wrong, axis=(2, 3)), "float32"), axis=1),
        )

    return current().compile(score)


def evaluate_members(
    layers: Sequence[LayerSpec],
    output: str,
    members: Sequence[Sequence[np.ndarray]],
    boards: np.ndarray,
    targets: np.ndarray,
    max_members: int = 512,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean BCE per cell, share of wrong boards and of wrong cells of each network, (M,) each.

    Networks run as members of one Ensemble (chunks of at most ``max_members``, the last padded)
    over batches of boards sized to keep activations within WALK_MEMORY_BYTES; a network whose
    output sees one 3x3 window is scored on the 512 windows, weighted by how often each occurs
    on 0/1 boards (the same sums, rounded differently).
    """
    from lifetf.nets.ensemble import Ensemble

    _check_output(output)
    boards, targets = _check_boards(boards, targets)
    max_members = _check_count("max_members", max_members, 1)
    for i, net in enumerate(members):
        check_weights(layers, net, f"members[{i}]")
    if not members:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    n, h, w = boards.shape
    chunks = math.ceil(len(members) / max_members)
    size = math.ceil(len(members) / chunks)
    ensemble = Ensemble(tuple(layers), output, size)
    if ensemble.one_window and _binary(boards) and _binary(targets):
        sums = _window_sums(ensemble, members, _window_counts(boards, targets))
    else:
        sums = _cell_sums(ensemble, members, boards, targets)
    return sums[0] / (n * h * w), sums[2] / n, sums[1] / (n * h * w)


def _binary(values: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (boards and targets that window counts describe)."""
    return bool(np.isin(values, (0.0, 1.0)).all())


def _member_chunks(members: Sequence[Sequence[np.ndarray]], size: int):
    """The members in chunks of ``size`` (the last padded with copies of its last member), each
    as stacked float32 parameter arrays."""
    for c in range(math.ceil(len(members) / size)):
        chunk = list(members[c * size : (c + 1) * size])
        chunk += [chunk[-1]] * (size - len(chunk))
        yield [np.stack([w[j] for w in chunk]).astype(np.float32) for j in range(len(chunk[0]))]


def _cell_sums(ensemble, members, boards: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(3, M) sums over every cell of the boards: losses, wrong cells, wrong boards."""
    from keras import ops

    size = ensemble.members
    n, h, w = boards.shape
    per_board = size * h * w * 4 * _member_floats_per_cell(ensemble.specs)
    batch = int(max(1, min(n, WALK_MEMORY_BYTES // per_board)))
    batch = math.ceil(n / math.ceil(n / batch))  # equal batches: at most two compilations
    scorer = _make_scorer(ensemble)
    sums = []
    for params in _member_chunks(members, size):
        chunk = np.zeros((3, size))
        for start in range(0, n, batch):
            parts = scorer(params, boards[start : start + batch], targets[start : start + batch])
            chunk += np.stack([ops.convert_to_numpy(p).astype(np.float64) for p in parts])
        sums.append(chunk)
    return np.concatenate(sums, axis=1)[:, : len(members)]


def _window_counts(boards: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(N, 2 * 512) float64: how many cells of each 0/1 board have each zero-padded 3x3 window
    (its truth-table index), with target 0 (first 512) and with target 1."""
    from keras import ops

    from lifetf.life.rules import ops_window_codes
    from lifetf.nets.experiment import WINDOWS

    n = len(boards)
    codes = ops.convert_to_numpy(ops_window_codes(ops.convert_to_tensor(boards))).astype(np.int64)
    keys = (np.arange(n)[:, None, None] * 2 + targets.astype(np.int64)) * WINDOWS + codes
    return np.bincount(keys.ravel(), minlength=n * 2 * WINDOWS).reshape(n, 2 * WINDOWS) * 1.0


def _window_sums(ensemble, members, counts: np.ndarray) -> np.ndarray:
    """What :func:`_cell_sums` gives, for networks whose output sees one 3x3 window: each
    network scored once per window and target, weighted by the boards' window ``counts``
    (the 512 windows instead of every cell: about 64x less work on 8x8 boards)."""
    from keras import ops

    from lifetf.nets.ensemble import truth_table_inputs
    from lifetf.nets.experiment import WINDOWS

    windows = truth_table_inputs()
    targets = np.repeat(np.eye(2, dtype=np.float32)[1], WINDOWS)[None]  # (1, 2 * 512): 0s, 1s

    def score(params):
        logits = ops.tile(ensemble.apply_windows(params, windows), (1, 2))  # (K, 2 * 512)
        losses = cell_losses(ensemble.output_kind, targets, logits, ensemble.activate)
        wrong = ops.not_equal(ensemble.activate(logits) > 0.5, targets > 0.5)
        return losses, ops.cast(wrong, "float32")

    scorer = current().compile(score)
    totals = counts.sum(axis=0)
    sums = []
    for params in _member_chunks(members, ensemble.members):
        losses, wrong = (ops.convert_to_numpy(p).astype(np.float64) for p in scorer(params))
        sums.append([losses @ totals, wrong @ totals, ((wrong @ counts.T) > 0).sum(axis=1)])
    return np.concatenate(sums, axis=1)[:, : len(members)]


def walks(
    layers: Sequence[LayerSpec],
    output: str,
    pairs: Sequence[tuple[list, list]],
    boards: np.ndarray,
    targets: np.ndarray,
    points: int = 51,
    max_members: int = 512,
) -> list[Walk]:
    """Straight-line walks from a to b for each pair, all points evaluated as one ensemble.

    Point i is (1 - t) a + t b with t = i / (points - 1), mixed in float64; the loss is the
    trainer's mean BCE (without dropout) on ``boards`` and ``targets`` (N, H, W).
    """
    _check_output(output)
    points = _check_count("points", points, 2)
    alphas = np.linspace(0.0, 1.0, points)
    members, lengths = [], []
    for i, (a, b) in enumerate(pairs):
        check_weights(layers, a, f"pairs[{i}][0]")
        check_weights(layers, b, f"pairs[{i}][1]")
        va, vb = flatten(a), flatten(b)
        lengths.append(float(np.linalg.norm(vb - va)))
        members += [unflatten((1.0 - t) * va + t * vb, a) for t in alphas]
    if not members:
        return []
    loss, board_error, cell_error = evaluate_members(
        layers, output, members, boards, targets, max_members
    )
    result = []
    for i, length in enumerate(lengths):
        part = slice(i * points, (i + 1) * points)
        result.append(Walk(alphas.copy(), alphas * length, loss[part], board_error[part],
                           cell_error[part]))
    return result


def barrier(values: np.ndarray, alphas: np.ndarray) -> Barrier:
    """The barrier of a walk's curve ``values`` at positions ``alphas`` (end a first).

    ``alphas`` are mapped to t in [0, 1] by their first and last entries, so distances work too.
    """
    values = np.asarray(values, dtype=np.float64)
    alphas = np.asarray(alphas, dtype=np.float64)
    if values.ndim != 1 or values.shape != alphas.shape or values.size < 2:
        raise ValueError(f"values {values.shape} and alphas {alphas.shape} must be 1-D arrays "
                         f"of one length >= 2")
    if not np.isfinite(values).all():
        raise ValueError(f"values must be finite, got {values[~np.isfinite(values)][0]!r}")
    span = alphas[-1] - alphas[0]
    if not span > 0:
        raise ValueError(f"alphas must increase from first to last, got {alphas[0]} .. "
                         f"{alphas[-1]}")
    t = (alphas - alphas[0]) / span
    excess = values - ((1.0 - t) * values[0] + t * values[-1])
    peak = int(np.argmax(excess))
    return Barrier(
        over_line=max(0.0, float(excess[peak])),
        over_mean=max(0.0, float(values.max() - (values[0] + values[-1]) / 2)),
        peak_at=float(t[peak]),
    )


# --- exact Hessians of tiny networks --------------------------------------------------------


@dataclass(frozen=True)
class CriticalPoint:
    """Loss, gradient norm and Hessian spectrum at a point of parameter space.

    An eigenvalue counts as zero (flat) when |eigenvalue| <= tolerance, where
    tolerance = EIGEN_RTOL * max|eigenvalue| + EIGEN_ATOL (1e-6 relative plus 1e-9 absolute).
    """

    loss: float
    grad_norm: float  # L2 norm of the loss gradient at the point
    eigenvalues: np.ndarray  # ascending eigenvalues of the symmetrised exact Hessian
    tolerance: float  # |eigenvalue| <= tolerance counts as zero

    @property
    def n_negative(self) -> int:
        return int(np.sum(self.eigenvalues < -self.tolerance))

    @property
    def n_positive(self) -> int:
        return int(np.sum(self.eigenvalues > self.tolerance))

    @property
    def n_zero(self) -> int:
        return int(self.eigenvalues.size - self.n_negative - self.n_positive)

    @property
    def index(self) -> float:
        """Share of the curved directions that go down (nan if no direction is curved)."""
        curved = self.n_negative + self.n_positive
        return self.n_negative / curved if curved else math.nan

    @property
    def kind(self) -> str:
        """Minimum, saddle, maximum or flat, from the signs of the curved directions."""
        if self.n_negative and self.n_positive:
            return "saddle"
        if self.n_positive:
            return "minimum"
        if self.n_negative:
            return "maximum"
        return "flat"


def eigen_tolerance(eigenvalues: np.ndarray) -> float:
    """The flatness threshold of a spectrum: EIGEN_RTOL * max|eigenvalue| + EIGEN_ATOL."""
    largest = float(np.max(np.abs(eigenvalues))) if np.size(eigenvalues) else 0.0
    return EIGEN_RTOL * largest + EIGEN_ATOL


def flat_loss(layers: Sequence[LayerSpec], output: str, theta, boards, targets):
    """Mean BCE of the network whose parameters (flatten order) are the 1-D tensor ``theta``.

    A plain NHWC ``keras.ops.conv`` forward pass ("same" padding, no dropout) in theta's dtype,
    so that autodiff sees one parameter vector.
    """
    from keras import ops

    x = ops.expand_dims(boards, -1)
    offset = 0
    for spec in layers:
        shape = (spec.kernel, spec.kernel, spec.cin, spec.cout)
        size = int(np.prod(shape))
        kernel = ops.reshape(theta[offset : offset + size], shape)
        bias = theta[offset + size : offset + size + spec.cout]
        offset += size + spec.cout
        x = keras_activation(spec.activation)(ops.conv(x, kernel, 1, "same") + bias)
    logits = x[..., 0]
    cells = cell_losses(output, targets, logits, clamp)
    return ops.mean(cells)


@lru_cache(maxsize=32)
def _derivatives(layers: tuple[LayerSpec, ...], output: str, second: bool):
    """A compiled float64 (theta, boards, targets) -> (loss, gradient[, Hessian]) for a network."""
    return current().derivatives(partial(flat_loss, layers, output), hessian=second)


def _float64_call(layers, output, weights, boards, targets, second: bool) -> list[np.ndarray]:
    """Loss and derivatives at ``weights`` on the full batch, computed in float64."""
    from keras import ops

    _check_output(output)
    check_weights(layers, weights)
    boards, targets = _check_boards(boards, targets)
    with current().float64():
        theta = ops.convert_to_tensor(flatten(weights), "float64")
        x = ops.convert_to_tensor(boards.astype(np.float64), "float64")
        y = ops.convert_to_tensor(targets.astype(np.float64), "float64")
        results = _derivatives(tuple(layers), output, second)(theta, x, y)
        return [np.asarray(ops.convert_to_numpy(r), np.float64) for r in results]


def loss_and_gradient(
    layers: Sequence[LayerSpec], output: str, weights: Sequence[np.ndarray], boards, targets
) -> tuple[float, np.ndarray]:
    """Full-batch mean BCE and its gradient (flatten order), in float64."""
    loss, grad = _float64_call(layers, output, weights, boards, targets, second=False)
    return float(loss), grad


def hessian(
    layers: Sequence[LayerSpec], output: str, weights: Sequence[np.ndarray], boards, targets
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss, gradient (P,) and exact Hessian (P, P) in flatten order, float64 nested autodiff."""
    n_params = sum(s.n_params for s in layers)
    if n_params > MAX_HESSIAN_PARAMS:
        raise ValueError(f"a dense Hessian of {n_params} parameters is too large "
                         f"(at most {MAX_HESSIAN_PARAMS})")
    loss, grad, hess = _float64_call(layers, output, weights, boards, targets, second=True)
    return float(loss), grad, hess


def critical_point(
    layers: Sequence[LayerSpec], output: str, weights: Sequence[np.ndarray], boards, targets
) -> CriticalPoint:
    """Loss, gradient norm and Hessian spectrum at ``weights`` on the full batch."""
    loss, grad, hess = hessian(layers, output, weights, boards, targets)
    eigenvalues = np.linalg.eigvalsh((hess + hess.T) / 2)
    return CriticalPoint(loss, float(np.linalg.norm(grad)), eigenvalues,
                         eigen_tolerance(eigenvalues))


# --- critical-point search ------------------------------------------------------------------


def _shared_input_logits(ensemble, params, boards):
    """Ensemble logits (K, N, H, W) from ``params`` for boards (N, H, W) every member shares.

    The first layer is one matrix product of the members' kernels with the boards' shared
    patches instead of per-member patches: the same function, and its second derivatives take
    a third of the time of the per-member unrolled form (its kernel gradient is a product too).
    """
    import keras
    from keras import ops

    from lifetf.nets.ensemble import extract_patches

    spec = ensemble.specs[0]
    count, height, width = boards.shape
    shared = ops.reshape(ops.convert_to_tensor(boards), (1, 1, count * height * width))
    if spec.kernel == 3:
        shared = extract_patches(shared, height, width)
    kernel = ops.reshape(params[0], (ensemble.members, spec.kernel**2 * spec.cin, spec.cout))
    z = ops.einsum("kpo,pn->kon", kernel, shared[0]) + params[1][:, :, None]
    x = keras_activation(spec.activation)(z)
    with keras.StatelessScope(state_mapping=list(zip(ensemble.trainable_variables, params,
                                                     strict=True))):
        for conv in ensemble.convs[1:]:
            x = conv(x, board_shape=(height, width))
    return ops.reshape(x[:, 0], (ensemble.members, count, height, width))


def find_critical_points(
    layers: Sequence[LayerSpec],
    output: str,
    starts: Sequence[list],
    boards: np.ndarray,
    targets: np.ndarray,
    steps: int = 2000,
    learning_rate: float = 1e-3,
) -> list[Weights]:
    """Minimise the squared gradient norm of the full-batch loss from every start at once.

    Finds saddles as well as minima (Dauphin et al.; Pennington & Bahri). The starts are members
    of one Ensemble whose summed loss (no dropout) gives per-member gradients; Adam steps on
    each member's squared gradient norm run in one compiled loop. Returns the final weights per
    start.
    """
    import keras
    from keras import ops

    from lifetf.nets.ensemble import Ensemble

    _check_output(output)
    steps = _check_count("steps", steps, 0)
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    if len(starts) == 0:
        return []
    for i, w in enumerate(starts):
        check_weights(layers, w, f"starts[{i}]")
    x, y = _check_boards(boards, targets)
    k = len(starts)
    ensemble = Ensemble(tuple(layers), output, k)
    full_targets = np.ascontiguousarray(np.broadcast_to(y, (k, *y.shape)))
    backend = current()

    def total_loss(params):
        logits = _shared_input_logits(ensemble, params, x)
        cells = cell_losses(output, full_targets, logits, ensemble.activate)
        return ops.sum(ops.mean(cells, axis=(1, 2, 3)))

    def squared_norms(params, step, offset):
        grads = backend.gradient(total_loss)(list(params))
        norms = None
        for g in grads:
            term = ops.sum(ops.reshape(ops.square(g), (k, -1)), axis=1)
            norms = term if norms is None else norms + term
        return norms

    stacked = [np.stack([np.asarray(w[j], np.float32) for w in starts])
               for j in range(len(starts[0]))]
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=1e-8)
    loop = backend.optimizer_loop(stacked, optimizer, squared_norms)
    if steps:
        loop.run(0, steps)
    final = loop.weights()
    return [[np.array(w[i]) for w in final] for i in range(k)]
