"""Samples of the gradients of the VAE's weights (notebook 10): `gradient_samples` runs
helpers.sampling's engine on R copies of the encoder's weights (which="all": of the
decoder's too), the others shared; and the checks and surrogate loss that helpers.vae's
training shares. `h.vae.X` reaches these names.
"""

from . import checks, vae_model
from ._tf import tf
from .estimators import resolve
from .sampling import chunk_noise, per_replicate_gradients, split_options
from .tracing import trace_cache
from .vae_model import VIMCO, vimco

__all__ = ["checked_estimator", "encoder_gradient_samples", "gradient_samples"]


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
    shapes = {name: tuple(value.shape) for name, value in vae_model.init_weights(arch).items()}
    for name, wanted in shapes.items():
        if name not in weights:
            raise ValueError(f"weights lacks {name!r}, which {arch} needs")
        shape = tuple(weights[name].shape)
        if shape != wanted:
            hint = "pass the architecture the weights were made for"
            if shape[-len(wanted) :] == wanted:
                hint = vae_model.ONE_COPY
            raise ValueError(
                f"weights[{name!r}] has shape {shape}, but {arch} needs {wanted}: {hint}"
            )
    dtype = tf.as_dtype(weights["dec_w1"].dtype)  # the dtype the VAE's functions compute in
    for name in shapes:
        if tf.as_dtype(weights[name].dtype) != dtype:
            raise ValueError(
                f"weights[{name!r}] is {tf.as_dtype(weights[name].dtype).name}, "
                f"weights['dec_w1'] {dtype.name}: give every weight one dtype"
            )
    return weights


def surrogate_loss(estimator, problem, params, noise, options):
    """One surrogate of the -ELBO per image (B,): the estimator's for the reconstruction
    term (its gradient is the estimate), plus the exact KL; VIMCO's of -L_N, KL included."""
    loss = estimator.surrogate(problem, params, noise, **options)
    return loss if estimator is VIMCO else loss + vae_model.kl_to_uniform(params["logits"])


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
    params = {"logits": vae_model.rows(logits), "x": tf.reshape(xs, [-1, tf.shape(x)[-1]])}
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
            sizes = tf.shape(params["logits"])[0], n_samples, tf.shape(params["logits"])[-1]
            noise = chunk_noise(estimator, problem, seed, *sizes, options)
            losses = surrogate_loss(estimator, problem, params, noise, options)
            return tf.reduce_mean(tf.reshape(losses, [n_replicates, -1]), axis=1)

        return per_replicate_gradients(surrogates, weights, n_replicates, copied)

    return gradients


def gradient_samples(
    estimator, weights, x, arch, n_replicates, n_samples=1, seed=0, which="encoder", **options
):
    """n_replicates independent estimates of the gradient of the mean -ELBO (for "vimco":
    -L_N, N = n_samples) over the images x, with respect to the encoder's weights
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


def encoder_gradient_samples(estimator, weights, x, arch, n_replicates, n_samples=1, seed=0,
                             **options):  # fmt: skip
    """gradient_samples of the encoder's weights (the decoder shared)."""
    return gradient_samples(estimator, weights, x, arch, n_replicates, n_samples, seed, **options)
