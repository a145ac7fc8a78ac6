"""The series with Colab's versions: TensorFlow 2.20.x and NumPy 2.1.x (make test-install).

A new virtual environment gets the package with those versions as constraints (and
Colab's ipykernel 6 line); every notebook then runs top to bottom in it. Outputs may
differ from the stored ones in the last digits there, so no error is the bar. The
environment uses Python 3.13, Colab's, where this machine has one, else the Python
running the tests. The Colab install cell itself runs there too, as on Colab (with
google.colab importable), and must add the helpers package and change nothing else.
"""

import json
import sys
import tomllib

import pytest
from environments import NOTEBOOKS, ROOT, execute, find_python, installed, new_venv, run

pytestmark = pytest.mark.install

COLAB = ["tensorflow==2.20.*", "numpy==2.1.*", "ipykernel>=6,<7"]


def colab_python():
    """Python 3.13, Colab's, where one runs here; else the Python running the tests."""
    return find_python("3.13") or sys.executable


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colab")
    python = new_venv(colab_python(), folder)
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
    execute(python, notebook, folder)


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
    python = new_venv(colab_python(), tmp_path)
    before = installed(python)
    run_colab_cell(python, tmp_path)
    assert_only_the_helpers_were_added(before, installed(python))
