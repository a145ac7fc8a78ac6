"""Exact contracts that a test of the mean cannot see.

A baseline with the wrong arithmetic can stay unbiased, a surrogate with the
right gradient can have the wrong value, chunks of replicates can reuse their
noise and the Gumbel noise can touch -inf once in millions of draws, all
without moving a mean past its Bonferroni bound. Each test below checks one of
these exactly (to rounding), so the bug fails it every time.
"""

import importlib

import helpers as h

import numpy as np
import pytest
import tensorflow as tf


def constant(z):
    """f = 3 whatever z: every correct baseline makes the score term vanish."""
    return 0.0 * z + 3.0


# (estimator, options, n_samples): every estimator whose baseline or construction
# cancels a constant f exactly (to rounding).
CANCELLING = [
    ("score_function", dict(baseline="constant", value=3.0), 1),
    ("score_function", dict(baseline="optimal"), 1),
    ("score_function", dict(baseline="loo"), 3),
    ("score_function", dict(baseline="loo", pathwise_z=False), 2),
    ("score_function", dict(baseline="optimal", pathwise_z=False), 1),
    ("sum_and_sample", dict(top=1, baseline="loo"), 3),
    ("sum_and_sample", dict(top=0, baseline="loo"), 2),
    ("unordered_set", {}, 3),
    ("rebar", dict(eta=1.0, tau=0.5), 1),
    ("elementary", {}, 2),
    ("indecater", {}, 2),
    ("gumbel_softmax", dict(tau=0.7), 1),
    ("gumbel_rao", dict(n_gumbel=3), 1),
]


@pytest.mark.parametrize("name,options,n_samples", CANCELLING)
def test_a_constant_f_gives_a_zero_gradient_with_any_correct_baseline(name, options, n_samples):
    # With f constant, L does not depend on theta, and (f - b) = 0 for a correct
    # baseline in every draw; a LOO mean with the wrong divisor, a baseline that
    # includes its own draw twice, or a lost term leaves (f - b) grad log q != 0.
    # Rounding leaves at most a few ulps of f = 3: 1e-12 is far above that and
    # far below the score term of a wrong baseline (order 1, checked below).
    model = h.make_model(dim=3, buckets=4, seed=5)
    grads = h.gradient_samples(model, name, 64, n_samples, seed=2, f=constant, **options)
    for block, value in grads.items():
        assert np.max(np.abs(value)) < 1e-12, (block, np.max(np.abs(value)))


def test_without_a_baseline_a_constant_f_leaves_the_score_term():
    # The control of the test above: no baseline, (f - 0) grad log q is order 1.
    model = h.make_model(dim=3, buckets=4, seed=5)
    grads = h.gradient_samples(model, "score_function", 64, 2, seed=2, f=constant)
    assert np.max(np.abs(grads["logits"])) > 0.1


def _surrogates(model, name, n_replicates, n_samples, f, seed=4, **options):
    """An estimator's surrogate values (R,) at the model's theta, and the noise they used."""
    estimator = h.ESTIMATORS[name]
    problem, params = model.problem(f), model.values()
    options = estimator.checked_options(options, n_samples, 1, model.buckets, model.dtype)
    if estimator.prepare:
        options = estimator.prepare(problem, params, options)
    noise = estimator.noise(problem, h.checks.seed(seed), n_replicates, n_samples, model.buckets)
    copies = {k: tf.broadcast_to(v, [n_replicates, *v.shape]) for k, v in params.items()}
    values = estimator.surrogate(problem, copies, noise, **options)
    return values.numpy(), {k: v.numpy() for k, v in noise.items()}


def _numpy_conditionals(model, one_hot):
    """mu_s and sigma_s from the model's definition, for one-hots (..., K)."""
    p = {k: v.numpy() for k, v in model.params.items()}
    x, dim = model.x.numpy(), model.dim
    mu = 1 / (1 + np.exp(-(x @ p["A"][:dim] + one_hot @ p["A"][dim:] + p["B"])))
    sigma = np.exp(x @ p["C"][:dim] + one_hot @ p["C"][dim:] + p["D"])
    return mu, sigma


def _gumbel_max_draws(model, u):
    """The one-hots Gumbel-max draws from uniforms u (..., K), in numpy."""
    logits = model.params["logits"].numpy()
    log_p = logits - np.log(np.sum(np.exp(logits)))
    s = np.argmax(log_p - np.log(-np.log(u)), axis=-1)
    return np.eye(model.buckets)[s]


def cubic(z):
    return z**3 - z


