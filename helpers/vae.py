"""Training the categorical VAE of notebook 08 with the series' estimators, and sampling
the gradients they estimate.

Training: any registered estimator that handles n latents, batched and traced, or
"vimco", which maximises the importance-weighted bound L_k instead of the ELBO; the
decoder's weights get their gradient pathwise. `gradient_samples` runs the engine of
helpers.sampling on R copies of the encoder's weights (with which="all", of the
decoder's too), the other weights shared. The data, networks and scores are in
helpers.vae_model; `h.vae.X` reaches them too. Unlike the model's helpers (the model
first), these take the estimator, the weights, the images, then the architecture.
"""

import time
from dataclasses import dataclass

import numpy as np

from . import checks, vae_model
from ._tf import tf
from .adam import adam, zero_moments
from .estimators import resolve
from .sampling import chunk_noise, per_replicate_gradients, split_options
from .tracing import trace_cache
from .vae_model import *  # noqa: F403  (h.vae.X reaches the model's names too)
from .vae_model import VIMCO, _batched, vimco

__all__ = [*vae_model.__all__, "Run", "checked_estimator", "encoder_gradient_samples",
           "exact_encoder_gradient", "exact_gradient", "gradient_samples", "train"]  # fmt: skip

EVALUATION_SEED = 10_000  # one fixed set of draws for every held-out -ELBO: common random numbers


def checked_estimator(estimator, arch, n_samples, dtype, options):
    """The Estimator and its checked options for this VAE, or a ValueError saying why not."""
    try:
        estimator = VIMCO if estimator in ("vimco", vimco, VIMCO) else resolve(estimator)
    except ValueError as error:  # the registry's names, and the VAE's own
        raise ValueError(f"{error}; for the VAE also 'vimco'") from None
    n_samples = checks.integer(n_samples, "n_samples", 1)
    if options.get("baseline") == "optimal":
        raise ValueError(
            "baseline='optimal' needs the exact optimal constant of every image, K**n decoder "
            "passes each; the VAE offers none: use baseline='loo'"
        )
    if estimator.evaluations(arch.buckets, n_samples) == float("inf"):
        raise ValueError(
            f"estimator {estimator.name!r} is an oracle that reads the exact gradient off a "
            "problem; for the VAE use vae.exact_gradient, which enumerates the K**n codes"
        )
    options = estimator.checked_options(options, n_samples, arch.latents, arch.buckets, dtype)
    return estimator, options


def checked_weights(weights, arch):
    """The weights, or a ValueError unless they have every name and shape that arch's
    init_weights gives: weights of another architecture would run, with arch's n and K,
    to wrong numbers (a partial sum of the codes, options checked against another K)."""
    for name, wanted in vae_model.init_weights(arch).items():
        if name not in weights:
            raise ValueError(f"weights lacks {name!r}, which {arch} needs")
        if tuple(weights[name].shape) != tuple(wanted.shape):
            raise ValueError(
                f"weights[{name!r}] has shape {tuple(weights[name].shape)}, but {arch} needs "
                f"{tuple(wanted.shape)}: pass the architecture the weights were made for"
            )
    return weights


def surrogate_loss(estimator, problem, params, seed, n_samples, options):
    """One surrogate of the -ELBO per image (B,): the estimator's for the reconstruction
    term (its gradient is the estimate), plus the exact KL; VIMCO's of -L_k, KL included."""
    logits = params["logits"]
    images, buckets = tf.shape(logits)[0], tf.shape(logits)[-1]
    noise = chunk_noise(estimator, problem, seed, images, n_samples, buckets, options)
    loss = estimator.surrogate(problem, params, noise, **options)
    return loss if estimator is VIMCO else loss + vae_model.kl_to_uniform(logits)


