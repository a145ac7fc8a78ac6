"""A categorical VAE on the UCI handwritten digits, trained with the series' estimators.

Data: the 1,797 8x8 digits that ship inside scikit-learn (no download),
binarised at half intensity. Model: an encoder MLP q(s | x) gives n independent
categoricals of K categories; a decoder MLP p(x | s) gives 64 Bernoulli pixels
from the n one-hot (or relaxed) codes; the prior is uniform. The negative ELBO

    -ELBO(x) = E_q[-log p(x | s)] + KL(q(s | x) || uniform)

has an analytic KL (a sum over n K terms); its first term is what the
estimators differentiate. The decoder is a problem (helpers.problem.Problem):
its `params` are the encoder's output logits and the images, both with a
leading batch axis that the estimators treat as their replicate axis, so one
surrogate per image comes out and the encoder's gradient is the chain rule
through those logits. The decoder's weights are fields of the problem, shared
by every image, and get their gradient pathwise; only `gradient_samples` with
which="all" copies them, once per replicate, to measure that gradient's spread.
"""

import functools
import time
from dataclasses import dataclass

import numpy as np

from . import checks
from ._tf import tf
from .estimators import gumbel_max, resolve
from .optimise import adam
from .problem import check_enumerable, configurations, joint_probs
from .sampling import split_options
from .tracing import trace_cache

# Pixel intensities run 0..16; a pixel is on when it is at least half that. A fixed
# threshold (not stochastic binarisation) keeps the held-out ELBO a fixed target, so
# runs and estimators are compared on the same data and the stored outputs reproduce.
THRESHOLD = 8
HELD_OUT = 297  # 1,797 images: 1,500 to train on, 297 held out


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


@dataclass(frozen=True)
class Architecture:
    """Sizes: n latents of K categories, one hidden layer of `hidden` tanh units each way."""

    latents: int = 8
    buckets: int = 4
    hidden: int = 32
    pixels: int = 64

    def __post_init__(self):
        checks.integer(self.latents, "latents", 1)
        checks.integer(self.buckets, "buckets", 2)
        checks.integer(self.hidden, "hidden", 1)
        checks.integer(self.pixels, "pixels", 1)


def init_weights(arch, seed=0, pixel_mean=None, dtype=tf.float32):
    """Glorot-uniform weights, zero biases; the decoder's output bias at logit(pixel_mean).

    Starting the decoder at the pixel averages (as Burda et al. 2016 do) spares every
    estimator the same first few hundred steps of learning them.
    """
    rng = np.random.default_rng(checks.integer(seed, "seed", 0))
    codes = arch.latents * arch.buckets

    def layer(fan_in, fan_out):
        limit = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)

    weights = {}
    for part, (fan_in, fan_out) in {
        "enc": (arch.pixels, codes),
        "dec": (codes, arch.pixels),
    }.items():
        weights[f"{part}_w1"], weights[f"{part}_b1"] = layer(fan_in, arch.hidden)
        weights[f"{part}_w2"], weights[f"{part}_b2"] = layer(arch.hidden, fan_out)
    if pixel_mean is not None:
        mean = np.clip(np.asarray(pixel_mean, dtype=np.float64), 1e-3, 1 - 1e-3)
        weights["dec_b2"] = np.log(mean) - np.log1p(-mean)
    return {name: tf.constant(value, dtype=dtype) for name, value in weights.items()}


def dense(x, w, b):
    """x @ w + b for x with any leading axes."""
    return tf.tensordot(x, w, axes=1) + b


def encode(weights, x, latents):
    """The encoder's logits (..., n, K) for images x (..., pixels)."""
    h = tf.tanh(dense(x, weights["enc_w1"], weights["enc_b1"]))
    logits = dense(h, weights["enc_w2"], weights["enc_b2"])
    return tf.reshape(logits, tf.concat([tf.shape(logits)[:-1], [latents, -1]], 0))


