"""sum_and_sample, unordered_set, rebar and gumbel_rao (notebook 06).

Strongest first: exact expectations (the discrete randomness enumerated, eps
integrated by Gauss-Hermite, no Monte Carlo) equal the exact gradient; limit
identities with the same noise; REBAR's conditional Gumbel against rejection
sampling; Bonferroni unbiasedness tests; Gumbel-Rao against straight-through;
bad input.
"""

import itertools
import math

import helpers as h
from helpers.estimators import conditional_gumbel, set_weights
from helpers.model_math import gauss_hermite

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from support import assert_unbiased

MODELS = [dict(dim=10, buckets=5, seed=0), dict(dim=3, buckets=4, seed=21)]
# f = z^2 makes every estimate a polynomial of degree 2 in eps: 4 nodes integrate it exactly.
NODES = 4
TINY = np.finfo(np.float64).tiny


def gradients_with(model, name, noise, n_samples=1, **options):
    """Per-replicate gradients of estimator `name` on the given noise (R leading)."""
    estimator = h.ESTIMATORS[name]
    options = estimator.checked_options(options, n_samples, 1, model.buckets, model.dtype)
    problem = model.problem(h.square)
    noise = {key: tf.constant(value, dtype=model.dtype) for key, value in noise.items()}
    rows = next(iter(noise.values())).shape[0]
    copies = {k: tf.broadcast_to(v, [rows, *v.shape]) for k, v in model.values().items()}
    with tf.GradientTape() as tape:
        tape.watch(copies)
        total = tf.reduce_sum(estimator.surrogate(problem, copies, noise, **options))
    grads = tape.gradient(total, copies, unconnected_gradients="zero")
    return {k: v.numpy() for k, v in grads.items()}


def uniforms_selecting(members, buckets):
    """Uniforms whose Gumbels put `members` far above every other category (margin ~40)."""
    u = np.full(buckets, TINY)
    u[list(members)] = 1 - 1e-15
    return u


def expectation(grads, weights):
    return {k: np.tensordot(weights, v, axes=1) for k, v in grads.items()}


def assert_close(a, b, tol):
    for k in b:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=tol, err_msg=k)


def plackett_luce(p, ordered):
    """Probability of drawing `ordered` in that order without replacement."""
    value, left = 1.0, 1.0
    for c in ordered:
        value *= p[c] / left
        left -= p[c]
    return value


def set_probability(p, members):
    return sum(plackett_luce(p, o) for o in itertools.permutations(members))


@pytest.mark.parametrize("sizes", MODELS)
@pytest.mark.parametrize("top", [0, 1, 2])
def test_sum_and_sample_exact_expectation(sizes, top):
    # Enumerate the sampled category over the complement C (weights q_C) and eps over
    # Gauss-Hermite nodes (the same node for every evaluation: the estimate is linear
    # in the evaluations, so shared and independent eps have the same expectation).
    model = h.make_model(**sizes)
    p, K = model.probs().numpy(), model.buckets
    complement = np.argsort(-p, kind="stable")[top:]
    nodes, node_weights = gauss_hermite(NODES)
    rows = list(itertools.product(complement, range(NODES)))
    noise = {
        "u": np.array([uniforms_selecting([s], K) for s, _ in rows])[:, None, None, :],
        "eps": np.array([[nodes[j]] for _, j in rows]),
        "eps_category": np.array([np.full(K, nodes[j]) for _, j in rows]),
    }
    weights = np.array([p[s] / p[complement].sum() * node_weights[j] for s, j in rows])
    grads = gradients_with(model, "sum_and_sample", noise, top=top)
    assert_close(expectation(grads, weights), h.exact_gradient(model), 1e-10)
    # Only the top categories are summed: at one eps node, each sampled category gives
    # its own estimate (summing every category would give one estimate for all).
    at_first_node = grads["logits"][[i for i, (_, j) in enumerate(rows) if j == 0]]
    assert len(np.unique(at_first_node, axis=0)) == len(complement)