@trace_cache
def _traced_step(estimator, latents, static_options):
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def step(weights, moments, t, x, seed, n_samples, dynamic, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            problem, params = _batched(weights, x, latents)
            step_seed = tf.random.experimental.stateless_fold_in(seed, t)
            options = {**static, **dynamic}
            losses = surrogate_loss(estimator, problem, params, step_seed, n_samples, options)
            loss = tf.reduce_mean(losses)
        return adam(weights, tape.gradient(loss, weights), moments, t, learning_rate)

    return step


@dataclass
class Run:
    """One training run: held-out -ELBO at the checkpoints, and when they were reached."""

    weights: dict  # name -> tensor, the final weights
    steps: np.ndarray  # (C,) steps done at each checkpoint, 0 first
    test_loss: np.ndarray  # (C,) mean held-out -ELBO (nats per image)
    seconds: np.ndarray  # (C,) training wall time up to each checkpoint (evaluation left out);
    # it includes the first step, which traces the step function (a second or more)
    step_seconds: float  # mean wall time of one step after the first: compare costs with this
    decoder_evaluations: int  # decoder passes per image per step
    checkpoints: list  # the weights at each checkpoint (name -> tensor)


def minibatches(n_images, batch_size, steps, seed):
    """(steps, batch_size) image indices: shuffled epochs, the same for every estimator."""
    rng = np.random.default_rng([seed, 1])
    epochs = -(-steps * batch_size // n_images)
    order = np.concatenate([rng.permutation(n_images) for _ in range(epochs)])
    return order[: steps * batch_size].reshape(steps, batch_size)


# arch=Architecture(): a frozen dataclass, so one shared default is safe
def train(estimator, train_x, test_x, arch=vae_model.Architecture(),  # noqa: B008
          n_samples=1, steps=150, batch_size=32, learning_rate=3e-3, seed=0, evaluate_every=25,
          anneal_to=None, eval_samples=16, dtype=tf.float32, **options):  # fmt: skip
    """Train the VAE with one estimator from the initialisation of `seed`.

    The same seed gives every estimator the same initial weights and minibatches; its
    own noise is drawn from the seed and the step. anneal_to: lower an estimator's tau
    geometrically from options["tau"] to anneal_to over the run (as Jang et al. 2017).
    The held-out loss is the -ELBO for "vimco" too: compare it with the ELBO's estimators
    on exact_scores' -log p(x), the quantity both objectives bound.
    """
    dtype = checks.dtype(dtype)
    steps = checks.integer(steps, "steps", 1)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    evaluate_every = checks.integer(evaluate_every, "evaluate_every", 1)
    eval_samples = checks.integer(eval_samples, "eval_samples", 1)
    rate = tf.constant(checks.positive_finite(learning_rate, "learning_rate", dtype), dtype)
    train_x = vae_model.images(train_x, arch.pixels, "train_x")
    test_x = vae_model.images(test_x, arch.pixels, "test_x")
    estimator, options = checked_estimator(estimator, arch, n_samples, dtype, options)
    taus = _temperatures(estimator, options, anneal_to, steps, dtype)
    static, dynamic = split_options(options, dtype)
    step = _traced_step(estimator, arch.latents, static)
    initial = vae_model.init_weights(arch, seed, train_x.mean(axis=0), dtype)
    batches = (tf.constant(train_x, dtype), minibatches(len(train_x), batch_size, steps, seed))
    fixed = checks.seed(seed), tf.constant(n_samples)  # the step's seed and n_samples

    def evaluate(weights, t=0):
        """The mean held-out -ELBO, or a ValueError at the step where it is inf or NaN."""
        scores = vae_model.negative_elbo(
            weights, test_x, arch.latents, eval_samples, EVALUATION_SEED
        )
        loss = float(tf.reduce_mean(scores))
        if not np.isfinite(loss):
            raise ValueError(
                f"the held-out -ELBO is non-finite ({loss}) at the checkpoint after step {t} "
                f"of {steps}: use a smaller learning_rate"
            )
        return loss

    done, losses, seconds, kept = [0], [evaluate(initial)], [0.0], [initial]
    for t, weights, elapsed in _steps(step, initial, batches, taus, fixed, dynamic, rate):
        if t == 1:
            first = elapsed  # the first step traces: step_seconds leaves it out
        if t % evaluate_every == 0 or t == steps:
            done.append(t)
            losses.append(evaluate(weights, t))
            seconds.append(elapsed)
            kept.append(weights)
    step_seconds = (elapsed - first) / (steps - 1) if steps > 1 else float("nan")
    evaluations = estimator.evaluations(arch.buckets, n_samples, latents=arch.latents, **options)
    curves = (np.array(v) for v in (done, losses, seconds))
    return Run(weights, *curves, float(step_seconds), int(evaluations), kept)


def _temperatures(estimator, options, anneal_to, steps, dtype):
    """Each step's tau, from options["tau"] geometrically to anneal_to; None without."""
    if anneal_to is None:
        return None
    if "tau" not in options:
        raise ValueError(
            f"anneal_to needs an estimator with a temperature tau, not {estimator.name!r}"
        )
    tau, anneal_to = options["tau"], checks.positive_finite(anneal_to, "anneal_to", dtype)
    return tau * (anneal_to / tau) ** (np.arange(steps) / max(steps - 1, 1))


def _steps(step, weights, batches, taus, fixed, dynamic, rate):
    """Take the training steps; after each, yield (steps done, weights, seconds of training)."""
    data, indices = batches
    moments, elapsed = zero_moments(weights), 0.0
    for t, batch in enumerate(indices):
        if taus is not None:
            dynamic["tau"] = tf.constant(taus[t], rate.dtype)
        start = time.perf_counter()
        batch = tf.constant(t, tf.int64), tf.gather(data, batch)  # the step, its images
        weights, moments = step(weights, moments, *batch, *fixed, dynamic, rate)
        weights["dec_b2"].numpy()  # wait for the step (a GPU runs ahead) before reading the clock
        elapsed += time.perf_counter() - start
        yield t + 1, weights, elapsed


# --- Gradient samples of the weights: R copies of the weights asked for, the rest shared.


def _prefixes(which):
    """The name prefixes of the weights `which` names, or a ValueError."""
    parts = {"encoder": ("enc_",), "all": ("enc_", "dec_")}
    if which not in parts:
        raise ValueError(f"which must be one of {', '.join(parts)}, got {which!r}")
    return parts[which]


def _replicated(weights, x, n_replicates, latents):
    """The problem and its params for R replicates of the images x (B, pixels): row r B + b
    is replicate r's image b. The encoder's weights carry the replicate axis, and so do
    the decoder's where they are copied (then each row gets its replicate's decoder)."""
    logits = vae_model.encode(weights, x[None], latents)  # (R, B, n, K)
    xs = tf.broadcast_to(x, tf.concat([[n_replicates], tf.shape(x)], 0))
    params = {
        "logits": tf.reshape(logits, tf.concat([[-1], tf.shape(logits)[2:]], 0)),
        "x": tf.reshape(xs, [-1, x.shape[-1]]),
    }
    decoder = {k: v for k, v in weights.items() if k.startswith("dec_")}
    if decoder["dec_w1"].shape.rank == 3:
        decoder = {k: tf.repeat(v, tf.shape(x)[0], axis=0) for k, v in decoder.items()}
    return vae_model.DecoderProblem(latents, **decoder), params


@trace_cache
def _traced_gradients(estimator, latents, static_options, copied):
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def gradients(weights, x, seed, n_replicates, n_samples, dynamic):
        def surrogates(copies):  # (R,): replicate r's mean over the images
            problem, params = _replicated(copies, x, n_replicates, latents)
            options = {**static, **dynamic}
            losses = surrogate_loss(estimator, problem, params, seed, n_samples, options)
            return tf.reduce_mean(tf.reshape(losses, [n_replicates, -1]), axis=1)

        return per_replicate_gradients(surrogates, weights, n_replicates, copied)

    return gradients


def gradient_samples(
    estimator, weights, x, arch, n_replicates, n_samples=1, seed=0, which="encoder", **options
):
    """n_replicates independent estimates of the gradient of the mean -ELBO (for "vimco":
    -L_k, k = n_samples) over the images x, with respect to the encoder's weights
    (which="encoder"; the decoder stays shared) or to all weights (which="all"): dict
    name -> array (R, *shape)."""
    prefixes = _prefixes(which)
    dtype = checked_weights(weights, arch)["dec_w1"].dtype
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    estimator, options = checked_estimator(estimator, arch, n_samples, dtype, options)
    if which == "all" and estimator.enumerates:
        raise ValueError(
            f"{estimator.name!r} evaluates codes without the image axis, which one decoder "
            "copy per replicate needs: use which='encoder'"
        )
    static, dynamic = split_options(options, dtype)
    copied = tuple(name for name in weights if name.startswith(prefixes))
    run = _traced_gradients(estimator, arch.latents, static, copied)
    x = tf.constant(vae_model.images(x, arch.pixels), dtype=dtype)
    counts = tf.constant(n_replicates), tf.constant(n_samples)
    grads = run(weights, x, checks.seed(seed), *counts, dynamic)
    return {k: v.numpy() for k, v in grads.items()}


def encoder_gradient_samples(
    estimator, weights, x, arch, n_replicates, n_samples=1, seed=0, **options
):
    """gradient_samples of the encoder's weights (the decoder shared)."""
    return gradient_samples(estimator, weights, x, arch, n_replicates, n_samples, seed, **options)


# Codes per pass of the exact gradient: its memory is bounded by a chunk, not K**n.
EXACT_CHUNK = 2**13


def exact_gradient(weights, x, arch, which="encoder"):
    """The gradient of the exact mean -ELBO over x (K**n codes, in chunks) with respect to
    the encoder's weights (which="encoder") or all weights (which="all"). In float64
    whatever the weights' dtype: a float32 sum over K**n codes would lose the digits a
    bias test at many replicates needs."""
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
