"""RELAX in the VAE's training: its control variate psi is learned beside the weights."""

import helpers as h
from helpers import vae

import numpy as np
import pytest
import tensorflow as tf

ALPHA = 1e-3  # family-wise level of the Bonferroni test over all coordinates
SMALL = vae.Architecture(latents=3, buckets=3, hidden=16)
TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
RTOL, ATOL = 1e-5, 2e-6  # float32 copies as batched products against one run (test_vae_batched)


def digits_subset(n_train=40):
    train, test = vae.load_digits()
    return train[:n_train], test[:16]


def test_relax_is_trainable_in_the_vae_without_a_state():
    # The notebook lists the estimators that handle n = 8 by this call: RELAX among them.
    arch = vae.Architecture()
    estimator, options = vae.checked_estimator("relax", arch, 10, tf.float32, {})
    assert estimator.name == "relax" and set(options) == {"state"}
    train, test = digits_subset()
    run = vae.train("relax", train, test, SMALL, 2, steps=2, batch_size=4, evaluate_every=2)
    assert np.isfinite(run.test_loss).all()
    assert set(run.state) == set(h.relax_state(3, latents=3)) and run.state["eta"].shape == ()
    assert vae.train("rebar", train, test, SMALL, 2, steps=2, evaluate_every=2).state is None


def test_psi_is_learned_and_each_copy_learns_its_own():
    train, test = digits_subset()
    start = h.relax_state(SMALL.buckets, tau=0.5, eta=0.8, latents=SMALL.latents)
    run = vae.train_copies("relax", train, test, SMALL, 2, steps=10, batch_size=8,
                           seeds=(0, 1), learning_rates=(3e-3, 1e-2), state=start)  # fmt: skip
    for name, value in run.state.items():
        assert value.shape == (2, 2, *np.shape(start[name]))
        flat = value.reshape(4, -1)
        assert np.all(np.abs(flat - np.ravel(start[name])).max(axis=1) > 1e-4), name
        assert all(not np.allclose(flat[i], flat[j]) for i in range(4) for j in range(i)), name


def test_copies_learn_the_same_psi_as_one_run_each():
    train, test = digits_subset()
    sizes = dict(n_samples=2, steps=6, batch_size=8, evaluate_every=3, state_learning_rate=3e-2)
    seeds, rates = (0, 1), (1e-2, 3e-3)
    copies = vae.train_copies("relax", train, test, SMALL, seeds=seeds, learning_rates=rates,
                              **sizes)  # fmt: skip
    for s, r in ((0, 0), (1, 1)):  # two of the four copies (each run alone takes seconds)
        alone = vae.train("relax", train, test, SMALL, learning_rate=rates[r], seed=seeds[s],
                          **sizes)  # fmt: skip
        for name, value in alone.weights.items():
            got = copies.weights[name][s, r]
            np.testing.assert_allclose(got, value, rtol=RTOL, atol=ATOL, err_msg=name)
        for name, value in alone.state.items():
            got = copies.state[name][s, r]
            np.testing.assert_allclose(got, value, rtol=RTOL, atol=ATOL, err_msg=name)
        np.testing.assert_allclose(copies.test_loss[s, r], alone.test_loss, rtol=RTOL)


def test_the_learned_psi_lowers_the_encoder_gradients_variance():
    # E g is the same for every psi (RELAX is unbiased), so E|g|^2 differs between two
    # psi by exactly the difference of their total variances. With common noise (one
    # seed) d_r = |g_r(initial)|^2 - |g_r(learned)|^2 are independent across the 400
    # replicates, and their mean is ~normal: an unbiased learner that did not lower the
    # variance would exceed 5 standard errors with probability 3e-7. Seen: E|g|^2 halved,
    # z ~ 19.
    train, test = digits_subset(500)
    run = vae.train("relax", train, test, SMALL, 2, steps=300, evaluate_every=300, seed=1)
    initial = h.relax_state(SMALL.buckets, latents=SMALL.latents)

    def squared_norms(state):
        grads = vae.gradient_samples("relax", run.weights, test, SMALL, 400, seed=7, state=state)
        return sum(np.sum(np.reshape(v, (400, -1)) ** 2, axis=1) for v in grads.values())

    before, after = squared_norms(initial), squared_norms(run.state)
    drop = before - after
    assert drop.mean() > 5 * drop.std() / np.sqrt(len(drop))
    assert after.mean() < 0.8 * before.mean()  # clearly lower, not just detectably


