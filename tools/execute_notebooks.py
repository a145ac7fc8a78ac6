"""Re-execute notebooks in place, in a fresh kernel each, and report the time.

Usage: python tools/execute_notebooks.py notebooks/01_model.ipynb [...]
Outputs are stored as the code produces them; no per-cell timing metadata is
recorded, so running this twice leaves the files unchanged.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    return elapsed


def main(paths):
    if not paths:
        sys.exit(__doc__)
    for path in map(Path, paths):
        print(f"{path}: executed in {execute(path):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
