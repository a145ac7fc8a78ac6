"""Training many copies of the VAE at once (vae.train_copies), the validation split, and
refitting a trained encoder with the exact gradient (vae.refit_encoder)."""

import helpers as h
from helpers import vae
from helpers.adam import adam, zero_moments

import numpy as np
import pytest
import tensorflow as tf

ARCH = vae.Architecture(latents=2, buckets=3, hidden=4)
TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 1]], dtype=np.float64)
SEEDS, RATES = (0, 1), (1e-2, 3e-3)
# A copy and its run alone compute the same layers with batched matrix products (one
# matrix per copy) instead of single ones, which may sum in another order: float32
# rounding, about 6e-8 of each value. IndeCateR's estimate is a difference of nearly equal
# decoder outputs, which makes that a larger share of a gradient coordinate; Adam's step
# (at most the rate, 1e-2, per coordinate) carries the share into the weights. Seen: up
# to 4e-7 after five steps, weights about 0.1 in size; allowed: 2e-6 absolute, 1e-5
# relative. A copy given another copy's noise, images or rate differs by about a step, 1e-3.
RTOL, ATOL = 1e-5, 2e-6


def digits_subset():
    train, test = vae.load_digits()
    return train[:60], test[:20]


CASES = [  # (estimator, n_samples, options): a sample of the families, vimco and annealing
    ("score_function", 3, {"baseline": "loo"}),
    ("gumbel_softmax", 1, {"tau": 2.0, "straight_through": True}),
    ("indecater", 1, {}),
    ("vimco", 3, {}),
    ("elementary", 1, {}),
]


@pytest.mark.parametrize(("estimator", "n_samples", "options"), CASES)
def test_each_copy_takes_the_steps_of_its_seed_and_rate_trained_alone(
    estimator, n_samples, options
):
    train, test = digits_subset()
    anneal = {"anneal_to": 0.5} if "tau" in options else {}
    sizes = dict(n_samples=n_samples, steps=5, batch_size=8, evaluate_every=1, **anneal)
    copies = vae.train_copies(
        estimator, train, test, ARCH, seeds=SEEDS, learning_rates=RATES, **sizes, **options
    )
    assert copies.test_loss.shape == (2, 2, 6)
    assert copies.weights["enc_w1"].shape == (2, 2, 64, 4)
    for s, r in [(0, 0), (1, 1), (1, 0)]:
        alone = vae.train(
            estimator, train, test, ARCH, learning_rate=RATES[r], seed=SEEDS[s], **sizes, **options
        )
        for step in (1, 5):
            for name, value in alone.checkpoints[step].items():
                got = copies.checkpoints[step][name][s, r]
                np.testing.assert_allclose(got, value, rtol=RTOL, atol=ATOL, err_msg=name)
        np.testing.assert_allclose(copies.test_loss[s, r], alone.test_loss, rtol=RTOL)
    assert copies.decoder_evaluations == alone.decoder_evaluations


@pytest.mark.parametrize(
    ("estimator", "options"),
    [
        ("rebar", {}),
        ("relax", {"state": h.relax_state(4, scale=0.5)}),
        ("gumbel_rao", {"n_gumbel": 3}),
        ("sum_and_sample", {}),
    ],
)
def test_the_one_latent_estimators_train_as_copies_too(estimator, options):
    # Their noise has extra draws (conditional Gumbels, integer categories) and RELAX a
    # state of arrays: each copy still gets its own seed's, as trained alone.
    train, test = digits_subset()
    arch = vae.Architecture(latents=1, buckets=4, hidden=4)
    sizes = dict(n_samples=2, steps=5, batch_size=8, evaluate_every=5, **options)
    copies = vae.train_copies(
        estimator, train, test, arch, seeds=SEEDS, learning_rates=RATES, **sizes
    )
    alone = vae.train(estimator, train, test, arch, learning_rate=RATES[1], seed=SEEDS[1], **sizes)
    for name, value in alone.weights.items():
        np.testing.assert_allclose(copies.weights[name][1, 1], value, rtol=RTOL, atol=ATOL)


