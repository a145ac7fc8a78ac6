"""IndeCateR: one latent at a time enumerated, the others sampled."""

import dataclasses

import helpers as h
from helpers.model_math import gauss_hermite

import numpy as np
import pytest
import tensorflow as tf
from support import ALPHA, LATENT_MODELS, WithoutFastPath, assert_unbiased
from support import randomize_latents as randomize


def per_replicate(surrogate, problem, values, noise, n_replicates):
    params = {k: tf.broadcast_to(v, [n_replicates, *v.shape]) for k, v in values.items()}
    with tf.GradientTape() as tape:
        tape.watch(params)
        total = tf.reduce_sum(surrogate(problem, params, noise))
    return {k: v.numpy() for k, v in tape.gradient(total, params).items()}


def test_for_one_latent_it_is_the_elementary_estimator_with_the_same_noise():
    # One latent: no other latents to draw, so IndeCateR is the elementary
    # estimator given IndeCateR's eps for every category.
    model = randomize(h.make_model(dim=3, buckets=4, seed=2), seed=6)
    problem = model.problem(tf.cos)
    seed = tf.constant([3, 1], dtype=tf.int64)
    noise = h.estimators.indecater_noise(problem, seed, 50, 3, model.buckets)
    assert noise["eps"].shape == (50, 3, 1, 1)
    tiled = {"eps": tf.broadcast_to(noise["eps"][..., 0], [50, 3, model.buckets])}
    ours = per_replicate(h.estimators.indecater, problem, model.values(), noise, 50)
    theirs = per_replicate(h.estimators.elementary, problem, model.values(), tiled, 50)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-15)


def test_its_value_is_the_pathwise_average_an_estimate_of_the_loss():
    # Value: mean over draws m and latents i of sum_k p_i(k) f(z of s^m with s_i = k).
    model = randomize(h.make_model(dim=2, buckets=3, seed=4, latents=2), seed=5)
    problem = model.problem(tf.cos)
    noise = h.estimators.indecater_noise(problem, tf.constant([7, 0], tf.int64), 5, 2, 3)
    params = {k: tf.broadcast_to(v, [5, *v.shape]) for k, v in model.values().items()}
    value = h.estimators.indecater(problem, params, noise).numpy()  # (R,)
    p = tf.nn.softmax(model.params["logits"]).numpy()  # (n, K)
    s = np.eye(3)[np.argmax(np.log(p) - np.log(-np.log(noise["u"].numpy())), axis=-1)]
    changed = h.estimators.one_latent_changed(tf.constant(s))  # (R, M, n, K, n, K)
    mu, sigma = (v.numpy() for v in model.conditionals(changed))  # (R, M, n, K)
    g = np.cos(mu + sigma * noise["eps"].numpy())  # eps (R, M, n, 1): shared over k
    expected = np.mean(np.sum(p * g, axis=-1), axis=(1, 2))
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_each_latent_shares_one_eps_over_its_categories():
    model = h.make_model(dim=2, buckets=3, seed=1, latents=4)
    eps = h.noise_for(model, "indecater", 500, 2, seed=1)["eps"]
    assert eps.shape == (500, 2, 4, 1)
    # Independent standard normals across replicates, draws and latents: mean and
    # variance within 5 standard errors.
    assert abs(eps.mean()) < 5 / np.sqrt(eps.size)
    assert abs(eps.var() - 1) < 5 * np.sqrt(2 / eps.size)


@pytest.mark.parametrize("n_samples", [1, 3])
@pytest.mark.parametrize("sizes,f_name,f", LATENT_MODELS, ids=[m[1] for m in LATENT_MODELS])
def test_indecater_is_unbiased(sizes, f_name, f, n_samples):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(model, "indecater", 20_000, n_samples, seed=7, f=f)
    assert_unbiased(grads, h.exact_gradient(model, f))


