"""What the install tests share: new virtual environments, commands, executing notebooks."""

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Run a notebook top to bottom in the environment's own kernel; raises on a cell error.
EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(notebook, sys.argv[1])
"""


def find_python(version):
    """A Python of that version that runs here (a pyenv version counts), or None."""
    candidates = [shutil.which(f"python{version}")]
    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")
    candidates += sorted(glob.glob(pattern))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == version:
            return candidate
    return None


def run(*command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout}{result.stderr}"
    return result.stdout


def new_venv(python, folder):
    """A new virtual environment in folder/venv; returns its python."""
    run(python or sys.executable, "-m", "venv", folder / "venv")
    return str(folder / "venv" / "bin" / "python")


def installed(python):
    """name -> version of every distribution in the environment."""
    listing = run(python, "-m", "pip", "list", "--format=json")
    return {item["name"].lower(): item["version"] for item in json.loads(listing)}


def execute(python, notebook, folder):
    """Run a copy of the notebook in folder (helpers come from the installed package)."""
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    run(python, "-c", EXECUTE, copy, folder, cwd=folder)
    return copy
