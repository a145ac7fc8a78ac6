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


def coalesce_streams(cell):
    """One output per run of text printed to the same stream: how the kernel splits a
    cell's prints depends on timing, which must not change the stored file."""
    merged = []
    for out in cell.outputs:
        last = merged[-1] if merged else None
        if out.output_type == "stream" and last and last.output_type == "stream":
            if last.name == out.name:
                last.text += out.text
                continue
        merged.append(out)
    cell.outputs = merged


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
    for cell in notebook.cells:
        if cell.cell_type == "code":
            coalesce_streams(cell)
    nbformat.write(notebook, path)
    return elapsed


def main(paths):
    if not paths:
        sys.exit(__doc__)
    for path in map(Path, paths):
        print(f"{path}: executed in {execute(path):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
