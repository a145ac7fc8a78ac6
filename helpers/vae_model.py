"""The categorical VAE of notebook 10: data, networks and scores (helpers.vae trains it).

scikit-learn's 1,797 8x8 digits (no download), binarised at half intensity. An encoder
MLP q(s | x) gives n categoricals of K categories, a decoder MLP p(x | s) 64 Bernoulli
pixels from their one-hot (or relaxed) codes; the prior is uniform. -ELBO(x) =
E_q[-log p(x | s)] + KL(q(s | x) || uniform): the KL is exact, the first term is what the
estimators differentiate (VIMCO, the VAE's own, aims at the importance-weighted bound L_N).
The decoder is a problem (helpers.problem.Problem) whose params, the encoder's logits and
the images, lead with the batch axis, the estimators' replicate axis.
"""

from dataclasses import dataclass

import numpy as np

from . import checks
from ._tf import tf
from .estimators.draws import gumbel_max, uniform, uniform_per_category, with_sample_axis
from .estimators.registry import Estimator, per_sample
from .estimators.score_function import leave_one_out_mean, score_term
from .problem import check_enumerable, configurations, joint_probs
from .tracing import trace_cache

__all__ = ["Architecture", "DecoderProblem", "HELD_OUT", "THRESHOLD", "VIMCO", "encode",
           "exact_scores", "init_weights", "kl_to_uniform", "load_digits", "negative_elbo",
           "validation_split", "vimco"]  # fmt: skip

# Pixel intensities run 0..16; a pixel is on when it is at least half that. A fixed
# threshold (not stochastic binarisation) keeps the held-out ELBO a fixed target, so
# runs and estimators are compared on the same data and the stored outputs reproduce.
THRESHOLD = 8
HELD_OUT = 297  # 1,797 images: 1,500 to train on, 297 held out
MAX_UNSTACKED = 64  # copies of a network computed one by one (a traced graph grows with them)
ONE_COPY = "these are train_copies' weights: pick one, {k: v[s, l] for k, v in run.weights.items()}"


def load_digits(seed=0, held_out=HELD_OUT):
    """(train, test): binarised 8x8 digits as float arrays (N, 64), split at random by seed."""
    from sklearn.datasets import load_digits as sklearn_digits  # the data only

    held_out = checks.integer(held_out, "held_out", 1)
    images = sklearn_digits().data
    if held_out >= len(images):
        raise ValueError(f"held_out must be below the {len(images)} images, got {held_out}")
    binary = (images >= THRESHOLD).astype(np.float64)
    order = np.random.default_rng(checks.integer(seed, "seed", 0)).permutation(len(binary))
    return binary[order[held_out:]], binary[order[:held_out]]


def validation_split(train_x, n_validation, seed=0):
    """(fit, validation): n_validation of the training images, chosen at random by seed,
    held out to choose learning rates on, so that the test images are used only to report."""
    train_x = np.asarray(train_x)
    if train_x.ndim != 2:
        raise ValueError(f"train_x must be images (N, pixels), got shape {train_x.shape}")
    n_validation = checks.integer(n_validation, "n_validation", 1)
    if n_validation >= len(train_x):
        raise ValueError(
            f"n_validation must be below the {len(train_x)} training images, got {n_validation}"
        )
    order = np.random.default_rng([checks.integer(seed, "seed", 0), 2]).permutation(len(train_x))
    return train_x[order[n_validation:]], train_x[order[:n_validation]]


@dataclass(frozen=True)
class Architecture:
    """Sizes: n latents of K categories, one hidden layer of `hidden` tanh units each way."""

    latents: int = 8
    buckets: int = 4
    hidden: int = 32
    pixels: int = 64

    def __post_init__(self):
        for name, minimum in (("latents", 1), ("buckets", 2), ("hidden", 1), ("pixels", 1)):
            checks.integer(getattr(self, name), name, minimum)


def init_weights(arch, seed=0, pixel_mean=None, dtype=tf.float32):
    """Glorot-uniform weights, zero biases; the decoder's output bias at logit(pixel_mean):
    starting at the pixel averages (as Burda et al. 2016 do) spares every estimator the
    same first few hundred steps of learning them."""
    rng = np.random.default_rng(checks.integer(seed, "seed", 0))
    codes = arch.latents * arch.buckets

    def layer(fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)

    weights = {}
    for part, fan_in, fan_out in (("enc", arch.pixels, codes), ("dec", codes, arch.pixels)):
        weights[f"{part}_w1"], weights[f"{part}_b1"] = layer(fan_in, arch.hidden)
        weights[f"{part}_w2"], weights[f"{part}_b2"] = layer(arch.hidden, fan_out)
    if pixel_mean is not None:
        mean = np.clip(np.asarray(pixel_mean, dtype=np.float64), 1e-3, 1 - 1e-3)
        weights["dec_b2"] = np.log(mean) - np.log1p(-mean)
    return {name: tf.constant(value, dtype=dtype) for name, value in weights.items()}


