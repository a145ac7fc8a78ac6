"""Every registered estimator has a plotting style and a row in the README's table."""

import re
from pathlib import Path

import helpers as h

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def estimator_table_names():
    """The names in the first column of the README's table of estimators."""
    text = README.read_text(encoding="utf-8")
    table = text.split("**Estimators**", 1)[1].split("\n\n", 2)[1]
    return re.findall(r'^\| `"(\w+)"` \|', table, flags=re.MULTILINE)


@pytest.mark.parametrize("name", list(h.ESTIMATORS))
def test_every_estimator_has_a_style(name):
    assert h.plotting.color(name).startswith("#")
    assert h.plotting.label(name)


@pytest.mark.parametrize("name", list(h.ESTIMATORS))
def test_every_estimator_has_a_row_in_the_readme(name):
    assert name in estimator_table_names()


def test_the_readme_table_names_only_registered_estimators():
    assert set(estimator_table_names()) == set(h.ESTIMATORS)
