"""The VAE refuses weights of another architecture, and training stops at a non-finite loss;
a per-estimate size refusal says what the values are and which knobs lower them."""

import helpers as h
from helpers import vae

import numpy as np
import pytest
import tensorflow as tf

ARCH = vae.Architecture(latents=3, buckets=3, hidden=8, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)
WRONG = {
    "fewer buckets": vae.Architecture(3, 2, 8, 4),  # n K = 6, not 9: the encoder's outputs
    "more hidden units": vae.Architecture(3, 3, 9, 4),
}
CALLS = {
    "exact_gradient": lambda w, arch: vae.exact_gradient(w, IMAGES, arch),
    "exact_encoder_gradient": lambda w, arch: vae.exact_encoder_gradient(w, IMAGES, arch),
    "gradient_samples": lambda w, arch: vae.gradient_samples("score_function", w, IMAGES, arch, 2),
    "encoder_gradient_samples": lambda w, arch: vae.encoder_gradient_samples(
        "score_function", w, IMAGES, arch, 2
    ),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("wrong", WRONG)
def test_weights_of_another_architecture_are_refused(call, wrong):
    # Before, exact_gradient summed 2**3 of the 27 codes and gradient_samples checked its
    # options against K = 2 while drawing K = 3: wrong numbers, no error.
    weights = vae.init_weights(ARCH, dtype=tf.float64)
    arch = WRONG[wrong]
    with pytest.raises(ValueError, match=r"^weights\['\w+'\] has shape \(\d+(, \d+)?\), but "):
        CALLS[call](weights, arch)
    try:
        CALLS[call](weights, arch)
    except ValueError as error:
        assert repr(arch) in str(error)
    CALLS[call](weights, ARCH)  # the right architecture still runs


def test_weights_missing_a_name_are_refused():
    weights = vae.init_weights(ARCH, dtype=tf.float64)
    del weights["dec_b1"]
    with pytest.raises(ValueError, match=r"^weights lacks 'dec_b1'"):
        vae.exact_gradient(weights, IMAGES, ARCH)


def test_training_stops_at_a_non_finite_held_out_loss():
    # learning_rate=3e38 fits float32, so the range check passes; Adam's first step moves
    # every weight by about 3e38 and the held-out -ELBO overflows. Before: NaN, no error.
    with pytest.raises(
        ValueError, match=r"non-finite \(nan\) .* after step 1 of 3: use a smaller learning_rate"
    ):
        vae.train(
            "score_function", IMAGES, IMAGES, ARCH, steps=3, evaluate_every=1, learning_rate=3e38
        )


def test_a_per_estimate_refusal_names_the_values_and_the_knobs():
    # K = 1e5 and top = 1000 with two samples: the cost is top's one-hots, not the samples.
    model = h.make_model(1, 100_000, seed=0)
    with pytest.raises(ValueError, match="needs 100,200,000 noise values and one-hots") as error:
        h.gradient_samples(model, "sum_and_sample", 1, n_samples=2, top=1000)
    assert "smaller top" in str(error.value)
