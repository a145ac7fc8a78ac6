"""The categorical VAE (helpers.vae): data, ELBO, unbiased encoder gradients, training."""

import itertools

import helpers as h
from helpers import vae, vae_exact, vae_model
from helpers.adam import ADAM_BETAS, ADAM_EPSILON, adam

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import log_softmax, logsumexp

ALPHA = 1e-3  # family-wise level of the Bonferroni test over all encoder coordinates
TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)


def tiny_weights(seed=3):
    """Fixed float64 weights with non-zero biases, sharp enough for q to be far from uniform."""
    weights = vae.init_weights(TINY, seed=seed, dtype=tf.float64)
    rng = np.random.default_rng(seed)
    return {
        k: tf.constant(1.5 * v.numpy() + rng.normal(0, 0.5, v.shape)) for k, v in weights.items()
    }


def numpy_terms(weights, x):
    """Independent NumPy: q(s | x) and log p(x | s) for all K**n codes, by itertools."""
    w = {k: v.numpy() for k, v in weights.items()}
    n, k = TINY.latents, TINY.buckets
    h_enc = np.tanh(x @ w["enc_w1"] + w["enc_b1"])
    log_q = log_softmax((h_enc @ w["enc_w2"] + w["enc_b2"]).reshape(len(x), n, k), axis=-1)
    codes = list(itertools.product(range(k), repeat=n))
    log_q_joint = np.stack([sum(log_q[:, i, c[i]] for i in range(n)) for c in codes], axis=1)
    one_hots = np.stack([np.eye(k)[list(c)].ravel() for c in codes])  # (C, n K)
    pixel = np.tanh(one_hots @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]  # (C, D)
    log_px = x @ pixel.T - np.logaddexp(0, pixel).sum(axis=1)  # (B, C): log p(x | s)
    return log_q, log_q_joint, log_px