def test_copies_do_not_interact():
    # Seed 0's copy is the same trained beside seeds 1 and 2 as alone: no shared noise,
    # images, moments or loss. The batched products of one and of three copies may round
    # differently (seen: 8e-9); a leak would move the weights by about a step, 1e-3.
    train, test = digits_subset()
    sizes = dict(n_samples=2, steps=6, batch_size=8, evaluate_every=3, baseline="loo")
    alone = vae.train_copies("score_function", train, test, ARCH, seeds=(0,), **sizes)
    beside = vae.train_copies("score_function", train, test, ARCH, seeds=(0, 1, 2), **sizes)
    for name, value in alone.weights.items():
        np.testing.assert_allclose(beside.weights[name][:1], value, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(beside.test_loss[:1], alone.test_loss, rtol=1e-6)
    assert not np.allclose(beside.test_loss[1], beside.test_loss[0])  # other seeds, other runs


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"seeds": ()}, r"^seeds must be one value or a non-empty flat sequence of them, got \[\]"),
        ({"learning_rates": []}, "^learning_rates must be one value or a non-empty flat sequence"),
        ({"learning_rates": (1e-2, 0.0)}, "^learning_rates must be"),
        ({"learning_rates": (1e-2, float("nan"))}, "^learning_rates must be"),
        ({"seeds": (0, -1)}, r"^seeds must be an integer >= 0, got -1"),
        ({"seeds": (0, 1.5)}, r"^seeds must be an integer >= 0"),
        ({"steps": 0}, "^steps must be an integer >= 1"),
        ({"anneal_to": 0.5}, "^anneal_to needs an estimator with a temperature tau"),
    ],
)
def test_bad_grids_are_refused_with_the_argument_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        vae.train_copies("score_function", IMAGES, IMAGES, TINY, **arguments)


def test_a_copy_that_diverges_leaves_the_others_alone():
    train, test = digits_subset()
    sizes = dict(steps=4, batch_size=8, evaluate_every=2, seeds=(0,))
    copies = vae.train_copies(
        "gumbel_softmax", train, test, ARCH, learning_rates=(1e-2, 1e30), **sizes
    )
    alone = vae.train_copies("gumbel_softmax", train, test, ARCH, learning_rates=(1e-2,), **sizes)
    assert not copies.test_loss[0, 1, -1] < 1e6  # enormous, or inf or nan (train raises then)
    np.testing.assert_allclose(copies.test_loss[0, :1], alone.test_loss[0], rtol=1e-6)


def test_validation_split_holds_out_a_seeded_random_subset():
    train, _ = digits_subset()
    fit, validation = vae.validation_split(train, 15, seed=3)
    assert fit.shape == (45, 64) and validation.shape == (15, 64)
    rows = {tuple(row) for row in train}
    assert {tuple(row) for row in np.concatenate([fit, validation])} == rows
    again, _ = vae.validation_split(train, 15, seed=3)
    np.testing.assert_array_equal(again, fit)
    other, _ = vae.validation_split(train, 15, seed=4)
    assert not np.array_equal(other, fit)
    with pytest.raises(ValueError, match="^n_validation must be below the 60 training images"):
        vae.validation_split(train, 60)
    with pytest.raises(ValueError, match="^n_validation must be an integer >= 1"):
        vae.validation_split(train, 0)


def test_refitting_the_encoder_lowers_the_exact_elbo_and_keeps_the_decoder():
    weights = vae.init_weights(TINY, seed=2, dtype=tf.float64)
    before, _ = vae.exact_scores(weights, IMAGES, TINY.latents)
    refit = vae.refit_encoder(weights, IMAGES, TINY, steps=200, learning_rate=3e-2)
    after, _ = vae.exact_scores(refit, IMAGES, TINY.latents)
    assert after.mean() < before.mean() - 0.05  # a clear gain, not rounding
    for name, value in weights.items():
        if name.startswith("dec_"):
            np.testing.assert_array_equal(refit[name], value)
    # Its first step is Adam's step along vae.exact_gradient, the enumerated gradient.
    one = vae.refit_encoder(weights, IMAGES, TINY, steps=1, learning_rate=3e-2)
    encoder = {k: v for k, v in weights.items() if k.startswith("enc_")}
    grads = vae.exact_gradient(weights, IMAGES, TINY, which="encoder")
    rate = tf.constant(3e-2, tf.float64)  # a Python float would reach adam as float32
    expected, _ = adam(encoder, grads, zero_moments(encoder), 0, rate)
    for name, value in expected.items():
        np.testing.assert_allclose(one[name], value, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="^steps must be an integer >= 1"):
        vae.refit_encoder(weights, IMAGES, TINY, steps=0)
    with pytest.raises(ValueError, match="weights lacks"):
        vae.refit_encoder({"enc_w1": weights["enc_w1"]}, IMAGES, TINY)
