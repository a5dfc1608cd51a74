"""K independent copies of a network in one Keras graph: every weight has a leading member axis.

Activations are (K, C, N): member, channel, and all cells of all boards flattened into one long
axis N = B * H * W, so every element-wise pass runs along a long contiguous axis (with the board
rows innermost, XLA's loops ran 10 or 8 wide and were several times slower on the CPU). A 3x3
convolution reads the 9 neighbours of each cell as shifts along N of the zero-extended input,
each multiplied by a constant 0/1 mask that zeroes neighbours beyond the board's edge (the
'same' zero padding). The per-member linear map is unrolled multiply-adds for the tiniest
layers and one batched product ``kin,kio->kon`` for wider ones (measured fastest for both the
forward and the backward pass). Grouped convolutions are far slower on CPU. On the CPU, each
layer's activations are computed once into memory (``Backend.stored``) in networks of width 2
and more, where XLA would otherwise recompute them in every consumer.
Member k's output depends only on member k's weights and inputs, so K members trained with a
summed loss follow exactly the paths they would follow alone.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lifetf.life.evaluate import truth_table_windows
from lifetf.life.rules import neighbour_views
from lifetf.nets.models import LayerSpec, build_from_specs, clamp, keras_activation, sees_one_window

# per-member kernel entries up to which a 1x1 layer is unrolled multiply-adds (measured on the
# 2-core CPU: unrolled was faster at 8 entries, paired runs disagreed at 5 and 10; at 18 (6 -> 3,
# width 3) and 20 (20 -> 1, width 20) the batched product was faster in 11 of 12 alternating
# pairs, 0.98-1.83x, on both backends: `python -m lifetf bench --linear-paths`)
UNROLL_LIMIT = 16


def truth_table_inputs() -> np.ndarray:
    """The 512 binary 3x3 windows in truth-table order as (1, 9, 512) float32: the windows
    every member reads, as :meth:`Ensemble.apply_windows` takes them."""
    windows = truth_table_windows()
    return windows.reshape(len(windows), 9).T[None].astype(np.float32)


def extract_patches(x, height: int, width: int):
    """(K, C, N) -> (K, 9C, N): each cell's zero-padded 3x3 window, in Keras' kernel order.

    N holds whole boards of ``height`` x ``width`` cells, row by row.
    """
    return ops.concatenate(neighbour_views(x, height, width), axis=1)


def member_linear(x, kernel, bias, unroll: bool = True):
    """y[k, o] = bias[k, o] + sum_i kernel[k, i, o] x[k, i] for x of shape (K, I, N), or of
    shape (1, I, N): inputs every member reads.

    Unrolled multiply-adds when ``unroll`` and the kernel is tiny, else one batched product
    (whose weight gradient is one product over the cells, reading the inputs once); inputs that
    every member reads take one plain product for all members instead, and so does its weight
    gradient (a batched product over a copy per member was several times slower).
    """
    members, n_in, n_out = kernel.shape
    if unroll and n_in * n_out <= UNROLL_LIMIT:
        y = bias[:, :, None]
        for i in range(n_in):
            y = y + x[:, i : i + 1] * kernel[:, i, :, None]
        return y
    if x.shape[0] == 1 and members > 1:
        return ops.einsum("in,kio->kon", x[0], kernel) + bias[:, :, None]
    return ops.einsum("kin,kio->kon", x, kernel) + bias[:, :, None]


def _numpy(variable) -> np.ndarray:
    """A Keras variable's value as numpy, without copying through ``__array__``."""
    value = variable.value
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


class MemberConv(keras.layers.Layer):
    """A 'same'-padded 1x1 or 3x3 convolution held ``members`` times, one per member.

    Input (K, cin, N) with N the cells of boards of ``board_shape`` (H, W), row by row; kernel
    (K, k, k, cin, cout) in Keras' per-model layout; bias (K, cout).
    """

    def __init__(self, members: int, kernel_size: int, filters: int, activation: str, **kwargs):
        super().__init__(**kwargs)
        if kernel_size not in (1, 3):
            raise ValueError(f"kernel_size must be 1 or 3, got {kernel_size!r}")
        self.members = members
        self.kernel_size = kernel_size
        self.filters = filters
        self.activation_name = activation
        self._activation = keras_activation(activation)

    def build(self, input_shape):
        cin = input_shape[1]
        k = self.kernel_size
        self.kernel = self.add_weight(
            shape=(self.members, k, k, cin, self.filters), initializer="zeros", name="kernel"
        )
        self.bias = self.add_weight(
            shape=(self.members, self.filters), initializer="zeros", name="bias"
        )

    def call(self, x, board_shape: tuple[int, int] = (1, 1), patches: bool = False):
        """``patches``: x already holds each cell's 3x3 window (K, 9 cin, N) (a 3x3 layer), or
        (1, 9 cin, N) windows that every member reads."""
        k, cin = self.kernel_size, self.kernel.shape[3]
        if k == 3 and not patches:
            x = extract_patches(x, *board_shape)
        flat_kernel = ops.reshape(self.kernel, (self.members, k * k * cin, self.filters))
        # a 3x3 layer is always a product over its patches: unrolled, XLA would copy the patch
        # views into every consumer of the backward pass (measured 2x slower per update)
        return self._activation(member_linear(x, flat_kernel, self.bias, unroll=k == 1))

    def get_config(self):
        config = super().get_config()
        config.update(
            members=self.members,
            kernel_size=self.kernel_size,
            filters=self.filters,
            activation=self.activation_name,
        )
        return config