def test_exact_negative_elbo_equals_an_independent_numpy_computation():
    weights = tiny_weights()
    log_q, log_q_joint, log_px = numpy_terms(weights, IMAGES)
    q = np.exp(log_q_joint)
    kl = np.sum(np.exp(log_q) * log_q, axis=(1, 2)) + TINY.latents * np.log(TINY.buckets)
    expected = -np.sum(q * log_px, axis=1) + kl
    problem, params = vae_model._batched(weights, tf.constant(IMAGES), TINY.latents)
    np.testing.assert_allclose(problem.exact(params).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(vae.kl_to_uniform(params["logits"]).numpy(), kl, rtol=1e-12)


@pytest.mark.parametrize("chunk", [4, 9])  # 9 codes: chunks that divide them and one that does not
def test_exact_scores_equal_an_independent_numpy_computation(chunk):
    weights = tiny_weights()
    log_q, log_q_joint, log_px = numpy_terms(weights, IMAGES)
    kl = np.sum(np.exp(log_q) * log_q, axis=(1, 2)) + TINY.latents * np.log(TINY.buckets)
    neg_elbo = -np.sum(np.exp(log_q_joint) * log_px, axis=1) + kl
    neg_log_px = TINY.latents * np.log(TINY.buckets) - logsumexp(log_px, axis=1)
    got_elbo, got_log_px = vae.exact_scores(weights, IMAGES, TINY.latents, chunk=chunk)
    np.testing.assert_allclose(got_elbo, neg_elbo, rtol=1e-12)
    np.testing.assert_allclose(got_log_px, neg_log_px, rtol=1e-12)
    assert np.all(got_log_px < got_elbo)  # the ELBO bounds the likelihood


def test_monte_carlo_elbo_and_importance_sampled_likelihood_agree_with_enumeration():
    weights = tiny_weights()
    _, log_q_joint, log_px = numpy_terms(weights, IMAGES)
    q, log_prior = np.exp(log_q_joint), -TINY.latents * np.log(TINY.buckets)
    samples = 4000
    # -ELBO by draws: within 4 standard errors of the exact value (per image; 3 images).
    problem, params = vae_model._batched(weights, tf.constant(IMAGES), TINY.latents)
    exact = problem.exact(params).numpy()
    estimate = vae.negative_elbo(weights, IMAGES, TINY.latents, samples, seed=1).numpy()
    recon_sd = np.sqrt(np.sum(q * log_px**2, 1) - np.sum(q * log_px, 1) ** 2)
    assert np.all(np.abs(estimate - exact) < 4 * recon_sd / np.sqrt(samples))
    # log p(x) by importance sampling: the weight ratio w / p(x) has mean 1 and
    # variance sum_s p(x, s)^2 / q(s) / p(x)^2 - 1, so log of the mean ratio has
    # standard error about sqrt(variance / S) (delta method); 5 of them, 3 images.
    log_joint = log_px + log_prior
    log_p = logsumexp(log_joint, axis=1)
    variance = np.exp(logsumexp(2 * log_joint - log_q_joint, axis=1) - 2 * log_p) - 1
    ours = vae.log_likelihood(weights, IMAGES, TINY.latents, samples, seed=2).numpy()
    assert np.all(np.abs(ours - log_p) < 5 * np.sqrt(variance / samples))


UNBIASED = [
    ("score_function", 1, {}),
    ("score_function", 3, {"baseline": "loo"}),
    ("indecater", 1, {}),
    ("indecater", 2, {}),
]


@pytest.mark.parametrize("name,n_samples,options", UNBIASED, ids=lambda v: str(v))
def test_encoder_and_decoder_gradients_are_unbiased(name, n_samples, options):
    # Bonferroni over every coordinate of both networks: if the estimator is unbiased,
    # the worst |z| exceeds the bound with probability at most ALPHA.
    weights = tiny_weights()
    grads = vae.gradient_samples(
        name, weights, IMAGES, TINY, 20_000, n_samples, seed=5, which="all", **options
    )
    exact = vae.exact_gradient(weights, IMAGES, TINY, "all")
    assert set(grads) == set(exact) == set(weights)
    worst, bound = h.stats.unbiasedness(grads, exact, ALPHA)
    assert worst < bound


def test_one_decoder_copy_per_replicate_gives_the_shared_decoders_encoder_gradient():
    # Identical copies and the same noise: the encoder's estimates must not change.
    weights = tiny_weights()
    args = ("indecater", weights, IMAGES, TINY, 50, 1, 3)
    alone = vae.gradient_samples(*args, which="encoder")
    together = vae.gradient_samples(*args, which="all")
    for name, value in alone.items():
        np.testing.assert_allclose(together[name], value, rtol=1e-10, atol=1e-12)


def test_elementary_enumerates_the_codes_so_it_is_the_exact_gradient():
    # No continuous noise in the VAE: summing over all K**n codes leaves nothing random.
    weights = tiny_weights()
    grads = vae.encoder_gradient_samples("elementary", weights, IMAGES, TINY, 3, seed=5)
    for name, value in vae.exact_encoder_gradient(weights, IMAGES, TINY).items():
        np.testing.assert_allclose(
            grads[name], np.broadcast_to(value, grads[name].shape), atol=1e-12
        )


def test_the_unbiasedness_check_detects_the_relaxation_bias():
    # Gumbel-softmax at tau = 2 differentiates the relaxed objective, not the ELBO: the
    # same test must reject it, or it could not tell a biased estimator apart.
    weights = tiny_weights()
    grads = vae.encoder_gradient_samples(
        "gumbel_softmax", weights, IMAGES, TINY, 20_000, seed=5, tau=2.0
    )
    worst, bound = h.stats.unbiasedness(
        grads, vae.exact_encoder_gradient(weights, IMAGES, TINY), ALPHA
    )
    assert worst > bound


def digits_subset():
    train, test = vae.load_digits(seed=0)
    return train[:200], test[:40]


def test_the_same_seed_gives_the_same_loss_curve_and_training_lowers_it():
    train, test = digits_subset()
    arch = vae.Architecture(latents=3, buckets=3, hidden=8)
    runs = [
        vae.train(
            "score_function",
            train,
            test,
            arch,
            4,
            30,
            20,
            seed=s,
            evaluate_every=10,
            baseline="loo",
        )
        for s in (1, 1, 2)
    ]
    np.testing.assert_array_equal(runs[0].test_loss, runs[1].test_loss)
    assert not np.array_equal(runs[0].test_loss, runs[2].test_loss)
    assert runs[0].test_loss[-1] < runs[0].test_loss[0]
    assert list(runs[0].steps) == [0, 10, 20, 30] and runs[0].decoder_evaluations == 4


def test_data_are_binary_split_by_seed_and_the_same_every_time():
    train, test = vae.load_digits(seed=0)
    assert train.shape == (1500, 64) and test.shape == (vae.HELD_OUT, 64)
    assert set(np.unique(train)) == {0.0, 1.0}
    np.testing.assert_array_equal(vae.load_digits(seed=0)[1], test)
    assert not np.array_equal(vae.load_digits(seed=1)[1], test)


def test_bad_input_is_a_value_error():
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)
    with pytest.raises(ValueError, match="at most 1 categorical"):
        vae.train("sum_and_sample", train, test, arch, steps=1)
    with pytest.raises(ValueError, match="optimal"):
        vae.train("score_function", train, test, arch, steps=1, baseline="optimal")
    with pytest.raises(ValueError, match="shape"):
        vae.train("indecater", train[:, :10], test, arch, steps=1)
    with pytest.raises(ValueError, match="binary"):
        vae.train("indecater", train * 0.5, test, arch, steps=1)
    with pytest.raises(ValueError, match="temperature"):
        vae.train("indecater", train, test, arch, steps=1, anneal_to=0.5)
    weights = vae.init_weights(arch)
    with pytest.raises(ValueError, match="which"):
        vae.gradient_samples("indecater", weights, train[:2], arch, 2, which="decoder")
    with pytest.raises(ValueError, match="encoder"):
        vae.gradient_samples("elementary", weights, train[:2], arch, 2, which="all")
    with pytest.raises(ValueError, match="n_samples"):
        vae.train("score_function", train, test, arch, 1.5, steps=1)
    with pytest.raises(ValueError, match="latents"):
        vae.Architecture(latents=0)
    with pytest.raises(ValueError, match="held_out"):
        vae.load_digits(held_out=5000)