def test_relax_with_a_learned_psi_is_unbiased():
    # Bonferroni over every coordinate of both networks: if the estimator is unbiased,
    # the worst |z| over 20,000 replicates exceeds the bound with probability at most ALPHA.
    rng = np.random.default_rng(0)
    images = (rng.random((60, TINY.pixels)) < 0.5).astype(np.float64)
    # Started with r_rho in use (w2 != 0: from zero, w2 stays near it on this tiny model).
    start = h.relax_state(TINY.buckets, latents=TINY.latents, scale=0.5, seed=1)
    run = vae.train("relax", images, images[:8], TINY, 2, steps=100, batch_size=8,
                    dtype=tf.float64, evaluate_every=100, state=start)  # fmt: skip
    assert np.abs(run.state["w2"]).max() > 0.1
    assert np.abs(run.state["w2"] - start["w2"]).max() > 0.05  # learned, not the start
    weights = run.weights
    grads = vae.gradient_samples("relax", weights, images[:3], TINY, 20_000, seed=5,
                                 which="all", state=run.state)  # fmt: skip
    exact = vae.exact_gradient(weights, images[:3], TINY, "all")
    worst, bound = h.stats.unbiasedness(grads, exact, ALPHA)
    assert worst < bound


@pytest.mark.parametrize("rate", [0.0, -1e-3, np.nan, np.inf])
def test_state_learning_rate_must_be_positive_and_finite(rate):
    train, test = digits_subset()
    with pytest.raises(ValueError, match="state_learning_rate"):
        vae.train("relax", train, test, SMALL, 2, steps=2, state_learning_rate=rate)


def test_state_learning_rate_is_refused_for_an_estimator_without_a_learned_control():
    train, test = digits_subset()
    with pytest.raises(ValueError, match="state_learning_rate.*'rebar' learns none"):
        vae.train("rebar", train, test, SMALL, 2, steps=2, state_learning_rate=1e-2)
    with pytest.raises(ValueError, match="state_learning_rate.*'vimco' learns none"):
        vae.train_copies("vimco", train, test, SMALL, 2, steps=2, state_learning_rate=1e-2)


def test_anneal_to_with_relax_says_its_tau_is_part_of_its_state():
    train, test = digits_subset()
    with pytest.raises(ValueError, match="RELAX's tau is part of its state"):
        vae.train("relax", train, test, SMALL, 2, steps=2, anneal_to=0.3)


