"""K independent copies of a network in one Keras graph: every weight has a leading member axis.

Activations are channels-first, (K, C, B, H, W). A 3x3 convolution is patch extraction (9
shifted views of the zero-padded boards) followed by a per-member linear map: unrolled
multiply-adds for the tiniest layers (XLA fuses them into one pass over the cells), one batched
channels-last matrix product for wider ones. Grouped convolutions are far slower on CPU.
Member k's output depends only on member k's weights and inputs, so K members trained with a
summed loss follow exactly the paths they would follow alone.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lifetf.models import LayerSpec, build_from_specs, clamp, keras_activation

UNROLL_LIMIT = 24  # per-member kernel entries up to which the linear map is unrolled (measured)


def extract_patches(x):
    """(K, C, B, H, W) -> (K, 9C, B, H, W): each cell's zero-padded 3x3 window, Keras' order."""
    padded = ops.pad(x, [[0, 0], [0, 0], [0, 0], [1, 1], [1, 1]])
    h, w = ops.shape(x)[3], ops.shape(x)[4]
    views = [padded[:, :, :, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return ops.concatenate(views, axis=1)


def member_linear(x, kernel, bias):
    """y[k, o] = bias[k, o] + sum_i kernel[k, i, o] x[k, i] for x of shape (K, I, B, H, W)."""
    members, n_in, n_out = kernel.shape
    if n_in * n_out <= UNROLL_LIMIT:
        y = bias[:, :, None, None, None]
        for i in range(n_in):
            y = y + x[:, i : i + 1] * kernel[:, i, :, None, None, None]
        return y
    # wider layers: one batched (cells x n_in) @ (n_in x n_out) product per member, channels-last
    shape = ops.shape(x)
    flat = ops.reshape(ops.transpose(x, (0, 2, 3, 4, 1)), (members, -1, n_in))
    y = ops.matmul(flat, kernel) + bias[:, None, :]
    y = ops.reshape(y, (members, shape[2], shape[3], shape[4], n_out))
    return ops.transpose(y, (0, 4, 1, 2, 3))


def _numpy(variable) -> np.ndarray:
    """A Keras variable's value as numpy, without copying through ``__array__``."""
    value = variable.value
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


class MemberConv(keras.layers.Layer):
    """A 'same'-padded 1x1 or 3x3 convolution held ``members`` times, one per member.

    Input (K, cin, B, H, W); kernel (K, k, k, cin, cout) in Keras' per-model layout; bias (K, cout).
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

    def call(self, x):
        k, cin = self.kernel_size, self.kernel.shape[3]
        if k == 3:
            x = extract_patches(x)
        flat_kernel = ops.reshape(self.kernel, (self.members, k * k * cin, self.filters))
        return self._activation(member_linear(x, flat_kernel, self.bias))

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
            conv.build((members, spec.cin, None, None, None))
        self.built = True

    @property
    def dropout_layers(self) -> tuple[int, ...]:
        """Indices of the layers followed by channel dropout."""
        return tuple(i for i, s in enumerate(self.specs) if s.dropout > 0)

    def call(self, boards, dropout_masks=None):
        """Pre-output values (K, B, H, W); ``dropout_masks`` maps layer index -> (K, C, B, 1, 1)."""
        x = ops.expand_dims(ops.cast(boards, "float32"), 1)
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if dropout_masks and i in dropout_masks:
                x = x * dropout_masks[i]
        return x[:, 0]

    def logits(self, boards, dropout_masks=None):
        """Pre-output values (K, B, H, W) from the ensemble's own weights."""
        return self.call(boards, dropout_masks)

    def apply(self, params, boards, dropout_masks=None):
        """Pre-output values from the parameter tensors ``params`` (a pure function of them)."""
        return self.stateless_call(list(params), [], boards, dropout_masks)[0]

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
