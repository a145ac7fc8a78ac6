"""Several categorical latents: the model, its exact gradient, and the estimators on it."""

import re
import warnings

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from reference import (
    INNER,
    loss,
    numpy_params,
    quadrature_inner,
)
from scipy import stats
from support import (
    ALPHA,
    LATENT_MODELS,
    F,
    WithoutFastPath,
    assert_exact_gradient_matches_finite_differences,
    assert_gumbel_softmax_mean_is_the_relaxed_gradient,
    assert_unbiased,
)
from support import randomize_latents as randomize

# (dim, K, n): K**n from 4 to 4,096 configurations.
SIZES = [(1, 2, 2), (3, 4, 2), (2, 3, 3), (4, 4, 6), (2, 16, 3), (3, 2, 11)]


def test_one_latent_is_the_original_model():
    a, b = h.make_model(7, 4, seed=3), h.make_model(7, 4, seed=3, latents=1)
    assert a.latents == b.latents == 1
    for name in a.params:
        np.testing.assert_array_equal(a.params[name].numpy(), b.params[name].numpy())


def test_shapes_of_an_n_latent_model():
    model = h.make_model(dim=3, buckets=4, seed=1, latents=5)
    assert (model.latents, model.buckets, model.dim) == (5, 4, 3)
    assert model.params["logits"].shape == (5, 4)
    assert model.params["A"].shape == model.params["C"].shape == (3 + 5 * 4,)
    assert model.params["B"].shape == model.params["D"].shape == ()
    np.testing.assert_allclose(model.probs().numpy().sum(axis=1), 1.0, rtol=1e-14)
    mu, sigma = model.conditionals(np.zeros((2, 7, 5, 4)))
    assert mu.shape == sigma.shape == (2, 7)


def test_conditionals_follow_the_definition():
    # x_s = [x, onehot(s_1), ..., onehot(s_n)]; relaxed s enter linearly in the same way.
    model = randomize(h.make_model(dim=2, buckets=3, seed=4, latents=3), seed=5)
    p = numpy_params(model)
    x = model.x.numpy()
    s = np.random.default_rng(0).dirichlet(np.ones(3), size=(6, 3))  # (6, n, K) relaxed
    x_s = np.hstack([np.tile(x, (6, 1)), s.reshape(6, -1)])
    mu, sigma = model.conditionals(s)
    np.testing.assert_allclose(mu.numpy(), 1 / (1 + np.exp(-(x_s @ p["A"] + p["B"]))), rtol=1e-13)
    np.testing.assert_allclose(sigma.numpy(), np.exp(x_s @ p["C"] + p["D"]), rtol=1e-13)


def test_latent_weights_are_scaled_by_one_over_sqrt_n():
    # A[dim:] ~ N(0, 2^2 / n): the pooled standard deviation of sqrt(n) A[dim:] over
    # many models must be 2, within 5 standard errors (sd of a sd: 2 / sqrt(2 m)).
    for latents in (4, 16):
        values = np.concatenate(
            [
                np.sqrt(latents) * h.make_model(3, 5, seed=s, latents=latents).params["A"][3:]
                for s in range(40)
            ]
        )
        assert abs(np.std(values) - 2.0) < 5 * 2.0 / np.sqrt(2 * values.size)


@pytest.mark.parametrize("dim,buckets,latents", SIZES)
@pytest.mark.parametrize("f_name", sorted(F))
def test_exact_loss_matches_numpy(dim, buckets, latents, f_name):
    model = randomize(h.make_model(dim, buckets, seed=dim, latents=latents), seed=buckets)
    expected = loss(numpy_params(model), model.x.numpy(), INNER[f_name])
    assert float(h.exact_loss(model, F[f_name])) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dim,buckets,latents", SIZES)
@pytest.mark.parametrize("f_name", ["square", "cos"])
def test_exact_gradient_matches_finite_differences(dim, buckets, latents, f_name):
    model = randomize(h.make_model(dim, buckets, seed=dim + 1, latents=latents), seed=latents)
    assert_exact_gradient_matches_finite_differences(model, f_name)


