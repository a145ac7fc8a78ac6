"""An installed copy (pip install ., not editable) must hold every helpers package."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_helpers_package_is_listed_for_setuptools():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in ROOT.glob("helpers/**/__init__.py")
    }
    assert found == set(listed)
