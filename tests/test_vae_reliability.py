"""The VAE's reliability: bad arguments get a clear ValueError, and the numbers hold at the
edges (likelihoods far below what exp() can hold, any chunk size)."""

import sys

from helpers import vae, vae_exact

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import log_softmax, logsumexp
from support import printed_by_a_fresh_process

TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)


def weights(dtype=tf.float64, seed=3):
    return vae.init_weights(TINY, seed=seed, dtype=dtype)


@pytest.mark.parametrize("name,value", [("learning_rate", 1e39), ("anneal_to", 1e-45)])
def test_training_refuses_numbers_float32_cannot_hold(name, value):
    # 1e39 overflows float32 and 1e-45 is below its smallest normal: both gave a NaN loss.
    message = f"^{name} must be a positive finite number representable in float32"
    with pytest.raises(ValueError, match=message):
        vae.train("gumbel_softmax", IMAGES, IMAGES, TINY, steps=2, tau=0.5, **{name: value})


def test_training_names_eval_samples_when_it_is_not_a_count():
    with pytest.raises(ValueError, match="^eval_samples must be an integer >= 1, got 0"):
        vae.train("score_function", IMAGES, IMAGES, TINY, steps=1, eval_samples=0)


SCORES = {
    "negative_elbo": lambda w, x, n: vae.negative_elbo(w, x, n),
    "log_likelihood": lambda w, x, n: vae.log_likelihood(w, x, n, n_samples=5),
    "exact_scores": lambda w, x, n: vae.exact_scores(w, x, n),
}


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("bad", [0.5, np.nan, 3.0])
def test_scores_refuse_images_that_are_not_zeros_and_ones(score, bad):
    images = IMAGES.copy()
    images[1, 2] = bad
    with pytest.raises(ValueError, match=r"^x must be binary \(0 or 1 in every pixel\)"):
        SCORES[score](weights(), images, TINY.latents)
    with pytest.raises(ValueError, match=r"^x must have shape \(N, 4\) with N >= 1, got \(3, 3\)"):
        SCORES[score](weights(), IMAGES[:, :3], TINY.latents)


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("latents", [4, 6])
def test_scores_refuse_latents_that_do_not_split_the_encoders_outputs(score, latents):
    # The weights hold n K = 6 encoder outputs: 4 latents do not divide them, and 6 would
    # leave one category each (the old numbers for 6 were silently those of a K = 1 model).
    message = f"^latents must divide the encoder's 6 outputs .* got {latents}$"
    with pytest.raises(ValueError, match=message):
        SCORES[score](weights(), IMAGES, latents)


def test_log_likelihood_is_the_same_whatever_the_chunk():
    # Each image draws from its own seed; the chunk only bounds memory.
    images = np.tile(IMAGES, (3, 1))  # 9 images: chunks that divide them and ones that do not
    whole = vae.log_likelihood(weights(), images, TINY.latents, n_samples=7, seed=4, chunk=50)
    for chunk in (1, 2, 4, 9):
        np.testing.assert_allclose(
            vae.log_likelihood(weights(), images, TINY.latents, n_samples=7, seed=4, chunk=chunk),
            whole,
            rtol=1e-14,
        )
    # Each image its own draws: the same image twice gets two different estimates.
    assert whole[0] != whole[3]


LIKELIHOOD_PEAKS = """
import helpers as h
import numpy as np
from helpers import vae

weights = vae.init_weights(vae.Architecture(latents=8, buckets=4, hidden=32), seed=0)
images = (np.random.default_rng(0).random((400, 64)) < 0.3).astype(np.float32)


def peak(count):  # from a level with what the allocator kept handed back
    h.memory.give_back()
    return h.memory.peak_bytes(lambda: vae.log_likelihood(weights, images[:count], 8, 1000))


peak(40)  # the first call's one-off costs
print(peak(40), peak(400))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peaks are measured on Linux")
def test_log_likelihood_memory_does_not_grow_with_the_images():
    # 400 images of 1,000 draws: 360 more than 40 would hold 360 x 1000 x 8 x 4 uniforms more
    # (44 MiB of float32) if the draws of all images were made at once. Drawn chunk by chunk,
    # the peak is a chunk's whatever the number of images.
    few, many = map(float, printed_by_a_fresh_process(LIKELIHOOD_PEAKS).split()[-2:])
    assert many - few < 360 * 1000 * 8 * 4 * 4


def far_below_exp(dtype, bias):
    """Weights whose q(s | x) puts all its mass on one code c* = (0, 2) (logit gap 40: any
    other code has probability below 1e-17 per draw), and whose decoder gives every pixel
    a logit near -bias: log p(x | s) of mostly-on images is far below exp's range."""
    w = {k: v.numpy() for k, v in weights(tf.float64).items()}
    w["enc_w2"] = np.zeros_like(w["enc_w2"])
    w["enc_b2"] = np.array([40.0, 0, 0, 0, 0, 40])  # latent 1 at category 0, latent 2 at 2
    w["dec_b2"] = np.full(TINY.pixels, -bias)
    model = {k: tf.constant(v, dtype) for k, v in w.items()}
    return model, {k: v.numpy().astype(np.float64) for k, v in model.items()}  # as rounded


