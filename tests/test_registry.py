"""Every registered estimator has a plotting style and a row in the README's table."""

import dataclasses
import re
from pathlib import Path

import helpers as h

import numpy as np
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


def test_one_registration_makes_an_estimator_known_everywhere(monkeypatch):
    # A new estimator: a surrogate (here the score function's, under another name),
    # its noise, its cost; registered once, gradient_samples and optimise run it.
    def twin(problem, params, noise, **options):
        return h.score_function(problem, params, noise, **options)

    model = h.make_model(dim=2, buckets=3, seed=1)
    monkeypatch.setitem(h.ESTIMATORS, "twin", None)  # removed again after the test
    known = h.ESTIMATORS["score_function"]
    h.estimators.register(dataclasses.replace(known, name="twin", surrogate=twin))
    assert h.estimators.resolve(twin) is h.ESTIMATORS["twin"]
    got = h.gradient_samples(model, "twin", 5, 2, seed=3, baseline="loo")
    want = h.gradient_samples(model, "score_function", 5, 2, seed=3, baseline="loo")
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
    got = h.optimise(model, "twin", steps=3, n_runs=2, moving_average=0.8)["loss"]
    want = h.optimise(model, "score_function", steps=3, n_runs=2, moving_average=0.8)["loss"]
    np.testing.assert_array_equal(got, want)
