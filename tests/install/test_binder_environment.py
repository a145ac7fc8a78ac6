"""Binder's lean environment runs every notebook as stored (make test-install).

The packages of .binder/environment.yml (TensorFlow's CPU-only build among them) go
into a new virtual environment with pip, at constraints.txt's versions where it names
them, on the environment file's Python; then .binder/postBuild runs as repo2docker runs
it, from the repository's root. Every notebook must run top to bottom there and print
what the stored notebook printed (the CPU-only build computes what the full one does),
and the settings override must be where that environment's JupyterLab reads it.
"""

import json
import re

import nbformat
import pytest
import yaml
from environments import NOTEBOOKS, ROOT, execute, find_python, new_venv, run

pytestmark = pytest.mark.install

BINDER = yaml.safe_load((ROOT / ".binder" / "environment.yml").read_text())


def packages():
    """The file's packages as pip requirements, and its Python version."""
    conda = [d for d in BINDER["dependencies"] if isinstance(d, str)]
    pip = [item for d in BINDER["dependencies"] if isinstance(d, dict) for item in d["pip"]]
    (python,) = [d.split("=")[1] for d in conda if re.match(r"python\b", d)]
    return [d for d in conda if not re.match(r"(python|pip)\b", d)] + pip, python


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    requirements, version = packages()
    python_here = find_python(version)
    if python_here is None:
        pytest.skip(f"no Python {version} here, the one .binder/environment.yml names")
    folder = tmp_path_factory.mktemp("binder")
    python = new_venv(python_here, folder)
    constraints = ["-c", str(ROOT / "constraints.txt")]
    run(python, "-m", "pip", "install", "--quiet", *constraints, *requirements)
    run(python, "-m", "pip", "install", "--quiet", *constraints, "nbclient")  # to run them
    env_bin = str(folder / "venv" / "bin")
    run(str(ROOT / ".binder" / "postBuild"), cwd=ROOT, env={"PATH": f"{env_bin}:/usr/bin:/bin"})
    return python, folder


def printed(notebook):
    """What each compared code cell prints and returns, as text (timing cells are not
    compared; how a kernel splits a stream into chunks varies, so chunks are joined)."""
    return [
        (
            "".join(out.text for out in cell.outputs if out.output_type == "stream"),
            [out.data.get("text/plain") for out in cell.outputs if "data" in out],
        )
        for cell in notebook.cells
        if cell.cell_type == "code" and "nbval-ignore-output" not in cell.metadata.get("tags", [])
    ]


def test_postbuild_installs_the_helpers_and_the_settings_override(binder):
    python, folder = binder
    settings = folder / "venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(settings.read_text()) == json.loads(
        (ROOT / ".binder" / "overrides.json").read_text()
    )
    tensorflow = run(python, "-m", "pip", "show", "tensorflow-cpu")
    assert "Name: tensorflow" in tensorflow
    run(python, "-c", "import helpers")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_as_stored_in_binders_environment(binder, notebook):
    python, folder = binder
    executed = nbformat.read(execute(python, notebook, folder), as_version=4)
    assert printed(executed) == printed(nbformat.read(notebook, as_version=4))
