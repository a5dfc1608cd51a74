"""Game of Life rules: one-step and n-step evolution in numpy and keras.ops, and random boards.

Two rules share the B3/S23 wording and differ in the neighbourhood: ``conway`` counts the 8
surrounding cells, ``firner`` the 4 orthogonal ones (the rule of Firner's posts). Cells beyond the
edge are dead unless ``torus=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

RULES = ("conway", "firner")


@dataclass(frozen=True)
class Rule:
    """A life-like rule: which neighbours count and which counts give birth or survival."""

    name: str
    offsets: tuple[tuple[int, int], ...]
    birth: frozenset[int] = frozenset({3})
    survive: frozenset[int] = frozenset({2, 3})

    @property
    def neighbourhood_mask(self) -> np.ndarray:
        """3x3 array with 1 where a neighbour counts (the centre is 0)."""
        mask = np.zeros((3, 3), dtype=np.float32)
        for dy, dx in self.offsets:
            mask[1 + dy, 1 + dx] = 1.0
        return mask

    @property
    def next_states(self) -> np.ndarray:
        """(2, 9) uint8: the next state of a dead (row 0) or live (row 1) cell by its count."""
        table = np.zeros((2, 9), dtype=np.uint8)
        table[0, sorted(self.birth)] = 1
        table[1, sorted(self.survive)] = 1
        return table

    @property
    def relevant_cells(self) -> tuple[tuple[int, int], ...]:
        """The (row, col) positions in a 3x3 window that a cell's next state depends on."""
        return ((1, 1),) + tuple((1 + dy, 1 + dx) for dy, dx in self.offsets)


_MOORE = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
_VON_NEUMANN = ((-1, 0), (0, -1), (0, 1), (1, 0))

_RULES = {
    "conway": Rule("conway", _MOORE),
    "firner": Rule("firner", _VON_NEUMANN),
}


def get_rule(rule: str | Rule) -> Rule:
    """Look a rule up by name; a clear error names an unknown one."""
    if isinstance(rule, Rule):
        return rule
    if rule not in _RULES:
        raise ValueError(f"unknown rule {rule!r}: expected one of {', '.join(RULES)}")
    return _RULES[rule]


def _check_steps(steps: object) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    return int(steps)


def _check_boards(boards: object) -> np.ndarray:
    arr = np.asarray(boards)
    if arr.ndim != 3:
        raise ValueError(
            f"boards must have shape (N, H, W), got an array of rank {arr.ndim} "
            f"with shape {arr.shape}"
        )
    if arr.size and not np.isin(arr, (0, 1)).all():
        bad = arr[~np.isin(arr, (0, 1))].flat[0]
        raise ValueError(f"boards must hold only 0 and 1, found the value {bad!r}")
    return arr.astype(np.uint8)


def neighbour_counts(boards: np.ndarray, rule: str | Rule, torus: bool = False) -> np.ndarray:
    """Count the live neighbours of every cell of (N, H, W) 0/1 boards under ``rule``."""
    return _counts(_check_boards(boards), get_rule(rule), torus)


def _counts(arr: np.ndarray, spec: Rule, torus: bool) -> np.ndarray:
    """:func:`neighbour_counts` of checked uint8 boards (int16 counts)."""
    n, h, w = arr.shape
    mode = "wrap" if torus else "constant"
    padded = np.pad(arr.astype(np.int16), ((0, 0), (1, 1), (1, 1)), mode=mode)
    counts = np.zeros((n, h, w), np.int16)
    for dy, dx in spec.offsets:
        counts += padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
    return counts


def step(boards: np.ndarray, rule: str | Rule, torus: bool = False) -> np.ndarray:
    """One generation of ``rule`` applied to (N, H, W) 0/1 boards."""
    spec = get_rule(rule)
    return _step(_check_boards(boards), spec, spec.next_states, torus)


