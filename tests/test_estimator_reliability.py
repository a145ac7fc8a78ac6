"""Estimators at the edges a user reaches: a dominant category, many categories, a huge eta.

Through the public API: numbers against the exact gradient, measured peak memory, the
errors and warnings a user reads.
"""

import sys
import warnings

import helpers as h

import numpy as np
import pytest
from support import assert_unbiased


@pytest.mark.parametrize("dtype,gap", [("float32", 20.0), ("float64", 40.0)])
@pytest.mark.parametrize("n_samples", [2, 4])
def test_unordered_set_is_finite_and_unbiased_when_one_category_dominates(dtype, gap, n_samples):
    # p of the first category rounds to 1 (its complement e^-gap is below half an ulp of 1),
    # so a weight built from 1 - p_first would be 0/0. The estimates must be finite and their
    # mean the exact gradient: a Bonferroni z-test over all coordinates at ALPHA = 1e-3.
    model = h.make_model(3, 4, seed=2, dtype=dtype)
    model.params["logits"].assign(np.array([gap, 0.0, 0.3, -0.2]))
    grads = h.gradient_samples(model, "unordered_set", 4000, n_samples=n_samples, seed=5)
    for name, value in grads.items():
        assert np.all(np.isfinite(value)), name
    exact = h.exact_gradient(model)
    # The dominant logit's exact p_0 (m_0 - L) cancels to rounding (0.0 where the truth is
    # 4e-18); a softmax's logit gradient sums to zero, so it is minus the others' sum.
    exact["logits"][0] = -exact["logits"][1:].sum()
    assert_unbiased(grads, exact)


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


@linux_only
@pytest.mark.parametrize(
    "name,n_samples,options",
    [("sum_and_sample", 1, {}), ("sum_and_sample", 1, {"top": 500}), ("unordered_set", 2, {})],
)
def test_many_categories_stay_in_bounded_memory(name, n_samples, options):
    # K = 1000, R = 100: one one-hot of K values per category and replicate would be
    # 100 K^2 values (763 MiB in float64). Chunked to about 2**18 values a pass, the peak
    # stays far below that: 128 MiB allows the intermediates a few times over.
    model = h.make_model(3, 1000, seed=0)
    h.gradient_samples(model, name, 100, n_samples=n_samples, **options)  # traced once
    peak = h.memory.peak_bytes(
        lambda: h.gradient_samples(model, name, 100, n_samples=n_samples, seed=1, **options)
    )
    assert peak < 128 * 2**20, f"{name} peaked at {peak / 2**20:.0f} MiB"


def test_indecater_fast_path_takes_n_k_values_not_their_square():
    # n K = 5000 > 4096: the one-hot path would need 2.5e7 values per estimate, the model's
    # fast path n K = 5000. It runs, and is refused only when its own values do not fit.
    model = h.make_model(3, 5000, seed=0)
    grads = h.gradient_samples(model, "indecater", 3, seed=0)
    assert all(np.all(np.isfinite(value)) for value in grads.values())
    with pytest.raises(ValueError, match="needs 17,000,000 noise values"):
        h.gradient_samples(model, "indecater", 1, n_samples=3400)


@pytest.mark.parametrize("dtype,eta", [("float32", 1e38), ("float64", 1e308)])
def test_rebar_warns_when_eta_makes_the_control_variate_overflow(dtype, eta):
    # eta g(y) overflows where g or its gradient exceeds largest / eta: for z^2 of this
    # model (values and gradients of order 1 to 10) the estimates are no longer finite.
    model = h.make_model(3, 4, seed=0, dtype=dtype)
    with pytest.warns(RuntimeWarning, match=r"eta=1e\+3.* overflow .*\|eta\| <= 1\.\d+e\+"):
        grads = h.gradient_samples(model, "rebar", 50, eta=eta)
    assert not all(np.all(np.isfinite(value)) for value in grads.values())
    with pytest.warns(RuntimeWarning, match="eta="):
        h.gradient_samples(model, "relax", 2, eta=eta)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # below sqrt(largest): no warning, finite estimates
        grads = h.gradient_samples(model, "rebar", 50, eta=1e15)
    assert all(np.all(np.isfinite(value)) for value in grads.values())
