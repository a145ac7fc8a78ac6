"""The statistics helpers: their values against scipy and by hand, and their input checks."""

import warnings

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
        (lambda g, r: h.stats.bias({"a": g["a"][:0]}, r), "at least 1 replicate"),
        (
            lambda g, r: h.stats.bias(g, {"a": np.zeros(3)}),
            r"^reference\['a'\] has shape \(3,\), but one estimate of 'a' has shape \(2,\)$",
        ),
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


# Two replicates of two blocks, small enough to do by hand.
GRADS = {"a": np.array([[1.0, 2.0], [3.0, 6.0]]), "b": np.array([0.0, 4.0])}
REFERENCE = {"a": np.array([1.0, 2.0]), "b": np.array(1.0)}


def test_per_coordinate_statistics_by_hand():
    s = h.stats
    np.testing.assert_allclose(s.mean(GRADS)["a"], [2.0, 4.0])
    np.testing.assert_allclose(s.variance(GRADS)["a"], [2.0, 8.0])  # ddof = 1
    np.testing.assert_allclose(s.variance(GRADS)["b"], 8.0)
    np.testing.assert_allclose(s.standard_error(GRADS)["a"], [1.0, 2.0])  # sqrt(var / R)
    np.testing.assert_allclose(s.bias(GRADS, REFERENCE)["a"], [1.0, 2.0])
    np.testing.assert_allclose(s.bias(GRADS, REFERENCE)["b"], 1.0)
    np.testing.assert_allclose(s.z_scores(GRADS, REFERENCE)["a"], [1.0, 1.0])
    np.testing.assert_allclose(s.z_scores(GRADS, REFERENCE)["b"], 0.5)


def test_z_scores_of_coordinates_without_spread():
    grads = {"a": np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 1.0]])}
    z = h.stats.z_scores(grads, {"a": np.array([1.0, 3.0, 0.5])})["a"]
    assert z[0] == 0.0 and z[1] == np.inf and z[2] == 0.0  # right, stuck and wrong, spread


def test_sums_norms_and_counts_by_hand():
    s = h.stats
    per_coordinate = {"a": np.array([1.0, 2.0]), "b": np.array(-4.0)}
    assert s.total(per_coordinate) == -1.0
    assert s.by_block(per_coordinate) == {"a": 3.0, "b": -4.0}
    assert s.norm({"a": np.array([3.0]), "b": np.array(4.0)}) == 5.0
    assert s.n_coordinates(GRADS) == 3
    assert s.n_coordinates({"a": np.ones((5, 2, 3))}) == 6
    reference = {"a": np.array([3.0, 0.0]), "b": np.array(4.0)}
    estimate = {"a": np.array([3.0, 3.0]), "b": np.array(0.0)}
    assert s.relative_error(estimate, reference) == pytest.approx(1.0)  # ||(0, 3, -4)|| / 5


def test_unbiasedness_returns_the_worst_z_and_the_bound_for_every_coordinate():
    worst, bound = h.stats.unbiasedness(GRADS, REFERENCE, alpha=0.01)
    assert worst == pytest.approx(1.0)
    assert bound == pytest.approx(scipy_stats.norm.isf(0.01 / (2 * 3)))
    negative = {"a": -GRADS["a"], "b": -GRADS["b"]}
    worst, _ = h.stats.unbiasedness(negative, {k: -v for k, v in REFERENCE.items()})
    assert worst == pytest.approx(1.0)  # |z|, not z


def test_bonferroni_z_default_alpha_and_integer_types():
    assert h.stats.bonferroni_z(4) == pytest.approx(scipy_stats.norm.isf(1e-3 / 8), rel=1e-12)
    assert h.stats.bonferroni_z(np.int64(4)) == h.stats.bonferroni_z(4)
    assert h.stats.bonferroni_z(1, 0.999) > 0  # the whole open interval is allowed
    with pytest.raises(ValueError, match="n_tests must be an integer >= 1, got True"):
        h.stats.bonferroni_z(True)


