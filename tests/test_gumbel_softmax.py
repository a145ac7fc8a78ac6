"""The Gumbel-softmax estimator: Gumbel-max sampling, the relaxed gradient, bias and tau."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from support import (
    ALPHA,
    assert_gumbel_softmax_mean_is_the_relaxed_gradient,
    assert_unbiased,
    randomize,
)


def gumbel_max_counts(model, n, seed):
    u = h.noise_for(model, "gumbel_softmax", n_replicates=n, seed=seed)["u"][:, 0, :]
    draws = np.argmax(model.params["logits"].numpy() + h.estimators.gumbel(u).numpy(), axis=1)
    return np.bincount(draws, minlength=model.buckets)


def test_gumbel_max_samples_the_categorical():
    # Pearson's chi-square goodness of fit at significance level ALPHA: an exact
    # sampler fails with probability ALPHA; a sampler of softmax(1.1 * logits)
    # instead of softmax(logits) must be rejected by the same test.
    model = h.make_model(dim=2, buckets=6, seed=3)
    counts = gumbel_max_counts(model, 200_000, seed=1)
    p = model.probs().numpy()
    assert stats.chisquare(counts, counts.sum() * p).pvalue > ALPHA
    wrong = tf.nn.softmax(1.1 * model.params["logits"]).numpy()
    assert stats.chisquare(counts, counts.sum() * wrong).pvalue < ALPHA


@pytest.mark.parametrize("tau", [0.3, 2.0])
def test_mean_matches_the_gradient_of_the_relaxed_objective(tau):
    model = randomize(h.make_model(dim=3, buckets=4, seed=21), seed=22)
    assert_gumbel_softmax_mean_is_the_relaxed_gradient(model, tau)


def test_bias_against_the_exact_gradient_shrinks_as_tau_falls():
    model = h.make_model(dim=4, buckets=5, seed=8)
    exact = h.exact_gradient(model)
    parts = [
        h.stats.decomposition(
            h.gradient_samples(model, "gumbel_softmax", 40_000, seed=9, tau=tau), exact
        )
        for tau in (5.0, 1.0, 0.2)
    ]
    for hot, cold in zip(parts, parts[1:], strict=False):
        # 4 combined standard errors apart: a decrease, not noise.
        gap = hot["squared_bias"] - cold["squared_bias"]
        assert gap > 4 * np.hypot(hot["squared_bias_se"], cold["squared_bias_se"])


def test_bias_check_has_power_at_high_temperature():
    # At tau = 5 the relaxation is visibly biased: the unbiasedness check must fail.
    model = h.make_model(dim=4, buckets=5, seed=8)
    grads = h.gradient_samples(model, "gumbel_softmax", 20_000, seed=2, tau=5.0)
    with pytest.raises(AssertionError):
        assert_unbiased(grads, h.exact_gradient(model))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_straight_through_forward_is_exactly_one_hot(dtype):
    model = h.make_model(dim=2, buckets=7, dtype=dtype)
    u = h.noise_for(model, "gumbel_softmax", 500, seed=3)["u"]
    y = h.estimators.relaxed_one_hot(model.params["logits"], u, 0.7, straight_through=True)
    y = y.numpy()
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y.sum(axis=-1), 1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("straight_through", [False, True])
def test_finite_at_tiny_tau_and_extreme_logits(dtype, straight_through):
    model = h.make_model(dim=3, buckets=5, dtype=dtype)
    model.params["logits"].assign(np.array([40.0, -40.0, 0.0, 40.0, -40.0]))
    grads = h.gradient_samples(
        model, "gumbel_softmax", 2_000, n_samples=3, tau=1e-3, straight_through=straight_through
    )
    for value in grads.values():
        assert np.all(np.isfinite(value))


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(tau=0.0), "tau must be a positive finite number .*, got 0.0"),
        (dict(tau=-1), "tau must be a positive finite number"),
        (dict(tau=float("nan")), "tau must be a positive finite number .*, got nan"),
        (dict(tau=float("inf")), "tau must be a positive finite number"),
        (dict(tau="0.5"), "tau must be a positive finite number"),
        (dict(tau=True), "tau must be a positive finite number"),
        (dict(straight_through=1), "straight_through must be True or False"),
        (dict(baseline="loo"), "has no option 'baseline'; allowed options: straight_through, tau"),
    ],
)
def test_bad_options_raise(options, message):
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "gumbel_softmax", 4, **options)


def test_same_seed_same_numbers():
    model = h.make_model(dim=2, buckets=3)
    a = h.gradient_samples(model, "gumbel_softmax", 20, seed=1, tau=0.5)
    b = h.gradient_samples(model, h.estimators.gumbel_softmax, 20, seed=1, tau=0.5)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