@pytest.mark.parametrize("sizes", MODELS)
@pytest.mark.parametrize("k", [2, 3])
def test_unordered_set_exact_expectation(sizes, k):
    # Every set S of k categories, p(S) summed over its k! Plackett-Luce orderings.
    model = h.make_model(**sizes)
    p, K = model.probs().numpy(), model.buckets
    nodes, node_weights = gauss_hermite(NODES)
    rows = list(itertools.product(itertools.combinations(range(K), k), range(NODES)))
    noise = {
        "u": np.array([uniforms_selecting(S, K) for S, _ in rows])[:, None, None, :],
        "eps": np.zeros((len(rows), k)),  # not used: eps_category holds each category's eps
        "eps_category": np.array([np.full(K, nodes[j]) for _, j in rows]),
    }
    weights = np.array([set_probability(p, S) * node_weights[j] for S, j in rows])
    assert math.isclose(weights.sum(), 1.0, rel_tol=1e-12)
    grads = gradients_with(model, "unordered_set", noise, n_samples=k)
    assert_close(expectation(grads, weights), h.exact_gradient(model), 1e-10)


def test_set_weights_match_their_definitions():
    # p(s) R(S, s) = p(s) p^{D\s}(S\s) / p(S) and p(s') R^{D\s}(S, s'), from renormalised
    # distributions by brute force, against the ordering sums of set_weights.
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(6))
    members = [4, 0, 2, 5]
    k = len(members)
    weight, leave = set_weights(
        tf.constant(np.log(p))[None],
        tf.constant([members]),
        tuple(itertools.permutations(range(k))),
    )

    def without(removed):
        q = p.copy()
        q[list(removed)] = 0
        return q / q.sum()

    p_set = set_probability(p, members)
    for i, s in enumerate(members):
        rest = [c for c in members if c != s]
        p_rest = set_probability(without([s]), rest)
        assert math.isclose(weight[0, i], p[s] * p_rest / p_set, rel_tol=1e-12)
        for j, t in enumerate(members):
            if t == s:
                expected = p[s]
            else:
                others = [c for c in rest if c != t]
                expected = p[t] * set_probability(without([s, t]), others) / p_rest
            assert math.isclose(leave[0, i, j], expected, rel_tol=1e-12)


def test_top_zero_and_eta_zero_are_the_hybrid_score_function_draw_for_draw():
    model = h.make_model(dim=10, buckets=5, seed=0)
    reference = h.gradient_samples(model, "score_function", 500, 3, seed=7)
    for name, options in [("sum_and_sample", dict(top=0)), ("rebar", dict(tau=0.3, eta=0.0))]:
        grads = h.gradient_samples(model, name, 500, 3, seed=7, **options)
        assert_close(grads, reference, 1e-12)
    loo = h.gradient_samples(model, "score_function", 500, 3, seed=7, baseline="loo")
    assert_close(
        h.gradient_samples(model, "sum_and_sample", 500, 3, seed=7, top=0, baseline="loo"),
        loo,
        1e-12,
    )


@pytest.mark.parametrize("name,options", [("sum_and_sample", dict(top=5)), ("unordered_set", {})])
def test_full_enumeration_is_the_elementary_estimator_with_the_same_eps(name, options):
    model = h.make_model(dim=10, buckets=5, seed=0)
    rng = np.random.default_rng(1)
    eps = rng.standard_normal((300, 5))
    noise = {"u": rng.uniform(size=(300, 1, 1, 5)), "eps": eps[:, :1], "eps_category": eps}
    n_samples = 5 if name == "unordered_set" else 1
    grads = gradients_with(model, name, noise, n_samples=n_samples, **options)
    elementary = gradients_with(model, "elementary", {"eps": eps[:, None, :]})
    assert_close(grads, elementary, 1e-12)


