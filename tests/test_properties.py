"""Property-based tests over sizes (latents too), seeds, temperatures and parameter scales."""

import warnings

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import INNER, finite_difference_gradient, numpy_params

# derandomize: the same examples on every run, so CI is reproducible.
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)

VARIANTS = [
    ("elementary", {}),
    ("gumbel_softmax", {}),
    ("gumbel_softmax", dict(straight_through=True)),
    ("score_function", {}),
    ("score_function", dict(baseline="optimal")),
    ("score_function", dict(baseline="loo")),
    ("score_function", dict(pathwise_z=False, baseline="constant", value=0.3)),
]


@st.composite
def models(draw, dtypes=("float64",)):
    dtype = draw(st.sampled_from(dtypes))
    dim = draw(st.integers(1, 6))
    buckets = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.floats(0.1, 3.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    latents = draw(st.integers(1, 3))
    model = h.make_model(dim, buckets, seed=seed, dtype=dtype, latents=latents)
    for name, variable in model.params.items():
        spread = scale * (0.5 if name in "CD" else 1.0)
        variable.assign(spread * rng.normal(size=variable.shape))
    return model


@st.composite
def estimator_calls(draw):
    estimator, options = draw(st.sampled_from(VARIANTS))
    if estimator == "gumbel_softmax":
        options = {**options, "tau": 10 ** draw(st.floats(-3, 1))}
    n_samples = draw(st.integers(2 if options.get("baseline") == "loo" else 1, 3))
    return estimator, n_samples, options


@pytest.mark.slow
@SETTINGS
@given(
    models(dtypes=("float32", "float64")),
    estimator_calls(),
    st.integers(1, 9),
    st.integers(0, 2**40),
)
def test_outputs_finite_with_documented_shapes(model, call, n_replicates, seed):
    estimator, n_samples, options = call
    grads = h.gradient_samples(model, estimator, n_replicates, n_samples, seed=seed, **options)
    assert list(grads) == list(model.params)
    for name, value in grads.items():
        assert value.shape == (n_replicates, *model.params[name].shape)
        assert np.all(np.isfinite(value))


@pytest.mark.slow
@SETTINGS
@given(models(), st.sampled_from(["square", "cos", "exp_half"]))
def test_exact_gradient_matches_finite_differences_or_warns(model, f_name):
    # The contract: accurate to 1e-6, or a QuadratureWarning says it is not (large
    # sigma for an f without closed form). f = square is closed form: never warns.
    f = {"square": h.square, "cos": tf.cos, "exp_half": lambda z: tf.exp(0.5 * z)}[f_name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grad = h.exact_gradient(model, f)
    warned = any(issubclass(w.category, h.exact.QuadratureWarning) for w in caught)
    assert not (warned and f_name == "square")
    if not warned:
        with np.errstate(over="ignore"):
            fd = finite_difference_gradient(numpy_params(model), model.x.numpy(), INNER[f_name])
        assert h.stats.relative_error(grad, fd) < 1e-6


@SETTINGS
@given(models(), estimator_calls(), st.integers(0, 2**40))
def test_same_seed_same_numbers_and_eager_equals_traced(model, call, seed):
    estimator, n_samples, options = call
    traced = h.gradient_samples(model, estimator, 4, n_samples, seed=seed, **options)
    again = h.gradient_samples(model, estimator, 4, n_samples, seed=seed, **options)
    tf.config.run_functions_eagerly(True)
    try:
        eager = h.gradient_samples(model, estimator, 4, n_samples, seed=seed, **options)
    finally:
        tf.config.run_functions_eagerly(False)
    for name in traced:
        np.testing.assert_array_equal(traced[name], again[name])
        np.testing.assert_allclose(eager[name], traced[name], rtol=1e-9, atol=1e-12)
