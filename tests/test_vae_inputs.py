"""What the VAE's training refuses, and how it says so: each message names what was wrong
and what to do instead."""

import helpers as h
from helpers import vae

import pytest
import tensorflow as tf

ARCH = vae.Architecture(latents=2, buckets=3, hidden=4)


def digits_subset():
    train, test = vae.load_digits()
    return train[:40], test[:10]


def test_a_grid_of_rates_or_seeds_must_be_flat_and_without_repeats():
    train, test = digits_subset()
    sizes = dict(n_samples=2, steps=2, batch_size=4)
    with pytest.raises(
        ValueError, match="learning_rates must be one value or a non-empty flat sequence"
    ):
        vae.train_copies("score_function", train, test, ARCH, learning_rates=[[1e-3], [1e-2]],
                         **sizes)  # fmt: skip
    with pytest.raises(ValueError, match=r"seeds has repeated values \[0\]"):
        vae.train_copies("score_function", train, test, ARCH, seeds=(0, 1, 0), **sizes)
    with pytest.raises(ValueError, match=r"learning_rates has repeated values \[0.01\]"):
        vae.train_copies("score_function", train, test, ARCH, learning_rates=(1e-2, 1e-2),
                         **sizes)  # fmt: skip


def test_anneal_to_with_relax_says_its_tau_is_part_of_its_state():
    train, test = digits_subset()
    state = h.relax_state(ARCH.buckets, latents=ARCH.latents)
    with pytest.raises(ValueError, match="RELAX's tau is part of its state"):
        vae.train("relax", train, test, ARCH, 2, steps=2, anneal_to=0.3, state=state)


def test_weights_of_many_copies_are_told_to_pick_one():
    # train_copies' weights lead with (seeds, rates). The scores would take that axis for
    # the images': log_likelihood silently averaged the wrong numbers when chunk equalled
    # n_samples. Only negative_elbo, which train_copies evaluates with, takes them.
    train, test = digits_subset()
    run = vae.train_copies("score_function", train, test, ARCH, 2, steps=1, batch_size=4,
                           seeds=(0, 1), evaluate_every=1)  # fmt: skip
    pick = r"train_copies' weights: pick one, \{k: v\[s, l\] for k, v in run.weights.items\(\)\}"
    for score in (
        lambda w: vae.refit_encoder(w, test, ARCH, steps=1),
        lambda w: vae.log_likelihood(w, test[:4], ARCH.latents, n_samples=4, chunk=4),
        lambda w: vae.log_likelihood(w, test[:4], ARCH.latents, n_samples=5, chunk=4),
        lambda w: vae.exact_scores(w, test[:4], ARCH.latents),
    ):
        with pytest.raises(ValueError, match=pick):
            score(run.weights)
        score({k: v[1, 0] for k, v in run.weights.items()})  # the message's recipe runs
    assert vae.negative_elbo(run.weights, test[:4], ARCH.latents).shape == (2, 1, 4)


def test_weights_of_mixed_dtypes_are_refused():
    weights = vae.init_weights(ARCH)
    weights["enc_w1"] = tf.cast(weights["enc_w1"], tf.float64)
    with pytest.raises(ValueError, match=r"weights\['enc_w1'\] is float64.*float32"):
        vae.gradient_samples("score_function", weights, digits_subset()[1][:2], ARCH, 3)


def test_vimco_asked_of_a_model_points_to_the_vae():
    with pytest.raises(ValueError, match="'vimco' is the VAE's estimator.*h.vae.train"):
        h.gradient_samples(h.make_model(), "vimco", 3)


def test_validation_split_needs_a_set_of_images():
    train, _ = digits_subset()
    with pytest.raises(ValueError, match=r"train_x must be images \(N, pixels\)"):
        vae.validation_split(train[0], 3)
