"""The exact loss and gradient against an independent numpy implementation."""

import sys

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from reference import INNER, loss, numpy_params, quadrature_inner
from support import F, assert_exact_gradient_matches_finite_differences, randomize

SIZES = [(1, 2), (3, 4), (10, 5), (4, 32)]


@pytest.mark.parametrize("dim,buckets", SIZES)
@pytest.mark.parametrize("f_name", sorted(F))
def test_exact_loss_matches_numpy(dim, buckets, f_name):
    model = randomize(h.make_model(dim, buckets, seed=dim), seed=buckets)
    expected = loss(numpy_params(model), model.x.numpy(), INNER[f_name])
    assert float(h.exact_loss(model, F[f_name])) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dim,buckets", SIZES)
@pytest.mark.parametrize("f_name", sorted(F))
def test_exact_gradient_matches_finite_differences(dim, buckets, f_name):
    model = randomize(h.make_model(dim, buckets, seed=dim + 1), seed=buckets + 1)
    assert_exact_gradient_matches_finite_differences(model, f_name)


def test_quadrature_for_f_without_closed_form():
    def g(z):
        return np.tanh(z) + 0.1 * z**3

    model = randomize(h.make_model(2, 3, seed=5), seed=6)
    expected = loss(numpy_params(model), model.x.numpy(), quadrature_inner(g))
    f = lambda z: tf.tanh(z) + 0.1 * z**3  # noqa: E731
    assert float(h.exact_loss(model, f)) == pytest.approx(expected, rel=1e-9)


def test_closed_form_and_quadrature_agree_for_square():
    model = h.make_model(seed=3)
    quadrature = h.exact_loss(model, lambda z: z * z)  # not h.square: takes the quadrature path
    assert float(quadrature) == pytest.approx(float(h.exact_loss(model)), rel=1e-13)


def test_float32_model_close_to_float64():
    m64 = h.make_model(seed=4)
    m32 = h.make_model(seed=4, dtype="float32")
    g64, g32 = h.exact_gradient(m64), h.exact_gradient(m32)
    assert g32["A"].dtype == np.float32
    assert h.stats.relative_error(g32, g64) < 1e-5


@pytest.mark.parametrize("f", [h.square, tf.cos], ids=["square", "cos"])
def test_one_latent_summed_in_chunks_agrees_with_one_pass(monkeypatch, f):
    # The chunk size only bounds memory: 3 categories per chunk give the one-pass numbers.
    model = randomize(h.make_model(4, 7, seed=3), seed=8)
    loss, grads = h.exact_loss(model, f), h.exact_gradient(model, f)
    monkeypatch.setattr(h.model_math, "ONE_LATENT_CHUNK_VALUES", 3 * (1 if f is h.square else 64))
    h.release_traces()
    np.testing.assert_allclose(h.exact_loss(model, f), loss, rtol=1e-13)
    for name, value in h.exact_gradient(model, f).items():
        np.testing.assert_allclose(value, grads[name], rtol=1e-12, atol=1e-15)
    h.release_traces()  # no trace with the tiny chunk outlives the test


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory: Linux only")
def test_the_exact_gradient_at_the_limit_of_categories_fits_in_memory():
    # K = 2**20 with quadrature: 64 nodes per category would take 512 MiB per tensor in one
    # pass (2.1 GiB at the peak); in chunks, one at a time, the peak is about 300 MiB.
    # Chunks run in parallel (TensorFlow's default of 10 loop iterations) peak at 400-850.
    model = h.make_model(2, 2**20, seed=0)
    peak = h.memory.peak_bytes(lambda: h.exact_gradient(model, tf.cos))
    assert peak < 512 * 2**20
