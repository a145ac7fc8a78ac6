"""When two calls may share a traced function: only when the trace cannot be stale.

A trace keeps the Python values the objective f read when it was traced, so it is shared only when f
is a plain function (or a functools.partial of one) and everything it reads is in its key, compared
by value at every call: numbers, strings, arrays and tensors, tuples, lists and dicts of them (up to
`MAX_ITEMS` items and `MAX_BYTES` of arrays in all: comparing more costs more than a trace), other
such functions, and TensorFlow, NumPy, math and the helpers (by identity, held by the key so that no
other object can take its id; a tf.Variable too, since a graph reads its current value). Anything
else f reads (a bound method, an object, an object-dtype array, a module or problem class of yours,
a container that holds itself, or names such as `globals` and `eval` that reach values behind the
key's back) makes f unshareable: each call traces afresh, slower but never handing one function's
numbers to another. The caches hold `CACHE_SIZE` traces; `release_traces()` empties them."""

import dataclasses
import functools
import gc
import hashlib
import types

import numpy as np

from ._tf import tf
from .memory import give_back

CACHE_SIZE = 32  # traced functions kept per cache, least recently used dropped first
MAX_ITEMS = 10_000  # the most tuple, list and dict items one key compares, all told
MAX_BYTES = 1 << 24  # the most array and tensor bytes one key hashes (16 MiB: about 20 ms)
_DEPTH = 4  # how deep captured functions are followed
_CACHES = []  # every trace cache of the helpers, for release_traces
_STABLE_MODULES = ("builtins", "tensorflow", "numpy", "math", "helpers")
# Names through which f can read globals or other values that its key does not hold.
_INDIRECT = set("globals vars locals eval exec __import__ __globals__ __builtins__".split())


def trace_cache(function):
    """functools.lru_cache with CACHE_SIZE entries, emptied by release_traces(), used only
    when every argument is shareable; otherwise `function` runs afresh for this call."""
    cached = functools.lru_cache(maxsize=CACHE_SIZE)(function)
    _CACHES.append(cached)

    @functools.wraps(function)
    def lookup(*args, **kwargs):
        args = tuple(_now(value) for value in args)
        kwargs = {name: _now(value) for name, value in kwargs.items()}
        if all(shareable(value) for value in (*args, *kwargs.values())):
            return cached(*args, **kwargs)
        return function(*args, **kwargs)

    return lookup


def stable(value):
    """Whether value is, or is defined in, a module whose definitions do not change, so it
    is keyed by identity: TensorFlow, NumPy, math, builtins or the helpers themselves."""
    owner = getattr(value, "__self__", None)  # a bound method reads its object's state
    if owner is not None and not isinstance(owner, types.ModuleType):
        return False
    if isinstance(value, types.ModuleType):
        module = value.__name__
    else:
        module = getattr(value, "__module__", None) or type(value).__module__ or ""
    return module.split(".")[0] in _STABLE_MODULES


def _now(value):
    """value with every objective's key taken now (a global f reads may have changed)."""
    if isinstance(value, Traceable):
        return traceable(value.f)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and stable(type(value)):
        fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
        wrapped = {name: _now(v) for name, v in fields.items() if isinstance(v, Traceable)}
        return dataclasses.replace(value, **wrapped) if wrapped else value
    return value


def shareable(value):
    """Whether a trace-cache argument fixes what the trace computes (see the docstring)."""
    if isinstance(value, Traceable):
        return value.key is not None
    if isinstance(value, tuple | list):
        return all(shareable(item) for item in value)
    if isinstance(value, types.FunctionType | types.MethodType | functools.partial):
        return stable(value)  # a raw function of yours is not keyed by what it reads
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a problem
        fields = (getattr(value, field.name) for field in dataclasses.fields(value))
        return stable(type(value)) and all(shareable(field) for field in fields)
    return stable(type(value))


def release_traces():
    """Drop every traced function the helpers keep; returns how many there were. Later calls
    trace again when they need to (the numbers do not change), and the dropped graphs' memory,
    with all the allocator kept, is handed back to the system (memory.give_back)."""
    count = sum(cache.cache_info().currsize for cache in _CACHES)
    for cache in _CACHES:
        cache.cache_clear()
    gc.collect()
    give_back()
    return count


