"""Every checked argument of the public functions, one value past its bound.

Each call must be refused with a message that starts with the argument's own name
and states the bound: the reader sees which of their arguments was wrong and
what is allowed. (Models are built inside the tests, never at import.)
"""

import helpers as h
from helpers import vae

import numpy as np
import pytest
import tensorflow as tf


def model(dtype="float64", **sizes):
    return h.make_model(dim=2, buckets=3, dtype=dtype, **sizes)


def f32():
    return model("float32")


ARCH = dict(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 1, 0, 0]])


def train(**options):
    arch = vae.Architecture(**ARCH)
    return vae.train(options.pop("estimator", "elementary"), IMAGES, IMAGES, arch, **options)


def weights():
    return vae.init_weights(vae.Architecture(**ARCH))


def integer(name, minimum, got):
    return rf"^{name} must be an integer >= {minimum}, got {got}$"


def in_float32(name):
    return rf"^{name} must be a (positive )?finite number representable in float32 \("


CASES = {
    # The model and its draws.
    "make_model dim": (lambda: h.make_model(dim=0), integer("dim", 1, 0)),
    "make_model buckets": (lambda: h.make_model(buckets=1), integer("buckets", 2, 1)),
    "make_model latents": (lambda: h.make_model(latents=0), integer("latents", 1, 0)),
    "make_model seed": (lambda: h.make_model(seed=-1), integer("seed", 0, -1)),
    "sample n": (lambda: h.sample(model(), 0), integer("n", 1, 0)),
    "sample seed": (
        lambda: h.sample(model(), 2, seed=2**63),
        r"^seed must be below 2\*\*63, got 9223372036854775808$",
    ),
    # The estimators' options, in the model's dtype.
    "gumbel_softmax straight_through": (
        lambda: h.gradient_samples(model(), "gumbel_softmax", 3, straight_through="yes"),
        r"^straight_through must be True or False, got 'yes'$",
    ),
    "gumbel_softmax tau": (
        lambda: h.gradient_samples(f32(), "gumbel_softmax", 3, tau=1e-39),
        in_float32("tau"),
    ),
    "score_function pathwise_z": (
        lambda: h.gradient_samples(model(), "score_function", 3, pathwise_z=1),
        r"^pathwise_z must be True or False, got 1$",
    ),
    "score_function value": (
        lambda: h.gradient_samples(f32(), "score_function", 3, baseline="constant", value=1e39),
        in_float32("value"),
    ),
    "sum_and_sample top": (
        lambda: h.gradient_samples(model(), "sum_and_sample", 3, top=-1),
        integer("top", 0, -1),
    ),
    "rebar tau": (lambda: h.gradient_samples(f32(), "rebar", 3, tau=1e39), in_float32("tau")),
    "rebar eta": (lambda: h.gradient_samples(f32(), "rebar", 3, eta=-1e39), in_float32("eta")),
    "gumbel_rao tau": (
        lambda: h.gradient_samples(f32(), "gumbel_rao", 3, tau=1e-39),
        in_float32("tau"),
    ),
    "gumbel_rao n_gumbel": (
        lambda: h.gradient_samples(model(), "gumbel_rao", 3, n_gumbel=0),
        integer("n_gumbel", 1, 0),
    ),
    # Optimisation.
    "optimise steps": (
        lambda: h.optimise(model(), "score_function", steps=0),
        integer("steps", 1, 0),
    ),
    "optimise n_samples": (
        lambda: h.optimise(model(), "score_function", n_samples=0),
        integer("n_samples", 1, 0),
    ),
    "optimise n_runs": (
        lambda: h.optimise(model(), "score_function", n_runs=0),
        integer("n_runs", 1, 0),
    ),
    "optimise learning_rate": (
        lambda: h.optimise(f32(), "score_function", learning_rate=1e-39),
        in_float32("learning_rate"),
    ),
    "optimise moving_average": (
        lambda: h.optimise(model(), "score_function", moving_average=0.0),
        r"^moving_average must be a decay in \(0, 1\), got 0.0$",
    ),
    "optimise state_learning_rate": (
        lambda: h.optimise(model(), "relax", state_learning_rate=-1.0),
        r"^state_learning_rate must be a positive finite number representable in float64",
    ),
    # RELAX's state and its gradients.
    "relax_state buckets": (lambda: h.relax_state(1), integer("buckets", 2, 1)),
    "relax_state hidden": (lambda: h.relax_state(3, hidden=0), integer("hidden", 1, 0)),
    "relax_state tau": (
        lambda: h.relax_state(3, tau=0.0),
        r"^tau must be a positive finite number, got 0.0$",
    ),
    "relax_state eta": (
        lambda: h.relax_state(3, eta=np.nan),
        r"^eta must be a finite number, got nan$",
    ),
    "relax_state scale": (
        lambda: h.relax_state(3, scale=np.inf),
        r"^scale must be a finite number, got inf$",
    ),
    "relax_state seed": (lambda: h.relax_state(3, seed=-1), integer("seed", 0, -1)),
    # The VAE.
    "load_digits held_out": (lambda: vae.load_digits(held_out=0), integer("held_out", 1, 0)),
    "load_digits seed": (lambda: vae.load_digits(seed=-1), integer("seed", 0, -1)),
    "init_weights seed": (
        lambda: vae.init_weights(vae.Architecture(**ARCH), seed=-1),
        integer("seed", 0, -1),
    ),
    "train steps": (lambda: train(steps=0), integer("steps", 1, 0)),
    "train batch_size": (lambda: train(batch_size=0), integer("batch_size", 1, 0)),
    "train evaluate_every": (lambda: train(evaluate_every=0), integer("evaluate_every", 1, 0)),
    "train n_samples": (lambda: train(n_samples=0), integer("n_samples", 1, 0)),
    "train learning_rate": (
        lambda: train(learning_rate=0.0),
        in_float32("learning_rate"),  # the training dtype's range
    ),
    "train tau": (
        lambda: train(estimator="gumbel_softmax", tau=1e39),  # the VAE trains in float32
        in_float32("tau"),
    ),
    "train baseline": (
        lambda: train(estimator="score_function", baseline="optimal"),
        r"^baseline='optimal' needs the exact optimal constant of every image, K\*\*n decoder "
        r"passes each; the VAE offers none: use baseline='loo'$",
    ),
    "train anneal_to": (
        lambda: train(estimator="gumbel_softmax", anneal_to=0.0),
        in_float32("anneal_to"),
    ),
}

