"""VIMCO for the categorical VAE: the multi-sample score-function estimator of the
importance-weighted bound L_k (Mnih & Rezende 2016), against an exact enumeration."""

import itertools

from helpers import vae

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import logsumexp
from support import assert_unbiased

IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)


def sharp_weights(arch, seed=3):
    """float64 weights with non-zero biases, sharp enough for q to be far from uniform and
    p(x | s) to differ between codes: the importance weights then differ too."""
    weights = vae.init_weights(arch, seed=seed, dtype=tf.float64)
    rng = np.random.default_rng(seed)
    return {
        k: tf.constant(1.5 * v.numpy() + rng.normal(0, 0.5, v.shape)) for k, v in weights.items()
    }


def network(x, w, part):
    return tf.tanh(x @ w[f"{part}_w1"] + w[f"{part}_b1"]) @ w[f"{part}_w2"] + w[f"{part}_b2"]


def exact_bound(w, x, arch, k):
    """L_k per image (B,), written out: the sum over all (K**n)**k joint draws (c_1..c_k)
    of prod_j q(c_j | x) times log (1/k) sum_j p(x, c_j) / q(c_j | x), p(c) = K**-n."""
    n, K = arch.latents, arch.buckets
    log_q = tf.nn.log_softmax(tf.reshape(network(x, w, "enc"), [len(x), n, K]))  # (B, n, K)
    codes = list(itertools.product(range(K), repeat=n))
    one_hot = tf.constant(np.stack([np.eye(K)[list(c)] for c in codes]))  # (C, n, K)
    log_q_codes = tf.einsum("bnk,cnk->bc", log_q, one_hot)
    pixel = network(tf.reshape(one_hot, [len(codes), n * K]), w, "dec")  # (C, D)
    log_px = x @ tf.transpose(pixel) - tf.reduce_sum(tf.nn.softplus(pixel), 1)  # (B, C)
    log_w = log_px - n * np.log(K) - log_q_codes  # (B, C): log p(x, c) / q(c | x)
    joint = np.array(list(itertools.product(range(len(codes)), repeat=k)))  # (J, k)
    log_w_joint = tf.gather(log_w, joint, axis=1)  # (B, J, k)
    log_q_joint = tf.reduce_sum(tf.gather(log_q_codes, joint, axis=1), -1)  # (B, J)
    estimate = tf.reduce_logsumexp(log_w_joint, -1) - np.log(k)
    return tf.reduce_sum(tf.exp(log_q_joint) * estimate, -1)


def exact_gradient_of_the_bound(weights, x, arch, k):
    """The gradient of the mean -L_k over the images, every weight, by autodiff of the sum."""
    w = {name: tf.Variable(value) for name, value in weights.items()}
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(exact_bound(w, tf.constant(x), arch, k))
    return {name: g.numpy() for name, g in tape.gradient(loss, w).items()}


CASES = [  # (latents, buckets, k): (K**n)**k = 9, 27 and 64 joint draws
    (1, 3, 2),
    (1, 3, 3),
    (2, 2, 3),
]


@pytest.mark.parametrize("latents,buckets,k", CASES, ids=str)
def test_vimco_is_an_unbiased_estimate_of_the_importance_weighted_bounds_gradient(
    latents, buckets, k
):
    # Each coordinate's mean over 20,000 replicates is ~normal (CLT); Bonferroni over all
    # coordinates of both networks keeps the chance that an unbiased estimator fails below
    # support.ALPHA = 1e-3 (bound 4.34-4.37 standard errors for these 71-80 coordinates).
    arch = vae.Architecture(latents=latents, buckets=buckets, hidden=4, pixels=4)
    weights = sharp_weights(arch)
    grads = vae.gradient_samples(
        "vimco", weights, IMAGES, arch, 20_000, n_samples=k, seed=5, which="all"
    )
    assert set(grads) == set(weights)
    assert_unbiased(grads, exact_gradient_of_the_bound(weights, IMAGES, arch, k))