class Traceable:
    """f, callable as f, hashed and compared by its code and captured state (key None:
    f reads something the key cannot hold, so it is compared by identity and never shared)."""

    __slots__ = ("f", "key", "__weakref__")

    def __init__(self, f, key):
        self.f, self.key = f, key

    def __call__(self, z):
        return self.f(z)

    def __eq__(self, other):
        if self.key is None:
            return self is other
        return isinstance(other, Traceable) and self.key == other.key

    def __hash__(self):
        return id(self) if self.key is None else hash(self.key)

    def __repr__(self):
        return f"traceable({self.f!r})"


def traceable(f):
    """f wrapped so that equal keys mean equal computations (see the module docstring); a
    stable f (h.square, whose closed form the exact loss recognises) is returned as it is."""
    if isinstance(f, Traceable) or stable(f):
        return f
    try:
        return Traceable(f, _fingerprint(f, _DEPTH, _Budget()))
    except (_Unkeyable, RecursionError):  # RecursionError: a container that holds itself
        return Traceable(f, None)


class _Unkeyable(Exception):
    """f reads something whose changes a key cannot follow."""


def _global_names(code):
    """The names a code object (and the functions defined inside it) may read as globals."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


class _Same:
    """value keyed by identity, and held: while the key lives no other object takes its id."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Same) and self.value is other.value

    def __hash__(self):
        return id(self.value)


class _Budget:
    """What one key may still compare: past MAX_ITEMS items or MAX_BYTES, f is unkeyable."""

    def __init__(self):
        self.items, self.bytes = MAX_ITEMS, MAX_BYTES

    def spend(self, items=0, nbytes=0):
        self.items, self.bytes = self.items - items, self.bytes - nbytes
        if self.items < 0 or self.bytes < 0:
            raise _Unkeyable(f"more than {MAX_ITEMS} items or {MAX_BYTES} bytes")


def _digest(array):
    """A digest of array's bytes, hashed in place when it is C-contiguous."""
    if array.dtype.hasobject:  # its bytes are pointers: an object changed in place is missed
        raise _Unkeyable("object array")
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return (array.dtype.str, array.shape, hashlib.blake2b(data).digest())


def _fingerprint(value, depth, budget):
    """A hashable summary of value: equal summaries mean equal behaviour for f's purposes."""
    if isinstance(value, float):  # by its bits: 0.0 == -0.0, but atan2 tells them apart
        return (type(value), float(value).hex())
    if isinstance(value, bool | int | complex | str | bytes | type(None)):
        return (type(value), value)
    if isinstance(value, np.generic):
        return (type(value), _fingerprint(value.item(), depth, budget))
    if isinstance(value, np.ndarray):
        budget.spend(nbytes=value.nbytes)
        return ("array", _digest(value))
    if isinstance(value, tf.Variable):  # a graph reads a variable's value when it runs
        return ("variable", _Same(value))
    if tf.is_tensor(value) and hasattr(value, "numpy"):
        budget.spend(nbytes=value.shape.num_elements() * value.dtype.size)
        return ("tensor", _digest(np.asarray(value.numpy())))
    if isinstance(value, tuple | list | dict):
        budget.spend(len(value))  # before any item: a long container stops at once
    if isinstance(value, tuple | list):
        return (type(value), tuple(_fingerprint(v, depth, budget) for v in value))
    if isinstance(value, dict):
        items = ((repr(k), _fingerprint(v, depth, budget)) for k, v in value.items())
        return ("dict", tuple(sorted(items)))
    if (isinstance(value, types.ModuleType | type) or callable(value)) and stable(value):
        return ("stable", _Same(value))
    if depth > 0 and isinstance(value, types.FunctionType):
        names = _global_names(value.__code__)
        if names & _INDIRECT:
            raise _Unkeyable(f"{value.__name__} reads {sorted(names & _INDIRECT)}")
        cells = [cell.cell_contents for cell in value.__closure__ or ()]
        globs = {name: value.__globals__[name] for name in names & set(value.__globals__)}
        read = (cells, globs, value.__defaults__, value.__kwdefaults__, value.__dict__)
        return ("function", value.__code__, _fingerprint(read, depth - 1, budget))
    if depth > 0 and isinstance(value, functools.partial):
        arguments = _fingerprint((value.args, dict(value.keywords)), depth, budget)
        return ("partial", _fingerprint(value.func, depth - 1, budget), arguments)
    raise _Unkeyable(type(value).__name__)  # objects, bound methods, your modules: unkeyable
