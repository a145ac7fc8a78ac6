"""Input checks shared by the public functions: clear ValueErrors, early."""

import numbers

import numpy as np

from ._tf import tf

DTYPES = {"float32": tf.float32, "float64": tf.float64}


def integer(value, name, minimum):
    """`value` as an int >= minimum, or a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def seed(value):
    """A seed as the shape-(2,) int64 tensor stateless random ops take."""
    value = integer(value, "seed", 0)
    if value >= 2**63:
        raise ValueError(f"seed must be below 2**63, got {value}")
    return tf.constant([value, 0], dtype=tf.int64)


def dtype(value):
    """tf.float32 or tf.float64 from a name, a numpy or a TensorFlow dtype."""
    try:
        name = tf.as_dtype(value).name
    except TypeError:
        name = str(value)
    if name not in DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {value!r}")
    return DTYPES[name]


def positive_finite(value, name):
    """A float > 0 that is not inf or NaN."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def objective(f, dtype):
    """Check that f maps a tensor to a tensor of the same shape and dtype.

    f is called once on a small probe; a reducing f, a numpy function or one
    that changes the dtype would otherwise fail deep inside a traced graph.
    """
    if not callable(f):
        raise ValueError(f"f must be a function from a tensor to a tensor, got {f!r}")
    probe = tf.constant([[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]], dtype=dtype)
    try:
        out = f(probe)
    except Exception as err:  # report any failure as a usage error of f
        raise ValueError(
            f"f failed on a tensor of shape {probe.shape}: {err!r}; f must accept a "
            "tensor of any shape and be built from TensorFlow ops"
        ) from err
    if not tf.is_tensor(out):
        raise ValueError(
            f"f must return a TensorFlow tensor (built from tf ops so it can be "
            f"differentiated), got {type(out).__name__}"
        )
    if out.shape != probe.shape or out.dtype != probe.dtype:
        raise ValueError(
            "f must return a tensor of its input's shape and dtype (elementwise); on "
            f"input {probe.shape} {probe.dtype.name} it returned {out.shape} {out.dtype.name}"
        )
    return f
