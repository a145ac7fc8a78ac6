"""The categorical VAE's exact gradient (all K**n codes, in chunks) and the refit of an
encoder down it, the decoder frozen: notebook 10's amortisation check (h.vae.X)."""

from . import checks, vae_model
from ._tf import tf
from .adam import adam, zero_moments
from .problem import check_enumerable
from .vae_gradients import _prefixes, checked_weights
from .vae_model import _batched

__all__ = ["exact_encoder_gradient", "exact_gradient", "refit_encoder"]

# Codes per pass of the exact gradient: its memory is bounded by a chunk, not K**n.
EXACT_CHUNK = 2**13


def exact_gradient(weights, x, arch, which="encoder"):
    """The gradient of the exact mean -ELBO over x with respect to the encoder's weights
    (which="encoder") or all weights (which="all"), in float64 whatever the weights' dtype:
    a float32 sum over K**n codes would lose the digits a bias test at many replicates needs."""
    prefixes = _prefixes(which)
    weights = {k: tf.cast(v, tf.float64) for k, v in checked_weights(weights, arch).items()}
    x = tf.constant(vae_model.images(x, arch.pixels), dtype=tf.float64)
    wanted = {k: v for k, v in weights.items() if k.startswith(prefixes)}
    total = {k: 0.0 for k in wanted}
    codes = arch.buckets**arch.latents
    for start in range(0, codes, EXACT_CHUNK):  # the gradient of a sum: chunk by chunk
        with tf.GradientTape() as tape:
            tape.watch(wanted)
            problem, params = _batched({**weights, **wanted}, x, arch.latents)
            loss = vae_model.reconstruction(problem, params, start, min(EXACT_CHUNK, codes - start))
            if start == 0:
                loss += vae_model.kl_to_uniform(params["logits"])
            loss = tf.reduce_mean(loss)
        for k, g in tape.gradient(loss, wanted).items():
            total[k] += g.numpy()
    return total


def exact_encoder_gradient(weights, x, arch):
    """exact_gradient of the encoder's weights."""
    return exact_gradient(weights, x, arch)


def refit_encoder(weights, x, arch, steps=100, learning_rate=1e-2):
    """The weights with the encoder refitted to the images x by `steps` full-batch Adam steps
    down the exact mean -ELBO, the decoder frozen: the -ELBO it removes is what training
    left in the encoder (the estimator's noise, the amortisation) rather than the decoder.
    log p(x | c) of every image and code is computed once (memory a few B K**n floats). It
    stops after `steps`, converged or not: before reading a gap off it, refit the result
    once more and check that the -ELBO no longer falls."""
    weights = checked_weights(weights, arch)
    steps = checks.integer(steps, "steps", 1)
    dtype = weights["dec_w1"].dtype
    rate = tf.constant(checks.positive_finite(learning_rate, "learning_rate", dtype), dtype)
    x = tf.constant(vae_model.images(x, arch.pixels), dtype)
    check_enumerable(arch.latents, arch.buckets, "refit_encoder")
    problem = vae_model.DecoderProblem.from_weights(weights, arch.latents)
    _, codes, log_px = vae_model.decoded_codes(problem, x, arch.buckets, 0, None)
    codes = tf.reshape(codes, [codes.shape[0], -1])  # (K**n, n K)
    encoder = {k: v for k, v in weights.items() if k.startswith("enc_")}
    return {**weights, **_refit(encoder, x, codes, log_px, tf.constant(steps), rate, arch.latents)}


@tf.function(reduce_retracing=True)
def _refit(encoder, x, codes, log_px, steps, rate, latents):
    moments = zero_moments(encoder)
    for t in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(encoder)
            logits = vae_model.encode(encoder, x, latents)
            log_q = tf.reshape(tf.nn.log_softmax(logits), [tf.shape(x)[0], -1])
            q = tf.exp(tf.matmul(log_q, codes, transpose_b=True))  # q(c | x) (B, K**n)
            loss = vae_model.kl_to_uniform(logits) - tf.reduce_sum(q * log_px, axis=-1)
            loss = tf.reduce_mean(loss)
        encoder, moments = adam(encoder, tape.gradient(loss, encoder), moments, t, rate)
    return encoder
