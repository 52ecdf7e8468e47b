"""``TensorProto`` encoding for the TF Serving backend.

Inputs are built by hand from the array's raw bytes (``tensor_content``), never from per-element
value lists: a 64-crop batch of 48x48 images is one 147 KB ``bytes`` copy instead of 147 456
Python ints. The result equals ``tf.make_tensor_proto(batch)`` (a test checks it). Outputs are
decoded with ``tf.make_ndarray``, which reads both ``tensor_content`` and the typed ``*_val``
fields (TF Serving's Predict answers with the latter by default).
"""

from __future__ import annotations

import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

UINT8 = types_pb2.DT_UINT8
FLOAT = types_pb2.DT_FLOAT


def encode_uint8(array: np.ndarray) -> tensor_pb2.TensorProto:
    """A ``DT_UINT8`` TensorProto whose ``tensor_content`` is ``array``'s bytes (C order)."""
    if array.dtype != np.uint8:
        raise TypeError(f"expected a uint8 array, got {array.dtype}")
    return tensor_pb2.TensorProto(
        dtype=UINT8,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in array.shape]
        ),
        tensor_content=np.ascontiguousarray(array).tobytes(),
    )


def decode(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """The ndarray a TensorProto holds, whichever field carries the values."""
    from tensorflow import make_ndarray

    return make_ndarray(proto)


def dtype_name(dtype: int) -> str:
    """``DT_UINT8`` for ``types_pb2.DT_UINT8`` (error messages)."""
    return types_pb2.DataType.Name(dtype)


def shape_of(shape: tensor_shape_pb2.TensorShapeProto) -> tuple[int, ...] | None:
    """Dimensions of a shape proto (``-1`` = unknown); ``None`` when the rank is unknown."""
    if shape.unknown_rank:
        return None
    return tuple(int(d.size) for d in shape.dim)