# The VAE's architecture: each size one below the lowest it allows.
CASES |= {
    f"Architecture {name}": (
        lambda name=name, low=low: vae.Architecture(**{**ARCH, name: low - 1}),
        integer(name, low, low - 1),
    )
    for name, low in (("latents", 1), ("buckets", 2), ("hidden", 1), ("pixels", 1))
}

# Replicate and sample counts: each call with n_replicates = r and n_samples = n.
COUNTS = {
    "gradient_samples": lambda r, n: h.gradient_samples(model(), "elementary", r, n_samples=n),
    "problem_gradient_samples": lambda r, n: h.problem_gradient_samples(
        model().problem(), model().values(), "elementary", r, n_samples=n
    ),
    "noise_for": lambda r, n: h.noise_for(model(), "elementary", r, n_samples=n),
    "relax_gradients": lambda r, n: h.relax_gradients(model(), r, n_samples=n),
    "vae.gradient_samples": lambda r, n: vae.gradient_samples(
        "elementary", weights(), IMAGES, vae.Architecture(**ARCH), r, n_samples=n
    ),
}
CASES |= {
    f"{label} {name}": (lambda call=call, r=r, n=n: call(r, n), integer(name, 1, 0))
    for label, call in COUNTS.items()
    for name, r, n in (("n_replicates", 0, 1), ("n_samples", 3, 0))
}

# The VAE's scores of images: each integer argument one below the lowest it allows.
SCORE_INTEGERS = [
    (vae.negative_elbo, "n_samples", 1),
    (vae.negative_elbo, "seed", 0),
    (vae.log_likelihood, "n_samples", 1),
    (vae.log_likelihood, "chunk", 1),
    (vae.log_likelihood, "seed", 0),
    (vae.exact_scores, "chunk", 1),
]
CASES |= {
    f"{score.__name__} {name}": (
        lambda score=score, name=name, low=low: score(weights(), IMAGES, 2, **{name: low - 1}),
        integer(name, low, low - 1),
    )
    for score, name, low in SCORE_INTEGERS
}


@pytest.mark.parametrize("case", CASES)
def test_the_message_names_the_argument_and_its_bound(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_the_bounds_themselves_are_allowed():
    h.sample(model(), 2, seed=2**63 - 1)  # the largest int64 seed
    h.make_model(dim=1, buckets=2, latents=1, seed=0)
    h.relax_state(2, hidden=1, seed=0)


def test_a_seed_is_the_int64_pair_the_stateless_ops_take():
    for value in (0, 3, 2**63 - 1):
        seed = h.checks.seed(value)
        assert seed.dtype == tf.int64 and seed.numpy().tolist() == [value, 0]