@pytest.mark.parametrize(
    "options,n_samples",
    [
        (dict(baseline="none"), 1),
        (dict(baseline="constant", value=2.5), 3),
        (dict(baseline="optimal"), 2),
        (dict(baseline="loo"), 3),
        (dict(baseline="loo", pathwise_z=False), 4),
        (dict(baseline="constant", value=-1.0, pathwise_z=False), 2),
    ],
)
def test_the_score_functions_value_is_the_mean_of_f_over_its_draws(options, n_samples):
    # optimise's moving-average baseline averages these values as past f's: the
    # value must be mean_n f(z_n) under the same noise, whatever the baseline.
    model = h.make_model(dim=3, buckets=4, seed=8)
    values, noise = _surrogates(model, "score_function", 50, n_samples, cubic, **options)
    s = _gumbel_max_draws(model, noise["u"][:, :, 0])  # (R, N, K)
    mu, sigma = _numpy_conditionals(model, s)
    expected = np.mean(cubic(mu + sigma * noise["eps"]), axis=1)
    np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-12)


def test_straight_through_value_is_f_at_the_exact_draw():
    model = h.make_model(dim=3, buckets=4, seed=8)
    values, noise = _surrogates(
        model, "gumbel_softmax", 50, 2, cubic, tau=0.5, straight_through=True
    )
    mu, sigma = _numpy_conditionals(model, _gumbel_max_draws(model, noise["u"][:, :, 0]))
    np.testing.assert_allclose(values, np.mean(cubic(mu + sigma * noise["eps"]), axis=1), 1e-12)