def test_decomposition_standard_errors_by_hand():
    grads = {"a": np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])}
    reference = {"a": np.array([2.0, 3.0])}
    d = h.stats.decomposition(grads, reference)
    # centred rows (-2, -2), (0, 2), (2, 0): covariance [[4, 2], [2, 4]]; mean - reference (1, 1)
    cov, diff, n = np.array([[4.0, 2.0], [2.0, 4.0]]), np.array([1.0, 1.0]), 3
    squared_bias_se = np.sqrt(4 * diff @ cov @ diff / n + 2 * np.sum(cov**2) / n**2)
    norms = np.array([4.0 + 4.0, 0.0 + 4.0, 4.0 + 0.0])  # centred squared norms per replicate
    variance_se = np.std(norms, ddof=1) / np.sqrt(n)
    assert d["squared_bias_se"] == pytest.approx(squared_bias_se)
    assert d["variance_se"] == pytest.approx(variance_se)
    assert d["mse_se"] == pytest.approx(np.hypot(squared_bias_se, variance_se))


def test_the_squared_bias_standard_error_matches_its_spread_with_correlated_coordinates():
    # 4,000 independent runs of R = 50 draws of a 2-d Gaussian whose coordinates correlate
    # (rho = 0.9, like estimates whose errors move together): the reported standard error
    # must match the spread of the squared-bias estimates. The spread's own relative error
    # is about 1 / sqrt(2 * 4000) = 1.1%, the delta method's at R = 50 a few percent; 10%
    # leaves room for both, and a standard error that ignores the covariance is 27% low.
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    draws = rng.multivariate_normal([1.0, 1.0], cov, size=(4000, 50))  # bias (1, 1)
    found = [h.stats.decomposition({"a": run}, {"a": np.zeros(2)}) for run in draws]
    spread = np.std([d["squared_bias"] for d in found], ddof=1)
    reported = np.mean([d["squared_bias_se"] for d in found])
    assert abs(reported / spread - 1) < 0.1, (reported, spread)


def test_clearly_below_needs_more_than_z_combined_standard_errors():
    s = h.stats
    assert s.clearly_below(0.0, 3.0, 10.1, 4.0)  # 10.1 > 2 * 5
    assert not s.clearly_below(0.0, 3.0, 10.0, 4.0)  # exactly 2 * 5: a tie
    assert not s.clearly_below(0.0, 3.0, 10.1, 4.0, z=2.1)
    assert not s.clearly_below(1.0, 0.0, 1.0, 0.0)
    assert s.clearly_below(0.0, 1.0, 0.6, 0.0, z=0.5)  # any positive z, below 1 too
    np.testing.assert_array_equal(s.clearly_below([0.0, 5.0], 0.0, [1.0, 1.0], 0.0), [True, False])
    for z in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="^z must be a positive number of standard errors"):
            s.clearly_below(0.0, 1.0, 1.0, 1.0, z=z)
    for a_se, b_se in ((-1.0, 1.0), (1.0, -1.0)):
        with pytest.raises(ValueError, match="^standard errors must be >= 0$"):
            s.clearly_below(0.0, a_se, 1.0, b_se)


def test_effective_categories():
    s = h.stats
    assert s.effective_categories([0.25] * 4) == pytest.approx(4.0)
    assert s.effective_categories([1.0, 0.0]) == pytest.approx(1.0)
    assert s.effective_categories([1.0]) == 1.0  # one category is allowed
    np.testing.assert_allclose(s.effective_categories([[0.5, 0.5], [0.2, 0.8]]), [2.0, 1 / 0.68])
    for bad in ([0.5, 0.6], [1.5, -0.5], 1.0, []):
        message = "^probs must be non-negative and sum to 1 along the last axis$"
        with pytest.raises(ValueError, match=message):
            s.effective_categories(bad)