def kl_to_uniform(logits):
    """KL(q || uniform) = sum_i sum_k q_ik log q_ik + n log K, exact: (...)."""
    log_q = tf.nn.log_softmax(logits, axis=-1)
    latents, buckets = logits.shape[-2], tf.cast(tf.shape(logits)[-1], logits.dtype)
    return tf.reduce_sum(tf.exp(log_q) * log_q, axis=[-2, -1]) + latents * tf.math.log(buckets)


@dataclass(frozen=True)
class DecoderProblem:
    """-log p(x | s) as a problem: params {"logits": (..., n, K), "x": (..., pixels)}.

    The decoder's weights are tensor fields (shared by every image and replicate).
    There is no continuous noise: `noise` returns zeros and `objective` ignores it.
    """

    latents: int
    dec_w1: tf.Tensor = None
    dec_b1: tf.Tensor = None
    dec_w2: tf.Tensor = None
    dec_b2: tf.Tensor = None

    @classmethod
    def from_weights(cls, weights, latents):
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

        Weights of shape (rows, ...) (one decoder per row: replicate copies) need s
        of shape (rows, ..., n, K); shared weights take any leading axes.
        """
        codes = self.dec_w1.shape[-2]
        flat = tf.reshape(s, tf.concat([tf.shape(s)[:-2], [codes]], 0))
        if self.dec_w1.shape.rank == 2:
            return dense(tf.tanh(dense(flat, self.dec_w1, self.dec_b1)), self.dec_w2, self.dec_b2)
        rows = tf.reshape(flat, tf.stack([tf.shape(flat)[0], -1, codes]))  # (rows, m, nK)
        hidden = tf.tanh(tf.matmul(rows, self.dec_w1) + self.dec_b1[:, None])
        out = tf.matmul(hidden, self.dec_w2) + self.dec_b2[:, None]
        return tf.reshape(out, tf.concat([tf.shape(flat)[:-1], [-1]], 0))

    def objective(self, params, s, noise):
        logits = self.pixel_logits(s)
        x = params["x"]
        return tf.reduce_sum(tf.nn.softplus(logits) - x * logits, axis=-1)  # -log Bernoulli

    def exact(self, params):
        """E_q[-log p(x | s)] + KL by enumerating all K**n codes: the exact -ELBO (...)."""
        logits = params["logits"]
        return self.reconstruction(params, 0, logits.shape[-1] ** self.latents) + kl_to_uniform(
            logits
        )

    def reconstruction(self, params, start, size):
        """sum_c q(c | x) (-log p(x | c)) over the codes c = start, ..., start + size - 1."""
        logits = params["logits"]
        buckets = logits.shape[-1]
        check_enumerable(self.latents, buckets, "the exact ELBO")
        index = configurations(self.latents, buckets, start, size)
        q = joint_probs(logits, self.latents, index)  # (..., size)
        pixel = self.pixel_logits(tf.one_hot(index, buckets, dtype=self.dtype))  # (size, pixels)
        # -log p(x | s) = sum_d softplus(l_d) - x_d l_d, as a matrix product: no (..., C, D)
        values = tf.reduce_sum(tf.nn.softplus(pixel), -1) - tf.tensordot(
            params["x"], pixel, [[-1], [-1]]
        )
        return tf.reduce_sum(q * values, axis=-1)


def _batched(weights, x, latents):
    """The problem and its params for images x (B, pixels): B plays the replicate axis."""
    return DecoderProblem.from_weights(weights, latents), {
        "logits": encode(weights, x, latents),
        "x": x,
    }


def negative_elbo(weights, x, latents, n_samples=16, seed=0):
    """-ELBO per image (B,): the reconstruction term by n_samples draws from q, KL exact."""
    n_samples = checks.integer(n_samples, "n_samples", 1)
    problem, params = _batched(weights, tf.convert_to_tensor(x, weights["dec_w1"].dtype), latents)
    s = _draws(params["logits"], n_samples, checks.seed(seed))  # (B, S, n, K)
    recon = problem.objective({"x": params["x"][:, None]}, s, None)
    return tf.reduce_mean(recon, axis=1) + kl_to_uniform(params["logits"])


def _draws(logits, n_samples, seed):
    """n_samples exact draws from q per image, as one-hots (B, S, n, K)."""
    shape = tf.concat([tf.shape(logits)[:1], [n_samples], tf.shape(logits)[1:]], 0)
    tiny = np.finfo(logits.dtype.as_numpy_dtype).tiny
    u = tf.random.stateless_uniform(shape, seed=seed, minval=tiny, maxval=1, dtype=logits.dtype)
    return gumbel_max(logits[:, None], u)


def log_likelihood(weights, x, latents, n_samples=1000, seed=0, chunk=50):
    """log p(x) per image by importance sampling with q(s | x) as the proposal.

    log (1/S) sum_m p(x | s_m) p(s_m) / q(s_m | x), s_m ~ q: a lower bound in
    expectation (Burda et al. 2016) that tightens as S grows; S = n_samples.
    """
    n_samples = checks.integer(n_samples, "n_samples", 1)
    chunk = checks.integer(chunk, "chunk", 1)
    x = tf.convert_to_tensor(x, weights["dec_w1"].dtype)
    seed, out = checks.seed(seed), []
    for start in range(0, int(x.shape[0]), chunk):  # bounded memory: chunk x S decoder passes
        problem, params = _batched(weights, x[start : start + chunk], latents)
        log_q = tf.nn.log_softmax(params["logits"], axis=-1)
        s = _draws(
            params["logits"], n_samples, tf.random.experimental.stateless_fold_in(seed, start)
        )
        log_ratio = -problem.objective({"x": params["x"][:, None]}, s, None)
        buckets = tf.cast(tf.shape(log_q)[-1], log_q.dtype)
        log_ratio += -latents * tf.math.log(buckets) - tf.reduce_sum(
            s * log_q[:, None], axis=[-2, -1]
        )
        out.append(tf.reduce_logsumexp(log_ratio, axis=1) - np.log(n_samples))
    return tf.concat(out, 0)


def exact_scores(weights, x, latents, chunk=2048):
    """The exact -ELBO and -log p(x) per image, (B,) each, by enumerating all K**n codes.

    Computed in float64, in chunks of codes (memory B x chunk): no sampling noise,
    so two models can be compared on the same images without Monte Carlo error.
    """
    chunk = checks.integer(chunk, "chunk", 1)
    weights = {k: tf.cast(v, tf.float64) for k, v in weights.items()}
    x = tf.convert_to_tensor(x, tf.float64)
    buckets = int(weights["enc_b2"].shape[-1]) // latents
    check_enumerable(latents, buckets, "the exact ELBO and likelihood")
    neg_elbo, log_px = _traced_exact(latents)(weights, x, buckets**latents, chunk)
    return neg_elbo.numpy(), (latents * np.log(buckets) - log_px).numpy()


@trace_cache
def _traced_exact(latents):
    return tf.function(functools.partial(_exact_chunks, latents=latents), reduce_retracing=True)


def _exact_chunks(weights, x, total, chunk, latents):
    # sum_c q(c|x) (-log p(x|c)) + KL and logsumexp_c log p(x|c), accumulated over code chunks
    problem, params = _batched(weights, x, latents)
    logits = params["logits"]
    buckets = logits.shape[-1]
    recon = tf.zeros(tf.shape(x)[:1], tf.float64)
    log_px = tf.fill(tf.shape(x)[:1], tf.constant(-np.inf, tf.float64))
    for start in tf.range(0, total, chunk):
        index = configurations(latents, buckets, start, tf.minimum(chunk, total - start))
        codes = tf.one_hot(index, buckets, dtype=tf.float64)  # (C, n, K)
        pixel = problem.pixel_logits(codes)  # (C, D)
        log_px_s = tf.matmul(x, pixel, transpose_b=True) - tf.reduce_sum(
            tf.nn.softplus(pixel), -1
        )  # (B, C): log p(x | s)
        log_q = tf.matmul(  # (B, C): log q(s | x), a matrix product rather than a gather
            tf.reshape(tf.nn.log_softmax(logits), [-1, latents * buckets]),
            tf.reshape(codes, [-1, latents * buckets]),
            transpose_b=True,
        )
        recon -= tf.reduce_sum(tf.exp(log_q) * log_px_s, -1)
        log_px = tf.reduce_logsumexp(tf.stack([log_px, tf.reduce_logsumexp(log_px_s, -1)]), 0)
    return recon + kl_to_uniform(logits), log_px


# --- Training: any registered estimator that handles n latents, batched and traced.

EVALUATION_SEED = 10_000  # one fixed set of draws for every held-out -ELBO: common random numbers


def checked_estimator(estimator, arch, n_samples, dtype, options):
    """The Estimator and its checked options for this VAE, or a ValueError saying why not."""
    estimator = resolve(estimator)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    if options.get("baseline") == "optimal":
        raise ValueError(
            "baseline='optimal' needs the exact optimal constant of every image, K**n decoder "
            "passes each; the VAE offers none: use baseline='loo'"
        )
    options = estimator.checked_options(options, n_samples, arch.latents, arch.buckets, dtype)
    return estimator, options


def surrogate_loss(estimator, problem, params, seed, n_samples, options):
    """One surrogate of the -ELBO per image (B,): the estimator's for the reconstruction
    term (its gradient is the estimate), plus the exact KL."""
    logits = params["logits"]
    extra = {name: options[name] for name in estimator.noise_options}
    noise = estimator.noise(
        problem, seed, tf.shape(logits)[0], n_samples, tf.shape(logits)[-1], **extra
    )
    return estimator.surrogate(problem, params, noise, **options) + kl_to_uniform(logits)


@trace_cache
def _traced_step(estimator, latents, static_options):
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def step(weights, moments, t, x, seed, n_samples, dynamic, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            problem, params = _batched(weights, x, latents)
            step_seed = tf.random.experimental.stateless_fold_in(seed, t)
            losses = surrogate_loss(
                estimator, problem, params, step_seed, n_samples, {**static, **dynamic}
            )
            loss = tf.reduce_mean(losses)
        weights, moments = adam(weights, tape.gradient(loss, weights), moments, t, learning_rate)
        return weights, moments

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


def train(
    estimator,
    train_x,
    test_x,
    arch=Architecture(),
    n_samples=1,
    steps=150,
    batch_size=32,
    learning_rate=3e-3,
    seed=0,
    evaluate_every=25,
    anneal_to=None,
    eval_samples=16,
    dtype=tf.float32,
    **options,
):
    """Train the VAE with one estimator from the initialisation of `seed`.

    The same seed gives the same initial weights and minibatches for every
    estimator; the estimator's own noise is drawn from the seed and the step.
    anneal_to: for an estimator with a temperature, lower tau geometrically from
    options["tau"] to anneal_to over the run (Jang et al. 2017 anneal it too).
    """
    dtype = checks.dtype(dtype)
    steps = checks.integer(steps, "steps", 1)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    evaluate_every = checks.integer(evaluate_every, "evaluate_every", 1)
    learning_rate = checks.positive_finite(learning_rate, "learning_rate")
    train_x, test_x = (
        _images(v, arch, name) for v, name in ((train_x, "train_x"), (test_x, "test_x"))
    )
    estimator, options = checked_estimator(estimator, arch, n_samples, dtype, options)
    if anneal_to is not None:  # the temperature of each step
        if "tau" not in options:
            raise ValueError(
                f"anneal_to needs an estimator with a temperature tau, not {estimator.name!r}"
            )
        end = checks.positive_finite(anneal_to, "anneal_to")
        taus = options["tau"] * (end / options["tau"]) ** (np.arange(steps) / max(steps - 1, 1))
    static, dynamic = split_options(options, dtype)
    step = _traced_step(estimator, arch.latents, static)
    weights = init_weights(arch, seed, train_x.mean(axis=0), dtype)
    moments = tuple({k: tf.zeros_like(v) for k, v in weights.items()} for _ in range(2))
    data = tf.constant(train_x, dtype=dtype)
    batches = minibatches(len(train_x), batch_size, steps, seed)
    base, rate, samples = (
        checks.seed(seed),
        tf.constant(learning_rate, dtype),
        tf.constant(n_samples),
    )
    test = tf.constant(test_x, dtype=dtype)

    def evaluate():
        return float(
            tf.reduce_mean(
                negative_elbo(weights, test, arch.latents, eval_samples, EVALUATION_SEED)
            )
        )

    done, losses, seconds, elapsed, kept = [0], [evaluate()], [0.0], 0.0, [weights]
    for t in range(steps):
        if anneal_to is not None:
            dynamic["tau"] = tf.constant(taus[t], dtype)
        start = time.perf_counter()
        weights, moments = step(
            weights,
            moments,
            tf.constant(t, tf.int64),
            tf.gather(data, batches[t]),
            base,
            samples,
            dynamic,
            rate,
        )
        weights["dec_b2"].numpy()  # wait for the step (a GPU runs ahead) before reading the clock
        elapsed += time.perf_counter() - start
        if t == 0:
            first = elapsed  # the first step traces: step_seconds leaves it out
        if (t + 1) % evaluate_every == 0 or t + 1 == steps:
            done.append(t + 1)
            losses.append(evaluate())
            seconds.append(elapsed)
            kept.append(weights)
    step_seconds = (elapsed - first) / (steps - 1) if steps > 1 else float("nan")
    evaluations = estimator.evaluations(arch.buckets, n_samples, latents=arch.latents, **options)
    return Run(
        weights,
        np.array(done),
        np.array(losses),
        np.array(seconds),
        float(step_seconds),
        int(evaluations),
        kept,
    )


def _images(x, arch, name):
    """x as a float array (N, pixels) of zeros and ones, or a ValueError."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != arch.pixels or len(x) == 0:
        raise ValueError(f"{name} must have shape (N, {arch.pixels}) with N >= 1, got {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError(f"{name} must be binary (0 or 1 in every pixel): the decoder is Bernoulli")
    return x


# --- Gradient samples of the weights: R copies of the weights asked for, the rest shared.

PARTS = {"encoder": ("enc_",), "all": ("enc_", "dec_")}


def _encode_copies(weights, x, latents):
    """Logits (R, B, n, K) from encoder weights with a leading copy axis R and images x (B, D)."""
    h = tf.tanh(tf.matmul(x[None], weights["enc_w1"]) + weights["enc_b1"][:, None])
    logits = tf.matmul(h, weights["enc_w2"]) + weights["enc_b2"][:, None]
    return tf.reshape(logits, tf.concat([tf.shape(logits)[:2], [latents, -1]], 0))


@trace_cache
def _traced_gradients(estimator, latents, static_options, prefixes):
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def gradients(weights, x, seed, n_replicates, n_samples, dynamic):
        copies = {
            k: tf.broadcast_to(v, tf.concat([[n_replicates], tf.shape(v)], 0))
            for k, v in weights.items()
            if k.startswith(prefixes)
        }
        images = tf.shape(x)[0]
        with tf.GradientTape() as tape:
            tape.watch(copies)
            encoder = {k: copies.get(k, weights[k][None]) for k in weights if k.startswith("enc_")}
            logits = _encode_copies(encoder, x, latents)  # (R, B, n, K)
            logits = tf.broadcast_to(logits, tf.concat([[n_replicates], tf.shape(logits)[1:]], 0))
            flat = tf.reshape(logits, tf.concat([[-1], tf.shape(logits)[2:]], 0))
            xs = tf.reshape(
                tf.broadcast_to(x, tf.concat([[n_replicates], tf.shape(x)], 0)), [-1, x.shape[-1]]
            )
            params = {"logits": flat, "x": xs}  # replicate r, image b at row r B + b
            decoder = {k: v for k, v in weights.items() if k.startswith("dec_")}
            if "dec_w1" in copies:  # one decoder copy per row: replicate r's for its B images
                decoder = {k: tf.repeat(copies[k], images, axis=0) for k in decoder}
            problem = DecoderProblem(latents, **decoder)
            losses = surrogate_loss(
                estimator, problem, params, seed, n_samples, {**static, **dynamic}
            )
            total = tf.reduce_sum(tf.reduce_mean(tf.reshape(losses, [n_replicates, -1]), axis=1))
        return tape.gradient(total, copies)

    return gradients


def gradient_samples(
    estimator, weights, x, arch, n_replicates, n_samples=1, seed=0, which="encoder", **options
):
    """n_replicates independent estimates of the gradient of the mean -ELBO over the images x,
    with respect to the encoder's weights (which="encoder"; the decoder stays shared) or
    to all weights (which="all"): dict name -> array (R, *shape)."""
    if which not in PARTS:
        raise ValueError(f"which must be one of {', '.join(PARTS)}, got {which!r}")
    dtype = weights["dec_w1"].dtype
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    estimator, options = checked_estimator(estimator, arch, n_samples, dtype, options)
    if which == "all" and estimator.enumerates:
        raise ValueError(
            f"{estimator.name!r} evaluates codes without the image axis, which one decoder "
            "copy per replicate needs: use which='encoder'"
        )
    static, dynamic = split_options(options, dtype)
    run = _traced_gradients(estimator, arch.latents, static, PARTS[which])
    x = tf.constant(_images(x, arch, "x"), dtype=dtype)
    grads = run(
        weights, x, checks.seed(seed), tf.constant(n_replicates), tf.constant(n_samples), dynamic
    )
    return {k: v.numpy() for k, v in grads.items()}


def encoder_gradient_samples(
    estimator, weights, x, arch, n_replicates, n_samples=1, seed=0, **options
):
    """gradient_samples of the encoder's weights (the decoder shared)."""
    return gradient_samples(
        estimator, weights, x, arch, n_replicates, n_samples, seed, "encoder", **options
    )


# Codes per pass of the exact gradient: its memory is bounded by a chunk, not K**n.
EXACT_CHUNK = 2**13


def exact_gradient(weights, x, arch, which="encoder"):
    """The gradient of the exact mean -ELBO over x (enumerating K**n codes in chunks), with
    respect to the encoder's weights (which="encoder") or all weights (which="all").

    Computed in float64 whatever the weights' dtype: a sum over K**n codes in
    float32 would lose the digits a bias test at many replicates needs.
    """
    if which not in PARTS:
        raise ValueError(f"which must be one of {', '.join(PARTS)}, got {which!r}")
    weights = {k: tf.cast(v, tf.float64) for k, v in weights.items()}
    x = tf.constant(_images(x, arch, "x"), dtype=tf.float64)
    wanted = {k: v for k, v in weights.items() if k.startswith(PARTS[which])}
    total = {k: 0.0 for k in wanted}
    codes = arch.buckets**arch.latents
    for start in range(0, codes, EXACT_CHUNK):  # the gradient of a sum: chunk by chunk
        with tf.GradientTape() as tape:
            tape.watch(wanted)
            problem, params = _batched({**weights, **wanted}, x, arch.latents)
            loss = problem.reconstruction(params, start, min(EXACT_CHUNK, codes - start))
            if start == 0:
                loss += kl_to_uniform(params["logits"])
            loss = tf.reduce_mean(loss)
        for k, g in tape.gradient(loss, wanted).items():
            total[k] += g.numpy()
    return total


def exact_encoder_gradient(weights, x, arch):
    """exact_gradient of the encoder's weights."""
    return exact_gradient(weights, x, arch, "encoder")