def test_quadrature_for_f_without_closed_form():
    def g(z):
        return np.tanh(z) + 0.1 * z**3

    model = h.make_model(2, 2, seed=5, latents=3)  # sigma ~ 0.1: quadrature is exact here
    expected = loss(numpy_params(model), model.x.numpy(), quadrature_inner(g))
    f = lambda z: tf.tanh(z) + 0.1 * z**3  # noqa: E731
    assert float(h.exact_loss(model, f)) == pytest.approx(expected, rel=1e-9)


def test_the_reference_enumeration_reproduces_the_one_latent_exact_values():
    # The numpy enumeration over K**n, given logits of shape (1, K), against the
    # unchanged one-latent helpers code.
    model = randomize(h.make_model(4, 6, seed=2), seed=3)
    params = numpy_params(model)
    params["logits"] = params["logits"][None, :]
    expected = loss(params, model.x.numpy(), INNER["cos"])
    assert float(h.exact_loss(model, tf.cos)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("f", [h.square, tf.cos], ids=["square", "cos"])
def test_chunked_enumeration_equals_one_chunk(monkeypatch, f):
    # 3**5 = 243 configurations in chunks of 7 (the last one partial) or all at once.
    model = randomize(h.make_model(3, 3, seed=8, latents=5), seed=9)
    whole_loss, whole = float(h.exact_loss(model, f)), h.exact_gradient(model, f)
    monkeypatch.setattr(h.model_math, "CHUNK_VALUES", 7 * (1 if f is h.square else 64))
    h.release_traces()  # traced again, with the smaller chunks
    try:
        assert float(h.exact_loss(model, f)) == pytest.approx(whole_loss, rel=1e-13)
        chunked = h.exact_gradient(model, f)
    finally:
        h.release_traces()
    assert h.stats.relative_error(chunked, whole) < 1e-13


def test_the_several_latent_pass_returns_the_loss_with_its_gradient():
    model = randomize(h.make_model(3, 3, seed=8, latents=3), seed=9)
    value, _ = h.exact.value_and_gradient_from(model.values(), model.x, tf.cos, 3)
    assert float(value) == pytest.approx(float(h.exact_loss(model, tf.cos)), rel=1e-12)
    with warnings.catch_warnings():  # exact_gradient checks that value against a finer rule
        warnings.simplefilter("error")
        h.exact_gradient(model, tf.cos)


@pytest.mark.parametrize("latents", [1, 2, 4])
def test_the_latents_part_of_z_has_the_same_spread_for_every_n(latents):
    # make_model scales each latent's weights by 1 / sqrt(n), so that the sum over the
    # n latents of x_s . A has variance 4 (A's latent weights are 2 N(0, 1) / sqrt(n))
    # whatever n is. The mean of 40 seeds' n * A_latent**2 / 4 over 1,280 normals has
    # standard deviation sqrt(2 / 1280) = 0.04: 5 of them is 0.2, and a missing
    # 1 / sqrt(n) would give n.
    K = 32 // latents
    squares = [
        h.make_model(dim=2, buckets=K, latents=latents, seed=seed).params["A"].numpy()[2:] ** 2
        for seed in range(40)
    ]
    assert np.mean(squares) * latents / 4 == pytest.approx(1.0, abs=0.2)


# Unbiasedness on several n-latent models (sizes, f, seeds differ).


@pytest.mark.parametrize("sizes,f_name,f", LATENT_MODELS, ids=[m[1] for m in LATENT_MODELS])
def test_elementary_is_unbiased(sizes, f_name, f):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(model, "elementary", 20_000, seed=5, f=f)
    assert_unbiased(grads, h.exact_gradient(model, f))


SCORE_VARIANTS = [
    (True, dict(baseline="none"), 1),
    (True, dict(baseline="loo"), 4),
    (False, dict(baseline="none"), 1),
    (False, dict(baseline="loo"), 3),
]


@pytest.mark.parametrize("pathwise_z,options,n_samples", SCORE_VARIANTS)
@pytest.mark.parametrize("sizes,f_name,f", LATENT_MODELS, ids=[m[1] for m in LATENT_MODELS])
def test_score_function_is_unbiased(pathwise_z, options, n_samples, sizes, f_name, f):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(
        model, "score_function", 20_000, n_samples, seed=3, f=f, pathwise_z=pathwise_z, **options
    )
    assert_unbiased(grads, h.exact_gradient(model, f))


@pytest.mark.parametrize("pathwise_z", [True, False])
def test_constant_and_optimal_baselines_are_unbiased(pathwise_z):
    model = h.make_model(dim=3, buckets=3, latents=3, seed=44)
    exact = h.exact_gradient(model)
    for options in (dict(baseline="constant", value=0.4), dict(baseline="optimal")):
        grads = h.gradient_samples(
            model, "score_function", 20_000, seed=6, pathwise_z=pathwise_z, **options
        )
        assert_unbiased(grads, exact)


@pytest.mark.parametrize("pathwise_z", [True, False])
def test_optimal_baseline_cuts_the_variance_it_minimises(pathwise_z):
    # b* minimises tr Cov of (f - b) grad log q: with pathwise z that term is the
    # logits block; scoring z too, it is the whole estimate. The same seed gives
    # both variants the same draws, so the per-replicate difference of squared
    # deviations is paired (its standard error is far below that of either
    # variance, whose distribution is heavy-tailed); its mean must exceed 4 of them.
    model = h.make_model(dim=4, buckets=3, latents=3, seed=7)

    def squared_deviations(**options):
        grads = h.gradient_samples(
            model, "score_function", 20_000, seed=5, pathwise_z=pathwise_z, **options
        )
        blocks = [grads["logits"]] if pathwise_z else list(grads.values())
        flat = np.hstack([g.reshape(len(g), -1) for g in blocks])
        return np.sum((flat - flat.mean(axis=0)) ** 2, axis=1)

    saved = squared_deviations() - squared_deviations(baseline="optimal")
    assert saved.mean() > 4 * saved.std() / np.sqrt(saved.size)


def test_unbiasedness_check_has_power_for_several_latents():
    # Dropping the score of the second latent (a bug an n-latent port could have)
    # must fail the same check.
    model = h.make_model(**LATENT_MODELS[0][0])
    grads = h.gradient_samples(model, "score_function", 20_000, 4, seed=8, baseline="loo")
    grads["logits"][:, 1] = 0.0
    with pytest.warns(h.stats.ZeroSpreadWarning, match="deterministic and biased"):
        worst, bound = h.stats.unbiasedness(grads, h.exact_gradient(model), ALPHA)
    assert worst > bound


@pytest.mark.slow
@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_gumbel_softmax_mean_matches_the_relaxed_gradient(tau):
    model = randomize(h.make_model(dim=3, buckets=3, seed=23, latents=2), seed=24)
    assert_gumbel_softmax_mean_is_the_relaxed_gradient(model, tau)  # each latent relaxed alone


def test_straight_through_for_several_latents_is_one_hot_per_latent():
    model = h.make_model(dim=2, buckets=4, seed=3, latents=3)
    u = h.noise_for(model, "gumbel_softmax", 200, seed=3)["u"]
    assert u.shape == (200, 1, 3, 4)
    logits = model.params["logits"]
    y = h.estimators.relaxed_one_hot(logits, u, 0.7, straight_through=True).numpy()
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(y.sum(axis=-1), 1.0)


def test_gumbel_max_draws_each_latent_from_its_own_categorical():
    # Pearson's chi-square per latent, Bonferroni over the n latents.
    model = h.make_model(dim=2, buckets=5, seed=6, latents=3)
    u = h.noise_for(model, "score_function", 100_000, seed=2)["u"][:, 0]  # (R, n, K)
    s = h.estimators.gumbel_max(model.params["logits"], tf.constant(u)).numpy().argmax(-1)
    p = model.probs().numpy()
    for i in range(model.latents):
        counts = np.bincount(s[:, i], minlength=model.buckets)
        assert stats.chisquare(counts, counts.sum() * p[i]).pvalue > ALPHA / model.latents


def test_sample_draws_every_latent():
    model = h.make_model(dim=2, buckets=3, seed=2, latents=4)
    s, z = h.sample(model, 50_000, seed=1)
    assert s.shape == (50_000, 4) and z.shape == (50_000,)
    p = model.probs().numpy()
    for i in range(4):
        counts = np.bincount(s[:, i], minlength=3)
        assert stats.chisquare(counts, counts.sum() * p[i]).pvalue > ALPHA / 4
    # E f(z) from the draws against the exact loss: 5 standard errors.
    se = np.std(z**2) / np.sqrt(z.size)
    assert abs(np.mean(z**2) - float(h.exact_loss(model))) < 5 * se


def test_shapes_noise_and_costs():
    model = h.make_model(dim=2, buckets=3, seed=1, latents=4)
    for estimator, options in [
        ("elementary", {}),
        ("gumbel_softmax", dict(tau=0.5)),
        ("score_function", dict(baseline="loo")),
    ]:
        grads = h.gradient_samples(model, estimator, 6, n_samples=2, **options)
        for name, value in grads.items():
            assert value.shape == (6, *model.params[name].shape)
            assert np.all(np.isfinite(value))
    assert h.noise_for(model, "elementary", 6, 2)["eps"].shape == (6, 2, 3**4)
    assert h.noise_for(model, "score_function", 6, 2)["eps"].shape == (6, 2)
    several = ("elementary", "gumbel_softmax", "score_function", "indecater")
    cost = {name: h.ESTIMATORS[name].evaluations(3, 2, latents=4) for name in several}
    assert cost == {
        "elementary": 2 * 3**4,
        "gumbel_softmax": 2,
        "score_function": 2,
        "indecater": 2 * 4 * 3,
    }
    assert h.ESTIMATORS["elementary"].evaluations(5, 10) == 50  # one latent, as before


@pytest.mark.parametrize("latents", [1, 3])
def test_elementary_without_the_fast_path_gives_the_same_estimates(latents):
    # The estimators see only the interface: enumerating one-hots through
    # problem.objective must equal the model's objective_all fast path.
    from helpers import estimators

    model = randomize(h.make_model(dim=2, buckets=3, seed=3, latents=latents), seed=4)
    problem, generic = model.problem(h.square), WithoutFastPath(model.problem(h.square))
    seed = tf.constant([1, 0], dtype=tf.int64)
    noise = estimators.noise_per_configuration(problem, seed, 5, 2, model.buckets)
    params = {k: tf.broadcast_to(v, [5, *v.shape]) for k, v in model.values().items()}
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(params)
        fast = estimators.elementary(problem, params, noise)
        slow = estimators.elementary(generic, params, noise)
    np.testing.assert_allclose(slow.numpy(), fast.numpy(), rtol=1e-13)
    fast_grads, slow_grads = tape.gradient(fast, params), tape.gradient(slow, params)
    for name in params:
        np.testing.assert_allclose(slow_grads[name], fast_grads[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("latents", [1, 3])
def test_a_problem_with_only_the_required_methods_runs_every_estimator(latents):
    # Not a dataclass, no optional method: gradient_samples on the interface alone
    # gives the model's estimates (the same draws; elementary by one-hots).
    model = randomize(h.make_model(dim=2, buckets=3, seed=3, latents=latents), seed=4)
    generic = WithoutFastPath(model.problem(h.square))
    for estimator, options in [
        ("elementary", {}),
        ("gumbel_softmax", dict(tau=0.5, straight_through=True)),
        ("score_function", dict(baseline="loo")),
    ]:
        ours = h.problem_gradient_samples(generic, model.values(), estimator, 50, 2, 3, **options)
        theirs = h.gradient_samples(model, estimator, 50, 2, seed=3, **options)
        for name in theirs:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-15)


def test_optional_methods_missing_give_clear_errors():
    model = h.make_model(dim=2, buckets=3, latents=2)
    problem = WithoutFastPath(model.problem())
    message = "needs a problem with an optimal_baseline method; WithoutFastPath has none$"
    with pytest.raises(ValueError, match=message):
        h.problem_gradient_samples(problem, model.values(), "score_function", 4, baseline="optimal")
    with pytest.raises(ValueError, match="needs an exact method"):
        h.optimise_problem(problem, model.values(), "elementary", steps=2)


def test_optimising_the_choices_alone_settles_on_one_configuration():
    # Only the logits move: the objective is sum_s p(s) E[f | s] with E[f | s] fixed,
    # so exact runs cannot pass the best configuration's value and settle on one
    # configuration's value. With several latents that need not be the best one:
    # changing one choice at a time can make every step worse (a local optimum).
    model = h.make_model(dim=2, buckets=3, seed=5, latents=2)
    target = lambda z: (z - 0.7) ** 2  # noqa: E731
    per_config = h.expected_f(*h.model.conditionals_all(model.values(), model.x, 2), target)
    per_config = per_config.numpy()
    out = h.optimise(
        model, "exact", steps=400, learning_rate=0.1, n_runs=2, f=target, trainable=("logits",)
    )
    final, start = out["loss"][-1], out["loss"][0]
    assert np.all(final >= per_config.min() - 1e-12)
    nearest = per_config[np.argmin(np.abs(final[:, None] - per_config), axis=1)]
    assert np.all(np.abs(final - nearest) < 0.05 * (start - per_config.min()))


def test_models_with_the_same_number_of_latents_share_one_trace():
    from helpers import estimators, sampling

    structure = h.model_problem.ModelProblem(f=h.square, latents=3)
    for dim, buckets in [(2, 3), (3, 2)]:  # a second shape relaxes the signature
        h.gradient_samples(h.make_model(dim, buckets, latents=3), "score_function", 10)
    static = (("baseline", "none"), ("pathwise_z", True))
    traced = sampling._traced(estimators.resolve("score_function"), structure, static)
    before = traced.experimental_get_tracing_count()
    for dim, buckets in [(5, 4), (1, 2), (4, 6)]:
        h.gradient_samples(h.make_model(dim, buckets, latents=3), "score_function", 10)
    assert traced.experimental_get_tracing_count() == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "estimator,options", [("score_function", {}), ("gumbel_softmax", dict(tau=0.5))]
)
def test_at_least_1000_times_faster_than_one_tape_per_replicate(estimator, options):
    from replicates import per_replicate_seconds

    model = h.make_model(latents=4)
    loop, batched = per_replicate_seconds(model, 100, 100_000, estimator, options)
    assert loop / batched > 1000, f"only {loop / batched:.0f}x faster"


def test_many_latents_beyond_enumeration_still_sample():
    # 2**40 configurations: no exact gradient, no elementary estimator, but the
    # sampling estimators cost O(n K) per draw and work.
    model = h.make_model(dim=2, buckets=2, seed=1, latents=40)
    for estimator, options in [("score_function", {}), ("gumbel_softmax", dict(tau=0.5))]:
        grads = h.gradient_samples(model, estimator, 100, **options)
        assert grads["logits"].shape == (100, 40, 2)
        assert all(np.all(np.isfinite(v)) for v in grads.values())


# Bad input.


@pytest.mark.parametrize(
    "latents,message",
    [
        (0, "latents must be an integer >= 1, got 0"),
        (-2, "latents must be an integer >= 1"),
        (2.5, "latents must be an integer >= 1, got 2.5"),
        (True, "latents must be an integer >= 1, got True"),
        ("3", "latents must be an integer >= 1"),
    ],
)
def test_make_model_rejects_bad_latents(latents, message):
    with pytest.raises(ValueError, match=message):
        h.make_model(dim=2, buckets=3, latents=latents)


@pytest.mark.parametrize(
    "call,what",
    [
        (lambda m: h.exact_loss(m), "the exact loss"),
        (lambda m: h.exact_gradient(m), "the exact loss"),
        (lambda m: h.gradient_samples(m, "elementary", 3), "estimator 'elementary'"),
        (
            lambda m: h.gradient_samples(m, "score_function", 3, baseline="optimal"),
            "baseline='optimal'",
        ),
        (
            lambda m: h.optimise(m, "score_function", steps=2),
            "optimise (it records the exact objective)",
        ),
    ],
)
def test_more_configurations_than_the_limit_are_refused(call, what):
    model = h.make_model(dim=2, buckets=2, latents=21)  # 2**21 > 2**20
    message = "^" + re.escape(what) + r" enumerates .*2\*\*21 = 2,097,152 .* limit of 2\*\*20"
    with pytest.raises(ValueError, match=message):
        call(model)


def test_the_refusal_names_what_enumerates():
    model = h.make_model(dim=2, buckets=2, latents=21)
    with pytest.raises(
        ValueError,
        match=r"^baseline='optimal' enumerates all K\*\*n = 2\*\*21 = 2,097,152 joint "
        r"configurations, more than the limit of 2\*\*20 = 1,048,576 \(at the limit the exact "
        r"gradient takes seconds on a laptop CPU, and time grows linearly beyond\); use fewer "
        r"latents or categories, or a sampling estimator \(score_function, gumbel_softmax\)$",
    ):
        h.gradient_samples(model, "score_function", 3, baseline="optimal")


def test_the_limit_itself_is_allowed():
    model = h.make_model(dim=2, buckets=4, latents=10)  # 4**10 = 2**20
    assert np.isfinite(float(h.exact_loss(model)))


@pytest.mark.parametrize(
    "shape,message",
    [
        ((4, 3), r"shape \(\.\.\., 2, 3\)"),
        ((2, 4), r"shape \(\.\.\., 2, 3\)"),
        ((5, 3, 3), r"shape \(\.\.\., 2, 3\)"),
        ((3,), r"shape \(\.\.\., 2, 3\)"),
    ],
)
def test_conditionals_checks_the_one_hot_shape(shape, message):
    model = h.make_model(dim=2, buckets=3, latents=2)
    with pytest.raises(ValueError, match=message):
        model.conditionals(np.zeros(shape))


def test_an_estimator_for_one_latent_only_says_so():
    one_latent = h.estimators.Estimator(
        name="one_latent_score",
        surrogate=h.score_function,
        noise=h.ESTIMATORS["score_function"].noise,
        evaluations=lambda buckets, n_samples, latents=1: n_samples,
        options=dict(h.ESTIMATORS["score_function"].options),
        max_latents=1,
    )
    h.gradient_samples(h.make_model(dim=2, buckets=3), one_latent, 4)  # one latent: fine
    model = h.make_model(dim=2, buckets=3, latents=2)
    message = "estimator 'one_latent_score' handles at most 1 categorical latent.*latents=2"
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, one_latent, 4)
    with pytest.raises(ValueError, match=message):
        h.optimise(model, one_latent, steps=2)


