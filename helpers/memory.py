"""Measured memory: the peak resident memory of this process during one call.

Linux keeps the peak resident set of a process (VmHWM in /proc/self/status) and lets the process
reset it to the current level (writing 5 to /proc/self/clear_refs), so the peak of one call is
measured, not estimated. Other platforms have no such reset; there the measurement is nan.
"""

import gc
import math

__all__ = ["peak_bytes"]


def _kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def peak_bytes(call):
    """Bytes by which this process's resident memory peaked above its level before call().

    nan where it cannot be measured (not Linux). Memory that earlier calls freed and the
    allocator kept can be reused without a new peak, so a small result says little; a large one
    is memory the call held at once. Garbage left by earlier code is collected first: freed
    during the call, it would hide its peak; so would memory another thread frees meanwhile,
    so measure in a process that does nothing else (a notebook's kernel, a fresh process).
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