def test_exact_gradient_in_chunks_is_the_gradient_in_one_pass(monkeypatch):
    # One pass: the tape's gradient of the decoder problem's exact -ELBO over all 9 codes.
    weights = tiny_weights()
    encoder = {k: v for k, v in weights.items() if k.startswith("enc_")}
    with tf.GradientTape() as tape:
        tape.watch(encoder)
        problem, params = vae_model._batched(weights, tf.constant(IMAGES), TINY.latents)
        whole = tape.gradient(tf.reduce_mean(problem.exact(params)), encoder)
    for chunk in (vae_exact.EXACT_CHUNK, 2):  # the 9 codes in one chunk, then in 5
        monkeypatch.setattr(vae_exact, "EXACT_CHUNK", chunk)
        for name, value in vae.exact_encoder_gradient(weights, IMAGES, TINY).items():
            np.testing.assert_allclose(value, whole[name], rtol=1e-12, atol=1e-15)


def test_defaults_are_the_documented_ones_and_options_reach_the_estimator():
    weights = tiny_weights()
    same = np.testing.assert_array_equal
    for name, value in vae.exact_gradient(weights, IMAGES, TINY).items():
        same(value, vae.exact_gradient(weights, IMAGES, TINY, which="encoder")[name])
    default = vae.gradient_samples("score_function", weights, IMAGES, TINY, 5)
    explicit = vae.gradient_samples(
        "score_function", weights, IMAGES, TINY, 5, n_samples=1, seed=0, which="encoder"
    )
    for name in explicit:
        same(default[name], explicit[name])
    sharp = vae.encoder_gradient_samples("gumbel_softmax", weights, IMAGES, TINY, 5, tau=0.3)
    also = vae.gradient_samples("gumbel_softmax", weights, IMAGES, TINY, 5, tau=0.3)
    soft = vae.gradient_samples("gumbel_softmax", weights, IMAGES, TINY, 5, tau=2.0)
    for name in sharp:
        same(sharp[name], also[name])
    assert any(not np.array_equal(sharp[n], soft[n]) for n in sharp)


def test_integer_or_float32_inputs_give_the_float64_numbers():
    weights = tiny_weights()
    np.testing.assert_array_equal(
        vae.negative_elbo(weights, IMAGES.astype(int), TINY.latents),
        vae.negative_elbo(weights, IMAGES, TINY.latents),
    )
    # The decoder's bias is logit(pixel_mean), computed in float64 whatever the mean's dtype.
    mean = np.array([0.1, 0.3, 0.7, 0.999], dtype=np.float32)
    np.testing.assert_array_equal(
        vae.init_weights(TINY, pixel_mean=mean, dtype=tf.float64)["dec_b2"],
        vae.init_weights(TINY, pixel_mean=mean.astype(np.float64), dtype=tf.float64)["dec_b2"],
    )