def test_the_encoder_alone_gets_the_same_estimates():
    arch = vae.Architecture(latents=1, buckets=3, hidden=4, pixels=4)
    weights = sharp_weights(arch)
    args = ("vimco", weights, IMAGES, arch, 50, 3, 7)
    alone = vae.gradient_samples(*args)
    together = vae.gradient_samples(*args, which="all")
    assert set(alone) == {name for name in weights if name.startswith("enc_")}
    for name, value in alone.items():
        np.testing.assert_allclose(together[name], value, rtol=1e-10, atol=1e-12)


def numpy_negative_log_px(weights, x, arch):
    """-log p(x) = -log sum_c K**-n p(x | c), every code c by itertools, in NumPy."""
    w = {k: v.numpy() for k, v in weights.items()}
    n, K = arch.latents, arch.buckets
    codes = np.stack([np.eye(K)[list(c)].ravel() for c in itertools.product(range(K), repeat=n)])
    pixel = np.tanh(codes @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]
    log_px = x @ pixel.T - np.logaddexp(0, pixel).sum(axis=1)  # (B, C)
    return n * np.log(K) - logsumexp(log_px, axis=1)


@pytest.mark.parametrize("latents,buckets", [(1, 3), (2, 2)])
def test_the_exact_likelihood_and_the_bounds_between_it_and_the_elbo(latents, buckets):
    # exact_scores' -log p(x) is the objective VIMCO and the ELBO estimators both aim at:
    # -log p(x) <= -L_k <= -L_1 = -ELBO, L_k rising with k (Burda et al. 2016, Theorem 1).
    arch = vae.Architecture(latents=latents, buckets=buckets, hidden=4, pixels=4)
    weights = sharp_weights(arch)
    neg_elbo, neg_log_px = vae.exact_scores(weights, IMAGES, latents)
    np.testing.assert_allclose(neg_log_px, numpy_negative_log_px(weights, IMAGES, arch), 1e-12)
    x = tf.constant(IMAGES)
    bounds = [-exact_bound(weights, x, arch, k).numpy() for k in (1, 2, 3)]
    np.testing.assert_allclose(bounds[0], neg_elbo, rtol=1e-12)  # the reference's k = 1
    assert np.all(neg_log_px <= bounds[2]) and np.all(bounds[2] <= bounds[1])
    assert np.all(bounds[1] <= bounds[0]) and np.all(neg_log_px < neg_elbo)


def test_one_sample_options_and_a_misspelt_name_are_refused():
    # VIMCO's baseline for sample j averages the other samples' log weights: k >= 2.
    arch = vae.Architecture(latents=1, buckets=3, hidden=4, pixels=4)
    message = "vimco.*n_samples >= 2, got n_samples=1"
    with pytest.raises(ValueError, match=message):
        vae.gradient_samples("vimco", sharp_weights(arch), IMAGES, arch, 5, n_samples=1)
    with pytest.raises(ValueError, match=message):
        vae.train("vimco", IMAGES, IMAGES, arch, steps=1)
    with pytest.raises(ValueError, match="no option 'baseline'"):
        vae.train("vimco", IMAGES, IMAGES, arch, n_samples=2, steps=1, baseline="loo")
    with pytest.raises(ValueError, match="^unknown estimator 'vimko'.*for the VAE also 'vimco'"):
        vae.train("vimko", IMAGES, IMAGES, arch, n_samples=2, steps=1)


def test_training_with_vimco_lowers_the_held_out_elbo_and_likelihood():
    train, test = vae.load_digits(seed=0)
    train, test = train[:200], test[:40]
    arch = vae.Architecture(latents=3, buckets=3, hidden=8)
    run = vae.train("vimco", train, test, arch, 4, 30, 20, seed=1, evaluate_every=10)
    assert list(run.steps) == [0, 10, 20, 30] and run.decoder_evaluations == 4
    assert run.test_loss[-1] < run.test_loss[0]
    before, after = (
        vae.exact_scores(w, test, 3)[1].mean() for w in (run.checkpoints[0], run.weights)
    )
    assert after < before
