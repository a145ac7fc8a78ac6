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


FAKE_TENSORFLOW = """
import os
os.write(2, b"a C++ log line on file descriptor 2\\n")
try:
    import optional_integration
    integration_loaded = True
except ImportError:
    integration_loaded = False
"""


def test_the_quiet_import_silences_descriptor_2_and_hides_the_integrations(
    tmp_path, monkeypatch, capfd
):
    # A stand-in for TensorFlow's import: it writes to fd 2 and imports an integration.
    from helpers import _tf

    (tmp_path / "tensorflow.py").write_text(FAKE_TENSORFLOW)
    (tmp_path / "optional_integration.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.setattr(_tf, "_NOT_NEEDED", ("optional_integration",))
    fake = _tf._import_quietly()
    print("stderr works again", file=sys.stderr)
    assert fake.__file__ == str(tmp_path / "tensorflow.py")
    assert not fake.integration_loaded  # hidden while "TensorFlow" loaded
    assert capfd.readouterr().err == "stderr works again\n"
    assert importlib.import_module("optional_integration")  # and importable afterwards
    monkeypatch.delitem(sys.modules, "optional_integration")
    # Once loaded, the module is returned as it is.
    monkeypatch.setitem(sys.modules, "tensorflow", fake)
    assert _tf._import_quietly() is fake
