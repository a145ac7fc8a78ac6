"""The series with Colab's versions: TensorFlow 2.20.x and NumPy 2.1.x (make test-install).

A new virtual environment gets the package with those versions as constraints (and
Colab's ipykernel 6 line); every notebook then runs top to bottom in it. Outputs may
differ from the stored ones in the last digits there, so no error is the bar. The
environment uses Python 3.13, Colab's, where this machine has one, else the Python
running the tests. The Colab install cell itself runs there too, as on Colab (with
google.colab importable), and must add the helpers package and change nothing else.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
COLAB = ["tensorflow==2.20.*", "numpy==2.1.*", "ipykernel>=6,<7"]
EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def colab_python():
    """Python 3.13 if one runs here (a pyenv version counts), else this Python."""
    candidates = [shutil.which("python3.13")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print(sys.version_info[:2] == (3, 13))"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == "True":
            return candidate
    return sys.executable


def run(*command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout}{result.stderr}"
    return result.stdout


def installed(python):
    """name -> version of every distribution in the environment."""
    listing = run(python, "-m", "pip", "list", "--format=json")
    return {item["name"].lower(): item["version"] for item in json.loads(listing)}


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colab")
    run(colab_python(), "-m", "venv", folder / "venv")
    python = str(folder / "venv" / "bin" / "python")
    constraints = folder / "colab-constraints.txt"
    constraints.write_text("\n".join(COLAB) + "\n")
    pip = [python, "-m", "pip", "install", "--quiet", "-c", constraints]
    run(*pip, str(ROOT), "nbclient", "nbformat", "ipykernel")
    versions = run(python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").strip()
    print(f"Colab-versions environment: Python {versions}, {installed(python)['tensorflow']}")
    return python, folder


def test_the_environment_has_colabs_versions(colab):
    python, _ = colab
    versions = installed(python)
    assert versions["tensorflow"].startswith("2.20.")
    assert versions["numpy"].startswith("2.1.")
    assert versions["ipykernel"].startswith("6.")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_with_colabs_versions(colab, notebook):
    python, folder = colab
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    # Run from the copy's folder: helpers must come from the installed package.
    run(python, "-c", EXECUTE, copy, folder, cwd=folder)


def run_colab_cell(python, folder):
    """The first code cell of notebook 01, run as on Colab, installing from this checkout.

    google.colab is importable, as on Colab; the package comes from this checkout
    instead of GitHub, with the cell's own pip command (and its --no-deps).
    """
    code = [c for c in json.loads(NOTEBOOKS[0].read_text())["cells"] if c["cell_type"] == "code"]
    cell = "".join(code[0]["source"])
    package = next(w for w in cell.split('"') if w.startswith("git+https://"))
    as_on_colab = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('colab')\n"
    script = folder / "colab_cell.py"
    script.write_text(as_on_colab + cell.replace(package, str(ROOT)))
    run(python, script, cwd=folder)


def assert_only_the_helpers_were_added(before, after):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert after.pop("discrete-latent-gradients") == version
    assert after == before, {k: (before.get(k), after.get(k)) for k in before.keys() | after}


def test_colab_cell_adds_the_helpers_and_changes_nothing_else(colab, tmp_path):
    python, _ = colab
    run(python, "-m", "pip", "uninstall", "--quiet", "--yes", "discrete-latent-gradients")
    before = installed(python)
    run_colab_cell(python, tmp_path)
    assert_only_the_helpers_were_added(before, installed(python))


def test_colab_cell_installs_no_dependency_even_where_one_is_missing(tmp_path):
    # Where the kernel's packages do not satisfy the package's ranges (here: none of
    # them is installed; on Colab, a TensorFlow newer than the range allows), pip without
    # --no-deps would install or replace them under the running kernel.
    run(colab_python(), "-m", "venv", tmp_path / "bare")
    python = str(tmp_path / "bare" / "bin" / "python")
    before = installed(python)
    run_colab_cell(python, tmp_path)
    assert_only_the_helpers_were_added(before, installed(python))
