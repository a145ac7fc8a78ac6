"""Importing the helpers loads TensorFlow without the optional integrations it probes for."""

import importlib.util
import subprocess
import sys

import pytest

PROBE = """
import sys
import helpers
print(sorted(name for name in ("jax", "sklearn") if name in sys.modules))
import sklearn  # importable afterwards: notebook 08 loads its data with it
print(sklearn.__name__)
"""


def test_tensorflow_loads_without_jax_and_scikit_learn_which_stay_importable():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"  # neither loaded by `import helpers` (about 150 MiB together)
    assert out[1] == "sklearn"
