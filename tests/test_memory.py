"""Measured peak memory of one call (helpers.memory)."""

import math
import platform
import sys

import helpers as h

import pytest
from support import printed_by_a_fresh_process

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


# A fresh process: in the test run's own process, memory that other threads or earlier
# tests' leftovers free during the call would lower the level and hide part of the peak.
MEASURE = """
import gc
import helpers as h
import numpy as np

if {garbage}:  # 128 MiB held only by a reference cycle, collected when the collector runs
    garbage = [np.ones(16 * 2**20)]
    garbage.append(garbage)
    del garbage


def allocate():
    gc.collect()  # the collector can run inside any call that makes Python objects
    np.ones(8 * 2**20).sum()  # 64 MiB written at once


print(h.memory.peak_bytes(allocate))
"""


def measured_in_a_fresh_process(garbage):
    return float(printed_by_a_fresh_process(MEASURE.format(garbage=garbage)).split()[-1])


@linux_only
@pytest.mark.parametrize("garbage", [False, True], ids=["alone", "after garbage"])
def test_peak_memory_of_a_call_is_measured(garbage):
    # 64 MiB written at once must show as a peak of at least that, and of not much more
    # (the rest of the process is the same before and during the call); garbage left in a
    # cycle before the call, collected during it, must not hide the peak.
    assert 60 * 2**20 <= measured_in_a_fresh_process(garbage) <= 200 * 2**20


def test_the_peak_is_the_high_water_mark_above_the_level_before_in_bytes(monkeypatch):
    # /proc/self/status in kiB, read before the call (VmRSS) and after (VmHWM).
    levels = {"VmRSS:": 1000, "VmHWM:": 1500}
    monkeypatch.setattr(h.memory, "_kib", lambda field: levels[field])
    monkeypatch.setattr(h.memory, "open", _reset_file(), raising=False)
    assert h.memory.peak_bytes(lambda: None) == 1024.0 * 500
    levels["VmHWM:"] = 900  # resident memory fell during the call: no peak above before
    assert h.memory.peak_bytes(lambda: None) == 0.0


@linux_only
def test_fields_are_read_from_this_process_status():
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    assert abs(h.memory._kib("VmRSS:") - rss) < 10 * 1024  # kiB, within 10 MiB
    assert h.memory._kib("VmHWM:") >= h.memory._kib("VmRSS:") - 1024


def test_nan_where_the_peak_cannot_be_reset(monkeypatch):
    def refuse(path, mode="r"):
        raise OSError(f"no {path} here")

    monkeypatch.setattr(h.memory, "open", refuse, raising=False)
    assert math.isnan(h.memory.peak_bytes(lambda: None))


def _reset_file():
    """open() for /proc/self/clear_refs that checks what is written to it."""

    class Reset:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, text):
            assert text == "5", text  # 5 resets the peak (VmHWM) to the current level

    return lambda path, mode="r": Reset()


# Freed blocks the heap keeps: every other one of 200 blocks of 1 MiB, between live ones, so
# the heap cannot shrink past them. A 32 MiB block freed first makes glibc serve 1 MiB blocks
# from its heap rather than from pages of their own (its mmap threshold rises to 32 MiB).
HOLES = """
import helpers as h
import numpy as np


def anon_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:")) / 1024


np.ones(2**22).sum()
blocks = [np.ones(2**17) for _ in range(200)]
del blocks[::2]
before = anon_mib()
{call}
print(before - anon_mib())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
@pytest.mark.parametrize("call", ["h.memory.give_back()", "h.release_traces()"])
def test_memory_freed_but_kept_by_the_allocator_is_handed_back(call):
    # 100 MiB of holes: all but what the allocator keeps at their edges (a page or so each)
    # must leave the process, by give_back and by release_traces, which calls it.
    assert float(printed_by_a_fresh_process(HOLES.format(call=call)).split()[-1]) > 90
    assert h.memory.give_back() is True


def test_handing_back_is_skipped_where_the_c_library_cannot(monkeypatch):
    monkeypatch.setattr(h.memory, "_TRIM", None)  # as where the C library has no malloc_trim
    assert h.memory.give_back() is False
