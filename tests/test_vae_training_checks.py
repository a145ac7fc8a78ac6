"""The VAE's training arithmetic checked step by step, where a statistical test is blind.

An unbiasedness test cannot see a change that keeps the estimate's mean: a constant
shift of VIMCO's baselines, noise reused at every step, the optimiser's step count
stuck. These tests fix everything random (or use a configuration with nothing random)
and compare with a NumPy reference or with the exact gradient, to rounding:

- VIMCO's estimate for given draws is the published formula (baselines L^_{-j});
- every training step draws new noise;
- a decoder copy per replicate decodes its own replicate's images (IndeCateR with one
  latent is exact, for every replicate);
- refit_encoder, and training with the exact estimator on the full batch, are Adam
  along vae.exact_gradient, with the bias correction of each step.

All in float64: 1e-9 relative allows for sums over codes taken in another order.
"""

from helpers import vae
from helpers.adam import ADAM_BETAS, ADAM_EPSILON

import numpy as np
import tensorflow as tf

TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
IMAGES = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)
TOLERANCE = dict(rtol=1e-9, atol=1e-12)


def sharp_weights(arch, seed=3):
    """Fixed float64 weights with non-zero biases, sharp enough for q to be far from uniform."""
    weights = vae.init_weights(arch, seed=seed, dtype=tf.float64)
    rng = np.random.default_rng(seed)
    return {
        k: tf.constant(1.5 * v.numpy() + rng.normal(0, 0.5, v.shape)) for k, v in weights.items()
    }


def adam_reference(start, gradient, steps, rate):
    """`steps` steps of Adam in NumPy from the weights `start` along gradient(weights)."""
    (b1, b2), w = ADAM_BETAS, {k: np.array(v) for k, v in start.items()}
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v2 = {k: np.zeros_like(v) for k, v in w.items()}
    for t in range(1, steps + 1):
        g = gradient({k: tf.constant(v) for k, v in w.items()})
        for k in g:
            m[k] = b1 * m[k] + (1 - b1) * g[k]
            v2[k] = b2 * v2[k] + (1 - b2) * g[k] ** 2
            w[k] = w[k] - rate * (m[k] / (1 - b1**t)) / (
                np.sqrt(v2[k] / (1 - b2**t)) + ADAM_EPSILON
            )
    return w


def test_vimco_gradient_for_given_draws_is_the_papers_formula():
    # Uniforms that force the draws: u = 1 - 1e-9 on the chosen category gives a Gumbel of
    # about 20.7, u = 1e-6 on the others about -2.6, so s_j = codes[j] while the log
    # probabilities of a latent differ by less than that gap (checked below). The encoder's
    # gradient is then a function of the draws, with the decoder fixed:
    # -sum_j [(L^ - L^_{-j}) - w~_j] grad log q(s_j), L^_{-j} with k (not k - 1) in its 1/k.
    n, K, k = TINY.latents, TINY.buckets, 3
    weights = sharp_weights(TINY)
    codes = np.array([[[0, 2], [1, 1], [2, 0]], [[2, 2], [0, 1], [1, 0]], [[1, 2], [1, 2], [0, 0]]])
    u = np.where(np.eye(K)[codes] == 1, 1 - 1e-9, 1e-6)  # (B, k, n, K)
    x = tf.constant(IMAGES)
    logits = vae.encode(weights, x, n)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        problem = vae.DecoderProblem.from_weights(weights, n)
        noise = {"u": tf.constant(u), "eps": tf.zeros([len(IMAGES), k, 1])}
        surrogate = tf.reduce_sum(vae.vimco(problem, {"logits": logits, "x": x}, noise))
    got = tape.gradient(surrogate, logits).numpy()

    w = {name: v.numpy() for name, v in weights.items()}
    log_p = logits.numpy() - np.logaddexp.reduce(logits.numpy(), axis=-1, keepdims=True)
    assert np.ptp(log_p, axis=-1).max() < 20  # below the Gumbels' gap: the draws are codes
    expected = np.zeros_like(log_p)
    for b, image in enumerate(IMAGES):
        onehot = np.eye(K)[codes[b]]  # (k, n, K)
        log_q = (onehot * log_p[b]).sum((-2, -1))
        pixel = (
            np.tanh(onehot.reshape(k, -1) @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]
        )
        log_px = pixel @ image - np.logaddexp(0, pixel).sum(-1)
        log_w = log_px - n * np.log(K) - log_q
        bound = np.logaddexp.reduce(log_w) - np.log(k)
        normalised = np.exp(log_w - np.logaddexp.reduce(log_w))
        for j in range(k):
            others = np.delete(log_w, j)
            baseline = np.logaddexp.reduce(np.append(others, others.mean())) - np.log(k)
            expected[b] -= (bound - baseline - normalised[j]) * (onehot[j] - np.exp(log_p[b]))
    np.testing.assert_allclose(got, expected, **TOLERANCE)