def _step(arr: np.ndarray, spec: Rule, next_states: np.ndarray, torus: bool) -> np.ndarray:
    """:func:`step` of checked uint8 boards, with the rule's next-state table."""
    return next_states[arr, _counts(arr, spec, torus)]


def evolve(boards: np.ndarray, rule: str | Rule, steps: int, torus: bool = False) -> np.ndarray:
    """``steps`` generations of ``rule`` on (N, H, W) 0/1 boards; cells off the edge are dead."""
    spec = get_rule(rule)
    n_steps = _check_steps(steps)
    arr, next_states = _check_boards(boards), spec.next_states
    for _ in range(n_steps):
        arr = _step(arr, spec, next_states, torus)
    return arr


def random_boards(
    n: int, size: int | tuple[int, int], density: float = 0.5, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """``n`` random boards, each cell alive with probability ``density``, seeded."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"number of boards must be a non-negative integer, got {n!r}")
    h, w = (size, size) if isinstance(size, int | np.integer) else tuple(size)
    if h < 1 or w < 1:
        raise ValueError(f"board size must be at least 1x1, got {size!r}")
    if not 0.0 <= float(density) <= 1.0:
        raise ValueError(f"density must lie in [0, 1], got {density!r}")
    # PCG64 named explicitly: the same stream as default_rng(seed), whatever numpy's default
    rng = seed if isinstance(seed, np.random.Generator) else np.random.Generator(
        np.random.PCG64(seed))
    return (rng.random((n, h, w)) < density).astype(np.uint8)


# --- keras.ops versions, for targets computed inside a compiled training step ---------------


OFFSETS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))  # a 3x3 window, row by row


@lru_cache(maxsize=64)
def neighbour_masks(boards: int, height: int, width: int) -> np.ndarray:
    """(9, N) float32 for N = boards * height * width cells, row by row: 1 where the neighbour
    at each offset of OFFSETS lies on the same board (0 where it falls off the edge)."""
    rows = np.repeat(np.arange(height), width)
    cols = np.tile(np.arange(width), height)
    masks = [((rows + dy >= 0) & (rows + dy < height) & (cols + dx >= 0) & (cols + dx < width))
             for dy, dx in OFFSETS]
    stacked = np.tile(np.stack(masks).astype(np.float32), (1, boards))
    stacked.setflags(write=False)
    return stacked


def neighbour_views(x, height: int, width: int, offsets=OFFSETS) -> list:
    """The zero-padded neighbours of every cell of x (..., N): one tensor (..., N) per offset.

    N holds whole boards of ``height`` x ``width`` cells, row by row. A neighbour is a shift
    along N (of the zero-extended x) times a 0/1 mask for the board's edge: every pass runs
    along the long cell axis, which XLA vectorises well (board rows of 8 or 10 it does not).
    """
    from keras import ops

    n = x.shape[-1]
    masks = neighbour_masks(n // (height * width), height, width)
    reach = width + 1
    extended = ops.pad(x, [[0, 0]] * (len(x.shape) - 1) + [[reach, reach]])
    views = []
    for dy, dx in offsets:
        start = reach + dy * width + dx
        view = extended[..., start : start + n]
        views.append(view if dy == dx == 0 else view * masks[OFFSETS.index((dy, dx))])
    return views


def _ops_neighbours(boards, offsets, torus: bool) -> tuple:
    """(centres, views) of a float tensor (..., H, W): the cells and one neighbour view per
    offset, both flattened alike (zero beyond the edge unless ``torus``)."""
    from keras import ops

    rank = len(boards.shape)
    if rank < 2:
        raise ValueError(f"boards must have at least rank 2 (..., H, W), got rank {rank}")
    h, w = boards.shape[-2], boards.shape[-1]
    if torus:
        padded = ops.concatenate([boards[..., -1:, :], boards, boards[..., :1, :]], axis=-2)
        padded = ops.concatenate([padded[..., -1:], padded, padded[..., :1]], axis=-1)
        return boards, [padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
                        for dy, dx in offsets]
    lead = tuple(boards.shape[:-2])
    flat = ops.reshape(boards, (*lead[:-1], -1)) if lead else ops.reshape(boards, (-1,))
    return flat, neighbour_views(flat, h, w, offsets)


def ops_window_codes(boards):
    """Each cell's zero-padded 3x3 window as a code 0..511 (bit j: the neighbour at OFFSETS[j],
    the order of every truth table), for a float 0/1 tensor (..., H, W); int32, same shape."""
    from keras import ops

    _, views = _ops_neighbours(boards, OFFSETS, torus=False)
    code = views[0]
    for j, view in enumerate(views[1:], start=1):
        code = code + float(2**j) * view
    return ops.reshape(ops.cast(code, "int32"), boards.shape)


def ops_step(boards, rule: str | Rule, torus: bool = False):
    """One generation on a float tensor (..., H, W) holding 0/1, in ``keras.ops`` (any backend)."""
    from keras import ops

    spec = get_rule(rule)
    flat, shifted = _ops_neighbours(boards, spec.offsets, torus)
    counts = shifted[0]
    for view in shifted[1:]:
        counts = counts + view
    alive = flat > 0.5
    nxt = None
    for c in sorted(spec.birth | spec.survive):
        hit = ops.equal(counts, float(c))
        if c not in spec.birth:
            hit = ops.logical_and(hit, alive)
        elif c not in spec.survive:
            hit = ops.logical_and(hit, ops.logical_not(alive))
        nxt = hit if nxt is None else ops.logical_or(nxt, hit)
    return ops.reshape(ops.cast(nxt, boards.dtype), boards.shape)


# From this many generations on, ops_evolve runs them in a loop. Unrolled, XLA fuses each
# generation into the next one's neighbour views and recomputes it there. 10 generations of
# 48 x 32 boards of 8x8 cells then took 15.2 ms (24 ms for Conway's rule) against 4.7-5.0 in a
# loop. At 3 generations it was 2.7-2.9 against 1.9-2.2; at 2 the loop was slower (one
# thread, TensorFlow/XLA, per batch of a 50-batch chunk; see the README's Speed section).
LOOP_FROM_STEPS = 3


def ops_evolve(boards, rule: str | Rule, steps: int, torus: bool = False):
    """``steps`` generations on a float 0/1 tensor (..., H, W), in ``keras.ops``: unrolled for
    a few, in a loop from :data:`LOOP_FROM_STEPS` on (the same boards either way)."""
    from keras import ops

    spec = get_rule(rule)
    steps = _check_steps(steps)
    if steps >= LOOP_FROM_STEPS:
        return ops.fori_loop(0, steps, lambda _, x: ops_step(x, spec, torus),
                             ops.convert_to_tensor(boards))
    x = boards
    for _ in range(steps):
        x = ops_step(x, spec, torus)
    return x


def local_configurations(rule: str | Rule, relevant_only: bool = False) -> np.ndarray:
    """All 3x3 binary windows (512, 3, 3), or only those varying the rule's relevant cells.

    With ``relevant_only`` the irrelevant cells (corners under ``firner``) are 0, giving 2^5 = 32
    windows under ``firner`` and 2^9 = 512 under ``conway``.
    """
    spec = get_rule(rule)
    every = tuple((r, c) for r in range(3) for c in range(3))
    cells = spec.relevant_cells if relevant_only else every
    n = len(cells)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    windows = np.zeros((2**n, 3, 3), dtype=np.uint8)
    for j, (r, c) in enumerate(cells):
        windows[:, r, c] = bits[:, j]
    return windows


def next_centre(windows: np.ndarray, rule: str | Rule) -> np.ndarray:
    """The rule's next state of the centre cell of each (N, 3, 3) window: the true truth table."""
    return evolve(windows, rule, 1)[:, 1, 1]