def test_unbiasedness_check_has_power_against_summing_the_pathwise_part():
    # Summing the n latents' pathwise terms instead of averaging them (a bug the
    # estimator could have) scales the continuous blocks by n: the check must fail.
    sizes, _, f = LATENT_MODELS[0]
    model = h.make_model(**sizes)
    grads = h.gradient_samples(model, "indecater", 20_000, seed=7, f=f)
    grads = {k: v * (model.latents if k != "logits" else 1) for k, v in grads.items()}
    worst, bound = h.stats.unbiasedness(grads, h.exact_gradient(model, f), ALPHA)
    assert worst > bound


def forced_uniforms(configuration, latents, buckets):
    """Uniforms whose Gumbel-max draw is `configuration` whatever the logits (|logit| << 30)."""
    u = np.full((latents, buckets), 1e-300)  # Gumbel -6.5
    u[np.arange(latents), configuration] = np.exp(-np.exp(-30.0))  # Gumbel 30
    return u


def test_its_expectation_enumerated_exactly_is_the_exact_gradient():
    # E over the draw s (all K**n configurations, weight p(s)) and over eps
    # (Gauss-Hermite: latent i's terms depend on its own eps through a polynomial
    # of degree 2 for f = square, so 4 nodes are exact, and setting every eps to
    # node q at once averages each latent's terms correctly). One replicate per (s, node);
    # the weighted sum of their gradients is the expectation.
    model = randomize(h.make_model(dim=2, buckets=3, seed=5, latents=3), seed=8)
    n, K = model.latents, model.buckets
    configs = h.problem.configurations(n, K).numpy()
    nodes, weights = gauss_hermite(4)
    u = np.stack([forced_uniforms(c, n, K) for c in configs for _ in nodes])[:, None]
    eps = np.tile(nodes, len(configs))[:, None, None, None] * np.ones((1, 1, n, 1))
    p = np.prod(model.probs().numpy()[np.arange(n), configs], axis=1)
    weight = np.outer(p, weights).ravel()
    params = {k: tf.broadcast_to(v, [len(weight), *v.shape]) for k, v in model.values().items()}
    with tf.GradientTape() as tape:
        tape.watch(params)
        surrogate = h.estimators.indecater(
            model.problem(), params, {"u": tf.constant(u), "eps": eps}
        )
        total = tf.reduce_sum(tf.constant(weight) * surrogate)
    expectation = {k: v.numpy().sum(axis=0) for k, v in tape.gradient(total, params).items()}
    drawn = h.estimators.gumbel_max(model.params["logits"], tf.constant(u[:, 0])).numpy()
    np.testing.assert_array_equal(drawn.argmax(-1), np.repeat(configs, len(nodes), axis=0))
    assert h.stats.relative_error(expectation, h.exact_gradient(model)) < 1e-10


def test_a_problem_with_only_the_required_methods_gives_the_same_estimates():
    model = randomize(h.make_model(dim=2, buckets=3, seed=3, latents=3), seed=4)
    generic = WithoutFastPath(model.problem(h.square))
    ours = h.problem_gradient_samples(generic, model.values(), "indecater", 50, 2, 3)
    theirs = h.gradient_samples(model, "indecater", 50, 2, seed=3)
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-15)


def test_cost_shapes_and_many_latents_beyond_enumeration():
    estimator = h.ESTIMATORS["indecater"]
    assert estimator.evaluations(5, 3, latents=4) == 3 * 4 * 5
    assert estimator.evaluations(5, 3) == h.ESTIMATORS["elementary"].evaluations(5, 3)
    # 2**40 configurations: nothing enumerates them, IndeCateR costs n K per draw.
    model = h.make_model(dim=2, buckets=2, seed=1, latents=40)
    grads = h.gradient_samples(model, "indecater", 20, 2)
    assert grads["logits"].shape == (20, 40, 2)
    assert all(np.all(np.isfinite(v)) for v in grads.values())
    noise = h.noise_for(model, "indecater", 20, 2)
    assert noise["u"].shape == (20, 2, 40, 2) and noise["eps"].shape == (20, 2, 40, 1)


