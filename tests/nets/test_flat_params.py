"""FlatParams: the loops train one (K, P) matrix and hand the losses the layers' tensors."""

from __future__ import annotations

import numpy as np
from keras import ops

from lifetf.nets.backends.base import FlatParams


def test_flatten_and_unflatten_round_trip_on_numpy_and_tensors() -> None:
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 3, 3, 1, 2)).astype(np.float32),
              rng.normal(size=(3, 2)).astype(np.float32),
              rng.normal(size=(3, 1, 1, 2, 1)).astype(np.float32)]
    layout = FlatParams(params)
    flat = layout.flatten(params)
    assert flat.shape == (3, 18 + 2 + 2) and flat.dtype == np.float32
    # member k's row holds member k's parameters only
    np.testing.assert_array_equal(flat[1, :18], params[0][1].ravel())
    for back in (layout.unflatten(flat),
                 [ops.convert_to_numpy(t) for t in layout.unflatten(ops.convert_to_tensor(flat))]):
        for a, b in zip(back, params, strict=True):
            np.testing.assert_array_equal(a, b)