@pytest.mark.parametrize("at_step", [0, 5])
def test_one_pass_gives_the_two_pass_gradients_of_the_weights_and_psi(at_step):
    # One decoder pass per step (3 N evaluations per image) must give what the RELAX
    # surrogate's gradient and, on the same draws, variance_step's gradient in psi give:
    # the same sums in another order, so equal up to float64 rounding (1e-10). At step 5
    # from non-zero moments too: Adam's bias correction depends on the step, so a step
    # counter stuck at 0 (or off by one) moves psi by far more than the rounding.
    from helpers.adam import adam
    from helpers.estimators.control_variates import variance_step
    from helpers.vae_relax import one_pass, per_row

    copies, images, draws, dtype = 2, 3, 4, tf.float64
    x = tf.constant(np.random.default_rng(0).integers(0, 2, (copies, images, 4)), dtype)
    weights = [vae.init_weights(TINY, seed, dtype=dtype) for seed in range(copies)]
    weights = {k: tf.stack([w[k] for w in weights]) for k in weights[0]}
    psi = [h.relax_state(3, tau=0.5 + c, eta=0.8, scale=0.3, seed=c, latents=2) for c in range(2)]
    psi = {k: tf.constant(np.stack([p[k] for p in psi]), dtype) for k in psi[0]}
    estimator, _ = vae.checked_estimator("relax", TINY, draws, dtype, {})
    problem = vae.DecoderProblem.from_weights(weights, TINY.latents)
    noise = estimator.noise(problem, tf.constant([3, 4]), copies * images, draws, 3)
    step, rate = tf.constant(at_step, tf.int64), tf.constant(1e-2, dtype)
    rng = np.random.default_rng(1)
    moments = tuple(  # Adam's moments on entering the step: zero at step 0
        {k: tf.constant(scale * rng.random(v.shape) * (at_step > 0), dtype) for k, v in psi.items()}
        for scale in (1e-2, 1e-4)
    )

    def loss_and_params(loss):  # sum over the copies of their mean over the images
        logits = vae.encode(weights, x, TINY.latents)
        params = {"logits": tf.reshape(logits, [-1, 2, 3]), "x": tf.reshape(x, [-1, 4])}
        return tf.reduce_sum(tf.reduce_mean(tf.reshape(loss(params), [copies, -1]), 1)), params

    with tf.GradientTape() as tape:
        tape.watch(weights)
        options = {"state": per_row(psi, images)}
        surrogate = lambda p: vae.surrogate_loss(estimator, problem, p, noise, options)  # noqa: E731
        expected, params = loss_and_params(surrogate)
    expected = tape.gradient(expected, weights)
    rows = variance_step(problem, params, noise, per_row(psi, images), ("logits",))[2]
    psi_grads = {k: tf.reduce_sum(tf.reshape(g, [copies, images, -1]), 1) for k, g in rows.items()}
    psi_grads = {k: tf.reshape(g, psi[k].shape) for k, g in psi_grads.items()}
    expected_psi, expected_moments = adam(psi, psi_grads, moments, step, rate)

    with tf.GradientTape() as tape:
        tape.watch(weights)
        kl, params = loss_and_params(lambda p: vae.kl_to_uniform(p["logits"]))
    control = {"psi": psi, "moments": moments, "rate": rate}
    grads, control = one_pass(tape, kl, weights, problem, params, noise, control, step)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    pairs = (control["psi"], expected_psi), *zip(control["moments"], expected_moments, strict=True)
    for got, want in pairs:  # psi after Adam's step, and Adam's moments
        for name, value in want.items():
            np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-12, err_msg=name)
    assert np.abs(psi_grads["w2"]).max() > 1e-3  # psi's gradient is not trivially zero

    train, test = digits_subset()
    run = vae.train("relax", train, test, SMALL, draws, steps=1, batch_size=4, evaluate_every=1)
    assert run.decoder_evaluations == 3 * draws  # as REBAR's: one decoder pass per step


@pytest.mark.parametrize("rate", [3e-2, 1e-3])
def test_psi_first_step_moves_each_coordinate_by_the_state_learning_rate(rate):
    # Adam's first step is rate * g / (|g| + 1e-8) per coordinate: never more than the
    # rate, and the rate to 1e-4 relative wherever |g| > 1e-4 (seen: all but 2 of 90
    # coordinates to 1e-6, the other two to 4e-6). A psi learned at another rate (the
    # default 1e-2, or the weights' 3e-3) moves by that rate instead: a factor 3 at least.
    train, test = digits_subset()
    start = h.relax_state(SMALL.buckets, latents=SMALL.latents, scale=0.5, seed=1)
    run = vae.train(
        "relax",
        train,
        test,
        SMALL,
        2,
        steps=1,
        batch_size=8,
        evaluate_every=1,
        dtype=tf.float64,
        state=start,
        state_learning_rate=rate,
    )
    moved = np.concatenate([np.ravel(run.state[k] - start[k]) for k in start])
    moved = np.abs(moved[np.abs(moved) > 1e-9 * rate])  # coordinates with a gradient
    assert moved.size > 10
    assert moved.max() <= rate * (1 + 1e-9)
    np.testing.assert_allclose(np.median(moved), rate, rtol=1e-4)


def test_learned_state_is_seeds_by_learning_rates_when_they_differ_in_number():
    # With S = 2 seeds and L = 3 rates, state[s, l] is copy s L + l: what train with seed s
    # and rate l learns, to float32 batching rounding (RTOL, ATOL); shape (S, L, ...). A
    # transposed or mis-split grid gives another copy's psi, a step apart (~1e-2).
    train, test = digits_subset()
    sizes = dict(n_samples=2, steps=3, batch_size=8, evaluate_every=3, state_learning_rate=3e-2)
    seeds, rates = (0, 1), (1e-2, 3e-3, 1e-3)
    copies = vae.train_copies(
        "relax", train, test, SMALL, seeds=seeds, learning_rates=rates, **sizes
    )
    for name, value in copies.state.items():
        assert value.shape[:2] == (2, 3), name
    alone = vae.train("relax", train, test, SMALL, learning_rate=rates[0], seed=seeds[1], **sizes)
    for name, value in alone.state.items():
        np.testing.assert_allclose(copies.state[name][1, 0], value, rtol=RTOL, atol=ATOL)
