"""Measured peak memory of one call (helpers.memory)."""

import math

import helpers as h

import numpy as np
import pytest


def test_peak_memory_of_a_call_is_measured():
    # 64 MiB written at once must show as a peak of at least that (Linux); elsewhere nan.
    def allocate():
        np.ones(8 * 2**20).sum()

    measured = h.memory.peak_bytes(allocate)
    if math.isnan(measured):
        pytest.skip("peak memory is measured on Linux only")
    assert measured >= 60 * 2**20