def test_the_elementary_value_is_the_probability_weighted_mean():
    model = h.make_model(dim=3, buckets=4, seed=8)
    values, noise = _surrogates(model, "elementary", 20, 3, cubic)
    mu, sigma = _numpy_conditionals(model, np.eye(model.buckets))  # (K,) each
    p = model.probs().numpy()
    expected = np.sum(p * np.mean(cubic(mu + sigma * noise["eps"]), axis=1), axis=-1)
    np.testing.assert_allclose(values, expected, rtol=1e-12)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 replicates for a one-latent model with K = 4 and one sample."""
    monkeypatch.setattr(h.sampling, "CHUNK_ELEMENTS", 40)


def test_chunks_cover_the_replicates_in_order(small_chunks):
    chunks = list(h.sampling.chunks(35, 4, h.checks.seed(7)))
    assert [size for size, _ in chunks] == [10, 10, 10, 5]
    assert chunks[0][1].numpy().tolist() == [7, 0]  # chunk 0 uses the seed itself
    assert len({tuple(seed.numpy()) for _, seed in chunks}) == 4
    # One replicate larger than a chunk still gets a chunk of its own.
    assert [size for size, _ in h.sampling.chunks(3, 100, h.checks.seed(7))] == [1, 1, 1]


@pytest.mark.parametrize("name", ["score_function", "gumbel_softmax", "indecater", "rebar"])
def test_no_replicate_of_a_later_chunk_repeats_one_of_an_earlier(small_chunks, name):
    model = h.make_model(dim=2, buckets=4, seed=3)
    per_replicate, _ = h.ESTIMATORS[name].sizes(model.problem(), 1, 4, 1, {})
    n_replicates = 3 * max(1, 40 // per_replicate) + 1  # four chunks, the last of one
    noise = h.noise_for(model, name, n_replicates, seed=9)
    rows = noise["u"].reshape(n_replicates, -1)
    assert len(np.unique(rows, axis=0)) == n_replicates
    eps = noise["eps"].reshape(n_replicates, -1)
    assert len(np.unique(eps, axis=0)) == n_replicates
    # Chunk 0 is drawn from the seed itself: the same as an unchunked call's first rows.
    h.sampling.CHUNK_ELEMENTS = 2**18
    whole = h.noise_for(model, name, n_replicates, seed=9)
    size = max(1, 40 // per_replicate)
    np.testing.assert_array_equal(noise["u"][:size], whole["u"][:size])


def test_noise_for_leaves_out_only_the_latent_axis_of_one_latent():
    model = h.make_model(dim=2, buckets=4, seed=3)
    shapes = {k: v.shape for k, v in h.noise_for(model, "gumbel_rao", 3, 2, n_gumbel=5).items()}
    assert shapes == {"u": (3, 2, 4), "eps": (3, 2), "v": (3, 2, 5, 4)}


def test_chunked_output_keeps_the_models_dtype(small_chunks):
    model = h.make_model(dim=2, buckets=4, seed=3, dtype="float32")
    grads = h.gradient_samples(model, "score_function", 35, seed=9)  # four chunks
    assert {v.dtype for v in grads.values()} == {np.dtype(np.float32)}


def test_a_problem_whose_logits_carry_a_data_axis_has_its_categories_last(monkeypatch):
    # The VAE's batched problem: logits (B, n, K) for B = 2 images, n = 2, K = 3. The
    # score function draws n K = 6 uniforms per replicate, which size its chunks (the
    # size guard reports that count).
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    images = tf.constant([[1, 0, 1, 1], [0, 1, 0, 0]], tf.float32)
    problem, params = h.vae_model._batched(h.vae.init_weights(arch), images, 2)
    grads = h.problem_gradient_samples(problem, params, "score_function", 5)
    assert grads["logits"].shape == (5, 2, 2, 3)
    monkeypatch.setattr(h.sampling, "MAX_VALUES_PER_REPLICATE", 5)
    with pytest.raises(ValueError, match="^one estimate needs 6 noise values "):
        h.problem_gradient_samples(problem, params, "score_function", 5)


def test_chunked_gradients_are_independent_and_filled_in_order(small_chunks):
    model = h.make_model(dim=2, buckets=4, seed=3)
    grads = h.gradient_samples(model, "score_function", 35, seed=9)
    assert grads["logits"].shape == (35, 4)
    rows = np.hstack([value.reshape(35, -1) for value in grads.values()])
    assert np.all(np.isfinite(rows))
    assert len(np.unique(rows, axis=0)) == 35  # reused noise would repeat whole rows
    h.sampling.CHUNK_ELEMENTS = 2**18
    whole = h.gradient_samples(model, "score_function", 35, seed=9)
    for name, value in grads.items():  # chunk 0 is the unchunked call's first 10 rows
        np.testing.assert_allclose(value[:10], whole[name][:10], rtol=1e-12, atol=1e-15)
        assert not np.array_equal(value[10:20], whole[name][10:20])


def _at_its_minimum(shape, seed, minval=0, maxval=None, dtype=tf.float32, **_):
    """stateless_uniform as if its generator returned its minimum in every draw."""
    maxval = 1 if maxval is None else maxval
    return minval + (maxval - minval) * tf.zeros(shape, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name,options",
    [
        ("score_function", {}),
        ("gumbel_softmax", {}),
        ("sum_and_sample", {}),
        ("rebar", {}),
        ("gumbel_rao", dict(n_gumbel=2)),
        ("indecater", {}),
    ],
)
def test_uniforms_stay_at_or_above_tiny_when_the_generator_returns_zero(
    monkeypatch, dtype, name, options
):
    # float32 stateless_uniform with minval=0 returns exactly 0 a few times per 2**25
    # draws; then -log(-log u) is -inf. Every uniform must be drawn from [tiny, 1).
    monkeypatch.setattr(tf.random, "stateless_uniform", _at_its_minimum)
    model = h.make_model(dim=2, buckets=3, seed=0, dtype=dtype)
    tiny = np.finfo(dtype).tiny
    noise = h.noise_for(model, name, 8, **options)
    for key in set(noise) & {"u", "v"}:
        assert noise[key].min() == tiny  # the injected minimum reached the noise
        assert np.all(np.isfinite(h.estimators.gumbel(tf.constant(noise[key])).numpy()))


def test_real_uniforms_lie_strictly_inside_zero_one():
    model = h.make_model(dim=2, buckets=3, seed=0, dtype="float32")
    u = h.noise_for(model, "score_function", 20_000, 4)["u"]
    assert 0 < u.min() and u.max() < 1


def test_noise_has_the_documented_shapes():
    # Shapes are part of the contract: an extra axis of fresh noise stays unbiased.
    problem = h.make_model(dim=2, buckets=3).problem()
    seed = tf.constant([1, 2], tf.int64)
    noise = h.estimators.uniform_twice(problem, seed, 4, 2, 3, 5)
    assert noise["u"].shape == (4, 2, 1, 3) and noise["eps"].shape == (4, 2)
    assert noise["v"].shape == (4, 2, 5, 1, 3)  # (R, N, M, 1, K): M Gumbels given s


def test_indecaters_working_set_uses_the_fast_path_where_the_problem_has_one():
    # n K values per sample with objective_one_changed, (n K)^2 without: it sizes passes.
    indecater = h.ESTIMATORS["indecater"]
    model = h.make_model(dim=2, buckets=3, latents=4)
    fast = model.problem()
    assert hasattr(fast, "objective_one_changed")
    assert indecater.sizes(fast, 4, 3, 2, {}) == (2 * (4 * 3) ** 2, 2 * 4 * 3)
    assert indecater.sizes(object(), 4, 3, 2, {}) == (2 * (4 * 3) ** 2,) * 2


def test_the_noise_log_density_is_the_normal_log_density():
    from scipy.stats import norm

    eps, mu, sigma = np.array([-1.3, 0.0, 2.1]), np.array([0.2, 0.5, 0.9]), np.array([0.1, 1, 3])
    got = h.model_problem.noise_log_density(*(tf.constant(v) for v in (eps, mu, sigma)))
    np.testing.assert_allclose(got, norm.logpdf(mu + sigma * eps, mu, sigma), rtol=1e-13)


def test_a_diverging_run_is_reported_at_its_first_non_finite_step():
    losses = np.array([[1.0, 2.0], [1.0, np.inf], [np.nan, np.inf]])  # (steps + 1, runs)
    with pytest.raises(
        ValueError,
        match=r"^run 1 reached a non-finite objective \(inf\) after "
        r"step 1 of 2: lower the learning rate",
    ):
        importlib.import_module("helpers.optimise")._check_finite(losses)