def test_every_training_step_draws_new_noise():
    # One image, so every minibatch is the same, and a rate of 1e-9, so the weights barely
    # move. Adam's first step is -rate sign(g0). Were step 2's draws step 1's, then g1 = g0
    # up to the 1e-9 move and step 2 would repeat step 1 to about 1e-6 rate. Fresh draws
    # (8 latents of 4 categories, 2 samples: the same draws have chance 4**-16) give
    # another g1, and some coordinate's second step differs from its first by O(rate):
    # 0.1 rate lies far from both.
    rate = 1e-9
    image = np.zeros((1, 64))
    image[0, ::3] = 1
    run = vae.train(
        "score_function",
        image,
        image,
        n_samples=2,
        steps=2,
        batch_size=1,
        learning_rate=rate,
        evaluate_every=1,
        dtype=tf.float64,
        baseline="loo",
    )
    c = run.checkpoints
    change = max(
        np.max(np.abs((c[2][k] - c[1][k]) - (c[1][k] - c[0][k])))
        for k in c[0]
        if k.startswith("enc_")
    )
    assert change > 0.1 * rate


def test_with_one_latent_indecater_is_exact_for_every_replicate_and_weight():
    # IndeCateR enumerates each latent's categories; with one latent nothing is sampled, so
    # every replicate's estimate, the decoder's included (which="all": one decoder copy per
    # replicate), is vae.exact_gradient. R = 3 replicates of B = 3 images: a decoder copy
    # given rows of other replicates would get the gradient of one image, not of the mean.
    arch = vae.Architecture(latents=1, buckets=3, hidden=4, pixels=4)
    weights = sharp_weights(arch)
    grads = vae.gradient_samples("indecater", weights, IMAGES, arch, 3, which="all")
    for name, value in vae.exact_gradient(weights, IMAGES, arch, "all").items():
        expected = np.broadcast_to(value, grads[name].shape)
        np.testing.assert_allclose(grads[name], expected, **TOLERANCE, err_msg=name)


def test_refit_is_adam_along_the_exact_gradient_for_several_steps():
    # Several steps: Adam's first step is the same whatever the step count in its bias
    # correction; the later ones are not.
    weights = sharp_weights(TINY)
    refit = vae.refit_encoder(weights, IMAGES, TINY, steps=4, learning_rate=3e-2)
    decoder = {k: v for k, v in weights.items() if k.startswith("dec_")}
    expected = adam_reference(
        {k: v for k, v in weights.items() if k.startswith("enc_")},
        lambda encoder: vae.exact_gradient({**decoder, **encoder}, IMAGES, TINY),
        steps=4,
        rate=3e-2,
    )
    for name, value in expected.items():
        np.testing.assert_allclose(refit[name], value, **TOLERANCE, err_msg=name)


def test_training_with_the_exact_estimator_on_the_full_batch_is_adam_on_the_exact_elbo():
    # "elementary" enumerates the codes: with every image in each minibatch, a training
    # step is Adam along vae.exact_gradient(which="all"), nothing random.
    images = np.vstack([IMAGES, [0, 1, 1, 1]])
    run = vae.train(
        "elementary",
        images,
        images,
        TINY,
        steps=3,
        batch_size=4,
        learning_rate=1e-2,
        evaluate_every=1,
        dtype=tf.float64,
    )
    expected = adam_reference(
        run.checkpoints[0], lambda w: vae.exact_gradient(w, images, TINY, "all"), 3, 1e-2
    )
    for name, value in expected.items():
        np.testing.assert_allclose(run.weights[name], value, **TOLERANCE, err_msg=name)
