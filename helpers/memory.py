"""Measured memory: the peak resident memory of this process during one call; and memory
freed but kept by the C allocator handed back to the system.

Linux keeps a process's peak resident set (VmHWM in /proc/self/status) and resets it to the
current level when 5 is written to /proc/self/clear_refs: the peak of one call is measured, not
estimated. Other platforms have no such reset; there the measurement is nan.
"""

import ctypes
import gc
import math

__all__ = ["give_back", "peak_bytes"]


def _kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def peak_bytes(call):
    """Bytes by which this process's resident memory peaked above its level before call().

    nan where it cannot be measured (not Linux). Memory earlier calls freed and the allocator
    kept is reused without a new peak, so a small result says little; a large one is memory the
    call held at once. Earlier garbage is collected first (freed during the call, it would hide
    its peak); memory another thread frees would too: measure in an otherwise idle process.
    """
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as reset:
            reset.write("5")
        before = _kib("VmRSS:")
    except (OSError, StopIteration):
        return math.nan
    call()
    return 1024.0 * max(0, _kib("VmHWM:") - before)  # RSS may dip below `before`


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back():
    """Hand the memory TensorFlow freed but the C allocator kept back to the system; True
    where it could (glibc, as on Linux), False elsewhere.

    glibc keeps a heap per thread and TensorFlow computes on many threads, so freed tensors'
    memory stays with the process: an evaluation that frees 100 MiB can leave the notebook
    100 MiB larger. malloc_trim(0) returns it; it takes milliseconds and changes no number."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