def test_cost_in_model_evaluations():
    cost = {name: h.ESTIMATORS[name].evaluations for name in h.ESTIMATORS}
    assert cost["sum_and_sample"](5, 3, top=2) == 5
    assert cost["sum_and_sample"](5, 3, top=5) == 5  # nothing left to draw
    assert cost["unordered_set"](5, 3) == 3
    assert cost["rebar"](5, 4) == 12
    assert cost["gumbel_rao"](5, 4, n_gumbel=100) == 4


def conditional_draws(log_p, category, count, seed):
    rng = np.random.default_rng(seed)
    b = np.zeros((count, log_p.size))
    b[:, category] = 1
    v = rng.uniform(TINY, 1, size=(count, log_p.size))
    return conditional_gumbel(tf.constant(log_p), tf.constant(b), tf.constant(v)).numpy()


def rejection_draws(log_p, category, count, seed):
    """z = log p + G, kept where argmax z = category."""
    rng = np.random.default_rng(seed)
    kept = []
    while sum(len(x) for x in kept) < count:
        z = log_p + rng.gumbel(size=(200_000, log_p.size))
        kept.append(z[np.argmax(z, axis=1) == category])
    return np.concatenate(kept)[:count]


LOG_P = np.log(np.array([0.5, 0.25, 0.15, 0.07, 0.03]))


def ks_worst_p(log_p, conditional, count=4000):
    """The smallest per-coordinate KS p-value over every category b and coordinate."""
    worst = 1.0
    for b in range(log_p.size):
        reference = rejection_draws(LOG_P, b, count, seed=10 + b)
        draws = conditional(b, count, 20 + b)
        for i in range(log_p.size):
            worst = min(worst, stats.ks_2samp(draws[:, i], reference[:, i]).pvalue)
    return worst


def test_conditional_gumbel_keeps_the_category_and_matches_rejection_sampling():
    for b in range(LOG_P.size):
        draws = conditional_draws(LOG_P, b, 100_000, seed=b)
        assert np.all(np.argmax(draws, axis=1) == b)
    # Bonferroni over K categories x K coordinates at family-wise level 1e-3.
    bound = 1e-3 / LOG_P.size**2
    worst = ks_worst_p(LOG_P, lambda b, n, seed: conditional_draws(LOG_P, b, n, seed))
    assert worst > bound, worst
    # The test has power: unnormalised log-probabilities (a known reference bug)
    # still keep the argmax, but give the wrong conditional law.
    shifted = LOG_P + 1.0
    worst = ks_worst_p(LOG_P, lambda b, n, seed: conditional_draws(shifted, b, n, seed))
    assert worst < bound, worst


UNBIASED = [
    ("sum_and_sample", 1, dict(top=1)),
    ("sum_and_sample", 2, dict(top=3)),
    ("sum_and_sample", 3, dict(top=1, baseline="loo")),
    ("unordered_set", 2, {}),
    ("unordered_set", 3, {}),
    ("rebar", 1, dict(tau=0.5, eta=1.0)),
    ("rebar", 2, dict(tau=0.05, eta=1.0)),  # very low temperature
    ("rebar", 1, dict(tau=5.0, eta=0.5)),  # very high temperature
    ("rebar", 1, dict(tau=0.2, eta=-3.0)),  # a control variate of the wrong sign and size
]


@pytest.mark.parametrize("name,n_samples,options", UNBIASED)
@pytest.mark.parametrize("sizes", MODELS)
def test_unbiased(name, n_samples, options, sizes):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(model, name, 20_000, n_samples, seed=11, **options)
    assert_unbiased(grads, h.exact_gradient(model))


def test_rebar_unbiased_for_another_f():
    model = h.make_model(dim=2, buckets=3, seed=5)

    def wave(z):
        return tf.cos(3 * z) + z

    grads = h.gradient_samples(model, "rebar", 20_000, 1, seed=2, f=wave, tau=0.3)
    assert_unbiased(grads, h.exact_gradient(model, wave))