def step_codes(codes: np.ndarray, rule: str | Rule, size: int) -> np.ndarray:
    """One generation of boards stored as integer codes (bit r * size + c is cell (r, c)).

    Bit-parallel: each neighbour plane is a masked shift of the codes, the counts are kept in
    four bit-planes, so one pass of a few dozen integer operations steps every board at once.
    """
    spec = get_rule(rule)
    x = np.asarray(codes, dtype=np.int64)
    full = (1 << (size * size)) - 1
    column = np.array([c for r in range(size) for c in range(size)])
    not_last = sum(1 << i for i in range(size * size) if column[i] != size - 1)
    not_first = sum(1 << i for i in range(size * size) if column[i] != 0)
    counter = [np.zeros_like(x) for _ in range(4)]
    for dy, dx in spec.offsets:
        offset = dy * size + dx
        plane = (x >> offset) if offset > 0 else (x << -offset)
        plane &= full & (not_last if dx == 1 else not_first if dx == -1 else full)
        carry = plane
        for i in range(4):
            counter[i], carry = counter[i] ^ carry, counter[i] & carry

    def count_is(k: int):
        hit = np.full_like(x, full)
        for i in range(4):
            hit &= counter[i] if (k >> i) & 1 else ~counter[i]
        return hit

    born = np.zeros_like(x)
    for k in spec.birth:
        born |= count_is(k)
    kept = np.zeros_like(x)
    for k in spec.survive:
        kept |= count_is(k)
    return ((born & ~x) | (kept & x)) & full


