"""The score-function estimator: every variant unbiased, baselines cut variance, bad options."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from support import assert_unbiased, total_variance_and_error

VARIANTS = [
    (True, dict(baseline="none"), 1),
    (True, dict(baseline="constant", value=0.3), 1),
    (True, dict(baseline="optimal"), 1),
    (True, dict(baseline="loo"), 4),
    (False, dict(baseline="none"), 1),
    (False, dict(baseline="constant", value=-0.2), 2),
    (False, dict(baseline="optimal"), 1),
    (False, dict(baseline="loo"), 3),
]
MODELS = [
    (dict(dim=3, buckets=4, seed=31), h.square),
    (dict(dim=1, buckets=2, seed=32), lambda z: tf.cos(3 * z) + z),
]


@pytest.mark.parametrize("pathwise_z,options,n_samples", VARIANTS)
@pytest.mark.parametrize("sizes,f", MODELS, ids=["square", "cos"])
def test_every_variant_is_unbiased(pathwise_z, options, n_samples, sizes, f):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(
        model, "score_function", 20_000, n_samples, seed=3, f=f, pathwise_z=pathwise_z, **options
    )
    assert_unbiased(grads, h.exact_gradient(model, f))


def logits_variance(model, n_samples, **options):
    grads = h.gradient_samples(model, "score_function", 20_000, n_samples, seed=5, **options)
    return total_variance_and_error({"logits": grads["logits"]})


@pytest.mark.parametrize("pathwise_z", [True, False])
@pytest.mark.parametrize("baseline,n_samples", [("optimal", 1), ("loo", 4)])
def test_baselines_cut_the_logits_variance(pathwise_z, baseline, n_samples):
    # Same number of model evaluations on both sides; the reduction must exceed
    # 4 combined standard errors of the two variance estimates.
    model = h.make_model(dim=4, buckets=5, seed=7)
    plain, plain_se = logits_variance(model, n_samples, pathwise_z=pathwise_z)
    better, better_se = logits_variance(model, n_samples, pathwise_z=pathwise_z, baseline=baseline)
    assert plain - better > 4 * np.hypot(plain_se, better_se)


def test_optimal_baseline_matches_a_brute_force_minimum():
    # tr Cov of (f - b) grad log p_s is a quadratic in b; its minimiser from
    # per-draw quantities must match the closed-form enumeration.
    model = h.make_model(dim=2, buckets=3, seed=9)
    noise = h.noise_for(model, "score_function", 200_000, seed=1)
    params = h.estimators.with_sample_axis({k: v[None] for k, v in model.params.items()})
    exact_b = float(model.problem(h.square).optimal_baseline(params, True)[0, 0])
    log_p = tf.nn.log_softmax(model.params["logits"]).numpy()
    s = np.argmax(log_p + h.estimators.gumbel(noise["u"][:, 0]).numpy(), axis=1)
    mu, sigma = (v.numpy() for v in model.conditionals(tf.one_hot(s, 3, dtype=tf.float64)))
    f = (mu + sigma * noise["eps"][:, 0]) ** 2
    norm = np.sum((np.eye(3)[s] - np.exp(log_p)) ** 2, axis=1)
    assert exact_b == pytest.approx(np.mean(f * norm) / np.mean(norm), rel=0.02)


def test_optimal_baseline_for_the_score_of_z_too_matches_a_brute_force_minimum():
    # With pathwise_z=False the score covers z as well: b* = E[f |g|^2] / E[|g|^2] over
    # every parameter. Per draw, g is the no-baseline estimate for f = 1 and f g for
    # f = z**2 (the same seed gives the same draws). The bound is 4 standard errors of
    # the ratio of means (delta method), from the draws themselves.
    model = h.make_model(dim=2, buckets=3, seed=9)
    R = 200_000

    def per_draw(f):
        grads = h.gradient_samples(model, "score_function", R, seed=1, f=f, pathwise_z=False)
        return np.hstack([value.reshape(R, -1) for value in grads.values()])

    g = per_draw(lambda z: tf.ones_like(z))
    numerator, denominator = np.sum(per_draw(h.square) * g, axis=1), np.sum(g * g, axis=1)
    b = numerator.mean() / denominator.mean()
    terms = (numerator - b * denominator) / denominator.mean()  # the ratio's influence
    params = h.estimators.with_sample_axis({k: v[None] for k, v in model.params.items()})
    exact_b = float(model.problem(h.square).optimal_baseline(params, False)[0, 0])
    assert abs(exact_b - b) < 4 * terms.std() / np.sqrt(R)


@pytest.mark.parametrize(
    "n_samples,options,message",
    [
        (1, dict(baseline="loo"), "needs n_samples >= 2, got n_samples=1"),
        (
            2,
            dict(baseline="mean"),
            "unknown baseline 'mean'; allowed: none, constant, optimal, loo",
        ),
        (2, dict(tau=0.5), "has no option 'tau'; allowed options: baseline, pathwise_z, value"),
        (2, dict(baseline="none", value=1.0), "value is used only with baseline='constant'"),
        (2, dict(baseline="constant", value=float("nan")), "value must be a finite number"),
        (2, dict(pathwise_z="yes"), "pathwise_z must be True or False"),
    ],
)
def test_bad_options_raise(n_samples, options, message):
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "score_function", 4, n_samples, **options)


def test_optimal_baseline_is_computed_for_each_replicates_own_theta():
    # Optimisation runs evolve their own theta: each needs its own baseline.
    a, b = h.make_model(dim=2, buckets=3, seed=1), h.make_model(dim=2, buckets=3, seed=2)
    b.x = a.x  # same context, different parameters

    def batched(*models):
        stacked = {k: tf.stack([m.params[k] for m in models]) for k in a.params}
        problem = h.model_problem.ModelProblem(f=h.square, latents=1, x=a.x)
        return problem.optimal_baseline(h.estimators.with_sample_axis(stacked), False).numpy()[:, 0]

    together = batched(a, b)
    np.testing.assert_allclose(together, [batched(a)[0], batched(b)[0]], rtol=1e-12)
    assert together[0] != together[1]


def test_optimal_baseline_in_gradient_samples_is_the_constant_b_star():
    # gradient_samples shares one theta across replicates, so "optimal" is the
    # constant b*: the same numbers as baseline="constant" with value=b*.
    model = h.make_model(dim=3, buckets=4, seed=12)
    params = h.estimators.with_sample_axis({k: v[None] for k, v in model.params.items()})
    b_star = float(model.problem(h.square).optimal_baseline(params, False)[0, 0])
    optimal = h.gradient_samples(
        model, "score_function", 50, 2, seed=3, baseline="optimal", pathwise_z=False
    )
    constant = h.gradient_samples(
        model, "score_function", 50, 2, seed=3, baseline="constant", value=b_star, pathwise_z=False
    )
    for name in optimal:
        np.testing.assert_allclose(optimal[name], constant[name], rtol=1e-12)