def test_zero_spread_warning_names_the_stuck_coordinates_only():
    # Four coordinates never vary and differ from the reference (the first three are
    # named), one never varies and is right, one varies and is wrong: only the four
    # are untestable. The warning points at the caller, not inside helpers.stats.
    grads = {"a": np.tile([1.0, 2.0, 3.0, 4.0, 0.0], (5, 1)), "b": np.arange(5.0)}
    reference = {"a": np.zeros(5), "b": np.array(1.0)}
    with pytest.warns(h.stats.ZeroSpreadWarning) as caught:
        worst, bound = h.stats.unbiasedness(grads, reference)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "4 coordinate(s) (a[0], a[1], a[2]) have the same value in all 5 replicates and "
        "differ from the reference: their z is infinite. Either the estimator is "
        "deterministic and biased there, or there are too few replicates to test them "
        "(a category never drawn gives this)"
    )
    assert caught[0].filename != h.stats.__file__
    if "mutmut" not in caught[0].filename:  # mutmut's trampoline adds a frame of its own
        assert caught[0].filename == __file__
    assert worst == np.inf and bound == h.stats.bonferroni_z(6)


@pytest.mark.parametrize("block", ["a", "b"])
def test_unbiasedness_refuses_a_nan_reference_in_any_block(block):
    grads = {"a": np.arange(6.0).reshape(3, 2), "b": np.arange(9.0).reshape(3, 3)}
    reference = {name: np.mean(value, axis=0) for name, value in grads.items()}
    reference[block][-1] = np.nan
    with pytest.raises(ValueError, match=rf"reference\['{block}'\] has non-finite entries"):
        h.stats.unbiasedness(grads, reference)


@pytest.mark.parametrize("block", ["a", "b"])
def test_unbiasedness_fails_on_a_nan_estimate_in_any_block(block):
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(50, 2)), "b": rng.normal(size=(50, 3))}
    reference = {name: np.zeros(value.shape[1:]) for name, value in grads.items()}
    grads[block][7, -1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN is not a coordinate without spread
        worst, bound = h.stats.unbiasedness(grads, reference)
    assert not worst < bound  # a NaN estimate can never pass the check
    assert np.isnan(h.stats.z_scores(grads, reference)[block][-1])


def test_paired_mse_difference_by_hand():
    # Two replicates, two coordinates: squared errors a: (1 + 4, 0 + 1), b: (0 + 1, 1 + 0).
    reference = {"w": np.array([0.0, 1.0])}
    a = {"w": np.array([[1.0, 3.0], [0.0, 2.0]])}
    b = {"w": np.array([[0.0, 2.0], [1.0, 1.0]])}
    d = np.array([5.0 - 1.0, 1.0 - 1.0])
    got = h.stats.paired_mse_difference(a, b, reference)
    assert got["difference"] == pytest.approx(d.mean())
    assert got["difference_se"] == pytest.approx(d.std(ddof=1) / np.sqrt(2))


def test_paired_mse_difference_removes_shared_noise():
    # b = a + a small independent wobble: the paired s.e. is far below the unpaired one.
    rng = np.random.default_rng(0)
    reference = {"w": np.zeros(3)}
    a = {"w": rng.normal(size=(4000, 3))}
    b = {"w": a["w"] * 1.05 + 0.01 * rng.normal(size=(4000, 3))}
    paired = h.stats.paired_mse_difference(a, b, reference)
    da, db = h.stats.decomposition(a, reference), h.stats.decomposition(b, reference)
    assert paired["difference"] == pytest.approx(da["mse"] - db["mse"], rel=1e-6, abs=1e-3)
    assert paired["difference_se"] < 0.2 * np.hypot(da["mse_se"], db["mse_se"])


def test_paired_mse_difference_refuses_unmatched_inputs():
    reference = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="same names and number of replicates"):
        h.stats.paired_mse_difference({"w": np.zeros((3, 2))}, {"w": np.zeros((4, 2))}, reference)