class Ensemble(keras.layers.Layer):
    """K members of one network description: (K, B, H, W) boards -> (K, B, H, W) logits.

    Its trainable variables are [kernel0, bias0, kernel1, ...], each with the member axis first;
    :meth:`apply` computes the same function from given parameter tensors (a pure function, for
    gradients and compiled loops on any backend).
    """

    def __init__(self, layers: tuple[LayerSpec, ...], output: str, members: int, **kwargs):
        super().__init__(**kwargs)
        self.specs = tuple(layers)
        self.output_kind = output
        self.members = members
        self.convs = [
            MemberConv(members, s.kernel, s.cout, s.activation, name=f"member_conv{i}")
            for i, s in enumerate(self.specs)
        ]
        for conv, spec in zip(self.convs, self.specs, strict=True):
            conv.build((members, spec.cin, None))
        self.built = True

    @property
    def dropout_layers(self) -> tuple[int, ...]:
        """Indices of the layers followed by channel dropout."""
        return tuple(i for i, s in enumerate(self.specs) if s.dropout > 0)

    @property
    def one_window(self) -> bool:
        """Whether each output cell is a function of its 3x3 input window alone."""
        return sees_one_window(self.specs)

    def call(self, boards, dropout_masks=None, windows=None):
        """Pre-output values (K, B, H, W); ``dropout_masks`` maps layer index -> (K, C, B, 1, 1).

        With ``windows`` (1 or K, 9, P) 0/1 3x3 windows in truth-table order instead (networks
        with :attr:`one_window`), the centre's pre-output value for each window, (K, P).
        """
        if windows is not None:
            x = windows
            for i, conv in enumerate(self.convs):
                x = conv(x, patches=i == 0)
            return x[:, 0]
        stored = self._stored()
        members, count, height, width = boards.shape
        cells = count * height * width
        x = ops.reshape(ops.cast(boards, "float32"), (members, 1, cells))
        for i, conv in enumerate(self.convs):
            x = conv(x, board_shape=(height, width))
            if dropout_masks and i in dropout_masks:
                mask = ops.broadcast_to(dropout_masks[i], (members, conv.filters, count, height,
                                                           width))
                x = x * ops.reshape(mask, (members, conv.filters, cells))
            x = stored(x)  # each layer's activations once, not again in every consumer
        return ops.reshape(x[:, 0], (members, count, height, width))

    def _stored(self):
        """What keeps each layer's activations in memory (``Backend.stored``), for networks with
        a layer of 3 or more channels: there XLA's CPU compiler otherwise recomputed them in
        every consumer, and storing them made updates 5-35% faster; narrower networks
        recompute little and were no faster or slower (README, Speed: stop 41)."""
        from lifetf.nets.backends import current

        if max(spec.cout for spec in self.specs) < 3:
            return lambda x: x
        return current().stored

    def logits(self, boards, dropout_masks=None):
        """Pre-output values (K, B, H, W) from the ensemble's own weights."""
        return self.call(boards, dropout_masks)

    def apply(self, params, boards, dropout_masks=None):
        """Pre-output values from the parameter tensors ``params`` (a pure function of them)."""
        return self.stateless_call(list(params), [], boards, dropout_masks)[0]

    def apply_windows(self, params, windows):
        """Centre pre-output values (K, P) of (1 or K, 9, P) windows, from ``params`` (pure)."""
        if not self.one_window:
            raise ValueError("apply_windows needs a network whose output sees one 3x3 window")
        return self.stateless_call(list(params), [], None, windows=windows)[0]

    def predict(self, boards):
        """Outputs in [0, 1] of shape (K, B, H, W)."""
        return self.activate(self.logits(boards))

    def activate(self, logits):
        if self.output_kind == "sigmoid":
            return ops.sigmoid(logits)
        return clamp(logits)

    def set_member_weights(self, per_member: list[list[np.ndarray]]) -> None:
        """Load K per-model weight lists [kernel0, bias0, ...] into the member axis."""
        if len(per_member) != self.members:
            raise ValueError(f"expected weights for {self.members} members, got {len(per_member)}")
        self.set_stacked_weights([np.stack([w[j] for w in per_member])
                                  for j in range(len(self.trainable_variables))])

    def set_stacked_weights(self, stacked: list[np.ndarray]) -> None:
        """Load weights that already carry the member axis, [kernel0 (K, ...), bias0, ...]."""
        for var, value in zip(self.trainable_variables, stacked, strict=True):
            var.assign(np.asarray(value, np.float32))

    def member_weights(self, k: int) -> list[np.ndarray]:
        """Member ``k``'s weights as a plain Keras model's list [kernel0, bias0, ...]."""
        return [np.array(_numpy(var)[k]) for var in self.trainable_variables]

    def all_weights(self) -> list[list[np.ndarray]]:
        """Every member's weights, member by member."""
        stacked = [_numpy(var) for var in self.trainable_variables]
        return [[np.array(w[k]) for w in stacked] for k in range(self.members)]

    def export_member(self, k: int, name: str = "member"):
        """Member ``k`` as an ordinary single Keras model computing the same function."""
        model = build_from_specs(self.specs, self.output_kind, name=name)
        model.set_weights(self.member_weights(k))
        return model
