"""The statistics helpers: their values against scipy and by hand, and their input checks."""

import helpers as h

import numpy as np
import pytest
from scipy import stats as scipy_stats


def test_bonferroni_z_is_the_normal_quantile_at_alpha_over_2n():
    for n, alpha in [(1, 0.05), (37, 1e-3), (1000, 1e-6)]:
        expected = -scipy_stats.norm.ppf(alpha / (2 * n))  # the lower tail, by symmetry
        assert h.stats.bonferroni_z(n, alpha) == pytest.approx(expected, rel=1e-12)
    # One two-sided test at 5%: the familiar 1.96.
    assert h.stats.bonferroni_z(1, 0.05) == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize(
    "n_tests,alpha,message",
    [
        (0, 1e-3, "n_tests must be an integer >= 1"),
        (2.5, 1e-3, "n_tests must be an integer"),
        (3, 0.0, r"alpha must be a probability in \(0, 1\)"),
        (3, 1.5, "alpha must be"),
    ],
)
def test_bonferroni_z_bad_input(n_tests, alpha, message):
    with pytest.raises(ValueError, match=message):
        h.stats.bonferroni_z(n_tests, alpha)


def test_decomposition_by_hand():
    grads = {"a": np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]]), "b": np.array([0.0, 1.0, 2.0])}
    reference = {"a": np.array([2.0, 3.0]), "b": np.array(0.5)}
    d = h.stats.decomposition(grads, reference)
    variance = 4.0 + 4.0 + 1.0  # ddof=1 variances of the three coordinates
    squared_bias = (3 - 2) ** 2 + (4 - 3) ** 2 + (1 - 0.5) ** 2 - variance / 3
    assert d["variance"] == pytest.approx(variance)
    assert d["squared_bias"] == pytest.approx(squared_bias)
    assert d["mse"] == pytest.approx(variance + squared_bias)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda g, r: h.stats.decomposition({"a": g["a"][:1]}, r), "at least 2 replicate"),
        (lambda g, r: h.stats.mean({"a": g["a"][:0]}), "at least 1 replicate"),
        (lambda g, r: h.stats.mse({"a": g["a"][:0]}, r), "at least 1 replicate"),
        (lambda g, r: h.stats.bias(g, {"a": np.zeros(3)}), r"reference\['a'\] has shape \(3,\)"),
        (lambda g, r: h.stats.decomposition(g, {"b": np.zeros(2)}), "reference has no entry 'a'"),
        (lambda g, r: h.stats.mean({}), "non-empty dict"),
        (lambda g, r: h.stats.mean({"a": g["a"], "b": g["a"][:2]}), "same number of replicates"),
    ],
)
def test_statistics_refuse_what_they_cannot_compute(call, message):
    grads, reference = {"a": np.ones((4, 2))}, {"a": np.zeros(2)}
    with pytest.raises(ValueError, match=message):
        call(grads, reference)


def test_zero_spread_is_reported_not_hidden():
    # The second coordinate never varies (a category never drawn): z = inf, with a warning.
    rng = np.random.default_rng(0)
    grads = {"a": np.stack([rng.normal(size=500), np.zeros(500)], axis=1)}
    with pytest.warns(h.stats.ZeroSpreadWarning, match=r"a\[1\]"):
        worst, _ = h.stats.unbiasedness(grads, {"a": np.array([0.0, 0.3])})
    assert worst == np.inf
    # Exactly right with no spread is fine: z = 0 and no warning.
    worst, bound = h.stats.unbiasedness(grads, {"a": np.array([0.0, 0.0])})
    assert worst < bound