def numpy_log_px(w, x, codes):
    """log p(x | c) (B, C) for one-hot codes (C, n K), from the decoder in NumPy."""
    pixel = np.tanh(codes @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]
    return x @ pixel.T - np.logaddexp(0, pixel).sum(axis=1)


@pytest.mark.parametrize("dtype,bias,rtol", [(tf.float64, 500.0, 1e-12), (tf.float32, 100.0, 1e-5)])
def test_log_likelihood_far_below_exps_range_is_finite_and_exact(dtype, bias, rtol):
    # log p(x | s) about -1,500 (float64: exp underflows below -745) or -300 (float32:
    # below -104). Every draw is c*, so the estimate is log of S equal weights
    # p(x | c*) p(c*) / q(c*): a log-sum-exp without its max shift gives -inf.
    model, w = far_below_exp(dtype, bias)
    x = np.array([[1, 1, 1, 1], [1, 1, 0, 1]], dtype=np.float64)
    star = np.concatenate([np.eye(3)[0], np.eye(3)[2]])[None]  # (1, n K)
    log_q = log_softmax(w["enc_b2"].reshape(2, 3), axis=-1)[[0, 1], [0, 2]].sum()
    term = numpy_log_px(w, x, star)[:, 0] - 2 * np.log(3) - log_q  # (B,)
    samples = 20
    expected = logsumexp(np.repeat(term[:, None], samples, axis=1), axis=1) - np.log(samples)
    assert np.all(expected < (-1000 if dtype == tf.float64 else -200))
    got = vae.log_likelihood(model, x, TINY.latents, n_samples=samples, seed=1).numpy()
    np.testing.assert_allclose(got, expected, rtol=rtol)
    # The exact -log p(x) over all 9 codes, against SciPy's log-sum-exp of the enumerated terms.
    codes = np.stack(
        [np.concatenate([np.eye(3)[a], np.eye(3)[b]]) for a in range(3) for b in range(3)]
    )
    exact = 2 * np.log(3) - logsumexp(numpy_log_px(w, x, codes), axis=1)
    np.testing.assert_allclose(vae.exact_scores(model, x, TINY.latents)[1], exact, rtol=1e-12)


def test_exact_gradient_of_one_latent_in_chunks_is_the_gradient_in_one_pass(monkeypatch):
    # One latent: its codes are its K categories, chunked like any others (this failed
    # with a shape error when K was more than a chunk).
    arch = vae.Architecture(latents=1, buckets=5, hidden=4, pixels=4)
    model = vae.init_weights(arch, seed=1, dtype=tf.float64)
    whole = vae.exact_gradient(model, IMAGES, arch, which="all")
    monkeypatch.setattr(vae_exact, "EXACT_CHUNK", 2)  # 5 codes in 3 chunks
    for name, value in vae.exact_gradient(model, IMAGES, arch, which="all").items():
        np.testing.assert_allclose(value, whole[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("latents,buckets", [(1, 5), (2, 3)])
def test_refit_with_its_codes_in_chunks_is_the_refit_in_one_pass(monkeypatch, latents, buckets):
    # refit_encoder decodes the codes a chunk at a time: 5 and 9 codes in chunks of 2.
    arch = vae.Architecture(latents=latents, buckets=buckets, hidden=4, pixels=4)
    model = vae.init_weights(arch, seed=1, dtype=tf.float64)
    whole = vae.refit_encoder(model, IMAGES, arch, steps=5)
    monkeypatch.setattr(vae_exact, "EXACT_CHUNK", 2)
    for name, value in vae.refit_encoder(model, IMAGES, arch, steps=5).items():
        np.testing.assert_allclose(value, whole[name], rtol=1e-12, atol=1e-15)


def test_scores_refuse_no_images_and_one_category():
    with pytest.raises(ValueError, match="N >= 1"):
        vae.negative_elbo(weights(), np.zeros((0, TINY.pixels)), TINY.latents)
    with pytest.raises(ValueError, match="K >= 2"):  # 2 x 3 outputs read as 6 latents of 1
        vae.negative_elbo(weights(), IMAGES, TINY.latents * TINY.buckets)