def two_layers(x, w1, b1, w2, b2):
    """tanh(x w1 + b1) w2 + b2, both networks' one hidden layer. Weights (in, out) take x
    with any leading axes; R copies (R, in, out) take x (R or 1, m, in): copy r maps x[r].
    A known, small R gets one product per copy, twice as fast on a CPU as a batched one."""
    if w1.shape.rank == 2:
        return tf.tensordot(tf.tanh(tf.tensordot(x, w1, axes=1) + b1), w2, axes=1) + b2
    copies = w1.shape[0]
    if copies is not None and copies <= MAX_UNSTACKED:
        x = tf.broadcast_to(x, tf.concat([[copies], tf.shape(x)[-2:]], 0))
        layers = zip(*(tf.unstack(v, copies) for v in (x, w1, b1, w2, b2)), strict=True)
        return tf.stack([two_layers(*layer) for layer in layers])
    hidden = tf.tanh(tf.matmul(x, w1) + b1[:, None])
    return tf.matmul(hidden, w2) + b2[:, None]


def encode(weights, x, latents):
    """The encoder's logits (..., n, K) for images x (..., pixels); weights of R copies
    take x (R or 1, B, pixels) and give (R, B, n, K)."""
    logits = two_layers(x, *(weights[f"enc_{name}"] for name in ("w1", "b1", "w2", "b2")))
    return tf.reshape(logits, tf.concat([tf.shape(logits)[:-1], [latents, -1]], 0))


def rows(value):
    """value (C, B, ...) as rows (C B, ...): row c B + b is value[c, b]."""
    return tf.reshape(value, tf.concat([[-1], tf.shape(value)[2:]], 0))


def kl_to_uniform(logits):
    """KL(q || uniform) = sum_i sum_k q_ik log q_ik + n log K, exact: (...)."""
    log_q = tf.nn.log_softmax(logits, axis=-1)
    latents, buckets = logits.shape[-2], tf.cast(tf.shape(logits)[-1], logits.dtype)
    return tf.reduce_sum(tf.exp(log_q) * log_q, axis=[-2, -1]) + latents * tf.math.log(buckets)


@dataclass(frozen=True)
class DecoderProblem:
    """-log p(x | s) as a problem: params {"logits": (..., n, K), "x": (..., pixels)}, the
    decoder's weights tensor fields. No continuous noise: `noise` gives zeros, unused."""

    latents: int
    dec_w1: tf.Tensor = None
    dec_b1: tf.Tensor = None
    dec_w2: tf.Tensor = None
    dec_b2: tf.Tensor = None

    @classmethod
    def from_weights(cls, weights, latents):  # the dec_ entries of the VAE's weights
        return cls(latents, **{k: v for k, v in weights.items() if k.startswith("dec_")})

    @property
    def dtype(self):
        return self.dec_w1.dtype

    def logits(self, params):
        return params["logits"]

    def noise(self, seed, shape):
        return tf.zeros(shape, dtype=self.dtype)

    def pixel_logits(self, s):
        """The decoder: one-hot or relaxed codes (..., n, K) -> Bernoulli logits (..., pixels).
        Weights with a leading axis of D decoders need s (rows, ..., n, K) whose rows
        come in D equal runs, one per decoder: decoder d decodes run d."""
        codes = self.dec_w1.shape[-2]
        flat = tf.reshape(s, tf.concat([tf.shape(s)[:-2], [codes]], 0))
        weights = self.dec_w1, self.dec_b1, self.dec_w2, self.dec_b2
        if self.dec_w1.shape.rank == 2:
            return two_layers(flat, *weights)
        rows = tf.reshape(flat, tf.stack([tf.shape(self.dec_w1)[0], -1, codes]))  # (D, m, nK)
        return tf.reshape(two_layers(rows, *weights), tf.concat([tf.shape(flat)[:-1], [-1]], 0))

    def objective(self, params, s, noise):
        if self.dec_w1.shape.rank == 3:  # one decoder per run of rows: s needs the rows too
            rows = tf.broadcast_dynamic_shape(tf.shape(params["x"])[:-1], tf.shape(s)[:-2])
            s = tf.broadcast_to(s, tf.concat([rows, tf.shape(s)[-2:]], 0))
        logits = self.pixel_logits(s)  # -log p(x | s), a sum of -log Bernoulli over pixels
        return tf.reduce_sum(tf.nn.softplus(logits) - params["x"] * logits, axis=-1)

    def exact(self, params):
        """The exact -ELBO (B,): E_q[-log p(x | s)] over all K**n codes, plus the KL."""
        return reconstruction(self, params, 0, None) + kl_to_uniform(params["logits"])