def test_training_defaults_annealing_and_the_timing_of_a_step():
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)

    def run(steps=3, **options):
        return vae.train(
            "gumbel_softmax",
            train,
            test,
            arch,
            steps=steps,
            seed=1,
            evaluate_every=steps,
            tau=0.5,
            **options,
        )

    default = run()
    np.testing.assert_array_equal(default.test_loss, run(batch_size=32).test_loss)
    assert not np.array_equal(default.test_loss, run(batch_size=33).test_loss)
    # Annealing to the starting temperature is no annealing; to another one changes the run.
    np.testing.assert_array_equal(default.test_loss, run(anneal_to=0.5).test_loss)
    assert not np.array_equal(default.test_loss, run(anneal_to=0.1).test_loss)
    # One step with annealing uses the starting temperature.
    np.testing.assert_array_equal(run(1).test_loss, run(1, anneal_to=0.1).test_loss)
    # step_seconds leaves the first (tracing) step out of the steps' mean.
    assert 0 < default.step_seconds < default.seconds[-1] / 2
    with pytest.raises(ValueError, match="test_x must be binary"):
        vae.train("gumbel_softmax", train, test * 0.5, arch, steps=1)
    with pytest.raises(ValueError, match="^x must have shape"):
        vae.exact_gradient(tiny_weights(), IMAGES[:, :3], TINY)


def test_adam_steps_match_a_numpy_reference():
    rng = np.random.default_rng(4)
    w = {"a": rng.normal(size=3), "b": rng.normal(size=(2, 2))}
    weights = {k: tf.constant(v) for k, v in w.items()}
    moments = tuple({k: tf.zeros_like(v) for k, v in weights.items()} for _ in range(2))
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    (b1, b2), eps, rate = ADAM_BETAS, ADAM_EPSILON, 0.01
    for t in range(3):
        g = {k: rng.normal(size=v.shape) for k, v in w.items()}
        weights, moments = adam(
            weights,
            {k: tf.constant(v) for k, v in g.items()},
            moments,
            t,
            tf.constant(rate, tf.float64),
        )
        for k in w:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v2[k] = b2 * v2[k] + (1 - b2) * g[k] ** 2
            step = (
                rate * (m[k] / (1 - b1 ** (t + 1))) / (np.sqrt(v2[k] / (1 - b2 ** (t + 1))) + eps)
            )
            w[k] = w[k] - step
            np.testing.assert_allclose(weights[k], w[k], rtol=1e-12)


def test_edges_of_the_data_the_weights_and_the_counts():
    train, _ = vae.load_digits()
    with pytest.raises(ValueError, match="held_out"):
        vae.load_digits(held_out=len(train) + vae.HELD_OUT)  # no image left to train on
    # Pixels that are always 0 or always 1 get a finite bias: logit of the clipped mean.
    bias = vae.init_weights(TINY, pixel_mean=[0.0, 1.0, 0.5, 0.5], dtype=tf.float64)["dec_b2"]
    np.testing.assert_allclose(bias, [-np.log(999), np.log(999), 0, 0], rtol=1e-12, atol=1e-15)
    one = vae.gradient_samples("score_function", tiny_weights(), IMAGES, TINY, 1)
    assert all(v.shape[0] == 1 for v in one.values())
    with pytest.raises(ValueError, match=r"^which must be one of encoder, all, got 'both'"):
        vae.exact_gradient(tiny_weights(), IMAGES, TINY, which="both")


def test_checkpoints_every_25_steps_by_default_and_at_the_end():
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)
    run = vae.train("score_function", train, test, arch, steps=26, batch_size=4)
    assert list(run.steps) == [0, 25, 26]
    # Each checkpoint's loss: the mean held-out -ELBO, 16 samples, one fixed seed.
    expected = vae.negative_elbo(run.weights, test, 2, 16, vae.EVALUATION_SEED)
    assert run.test_loss[-1] == pytest.approx(float(tf.reduce_mean(expected)), rel=1e-6)
    with pytest.raises(ValueError, match="^the exact ELBO and likelihood enumerates"):
        vae.exact_scores(vae.init_weights(vae.Architecture(latents=11, buckets=4)), test, 11)
    with pytest.raises(ValueError, match="^evaluate_every must be an integer >= 1"):
        vae.train("score_function", train, test, arch, steps=2, evaluate_every=0)


def test_log_likelihood_gives_one_value_per_image_over_several_chunks():
    weights = vae.init_weights(TINY)
    images = np.tile(np.array([[1, 0, 1, 1], [0, 1, 0, 0]]), (3, 1))  # 6 images, more than 4 pixels
    assert vae.log_likelihood(weights, images, 2, n_samples=5, chunk=4).shape == (6,)


