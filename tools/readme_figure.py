"""Copy the figures tagged "readme-figure" in the notebooks' stored outputs to docs/.

docs/findings.md shows notebook 05's headline comparison and notebook 10's VAE
training curves; taking them from the executed notebooks keeps them exactly what the code
produced. `make outputs` runs this after executing the notebooks; `--check` exits
1 if docs/ is out of date.
"""

import base64
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
# docs/ target: the notebook whose cell tagged readme-figure it copies
FIGURES = {
    ROOT / "docs" / "comparison.png": ROOT / "notebooks" / "05_comparison.ipynb",
    ROOT / "docs" / "discrete_vae.png": ROOT / "notebooks" / "10_discrete_vae.ipynb",
}


def stored_figure(source):
    for cell in nbformat.read(source, as_version=4).cells:
        if "readme-figure" in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                if "image/png" in output.get("data", {}):
                    return base64.b64decode(output["data"]["image/png"])
    raise SystemExit(f"{source.name} has no executed cell tagged readme-figure with a PNG")


def main(argv):
    stale = 0
    for target, source in FIGURES.items():
        figure = stored_figure(source)
        if "--check" in argv:
            current = target.read_bytes() if target.exists() else b""
            if current != figure:
                print(f"out of date: {target.relative_to(ROOT)} (run: make outputs)")
                stale = 1
            continue
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(figure)
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
