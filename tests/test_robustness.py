"""Legal extremes give finite gradients and an accurate exact gradient."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from reference import INNER, finite_difference_gradient, numpy_params

VARIANTS = [
    ("elementary", 1, {}),
    ("gumbel_softmax", 2, dict(tau=1e-3)),
    ("gumbel_softmax", 2, dict(tau=1e-3, straight_through=True)),
    ("score_function", 2, dict(baseline="none")),
    ("score_function", 2, dict(baseline="optimal")),
    ("score_function", 2, dict(baseline="loo")),
    ("score_function", 2, dict(baseline="loo", pathwise_z=False)),
    ("score_function", 2, dict(baseline="optimal", pathwise_z=False)),
]


def extreme(name, dtype):
    """A model at one legal extreme: logits +-40, sigma ~ 1e-9 or ~ 3e6, K = 2 or 1000,
    or several latents (three at logits +-40, twelve of two categories)."""
    buckets = {"two categories": 2, "a thousand categories": 1000, "twelve latents": 2}
    latents = {"three latents at logits +-40": 3, "twelve latents": 12}.get(name, 1)
    model = h.make_model(3, buckets.get(name, 5), seed=5, dtype=dtype, latents=latents)
    if name == "logits +-40":
        model.params["logits"].assign(np.array([40.0, -40.0, 0.0, 40.0, -40.0]))
    elif name == "three latents at logits +-40":
        model.params["logits"].assign(np.array([[40.0, -40.0, 0.0, 40.0, -40.0]] * 3))
    elif name == "tiny sigma":
        model.params["D"].assign(-20.0)
    elif name == "huge sigma":
        model.params["D"].assign(15.0)
    return model


EXTREMES = [
    "logits +-40",
    "tiny sigma",
    "huge sigma",
    "two categories",
    "a thousand categories",
    "three latents at logits +-40",
    "twelve latents",
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", EXTREMES)
def test_every_estimator_is_finite(name, dtype):
    model = extreme(name, dtype)
    for estimator, n, options in VARIANTS:
        grads = h.gradient_samples(model, estimator, 64, n, seed=1, **options)
        for param, value in grads.items():
            assert np.all(np.isfinite(value)), (estimator, options, param)


@pytest.mark.parametrize(
    "name,f_name",
    [(name, "square") for name in EXTREMES[:4] + EXTREMES[5:]]
    + [(name, "cos") for name in EXTREMES[:4] + EXTREMES[5:] if name != "huge sigma"],
)
def test_exact_gradient_stays_accurate(name, f_name):
    model = extreme(name, "float64")
    f = {"square": h.square, "cos": tf.cos}[f_name]
    grad = h.exact_gradient(model, f)
    fd = finite_difference_gradient(numpy_params(model), model.x.numpy(), INNER[f_name])
    assert h.stats.relative_error(grad, fd) < 1e-6


@pytest.mark.parametrize("name", EXTREMES)
def test_float32_exact_gradient_close_to_float64(name):
    g32 = h.exact_gradient(extreme(name, "float32"))
    g64 = h.exact_gradient(extreme(name, "float64"))
    assert all(np.all(np.isfinite(v)) for v in g32.values())
    assert h.stats.relative_error(g32, g64) < 1e-4


def test_quadrature_warns_at_huge_sigma_for_an_oscillating_f():
    # E cos(mu + sigma eps) = cos(mu) exp(-sigma^2 / 2) is 0 here; 64 nodes cannot
    # resolve cos over +-10 sigma = +-3e7, and the warning says so.
    with pytest.warns(h.exact.QuadratureWarning):
        h.exact_gradient(extreme("huge sigma", "float64"), tf.cos)


def test_quadrature_warns_where_it_stops_being_accurate():
    model = h.make_model(dim=2, buckets=3, seed=1)
    with pytest.warns(
        h.exact.QuadratureWarning,
        match="kink or jump, or vary on a scale much smaller than sigma; the exact loss "
        "and gradient are then approximate$",
    ):
        h.exact_gradient(model, tf.abs)  # a kink at 0
    model.params["D"].assign(1.0)  # sigma ~ 3: cos(10 z) oscillates far faster
    with pytest.warns(h.exact.QuadratureWarning):
        h.exact_loss(model, lambda z: tf.cos(10 * z))


def test_quadrature_warns_with_several_latents_too():
    model = h.make_model(dim=2, buckets=3, seed=1, latents=2)
    with pytest.warns(h.exact.QuadratureWarning):
        h.exact_loss(model, tf.abs)  # a kink at 0: 64 nodes and the finer rule disagree


def test_smooth_f_gives_no_quadrature_warning(recwarn):
    model = h.make_model(dim=2, buckets=3, seed=1)
    h.exact_gradient(model, lambda z: tf.cos(z) + z**3)
    assert not [w for w in recwarn if issubclass(w.category, h.exact.QuadratureWarning)]


def test_pure_score_function_stays_unbiased_at_a_tiny_sigma_in_float32():
    # sigma ~ 1e-9: z = mu + sigma eps rounds to mu in float32, so a score built from
    # (z - mu) / sigma would be 0; the one built from eps keeps D's gradient unbiased.
    model = h.make_model(dim=3, buckets=4, seed=5, dtype="float32")
    model.params["D"].assign(np.log(1e-9))
    grads = h.gradient_samples(model, "score_function", 20_000, 2, seed=3, pathwise_z=False)
    exact = h.exact_gradient(model)
    worst, bound = h.stats.unbiasedness({"D": grads["D"]}, {"D": exact["D"]})
    assert worst < bound


def test_rules_that_agree_exactly_do_not_warn_even_with_no_tolerance(monkeypatch, recwarn):
    # The warning is for rules that disagree by more than the tolerance: f = 0 gives a
    # loss of exactly 0 with both, so not even a tolerance of 0 makes it warn.
    monkeypatch.setitem(h.exact.QUADRATURE_TOLERANCE, "float64", 0.0)
    h.exact_loss(h.make_model(dim=2, buckets=3, seed=1), lambda z: 0.0 * z)
    assert not [w for w in recwarn if issubclass(w.category, h.exact.QuadratureWarning)]