_CHUNK = 1 << 14  # boards per pass: the passes' temporaries stay in the core's cache (6x faster)


def _live_cells(codes: np.ndarray, cells: int) -> np.ndarray:
    """The number of live cells of each board code."""
    live = np.zeros(len(codes), dtype=np.int64)
    for bit in range(cells):
        live += (codes >> bit) & 1
    return live


def all_dead_shares(
    rule: str | Rule, max_steps: int, size: int = 5, density: float = 0.5
) -> np.ndarray:
    """Exact share of random ``size``x``size`` boards that are all dead after 0..max_steps steps.

    Every one of the 2^(size*size) boards is enumerated with its probability; the probability
    mass is then carried forward per distinct board state (boards of up to 5x5: 33.5 million),
    chunk by chunk. Each state's mass is summed in the same order as by one dense tally over
    all boards (ascending codes), so the shares are the same to the bit.
    """
    spec = get_rule(rule)
    n_steps = _check_steps(max_steps)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 5:
        raise ValueError(f"exact enumeration supports boards of 1x1 to 5x5, got size {size!r}")
    if not 0.0 <= float(density) <= 1.0:
        raise ValueError(f"density must lie in [0, 1], got {density!r}")
    cells = size * size
    live = np.arange(cells + 1)
    by_live = density**live * (1.0 - density) ** (cells - live)  # one board's probability
    mass = np.empty(1 << cells)
    for start in range(0, len(mass), _CHUNK):
        codes = np.arange(start, min(start + _CHUNK, len(mass)), dtype=np.int64)
        mass[start : start + len(codes)] = by_live[_live_cells(codes, cells)]
    shares = [float(mass[0])]
    reached = np.flatnonzero(mass)  # the boards with mass, ascending, and their masses
    weights = mass[reached]
    for step_number in range(n_steps):
        after = np.empty_like(reached)
        for start in range(0, len(reached), _CHUNK):
            after[start : start + _CHUNK] = step_codes(reached[start : start + _CHUNK], spec, size)
        if step_number == 0:  # from every board: a dense tally beats sorting 33.5 million
            mass = np.bincount(after, weights=weights, minlength=1 << cells)
            reached = np.flatnonzero(mass)
            weights = mass[reached]
        else:  # a few million boards at most: tally the distinct ones
            reached, inverse = np.unique(after, return_inverse=True)
            weights = np.bincount(inverse, weights=weights)
            reached, weights = reached[weights != 0], weights[weights != 0]
        shares.append(float(weights[0]) if len(reached) and reached[0] == 0 else 0.0)
    return np.array(shares)
