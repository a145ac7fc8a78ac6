"""Input checks shared by the public functions: clear ValueErrors, early."""

import numbers

import numpy as np

from ._tf import tf
from .tracing import trace_cache, traceable

DTYPES = {"float32": tf.float32, "float64": tf.float64}


def _scalar(value):
    """A Python scalar from a number, a numpy scalar, a 0-d array or a 0-d tensor."""
    if tf.is_tensor(value) and value.shape.rank == 0:
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    return value


def integer(value, name, minimum):
    """`value` as an int >= minimum, or a ValueError naming `name`."""
    value = _scalar(value)
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or value < minimum:
        named = not whole and isinstance(value, numbers.Real)  # a float or a bool: its type
        kind = f" (a {type(value).__name__}: pass an int)" if named else ""
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}{kind}")
    return int(value)


def flag(value, name):
    """`value` as a bool (True, False or numpy's bool), or a ValueError naming `name`."""
    value = _scalar(value)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def seed(value):
    """A seed as the shape-(2,) int64 tensor stateless random ops take."""
    value = integer(value, "seed", 0)
    if value >= 2**63:
        raise ValueError(f"seed must be below 2**63, got {value}")
    return tf.constant([value, 0], dtype=tf.int64)


def dtype(value, name="dtype"):
    """tf.float32 or tf.float64 from a name, a numpy or a TensorFlow dtype (float: float64)."""
    if value is float:
        return tf.float64
    try:
        found = tf.as_dtype(value).name
    except TypeError:
        found = str(value)
    if found not in DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got {value!r}")
    return DTYPES[found]


def real(value, name, dtype=None, positive=False):
    """`value` as a finite float that `dtype` (when given) can represent; positive: also
    above 0, and a normal number of `dtype` (a smaller one underflows)."""
    value = _scalar(value)
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if is_number else np.nan
    info = np.finfo(dtype.as_numpy_dtype) if dtype is not None else None
    largest, smallest = (float(info.max), float(info.tiny)) if info else (np.inf, 0.0)
    if np.isfinite(number) and abs(number) <= largest and (number > smallest or not positive):
        return number
    within = ""
    if info and (is_number or positive):
        bounds = f"{smallest:.3g} < {name}" if positive else f"|{name}|"
        within = f" representable in {dtype.name} ({bounds} <= {largest:.3g})"
    kind = "a positive finite number" if positive else "a finite number"
    raise ValueError(f"{name} must be {kind}{within}, got {value!r}")


def positive_finite(value, name, dtype=None):
    """A float > 0, finite, and a normal number of `dtype` (when given)."""
    return real(value, name, dtype, positive=True)


PROBE = [[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]]


def objective(f, dtype):
    """f, checked to map a tensor to one of the same shape and dtype, eagerly and traced, on a
    small probe: a reducing f, a numpy function, one that changes the dtype or works only
    eagerly would otherwise fail deep inside a traced graph. Returns f keyed for the trace
    caches (tracing.traceable)."""
    if not callable(f):
        raise ValueError(f"f must be a function from a tensor to a tensor, got {f!r}")
    probe = tf.constant(PROBE, dtype=dtype)
    _call(f, probe, "on a tensor")
    f = traceable(f)
    _traced_probe(f, dtype)
    return f


@trace_cache
def _traced_probe(f, dtype):
    """f traced into a graph on the probe (once per f and dtype: failures are not cached)."""
    probe = tf.constant(PROBE, dtype=dtype)
    _call(tf.function(f, autograph=False), probe, "when traced into a graph, on a tensor")


def _call(f, probe, how):
    """f(probe), checked to be a tensor of probe's shape and dtype: any failure is a usage
    error of f, reported as a ValueError with a hint where one helps."""
    try:
        out = f(probe)
    except Exception as err:
        hint, message = "", str(err)
        if "double tensor" in message or "float tensor" in message:
            hint = (
                f"; f must keep its input's dtype ({probe.dtype.name} here): make constants "
                "of that dtype, e.g. tf.cast(c, z.dtype)"
            )
        elif "numpy" in message.lower() or isinstance(err, NotImplementedError | TypeError):
            hint = "; build f from TensorFlow ops (numpy functions and .numpy() fail in a graph)"
        raise ValueError(
            f"f failed {how} of shape {tuple(probe.shape)}: {type(err).__name__}: "
            f"{message.splitlines()[0] if message else ''}{hint}"
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
