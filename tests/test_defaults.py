"""Documented defaults: a call that leaves an argument out equals the call that passes its
default (the seed above all: notebooks and readers rely on seed 0 being the default)."""

import helpers as h
from helpers import vae
from helpers.estimators.control_variates import HIDDEN

import numpy as np
import pytest


def model():
    """Made in the test, not at import: no TensorFlow work while tests are collected."""
    return h.make_model(dim=2, buckets=3)


TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=np.float64)


def values(result):
    """Every array in a result (a tensor, an array, a dict or tuple of them, a model)."""
    if isinstance(result, dict):
        return [v for k in sorted(result) for v in values(result[k])]
    if isinstance(result, tuple | list):
        return [v for item in result for v in values(item)]
    if isinstance(result, h.Model):
        return values(result.values())
    return [np.asarray(result)]


def _what_train_computes(run):
    return run.steps, run.test_loss, run.weights, run.decoder_evaluations, run.checkpoints


CALLS = {  # name -> (the call with defaults, the same call with them passed)
    "make_model": (lambda: h.make_model(), lambda: h.make_model(10, 5, seed=0)),
    "sample": (lambda: h.sample(model(), 4), lambda: h.sample(model(), 4, seed=0)),
    "gradient_samples": (
        lambda: h.gradient_samples(model(), "score_function", 4),
        lambda: h.gradient_samples(model(), "score_function", 4, n_samples=1, seed=0),
    ),
    "constant baseline": (
        lambda: h.gradient_samples(model(), "score_function", 4, baseline="constant"),
        lambda: h.gradient_samples(model(), "score_function", 4, baseline="constant", value=0.0),
    ),
    "problem_gradient_samples": (
        lambda: h.problem_gradient_samples(
            model().problem(), model().values(), "score_function", 4
        ),
        lambda: h.problem_gradient_samples(
            model().problem(), model().values(), "score_function", 4, n_samples=1, seed=0
        ),
    ),
    "noise_for": (
        lambda: h.noise_for(model(), "elementary", 4),
        lambda: h.noise_for(model(), "elementary", 4, n_samples=1, seed=0),
    ),
    "relax temperature": (
        lambda: h.gradient_samples(model(), "relax", 4),
        lambda: h.gradient_samples(model(), "relax", 4, tau=1.0, eta=1.0),
    ),
    "relax_gradients": (
        lambda: h.relax_gradients(model(), 4),
        lambda: h.relax_gradients(model(), 4, n_samples=1, seed=0),
    ),
    "relax_state": (
        lambda: h.relax_state(3, scale=0.5),
        lambda: h.relax_state(3, tau=1.0, eta=1.0, scale=0.5, seed=0),
    ),
    "optimise": (
        lambda: h.optimise(model(), "score_function", n_runs=2)["loss"],
        lambda: h.optimise(
            model(), "score_function", 200, learning_rate=0.05, n_samples=1, n_runs=2, seed=0
        )["loss"],
    ),
    "optimise n_runs": (
        lambda: h.optimise(model(), "exact", steps=2)["loss"],
        lambda: h.optimise(model(), "exact", steps=2, n_runs=5)["loss"],
    ),
    "optimise_problem": (
        lambda: h.optimise_problem(model().problem(), model().values(), "score_function", 3)[
            "loss"
        ],
        lambda: h.optimise_problem(
            model().problem(), model().values(), "score_function", 3, 0.05, 1, 5, seed=0
        )["loss"],
    ),
    "make_model latents and dtype": (
        lambda: h.make_model(2, 3),
        lambda: h.make_model(2, 3, latents=1, dtype="float64"),
    ),
    "gumbel_softmax options": (
        lambda: h.gradient_samples(model(), "gumbel_softmax", 4),
        lambda: h.gradient_samples(model(), "gumbel_softmax", 4, tau=1.0, straight_through=False),
    ),
    "score_function options": (
        lambda: h.gradient_samples(model(), "score_function", 4),
        lambda: h.gradient_samples(model(), "score_function", 4, baseline="none", pathwise_z=True),
    ),
    "sum_and_sample options": (
        lambda: h.gradient_samples(model(), "sum_and_sample", 4),
        lambda: h.gradient_samples(model(), "sum_and_sample", 4, top=1, baseline="none"),
    ),
    "rebar options": (
        lambda: h.gradient_samples(model(), "rebar", 4),
        lambda: h.gradient_samples(model(), "rebar", 4, tau=1.0, eta=1.0),
    ),
    "gumbel_rao options": (
        lambda: h.gradient_samples(model(), "gumbel_rao", 4),
        lambda: h.gradient_samples(model(), "gumbel_rao", 4, tau=1.0, n_gumbel=1),
    ),
    "relax_state hidden": (
        lambda: h.relax_state(3, scale=0.5),
        lambda: h.relax_state(3, hidden=HIDDEN, scale=0.5),
    ),
    "load_digits": (lambda: vae.load_digits(), lambda: vae.load_digits(seed=0)),
    "init_weights": (lambda: vae.init_weights(TINY), lambda: vae.init_weights(TINY, seed=0)),
    "negative_elbo": (
        lambda: vae.negative_elbo(vae.init_weights(TINY), IMAGES, 2),
        lambda: vae.negative_elbo(vae.init_weights(TINY), IMAGES, 2, n_samples=16, seed=0),
    ),
    "log_likelihood": (
        lambda: vae.log_likelihood(vae.init_weights(TINY), np.tile(IMAGES, (26, 1)), 2),
        lambda: vae.log_likelihood(
            vae.init_weights(TINY), np.tile(IMAGES, (26, 1)), 2, n_samples=1000, seed=0, chunk=20
        ),
    ),
    "vae.gradient_samples": (
        lambda: vae.gradient_samples("score_function", vae.init_weights(TINY), IMAGES, TINY, 3),
        lambda: vae.gradient_samples(
            "score_function", vae.init_weights(TINY), IMAGES, TINY, 3, 1, 0, "encoder"
        ),
    ),
    "vae.train": (  # all but its clock readings, which differ run to run
        lambda: _what_train_computes(vae.train("score_function", IMAGES, IMAGES, TINY)),
        lambda: _what_train_computes(
            vae.train(
                "score_function",
                IMAGES,
                IMAGES,
                TINY,
                n_samples=1,
                steps=150,
                batch_size=32,
                learning_rate=3e-3,
                seed=0,
                evaluate_every=25,
                eval_samples=16,
                dtype="float32",
            )
        ),
    ),
}


@pytest.mark.parametrize("name", CALLS)
def test_leaving_an_argument_out_is_passing_its_documented_default(name):
    implicit, explicit = (values(call()) for call in CALLS[name])
    assert len(implicit) == len(explicit)
    for got, expected in zip(implicit, explicit, strict=True):
        np.testing.assert_array_equal(got, expected)
