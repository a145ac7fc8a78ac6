"""Keys for cached traces of a user's objective f: equal exactly when f computes the same thing.

Traced functions are cached per objective, so a notebook cell can call the
helpers many times and trace once. Caching by f's identity goes wrong both
ways: an f that reads a global (`c` in `lambda z: (z - c) ** 2`) would keep
the value it had when first traced, and a cell re-run makes a new lambda each
time, so every run traced again and kept its trace. `traceable(f)` instead
wraps f in a key made of its code and the current values of everything it
captures (globals it names, closure cells, defaults, an object's attributes):
change `c` and the key changes, so the helpers retrace; re-create the same
lambda and the key is equal, so the trace is shared. The caches that hold the
traces are bounded (`CACHE_SIZE`), so memory stays flat either way, and
`release_traces()` empties them all at once: a notebook that moves on to a new
experiment frees the graphs of the last one (each trace holds a few MiB).
"""

import functools
import gc
import types

import numpy as np

from ._tf import tf

CACHE_SIZE = 32  # traced functions kept per cache, least recently used dropped first
_DEPTH = 4  # how deep captured functions are followed
_CACHES = []  # every trace cache of the helpers, for release_traces


def trace_cache(function):
    """functools.lru_cache with CACHE_SIZE entries, emptied by release_traces()."""
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(function)
    _CACHES.append(cached)
    return cached


def release_traces():
    """Drop every traced function the helpers keep; returns how many there were.

    Later calls trace again when they need to (the numbers do not change). The
    memory of the dropped graphs goes back to the process's allocator, so the
    next experiment reuses it instead of adding to the peak.
    """
    count = sum(cache.cache_info().currsize for cache in _CACHES)
    for cache in _CACHES:
        cache.cache_clear()
    gc.collect()
    return count


class Traceable:
    """f, callable as f, hashed and compared by its code and captured state."""

    __slots__ = ("f", "key", "__weakref__")

    def __init__(self, f, key):
        self.f, self.key = f, key

    def __call__(self, z):
        return self.f(z)

    def __eq__(self, other):
        return isinstance(other, Traceable) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"traceable({self.f!r})"


def traceable(f):
    """f wrapped so that equal keys mean equal computations (see the module docstring).

    The helpers' own functions (h.square, whose closed form the exact loss
    recognises) and TensorFlow's are returned as they are: they never change.
    """
    module = getattr(f, "__module__", None) or ""
    if isinstance(f, Traceable) or module.startswith(("helpers", "tensorflow")):
        return f
    return Traceable(f, _fingerprint(f, _DEPTH))


def _global_names(code):
    """The names a code object (and the functions defined inside it) may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _fingerprint(value, depth):
    """A hashable summary of value: equal summaries mean equal behaviour for f's purposes."""
    if isinstance(value, bool | int | float | complex | str | bytes | type(None)):
        return (type(value), value)
    if isinstance(value, np.generic):
        return (type(value), value.item())
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, hash(value.tobytes()))
    if tf.is_tensor(value) and not isinstance(value, tf.Variable) and hasattr(value, "numpy"):
        return ("tensor", _fingerprint(value.numpy(), depth))
    if isinstance(value, tuple | list):
        return (type(value), tuple(_fingerprint(v, depth) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _fingerprint(v, depth)) for k, v in value.items())))
    if depth > 0 and isinstance(value, types.FunctionType):
        return _function_fingerprint(value, depth - 1)
    if depth > 0 and hasattr(value, "func") and hasattr(value, "args"):  # functools.partial
        keywords = _fingerprint(dict(getattr(value, "keywords", None) or {}), depth)
        return (
            "partial",
            _fingerprint(value.func, depth - 1),
            _fingerprint(value.args, depth),
            keywords,
        )
    if (
        depth > 0
        and callable(value)
        and hasattr(value, "__dict__")
        and not isinstance(value, types.ModuleType | type)
    ):  # a callable object: its class and its attributes
        return ("object", type(value), _fingerprint(vars(value), depth - 1))
    return ("id", id(value))  # modules, classes, variables, anything else: by identity


def _function_fingerprint(f, depth):
    cells = tuple(_fingerprint(cell.cell_contents, depth) for cell in f.__closure__ or ())
    names = sorted(name for name in _global_names(f.__code__) if name in f.__globals__)
    globals_ = tuple((name, _fingerprint(f.__globals__[name], depth)) for name in names)
    defaults = _fingerprint(f.__defaults__, depth), _fingerprint(f.__kwdefaults__, depth)
    return ("function", f.__code__, cells, globals_, defaults)