def decoded_codes(problem, x, buckets, start, size):
    """The codes c = start, ..., start + size - 1 (all K**n for size None) as indices (C, n)
    and one-hots (C, n, K), and log p(x | c) (B, C) for images x (B, pixels): the one
    enumeration behind the exact scores and gradient. The decoder runs once per code,
    and -log p(x | c) = sum_d softplus(l_d) - x_d l_d is a matrix product: no (B, C, D)."""
    index = configurations(problem.latents, buckets, start, size)
    codes = tf.one_hot(index, buckets, dtype=problem.dtype)
    pixel = problem.pixel_logits(codes)  # (C, D)
    log_px = tf.matmul(x, pixel, transpose_b=True) - tf.reduce_sum(tf.nn.softplus(pixel), -1)
    return index, codes, log_px


def reconstruction(problem, params, start, size):
    """sum_c q(c | x) (-log p(x | c)) per image (B,) over the codes of decoded_codes."""
    logits = params["logits"]
    check_enumerable(problem.latents, logits.shape[-1], "the exact ELBO")
    index, _, log_px = decoded_codes(problem, params["x"], logits.shape[-1], start, size)
    q = joint_probs(logits, problem.latents, index)
    if problem.latents == 1:  # joint_probs gives all K categories: keep this chunk's
        q = q[..., start : None if size is None else start + size]
    return -tf.reduce_sum(q * log_px, axis=-1)


def _batched(weights, x, latents):
    """The problem and its params for images x (B, pixels): B plays the replicate axis."""
    problem = DecoderProblem.from_weights(weights, latents)
    return problem, {"logits": encode(weights, x, latents), "x": x}