def test_gumbel_rao_has_straight_through_mean_and_less_variance_with_more_gumbels():
    model = h.make_model(dim=10, buckets=5, seed=0)
    tau = 0.5
    st = h.gradient_samples(
        model, "gumbel_softmax", 200_000, seed=1, tau=tau, straight_through=True
    )
    variances = []
    for i, m in enumerate([1, 10, 100]):
        gr = h.gradient_samples(model, "gumbel_rao", 50_000, seed=2 + i, tau=tau, n_gumbel=m)
        # Two-sample z-scores of the means, Bonferroni over every coordinate.
        se_st, se_gr = h.stats.standard_error(st), h.stats.standard_error(gr)
        diff = h.stats.bias(gr, h.stats.mean(st))
        worst = max(np.max(np.abs(diff[k]) / np.hypot(se_st[k], se_gr[k])) for k in diff)
        assert worst < h.stats.bonferroni_z(h.stats.n_coordinates(gr)), (m, worst)
        d = h.stats.decomposition({"logits": gr["logits"]}, {"logits": np.zeros(5)})
        variances.append((d["variance"], d["variance_se"]))
    for (v_small, se_small), (v_large, se_large) in itertools.pairwise(variances[::-1]):
        assert h.stats.clearly_below(v_small, se_small, v_large, se_large), variances


BAD = [
    ("sum_and_sample", 1, dict(top=-1), "top"),
    ("sum_and_sample", 1, dict(top=6), "top"),
    ("sum_and_sample", 1, dict(top=1.5), "top"),
    ("sum_and_sample", 1, dict(baseline="optimal"), "baseline"),
    ("sum_and_sample", 1, dict(baseline="loo"), "n_samples >= 2"),
    ("unordered_set", 1, {}, "2 <= k"),
    ("unordered_set", 6, {}, "2 <= k"),
    ("rebar", 1, dict(tau=0.0), "tau"),
    ("rebar", 1, dict(tau=-1.0), "tau"),
    ("rebar", 1, dict(eta=float("nan")), "eta"),
    ("gumbel_rao", 1, dict(n_gumbel=0), "n_gumbel"),
    ("gumbel_rao", 1, dict(n_gumbel=2.5), "n_gumbel"),
    ("gumbel_rao", 1, dict(tau=0.0), "tau"),
]


@pytest.mark.parametrize("name,n_samples,options,message", BAD)
def test_bad_options(name, n_samples, options, message):
    model = h.make_model(dim=2, buckets=5, seed=0)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, name, 3, n_samples, **options)


def test_unordered_set_size_limit():
    model = h.make_model(dim=2, buckets=10, seed=0)
    with pytest.raises(ValueError, match="k <= 8"):
        h.gradient_samples(model, "unordered_set", 3, 9)


@pytest.mark.parametrize("name", ["sum_and_sample", "unordered_set"])
def test_one_latent_only(name):
    model = h.make_model(dim=2, buckets=3, seed=0, latents=2)
    with pytest.raises(ValueError, match="at most 1 categorical"):
        h.gradient_samples(model, name, 3, 2)


@pytest.mark.parametrize(
    "name,n_samples,options",
    [
        ("sum_and_sample", 2, dict(top=1, baseline="loo")),
        ("unordered_set", 3, {}),
        ("rebar", 1, dict(tau=0.5)),
        ("gumbel_rao", 1, dict(tau=0.5, n_gumbel=4)),  # n_gumbel reaches optimise's noise
    ],
)
def test_optimise_lowers_the_loss_with_every_new_estimator(name, n_samples, options):
    model = h.make_model(dim=10, buckets=5, seed=0)
    losses = h.optimise(model, name, steps=100, n_samples=n_samples, n_runs=2, **options)["loss"]
    assert np.all(np.isfinite(losses)) and np.all(losses[-1] < losses[0])
