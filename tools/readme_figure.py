"""Copy the figure tagged "readme-figure" in notebook 05's stored outputs to docs/.

The README shows the comparison's headline figure; taking it from the executed
notebook keeps it exactly what the code produced. `make outputs` runs this
after executing the notebooks; `--check` exits 1 if docs/ is out of date.
"""

import base64
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "notebooks" / "05_comparison.ipynb"
TARGET = ROOT / "docs" / "comparison.png"


def stored_figure():
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        if "readme-figure" in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"])
    raise SystemExit(f"{SOURCE.name} has no executed cell tagged readme-figure with a PNG")


def main(argv):
    figure = stored_figure()
    if "--check" in argv:
        current = TARGET.read_bytes() if TARGET.exists() else b""
        if current != figure:
            print(f"out of date: {TARGET.relative_to(ROOT)} (run: make outputs)")
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_bytes(figure)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
