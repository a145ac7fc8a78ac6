"""Shared fixtures, and nbval told to leave stderr out of its comparison."""

import helpers as h

import pytest


def _drop_stderr(outputs):
    return [
        out
        for out in outputs
        if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
    ]


def pytest_configure(config):
    # Stored notebooks hold no stderr (TensorFlow's load-time lines are silenced
    # in helpers._tf), but a warning that differs between machines must not
    # fail the comparison of what the notebook computes.
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:
        return
    compare = IPyNbCell.compare_outputs
    if getattr(compare, "drops_stderr", False):
        return

    def compare_without_stderr(self, test, ref, skip_compare=None):
        return compare(self, _drop_stderr(test), _drop_stderr(ref), skip_compare)

    compare_without_stderr.drops_stderr = True
    IPyNbCell.compare_outputs = compare_without_stderr


@pytest.fixture
def model():
    return h.make_model(dim=3, buckets=4, seed=11)