def test_training_starts_at_the_pixel_averages_and_keeps_each_checkpoint():
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)
    run = vae.train("score_function", train, test, arch, steps=3, evaluate_every=2, seed=5)
    start = vae.init_weights(arch, 5, train.mean(axis=0))
    for name, value in start.items():
        np.testing.assert_array_equal(run.checkpoints[0][name], value)
    assert len(run.checkpoints) == len(run.steps) == 3  # steps 0, 2 and 3
    for name, value in run.weights.items():
        np.testing.assert_array_equal(run.checkpoints[-1][name], value)


def test_seconds_count_the_steps_and_step_seconds_leaves_the_first_out(monkeypatch):
    # A clock that advances one second per reading: each traced loop of steps between two
    # checkpoints (and the first step, alone: it may trace) then takes one second.
    ticks = iter(range(10**6))
    monkeypatch.setattr(vae.time, "perf_counter", lambda: float(next(ticks)))
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)
    run = vae.train("score_function", train, test, arch, steps=5, evaluate_every=2)
    assert list(run.steps) == [0, 2, 4, 5]
    assert list(run.seconds) == [0.0, 2.0, 3.0, 4.0]  # loops of steps 1, 2, 3-4 and 5
    assert run.step_seconds == 0.75  # (4 - 1) seconds over the 4 steps after the first


def test_annealing_lowers_tau_geometrically_from_its_start_to_anneal_to():
    # tau 2, 1, 0.5 over three steps: the steps of three one-step runs at those taus, each
    # resuming the last (the same minibatches, noise and Adam moments as one longer run).
    train, test = digits_subset()
    arch = vae.Architecture(latents=2, buckets=3, hidden=4)

    def run(steps, tau, **options):
        return vae.train("gumbel_softmax", train, test, arch, steps=steps, tau=tau, **options)

    annealed = run(3, 2.0, anneal_to=0.5)
    stepwise = run(1, 0.5, resume=run(1, 1.0, resume=run(1, 2.0)))
    for name, value in annealed.weights.items():
        np.testing.assert_allclose(stepwise.weights[name], value, rtol=1e-6, atol=1e-7)
    held = run(1, 2.0, resume=run(2, 2.0))  # tau held at its start: another run
    assert not np.allclose(held.weights["enc_w1"], annealed.weights["enc_w1"])


@pytest.mark.parametrize("call", ["train", "gradient_samples"])
def test_the_exact_oracle_is_refused_with_the_vaes_own_exact_gradient_named(call):
    # "exact" reads problem.exact; the decoder problem's -ELBO needs vae.exact_gradient.
    with pytest.raises(ValueError, match="oracle.*vae.exact_gradient"):
        if call == "train":
            vae.train("exact", IMAGES, IMAGES, TINY, steps=1)
        else:
            vae.gradient_samples("exact", tiny_weights(), IMAGES, TINY, 2)


def test_exact_scores_of_fewer_images_on_a_second_call_are_those_images_scores():
    weights = tiny_weights()
    all_three = vae.exact_scores(weights, IMAGES, TINY.latents)
    for count in (2, 1):  # another number of images: a retraced graph with unknown shapes
        fewer = vae.exact_scores(weights, IMAGES[:count], TINY.latents)
        for got, expected in zip(fewer, all_three, strict=True):
            np.testing.assert_allclose(got, expected[:count], rtol=1e-12)