def test_optimise_lowers_the_objective():
    model = h.make_model(dim=3, buckets=3, seed=3, latents=3)
    target = lambda z: (z - 0.7) ** 2  # noqa: E731
    out = h.optimise(model, "indecater", steps=100, learning_rate=0.02, n_runs=3, f=target)
    assert np.all(out["loss"][-1] < 0.2 * out["loss"][0])


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda m: h.gradient_samples(m, "indecater", 4, tau=0.5),
            "estimator 'indecater' has no option 'tau'; allowed options: none",
        ),
        (lambda m: h.gradient_samples(m, "indecater", 4, n_samples=0), "n_samples"),
        (lambda m: h.gradient_samples(m, "indecater", 0), "n_replicates"),
        (lambda m: h.gradient_samples("model", "indecater", 4), "model must be a helpers Model"),
        (lambda m: h.gradient_samples(m, "indecatr", 4), "unknown estimator 'indecatr'"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call(h.make_model(dim=2, buckets=3, latents=2))


@pytest.mark.slow
def test_at_least_1000_times_faster_than_one_tape_per_replicate():
    from replicates import per_replicate_seconds

    model = h.make_model(latents=4)  # n = 4, K = 5: n K = 20 evaluations per estimate
    loop, batched = per_replicate_seconds(model, 100, 100_000, "indecater")
    assert loop / batched > 1000, f"only {loop / batched:.0f}x faster"


def test_the_model_fast_path_equals_the_changed_one_hots():
    # objective_one_changed computes each changed draw's x_s . A from the draw's own
    # sum, without the n K one-hots: the same values and gradients to rounding.
    model = randomize(h.make_model(dim=3, buckets=4, seed=2, latents=5), seed=3)
    problem = model.problem(tf.cos)
    noise = h.estimators.indecater_noise(problem, tf.constant([4, 2], tf.int64), 6, 3, 4)
    params = {k: tf.broadcast_to(v, [6, *v.shape]) for k, v in model.values().items()}
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(params)
        p = h.estimators.with_sample_axis(params)
        s = h.estimators.gumbel_max(problem.logits(p), noise["u"])  # (R, M, n, K)
        fast = problem.objective_one_changed(p, s, noise["eps"])
        branch = h.estimators.with_sample_axis(h.estimators.with_sample_axis(p))
        eps = tf.broadcast_to(noise["eps"], tf.shape(s))
        slow = problem.objective(branch, h.estimators.one_latent_changed(s), eps)
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-13)
    fast_grads, slow_grads = tape.gradient(fast, params), tape.gradient(slow, params)
    for name in ("A", "B", "C", "D"):
        np.testing.assert_allclose(fast_grads[name], slow_grads[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lead", [(), (2,)], ids=["one draw", "a batch of draws"])
def test_one_latent_changed_sets_each_latent_to_each_category(lead):
    # Any leading axes (..., n, K): entry (i, k) is the draw with latent i set to k.
    rng = np.random.default_rng(0)
    n, K = 3, 4
    s = np.eye(K)[rng.integers(K, size=(*lead, n))]  # (..., n, K) one-hots
    changed = h.estimators.one_latent_changed(tf.constant(s)).numpy()
    assert changed.shape == (*lead, n, K, n, K)
    for i in range(n):
        for k in range(K):
            expected = s.copy()
            expected[..., i, :] = np.eye(K)[k]
            np.testing.assert_array_equal(changed[..., i, k, :, :], expected)


@dataclasses.dataclass(frozen=True)
class DoubledFastPath(h.model_problem.ModelProblem):
    """The model's problem whose fast path (alone) returns twice the objective."""

    def objective_one_changed(self, params, s, noise):
        return 2 * super().objective_one_changed(params, s, noise)


def test_it_takes_the_problems_fast_path_when_there_is_one():
    # A fast path that disagrees with `objective` shows in the estimates only if it is used.
    model = h.make_model(dim=2, buckets=3, latents=2, seed=21)
    problem, params = model.problem(), model.values()
    doubled = DoubledFastPath(problem.f, problem.latents, problem.x)
    as_is = h.problem_gradient_samples(problem, params, "indecater", 3)
    fast = h.problem_gradient_samples(doubled, params, "indecater", 3)
    np.testing.assert_allclose(fast["logits"], 2 * as_is["logits"], rtol=1e-12)