def images(x, pixels, name="x"):
    """x as a float array (N, pixels) of zeros and ones, or a ValueError."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != pixels or len(x) == 0:
        raise ValueError(f"{name} must have shape (N, {pixels}) with N >= 1, got {x.shape}")
    if not np.all((x == 0) | (x == 1)):  # NaN too
        raise ValueError(f"{name} must be binary (0 or 1 in every pixel): the decoder is Bernoulli")
    return x


def _checked(weights, x, latents, dtype=None, copies=False):
    """Images x as a tensor (of the weights' dtype by default), and the weights' n and K,
    or a ValueError: latents must divide their n K, and copy axes need copies=True."""
    latents = checks.integer(latents, "latents", 1)
    if not copies and len(weights["enc_w1"].shape) != 2:
        raise ValueError(f"weights['enc_w1'] has shape {weights['enc_w1'].shape}: {ONE_COPY}")
    outputs = int(weights["enc_b2"].shape[-1])
    if outputs % latents or outputs // latents < 2:
        raise ValueError(
            f"latents must divide the encoder's {outputs} outputs into n latents of K >= 2 "
            f"categories (n K = {outputs}), got {latents}"
        )
    x = images(x, int(weights["enc_w1"].shape[-2]))
    return tf.constant(x, dtype or weights["dec_w1"].dtype), latents, outputs // latents


def negative_elbo(weights, x, latents, n_samples=16, seed=0):
    """-ELBO per image (B,): the reconstruction term by n_samples draws from q, KL exact.
    Weights with a leading axis of C copies (train_copies') give (C, B), the same draws."""
    n_samples = checks.integer(n_samples, "n_samples", 1)
    x, latents, buckets = _checked(weights, x, latents, copies=True)
    u = uniform(checks.seed(seed), [x.shape[0], n_samples, latents, buckets], x.dtype)
    logits, _, recon = _sampled(weights, x, latents, u)
    return tf.reduce_mean(recon, axis=-1) + kl_to_uniform(logits)


def _sampled(weights, x, latents, u):
    """q's logits (B, n, K); draws from q per image by the Gumbel-max of uniforms u
    (B, S, n, K), as one-hots s (B, S, n, K); and -log p(x | s) (B, S). Weights of C
    copies put C before each."""
    problem, params = _batched(weights, x, latents)
    s = gumbel_max(tf.expand_dims(params["logits"], -3), u)
    return params["logits"], s, problem.objective({"x": x[:, None]}, s, None)


def vimco(problem, params, noise):
    """VIMCO (Mnih & Rezende 2016): a surrogate of -L_N per image (R,), whose gradient is
    VIMCO's estimate of -grad L_N, L_N = E log (1/N) sum_j w_j with w_j = p(x, s_j) / q(s_j | x)
    for N = n_samples draws s_j ~ q(s | x). Its value is -L^, L^ = log (1/N) sum_j w_j.

    With the draws fixed,
    grad L_N = E[sum_j L^ grad log q(s_j) + grad L^], and grad L^ = sum_j w~_j grad log w_j
    (w~ the normalised weights) is pathwise: the decoder's through log p(x | s_j), the
    encoder's through -log q(s_j). Each sample's learning signal L^ gets the baseline
    L^_{-j}: L^ with log w_j replaced by the mean of the other log weights (w_j by their
    geometric mean). It does not depend on s_j, so E[L^_{-j} grad log q(s_j)] = 0: unbiased.
    """
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(log_p), noise["u"])  # (R, k, n, K)
    log_q = tf.reduce_sum(s * log_p, axis=[-2, -1])  # (R, k)
    log_prior = -problem.latents * tf.math.log(tf.cast(tf.shape(s)[-1], s.dtype))
    log_w = log_prior - problem.objective(params, s, noise["eps"]) - log_q
    k = tf.shape(log_w)[1]
    bound = tf.reduce_logsumexp(log_w, axis=1) - tf.math.log(tf.cast(k, s.dtype))  # L^ (R,)
    # row j of (R, k, k): the log weights with log w_j replaced by the others' mean
    others = tf.linalg.set_diag(tf.repeat(log_w[:, None], k, axis=1), leave_one_out_mean(log_w))
    baselines = tf.reduce_logsumexp(others, axis=-1) - tf.math.log(tf.cast(k, s.dtype))
    return -bound - tf.reduce_sum(score_term(bound[:, None] - baselines, log_q), axis=1)


def _check_vimco(options, n_samples, latents, buckets, dtype=None):  # Estimator.check
    if n_samples < 2:
        raise ValueError(
            f"estimator 'vimco' needs n_samples >= 2, got n_samples={n_samples}: each "
            "sample's baseline replaces its log weight by the mean of the others'"
        )
    return options


# Not in the registry: L_N is the VAE's objective, not a problem's expectation.
VIMCO = Estimator("vimco", vimco, uniform_per_category, per_sample, check=_check_vimco)


def exact_scores(weights, x, latents, chunk=2048):
    """The exact -ELBO and -log p(x) per image, (B,) each, by enumerating all K**n codes in
    float64, in chunks of codes (memory B x chunk): two models compared on the same images
    without Monte Carlo error."""
    chunk = checks.integer(chunk, "chunk", 1)
    x, latents, buckets = _checked(weights, x, latents, tf.float64)
    weights = {k: tf.cast(v, tf.float64) for k, v in weights.items()}
    check_enumerable(latents, buckets, "the exact ELBO and likelihood")
    neg_elbo, log_px = _traced_exact(latents, buckets)(weights, x, buckets**latents, chunk)
    return neg_elbo.numpy(), (latents * np.log(buckets) - log_px).numpy()


@trace_cache
def _traced_exact(latents, buckets):  # K is static: a retraced graph may not know the shapes
    @tf.function(reduce_retracing=True)
    def exact_chunks(weights, x, total, chunk):
        """sum_c q(c|x) (-log p(x|c)) + KL and logsumexp_c log p(x|c), over code chunks."""
        problem, params = _batched(weights, x, latents)
        log_q_flat = tf.reshape(tf.nn.log_softmax(params["logits"]), [-1, latents * buckets])
        recon = tf.zeros(tf.shape(x)[:1], tf.float64)
        log_px = tf.fill(tf.shape(x)[:1], tf.constant(-np.inf, tf.float64))
        for start in tf.range(0, total, chunk):
            size = tf.minimum(chunk, total - start)
            _, codes, log_px_s = decoded_codes(problem, x, buckets, start, size)  # (B, C)
            # log q(s | x) (B, C) as a matrix product rather than a gather
            codes = tf.reshape(codes, [-1, latents * buckets])
            log_q = tf.matmul(log_q_flat, codes, transpose_b=True)
            recon -= tf.reduce_sum(tf.exp(log_q) * log_px_s, -1)
            log_px = tf.reduce_logsumexp(tf.stack([log_px, tf.reduce_logsumexp(log_px_s, -1)]), 0)
        return recon + kl_to_uniform(params["logits"]), log_px

    return exact_chunks