def test_importance_bounds_are_the_elbo_at_one_sample_and_tighten_towards_log_p():
    # R independent estimates per image (the images repeated: every row draws its own s).
    # E[log p^_S] is the ELBO at S = 1, does not fall with S and stays below log p(x)
    # (Jensen; Burda et al. 2016). Each check is one-sided at 4 standard errors of a mean
    # of R = 4,000 estimates (normal approximation): a false failure has probability about
    # 3e-5 per image and check.
    weights, repeats = tiny_weights(), 4000
    neg_elbo, neg_log_p = vae.exact_scores(weights, IMAGES, TINY.latents)
    x = np.repeat(IMAGES, repeats, axis=0)
    sizes = (1, 3, 30)
    bounds = vae.importance_bounds(weights, x, TINY.latents, sizes, seed=6, chunk=3000)
    bounds = bounds.reshape(len(sizes), len(IMAGES), repeats)  # (S, image, replicate)
    mean, se = bounds.mean(-1), bounds.std(-1, ddof=1) / np.sqrt(repeats)
    assert np.all(np.abs(mean[0] + neg_elbo) < 4 * se[0])  # S = 1: the ELBO
    assert np.all(mean[1:] + neg_log_p < 4 * se[1:])  # below log p(x)
    # Tightening: at S = 30 the bound is clearly closer to log p(x) than the ELBO.
    assert np.all(mean[2] - mean[0] > 4 * np.hypot(se[2], se[0]))
    # Convergence: the mean at S = 30 within 4 s.e. plus twice the delta method's bias,
    # chi2(p(s | x) || q) / (2 S), of log p(x).
    _, log_q_joint, log_px = numpy_terms(weights, IMAGES)
    log_joint = log_px - TINY.latents * np.log(TINY.buckets)
    log_p = logsumexp(log_joint, axis=1)
    chi2 = np.exp(logsumexp(2 * log_joint - log_q_joint, axis=1) - 2 * log_p) - 1
    assert np.all(np.abs(mean[2] - log_p) < 4 * se[2] + chi2 / sizes[2])
    with pytest.raises(ValueError, match="samples"):
        vae.importance_bounds(weights, IMAGES, TINY.latents, (10, 0))


def test_refit_until_settled_stops_once_a_round_gains_less_than_the_tolerance():
    weights = tiny_weights()
    before = vae.exact_scores(weights, IMAGES, TINY.latents)[0].mean()
    refitted, steps = vae.refit_until_settled(weights, IMAGES, TINY, 5, 1e-3, 400, 0.05)
    after = vae.exact_scores(refitted, IMAGES, TINY.latents)[0].mean()
    assert steps % 5 == 0 and 5 <= steps < 400 and after < before
    assert all(np.array_equal(refitted[k], weights[k]) for k in weights if k.startswith("dec_"))

    # The rounds are deterministic, so capping `most` replays them: the last round gained
    # under 1e-3 nats and the one before it more (or it would have stopped there).
    def score_after(most):
        refit, _ = vae.refit_until_settled(weights, IMAGES, TINY, 5, 1e-3, most, 0.05)
        return vae.exact_scores(refit, IMAGES, TINY.latents)[0].mean()

    previous = [score_after(most) if most else before for most in (steps - 10, steps - 5)]
    assert previous[1] - after < 1e-3
    assert steps == 5 or previous[0] - previous[1] >= 1e-3
    with pytest.raises(ValueError, match="rounds"):
        vae.refit_until_settled(weights, IMAGES, TINY, rounds=0)


def test_last_fifth_change_compares_the_last_checkpoint_with_the_one_at_four_fifths():
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    steps = np.arange(0, 1100, 100)  # 4/5 of 1,000 steps: the checkpoint at step 800
    copies = [tiny_weights(seed) for seed in (3, 4, 5, 6)]  # (seeds 2, rates 1) per checkpoint
    stacked = [
        {k: np.stack([copies[i][k].numpy(), copies[j][k].numpy()])[:, None] for k in copies[0]}
        for i, j in ((0, 1), (2, 3))
    ]
    checkpoints = [stacked[0]] * 8 + [stacked[0], stacked[0], stacked[1]]  # index 8: step 800
    run = SimpleNamespace(steps=steps, test_loss=rng.random((2, 1, 11)), checkpoints=checkpoints)
    np.testing.assert_allclose(
        vae.last_fifth_change(run), run.test_loss[..., -1] - run.test_loss[..., 8]
    )
    nll = [vae.exact_scores(w, IMAGES, TINY.latents)[1].mean() for w in copies]
    got = vae.last_fifth_change(run, IMAGES, TINY.latents)
    np.testing.assert_allclose(got, [[nll[2] - nll[0]], [nll[3] - nll[1]]], rtol=1e-10)


def test_training_after_calls_with_other_shapes_gives_the_same_numbers():
    # TensorFlow relaxes a traced function's shapes after it meets several: the steps must
    # not need the pixel count as a static size, and must compute the same numbers.
    def losses(batch_size, pixels=4):
        arch = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=pixels)
        data = np.tile(IMAGES, (2, pixels // 4))
        run = vae.train("score_function", data, data, arch, steps=2, batch_size=batch_size)
        return run.test_loss

    first = losses(3)
    for batch_size, pixels in [(1, 8), (2, 4), (4, 12), (2, 8)]:
        losses(batch_size, pixels)
    np.testing.assert_array_equal(losses(3), first)
