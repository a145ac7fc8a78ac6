"""The categorical VAE's exact gradient (all K**n codes, in chunks), the refit of an
encoder down it, the decoder frozen (notebook 10's amortisation check), and log p(x) by
importance sampling, at one sample size or several (h.vae.X)."""

import numpy as np

from . import checks, vae_model
from ._tf import tf
from .adam import adam, zero_moments
from .estimators.draws import uniform
from .memory import give_back
from .problem import check_enumerable
from .vae_gradients import _prefixes, checked_weights
from .vae_model import _batched

__all__ = ["exact_encoder_gradient", "exact_gradient", "importance_bounds", "last_fifth_change",
           "log_likelihood", "refit_encoder", "refit_until_settled"]  # fmt: skip

# Codes per pass of the exact gradient and the refit: their memory is bounded by a chunk, not K**n.
EXACT_CHUNK = 2**13


def _code_chunks(arch):
    """(start, size) of each run of at most EXACT_CHUNK of the K**n codes, in order."""
    total = arch.buckets**arch.latents
    return [(start, min(EXACT_CHUNK, total - start)) for start in range(0, total, EXACT_CHUNK)]


def exact_gradient(weights, x, arch, which="encoder"):
    """The gradient of the exact mean -ELBO over x with respect to the encoder's weights
    (which="encoder") or all weights (which="all"), in float64 whatever the weights' dtype:
    a float32 sum over K**n codes would lose the digits a bias test at many replicates needs."""
    prefixes = _prefixes(which)
    weights = {k: tf.cast(v, tf.float64) for k, v in checked_weights(weights, arch).items()}
    x = tf.constant(vae_model.images(x, arch.pixels), dtype=tf.float64)
    wanted = {k: v for k, v in weights.items() if k.startswith(prefixes)}
    total = {k: 0.0 for k in wanted}
    for start, size in _code_chunks(arch):  # the gradient of a sum: chunk by chunk
        with tf.GradientTape() as tape:
            tape.watch(wanted)
            problem, params = _batched({**weights, **wanted}, x, arch.latents)
            loss = vae_model.reconstruction(problem, params, start, size)
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
    # decoded a chunk of codes at a time: a bounded peak
    parts = [vae_model.decoded_codes(problem, x, arch.buckets, *c) for c in _code_chunks(arch)]
    codes = tf.concat([p[1] for p in parts], 0)
    codes = tf.reshape(codes, [codes.shape[0], -1])  # (K**n, n K)
    log_px = tf.concat([p[2] for p in parts], 1)  # (B, K**n)
    del parts  # the chunks, now copied into codes and log_px, not held through the steps
    encoder = {k: v for k, v in weights.items() if k.startswith("enc_")}
    encoder = _refit(encoder, x, codes, log_px, tf.constant(steps), rate, arch.latents)
    give_back()  # every code's decoder pass and the steps' tensors
    return {**weights, **encoder}


def refit_until_settled(weights, x, arch, rounds=50, tolerance=0.01, most=500, learning_rate=1e-2):
    """refit_encoder in rounds of `rounds` steps until a round lowers the exact mean -ELBO
    over x by less than `tolerance` nats per image, or `most` steps: (weights, steps taken)."""
    rounds, most = checks.integer(rounds, "rounds", 1), checks.integer(most, "most", 1)
    tolerance = checks.positive_finite(tolerance, "tolerance")
    after, steps = vae_model.exact_scores(weights, x, arch.latents)[0].mean(), 0
    while steps < most:
        weights = refit_encoder(weights, x, arch, rounds, learning_rate)
        last, after = after, vae_model.exact_scores(weights, x, arch.latents)[0].mean()
        steps += rounds
        if last - after < tolerance:
            break
    return weights, steps


