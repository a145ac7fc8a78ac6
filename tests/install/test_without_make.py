"""The README's commands without make, run as written in a fresh clone (make test-install).

The "any shell" block between the README's without-make markers: its first line makes
.venv and installs the package with JupyterLab at constraints.txt's versions, its
second starts JupyterLab. The clone is of the committed HEAD, as a reader gets it.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
from labserver import serve_and_list

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- without-make:start -->\n```sh\n(.*?)```\n<!-- without-make:end -->", re.S)
TOKEN = "without-make"


def test_readme_commands_without_make_work_in_a_fresh_clone(tmp_path):
    install, start = BLOCK.search((ROOT / "README.md").read_text()).group(1).strip().splitlines()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # A reader's shell: no virtualenv or conda environment active.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    done = subprocess.run(
        ["bash", "-c", install], cwd=clone, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check = "import helpers as h; print(h.exact_loss(h.make_model(dim=2, buckets=2, seed=0)))"
    subprocess.run([clone / ".venv" / "bin" / "python", "-c", check], cwd=tmp_path, check=True)

    # The README's command; a test machine also needs no browser and may run as root.
    options = " --no-browser" + (" --allow-root" if os.geteuid() == 0 else "")
    root, notebooks, landing = serve_and_list(
        ["bash", "-c", start + options], clone, env, token=TOKEN, name="JupyterLab"
    )
    assert {"README.md", "notebooks"} <= root
    assert "01_model.ipynb" in notebooks
    assert landing == "/lab/tree/notebooks"