def test_the_several_latent_optimal_baseline_matches_a_brute_force_minimum():
    # b* = E[f |g|^2] / E[|g|^2] with |g|^2 = sum_i |e_{s_i} - p_i|^2: enumerated by the
    # problem, estimated here from 200,000 draws of its own noise.
    model = h.make_model(dim=2, buckets=3, latents=2, seed=9)
    noise = h.noise_for(model, "score_function", 200_000, seed=1)
    params = h.estimators.with_sample_axis({k: v[None] for k, v in model.params.items()})
    exact_b = float(model.problem(h.square).optimal_baseline(params, True)[0, 0])
    log_p = tf.nn.log_softmax(model.params["logits"]).numpy()  # (n, K)
    s = np.argmax(log_p + h.estimators.gumbel(noise["u"][:, 0]).numpy(), axis=-1)  # (R, n)
    one_hot = np.eye(3)[s]
    mu, sigma = (v.numpy() for v in model.conditionals(one_hot))
    f = (mu + sigma * noise["eps"][:, 0]) ** 2
    norm = np.sum((one_hot - np.exp(log_p)) ** 2, axis=(1, 2))
    assert exact_b == pytest.approx(np.mean(f * norm) / np.mean(norm), rel=0.02)


def test_a_count_too_large_to_print_is_refused_with_its_size():
    # 2**20000 has 6,021 digits, more than Python converts to a string by default.
    model = h.make_model(dim=1, buckets=2, latents=20000)
    with pytest.raises(
        ValueError,
        match=r"^the exact loss enumerates all K\*\*n = 2\*\*20000 = about 10\*\*6021 joint "
        r"configurations, more than the limit of 2\*\*20",
    ):
        h.exact_gradient(model)


@pytest.mark.parametrize(
    "latents, buckets, count",
    [(63, 2, "9,223,372,036,854,775,808"), (64, 2, "about 10**19"), (1, 2**20 + 1, "1,048,577")],
)
def test_counts_below_2_to_the_64_are_printed_in_full_and_larger_ones_by_size(
    latents, buckets, count
):
    message = f"^x enumerates all K\\*\\*n = {buckets}\\*\\*{latents} = {re.escape(count)} joint "
    with pytest.raises(ValueError, match=message):
        h.problem.check_enumerable(latents, buckets, "x")
    h.problem.check_enumerable(1, 2**20, "x")  # the limit itself