def last_fifth_change(run, x=None, latents=None):
    """How far a train_copies run's validation loss moved over the last fifth of its training,
    per seed and rate: at the last checkpoint minus at the first one past 4/5 of its steps.
    Without x, the run's sampled validation -ELBO (test_loss); with x and latents, the exact
    mean -log p(x) over x at those checkpoints' weights (the target of VIMCO's bound)."""
    fifth = int(np.searchsorted(run.steps, run.steps[-1] * 4 // 5))
    if x is None:
        return run.test_loss[..., -1] - run.test_loss[..., fifth]
    change = np.zeros(run.test_loss.shape[:-1])
    for index in np.ndindex(change.shape):  # (seed, rate)
        ends = [{k: v[index] for k, v in run.checkpoints[i].items()} for i in (fifth, -1)]
        start, end = (vae_model.exact_scores(w, x, latents)[1].mean() for w in ends)
        change[index] = end - start
    return change


@tf.function(reduce_retracing=True)
def _refit(encoder, x, codes, log_px, steps, rate, latents):
    moments = zero_moments(encoder)
    for t in tf.range(steps):
        with tf.GradientTape() as tape:
            tape.watch(encoder)
            logits = vae_model.encode(encoder, x, latents)
            log_q = tf.reshape(tf.nn.log_softmax(logits), [tf.shape(x)[0], -1])  # (B, n K)
            q = tf.exp(tf.matmul(tf.stop_gradient(log_q), codes, transpose_b=True))  # (B, K**n)
            # sum_c q(c | x) log p(x | c) has gradient (q log p(x | c)) codes with respect to
            # log_q: its product with log_q has the same one, and the tape keeps no (B, K**n)
            weighted = tf.matmul(q * log_px, codes)  # (B, n K)
            loss = vae_model.kl_to_uniform(logits) - tf.reduce_sum(weighted * log_q, axis=-1)
            loss = tf.reduce_mean(loss)  # its gradient is the exact mean -ELBO's
        encoder, moments = adam(encoder, tape.gradient(loss, encoder), moments, t, rate)
    return encoder


@tf.function(reduce_retracing=True)
def _uniforms(keys, shape, dtype):
    """uniform(key, shape, dtype) for each of the keys (B, 2), stacked: (B, *shape)."""
    return tf.map_fn(lambda key: uniform(key, shape, dtype), keys, fn_output_signature=dtype)


def log_likelihood(weights, x, latents, n_samples=1000, seed=0, chunk=20):
    """log p(x) per image by importance sampling with q(s | x) as the proposal: log (1/M)
    sum_m p(x | s_m) p(s_m) / q(s_m | x), s_m ~ q, M = n_samples, a lower bound in
    expectation (Burda et al. 2016) that tightens as M grows. Each image draws from a seed of
    its own, split from `seed`; the decoder runs on `chunk` images at a time, drawn when they
    run: the chunk bounds the memory (chunk x M passes) and leaves the numbers as they are."""
    n_samples = checks.integer(n_samples, "n_samples", 1)
    chunk = checks.integer(chunk, "chunk", 1)
    x, latents, buckets = vae_model._checked(weights, x, latents)
    seeds = tf.random.experimental.stateless_split(checks.seed(seed), x.shape[0])
    out = []
    for start in range(0, x.shape[0], chunk):
        part = slice(start, start + chunk)
        u = _uniforms(seeds[part], tf.constant([n_samples, latents, buckets]), x.dtype)
        logits, s, recon = vae_model._sampled(weights, x[part], latents, u)
        log_q = tf.reduce_sum(s * tf.nn.log_softmax(logits)[:, None], axis=[-2, -1])
        log_ratio = -recon - latents * np.log(buckets) - log_q  # log p(x, s) / q(s | x)
        out.append(tf.reduce_logsumexp(log_ratio, axis=1) - np.log(n_samples))
    give_back()  # the draws' and passes' memory
    return tf.concat(out, 0)


def importance_bounds(weights, x, latents, samples=(1, 10, 100, 1000), seed=0, chunk=20):
    """log p(x) per image by importance sampling with q(s | x) as the proposal, at each
    sample size M in `samples`: an array (len(samples), B) of log (1/M) sum_m w_m,
    w_m = p(x | s_m) p(s_m) / q(s_m | x), s_m ~ q (`log_likelihood`, fresh draws per M).

    By Jensen's inequality each is a lower bound on log p(x) in expectation, the ELBO at M = 1;
    its expectation does not fall as M grows and reaches log p(x) as M -> infinity (Burda et
    al. 2016, Theorem 1); its bias is about -chi2(p(s | x) || q) / (2 M) for large M."""
    sizes = [checks.integer(size, "samples", 1) for size in np.atleast_1d(samples)]
    if not sizes:
        raise ValueError("samples must name at least one sample size, got none")
    seed = checks.integer(seed, "seed", 0)
    return np.stack(
        [
            log_likelihood(weights, x, latents, size, seed=seed + i, chunk=chunk).numpy()
            for i, size in enumerate(sizes)
        ]
    )
