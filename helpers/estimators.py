"""Gradient estimators, each written once as a surrogate loss against a problem.

A surrogate takes a problem (helpers.problem.Problem: the logits of n
categorical latents and an objective), a parameter mapping whose tensors carry
a leading replicate axis R, a batch of noise and its options, and returns R
scalars: the gradient of scalar r with respect to replicate r's parameters is
that replicate's gradient estimate. `sampling.gradient_samples` turns any
registered estimator into per-replicate gradients in one batched pass. No
estimator knows which model it differentiates.

How s is drawn (Gumbel-max from uniforms, `gumbel_max`; a relaxed draw,
`relaxed_one_hot`; every configuration, `problem.configurations`) is kept
apart from how the draws are weighted (each surrogate). Each estimator also says how
to draw its noise (stateless, from a seed), which options it takes, how many
model evaluations one estimate costs, and which problems it handles.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import checks
from ._tf import tf
from .problem import check_enumerable, configurations, joint_probs


def noise_per_configuration(problem, seed, n_replicates, n_samples, buckets):
    """eps of shape (R, N, K**n): the problem's noise, one draw for every joint configuration."""
    shape = tf.stack([n_replicates, n_samples, buckets**problem.latents])
    return {"eps": problem.noise(seed, shape)}


def with_sample_axis(params):
    """Parameters of shape (R, ...) as (R, 1, ...), to broadcast against (R, N, ...) draws."""
    return {name: tf.expand_dims(value, 1) for name, value in params.items()}


def elementary(problem, params, noise):
    """Enumerate s, sample only the problem's noise: sum_c p_c mean_n g(c, eps_nc).

    The sum over all K**n joint configurations c is exact, so p_c(theta) stays
    inside the autodiff graph; only the continuous noise is sampled (for the
    model, eps in z = mu + sigma eps). The cost is K**n evaluations per sample.
    """
    logits = problem.logits(params)  # (R, n, K)
    if hasattr(problem, "objective_all"):  # the problem's fast path
        values = problem.objective_all(params, noise["eps"])  # (R, N, C)
    else:  # every configuration as a one-hot (C, n, K), parameters as (R, 1, 1, ...)
        buckets = tf.shape(logits)[-1]
        s = tf.one_hot(configurations(problem.latents, buckets), buckets, dtype=logits.dtype)
        params = with_sample_axis(with_sample_axis(params))
        values = problem.objective(params, s, noise["eps"])
    return tf.reduce_sum(
        joint_probs(logits, problem.latents) * tf.reduce_mean(values, axis=1), axis=-1
    )


def uniform_per_category(problem, seed, n_replicates, n_samples, buckets):
    """u of shape (R, N, n, K), strictly inside (0, 1), and the problem's noise eps (R, N).

    u >= the smallest normal float, so -log(-log(u)) is finite; the upper end
    of stateless_uniform's [min, max) is already excluded.
    """
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    shape = tf.stack([n_replicates, n_samples, problem.latents, buckets])
    dtype = problem.dtype
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    u = tf.random.stateless_uniform(shape, seed=seeds[0], minval=tiny, maxval=1, dtype=dtype)
    return {"u": u, "eps": problem.noise(seeds[1], shape[:2])}


def gumbel(u):
    """Standard Gumbel noise from uniforms strictly inside (0, 1)."""
    return -tf.math.log(-tf.math.log(u))


def gumbel_max(logits, u):
    """Exact draws of s as one-hots: onehot(argmax(logits + G)), G Gumbel from u (..., K)."""
    return tf.one_hot(tf.argmax(logits + gumbel(u), axis=-1), tf.shape(u)[-1], dtype=u.dtype)


def relaxed_one_hot(logits, u, tau, straight_through=False):
    """softmax((log p + G) / tau): a point on the simplex, one-hot as tau -> 0.

    tf.nn.softmax subtracts the maximum before exponentiating, so a tiny tau
    (large logits / tau) gives no overflow in float32 or float64. With
    straight_through, the forward value is the exact one-hot of the argmax and
    the gradient is the relaxed sample's. Any leading axes, one relaxed
    categorical per row of the last axis (so (..., n, K) relaxes n latents).
    """
    soft = tf.nn.softmax((tf.nn.log_softmax(logits, axis=-1) + gumbel(u)) / tau, axis=-1)
    if not straight_through:
        return soft
    hard = tf.one_hot(tf.argmax(soft, axis=-1), tf.shape(soft)[-1], dtype=soft.dtype)
    return hard + (soft - tf.stop_gradient(soft))


def gumbel_softmax(problem, params, noise, tau, straight_through):
    """Relax each s_i to y_i = softmax((log p_i + G_i) / tau) and feed y to the objective.

    Unbiased for the gradient of the relaxed objective E g(y, eps), a biased
    estimate of the true gradient; the bias vanishes as tau -> 0.
    """
    params = with_sample_axis(params)
    y = relaxed_one_hot(problem.logits(params), noise["u"], tau, straight_through)  # (R, N, n, K)
    return tf.reduce_mean(problem.objective(params, y, noise["eps"]), axis=1)


def _check_gumbel_options(options, n_samples, latents, buckets, dtype=None):
    flag = checks.flag(options["straight_through"], "straight_through")
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "straight_through": flag}


BASELINES = ("none", "constant", "optimal", "loo")


def score_term(weight, log_q):
    """Value 0, gradient weight * grad log q: the log-derivative trick, weight held constant."""
    return tf.stop_gradient(weight) * (log_q - tf.stop_gradient(log_q))


def leave_one_out_mean(values):
    """For each of the N draws (axis 1), the mean of the other N - 1: (R, N, ...)."""
    n = tf.cast(tf.shape(values)[1], values.dtype)
    return (tf.reduce_sum(values, axis=1, keepdims=True) - values) / (n - 1)


def score_function(problem, params, noise, baseline="none", value=None, pathwise_z=True):
    """The log-derivative trick: grad E g = E[(g - b) grad log q] (+ the pathwise part).

    s is drawn by Gumbel-max, log q(s) = sum_i log p_i(s_i). pathwise_z=True
    scores only s and reparameterises the continuous noise (z = mu_s + sigma_s
    eps for the model); pathwise_z=False scores both, adding the log density of
    the continuous sample (problem.scored_objective), with no gradient through
    it. The baseline b must not depend on the draw it multiplies: a constant,
    the exact optimal constant (problem.optimal_baseline), or the mean of the
    other draws (leave-one-out).
    """
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(log_p), noise["u"])  # (R, N, n, K)
    log_q = tf.reduce_sum(tf.reduce_sum(s * log_p, axis=-1), axis=-1)  # (R, N)
    if pathwise_z:
        f_z = problem.objective(params, s, noise["eps"])
    else:
        f_z, log_density = problem.scored_objective(params, s, noise["eps"])
        log_q += log_density
    if baseline == "constant":
        b = value
    elif baseline == "optimal":
        b = problem.optimal_baseline(params, pathwise_z)
    elif baseline == "loo":
        b = leave_one_out_mean(f_z)
    else:
        b = 0.0
    # Value g; gradient: pathwise part of g + (g - b) grad log q.
    return tf.reduce_mean(f_z + score_term(f_z - b, log_q), axis=1)


def _check_score_options(options, n_samples, latents, buckets, dtype=None):
    baseline, value = options["baseline"], options["value"]
    if baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; allowed: {', '.join(BASELINES)}")
    pathwise_z = checks.flag(options["pathwise_z"], "pathwise_z")
    if baseline == "loo" and n_samples < 2:
        raise ValueError(
            f"baseline='loo' averages the other draws of a replicate, so it needs "
            f"n_samples >= 2, got n_samples={n_samples}"
        )
    if baseline != "constant" and value is not None:
        raise ValueError(f"value is used only with baseline='constant', not {baseline!r}")
    if baseline == "constant":
        value = checks.real(0.0 if value is None else value, "value", dtype)
    if baseline == "optimal":
        check_enumerable(latents, buckets, "baseline='optimal'")
    return {**options, "value": value, "pathwise_z": pathwise_z}


def optimal_baseline_at(problem, params, pathwise_z):
    """problem.optimal_baseline for one parameter mapping without a replicate axis, as a float."""
    if not hasattr(problem, "optimal_baseline"):
        raise ValueError(
            f"baseline='optimal' needs a problem with an optimal_baseline method; "
            f"{type(problem).__name__} has none"
        )
    batched = with_sample_axis({name: tf.convert_to_tensor(v)[None] for name, v in params.items()})
    return float(problem.optimal_baseline(batched, pathwise_z)[0, 0])


def _prepare_score_options(problem, params, options):
    """One shared theta: the optimal baseline is one number, used as a constant."""
    if options["baseline"] != "optimal":
        return options
    value = optimal_baseline_at(problem, params, options["pathwise_z"])
    return {**options, "baseline": "constant", "value": value}


@dataclass(eq=False)
class Estimator:
    """An estimator: its surrogate, its noise, its options, its cost, the problems it handles."""

    name: str
    surrogate: Callable  # (problem, params, noise, **options) -> (R,) surrogates
    noise: Callable  # (problem, seed, n_replicates, n_samples, buckets) -> dict of tensors
    # (buckets, n_samples, latents=1, **options) -> model evaluations per estimate
    evaluations: Callable
    options: dict = field(default_factory=dict)  # option name -> default value
    # (options, n_samples, latents, buckets) -> checked options, or ValueError
    check: Callable = None
    # (problem, params, options) -> options, once per call of gradient_samples, where
    # every replicate shares one theta: work that depends on theta alone goes here.
    prepare: Callable = None
    enumerates: bool = False  # sums over all K**n joint configurations
    max_latents: int = None  # the most latents it handles; None: any number
    noise_options: tuple = ()  # options that `noise` also takes, as keywords
    # (buckets, n_samples, **options) -> noise values one replicate draws, when not the default
    noise_values: Callable = None
    # An estimator with a learned state (option "state", a dict of tensors):
    # (problem, params, noise, state, names) -> (per-replicate gradients, |grad_r|^2
    # over `names`, gradient of their sum with respect to the state). optimise
    # descends it, learning the state beside theta.
    variance_step: Callable = None

    def checked_options(self, options, n_samples, latents, buckets, dtype=None):
        """The options merged with the defaults and checked, for a problem of this size.

        dtype, when given, is the problem's: numbers must be representable in it.
        """
        if self.max_latents is not None and latents > self.max_latents:
            raise ValueError(
                f"estimator {self.name!r} handles at most {self.max_latents} categorical "
                f"latent(s), got a problem with latents={latents}"
            )
        if self.enumerates:
            check_enumerable(latents, buckets, f"estimator {self.name!r}")
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            allowed = ", ".join(sorted(self.options)) or "none"
            raise ValueError(
                f"estimator {self.name!r} has no option {unknown[0]!r}; allowed options: {allowed}"
            )
        merged = {**self.options, **options}
        if not self.check:
            return merged
        return self.check(merged, n_samples, latents, buckets, dtype=dtype)

    def values_per_replicate(self, buckets, latents, n_samples, options=None):
        """Noise values one replicate draws: sizes the chunks of gradient_samples."""
        if self.noise_values:
            return self.noise_values(buckets, n_samples, **(options or {}))
        return n_samples * (buckets**latents if self.enumerates else latents * buckets)

    def working_values(self, problem, buckets, latents, n_samples, options=None):
        """Values one replicate's pass holds at once: groups the chunks into passes."""
        return self.values_per_replicate(buckets, latents, n_samples, options)


ESTIMATORS = {}


def register(estimator):
    """Make an Estimator available by name and by its surrogate function."""
    ESTIMATORS[estimator.name] = estimator
    return estimator


def resolve(estimator):
    """The Estimator for a name or a registered surrogate function."""
    if isinstance(estimator, Estimator):
        return estimator
    for known in ESTIMATORS.values():
        if estimator == known.name or estimator is known.surrogate:
            return known
    names = ", ".join(repr(name) for name in ESTIMATORS)
    raise ValueError(f"unknown estimator {estimator!r}; known estimators: {names}")


register(
    Estimator(
        name="elementary",
        surrogate=elementary,
        noise=noise_per_configuration,
        evaluations=lambda buckets, n_samples, latents=1, **_: buckets**latents * n_samples,
        enumerates=True,
    )
)

register(
    Estimator(
        name="gumbel_softmax",
        surrogate=gumbel_softmax,
        noise=uniform_per_category,
        evaluations=lambda buckets, n_samples, latents=1, **_: n_samples,
        options={"tau": 1.0, "straight_through": False},
        check=_check_gumbel_options,
    )
)

register(
    Estimator(
        name="score_function",
        surrogate=score_function,
        noise=uniform_per_category,
        evaluations=lambda buckets, n_samples, latents=1, **_: n_samples,
        options={"baseline": "none", "value": None, "pathwise_z": True},
        check=_check_score_options,
        prepare=_prepare_score_options,
    )
)


# --- Beyond baselines: Rao-Blackwellisation, sampling without replacement, REBAR,
# Gumbel-Rao (notebook 06). All four handle one categorical latent (max_latents=1).


def _one_latent_log_p(problem, params):
    """log p of the one categorical latent, (R, 1, K), from params with a sample axis."""
    return tf.nn.log_softmax(problem.logits(params), axis=-1)[..., 0, :]


def _category_objective(problem, params, eps):
    """g(c, eps_c) for every category c: (R, K), params (R, 1, ...), eps (R, K).

    Computes all K values in one pass; an estimator that keeps only some of them
    (the ones it counts as evaluations) multiplies the rest by zero.
    """
    buckets = tf.shape(eps)[-1]
    one_hots = tf.eye(buckets, dtype=eps.dtype)[:, None, :]  # (K, 1, K): s for each category
    return problem.objective(params, one_hots, eps)


def noise_with_categories(problem, seed, n_replicates, n_samples, buckets):
    """uniform_per_category's u and eps (the same numbers for the same seed), and
    eps_category (R, K): one more normal per category, for the categories an
    estimator enumerates or draws without replacement."""
    noise = uniform_per_category(problem, seed, n_replicates, n_samples, buckets)
    extra = tf.random.experimental.stateless_fold_in(seed, 1)
    noise["eps_category"] = problem.noise(extra, tf.stack([n_replicates, buckets]))
    return noise


def sum_and_sample(problem, params, noise, top, baseline):
    """Rao-Blackwellised score function (Liu et al. 2019): enumerate the `top` most
    probable categories T, sample the rest from p restricted to the complement C.

    grad L = sum_{c in T} grad(p_c m_c) + grad(w E_{q_C}[g]), w = sum_{c in C} p_c,
    q_C = p / w on C. The sampled term's estimator is the hybrid score function of
    q_C, plus grad w times g; with no baseline that is w [grad g + g grad log p_s],
    the hybrid score function weighted by w. A LOO baseline b multiplies
    grad log q_C(s) = grad log p_s - grad log w (zero mean under q_C).
    """
    params = with_sample_axis(params)
    log_p = _one_latent_log_p(problem, params)  # (R, 1, K)
    p = tf.exp(log_p)
    rank = tf.argsort(tf.argsort(-tf.stop_gradient(p), axis=-1), axis=-1)  # 0 = most probable
    in_top = rank < tf.cast(top, rank.dtype)
    zeros = tf.zeros_like(p)
    enumerated = tf.where(in_top, p, zeros)  # p_c on T, 0 elsewhere: (R, 1, K)
    values = _category_objective(problem, params, noise["eps_category"])  # (R, K)
    exact_part = tf.reduce_sum(enumerated[:, 0] * values, axis=-1)
    w = tf.reduce_sum(tf.where(in_top, zeros, p), axis=-1)  # complement's mass (R, 1)
    # Draws from q_C by Gumbel-max on the complement (any category when C is empty, w = 0).
    masked = tf.where(in_top, tf.constant(-np.inf, p.dtype), log_p)
    s = gumbel_max(tf.stop_gradient(masked)[:, :, None, :], noise["u"])  # (R, N, 1, K)
    f_z = problem.objective(params, s, noise["eps"])  # (R, N)
    safe_w = tf.where(w > 0, w, tf.ones_like(w))
    log_q = tf.reduce_sum(s[..., 0, :] * log_p, axis=-1) - tf.math.log(safe_w)  # (R, N)
    b = leave_one_out_mean(f_z) if baseline == "loo" else 0.0
    sampled = w[:, 0] * tf.reduce_mean(f_z + score_term(f_z - b, log_q), axis=1)
    return exact_part + sampled


def _check_sum_and_sample_options(options, n_samples, latents, buckets, dtype=None):
    top = checks.integer(options["top"], "top", 0)
    if top > buckets:
        raise ValueError(f"top must be between 0 and K = {buckets}, got top={top}")
    if options["baseline"] not in ("none", "loo"):
        raise ValueError(
            f"sum_and_sample's baseline must be 'none' or 'loo', got {options['baseline']!r}"
        )
    if options["baseline"] == "loo" and n_samples < 2:
        raise ValueError(
            f"baseline='loo' averages the other draws of a replicate, so it needs "
            f"n_samples >= 2, got n_samples={n_samples}"
        )
    return {**options, "top": top}


def _sum_and_sample_evaluations(buckets, n_samples, top=0, **_):
    """top enumerated + n_samples drawn; at top = K nothing is left to draw."""
    return buckets if top >= buckets else top + n_samples


def gumbel_top_k(log_p, u, k):
    """k distinct categories, without replacement: the k largest log p + G, as indices (..., k)."""
    return tf.math.top_k(log_p + gumbel(u), k=k).indices


def set_weights(log_p, members, orderings):
    """Weights of the unordered set estimator (Kool et al. 2020) for sets S = members.

    log_p (R, K), members (R, k) indices, orderings (k!, k) all permutations of 0..k-1.
    With t(o) = prod_i p_{o_i} / (1 - sum_{j<i} p_{o_j}) the probability of drawing S
    in the order o: p(S) = sum_o t(o), A_s = sum_{o: o_1 = s} t(o),
    B_{s s'} = sum_{o: o_1 = s, o_2 = s'} t(o). Returns
      weight (R, k):     p(s) R(S, s) = A_s / p(S)
      leave (R, k, k):   p(s') R^{D\\s}(S, s') = B_{s s'} (1 - p_s) / A_s for s' != s,
                         p_s on the diagonal (the baseline of s, Kool et al. eq. 17).
    """
    k = len(orderings[0])
    p_set = tf.exp(tf.gather(log_p, members, batch_dims=1))  # (R, k)
    order = tf.constant(orderings, dtype=tf.int32)  # (O, k)
    p_ordered = tf.gather(p_set, order, axis=-1)  # (R, O, k)
    before = tf.math.cumsum(p_ordered, axis=-1, exclusive=True)
    log_t = tf.reduce_sum(tf.math.log(p_ordered) - tf.math.log1p(-before), axis=-1)  # (R, O)
    t = tf.exp(log_t)
    first = tf.one_hot(order[:, 0], k, dtype=t.dtype)  # (O, k)
    a = tf.linalg.matvec(first, t, transpose_a=True)  # (R, k)
    if k > 1:
        pair = first[:, :, None] * tf.one_hot(order[:, 1], k, dtype=t.dtype)[:, None, :]
        b = tf.einsum("ro,ost->rst", t, pair)  # (R, k, k)
    else:
        b = tf.zeros_like(a)[..., None]
    p_of_set = tf.reduce_sum(t, axis=-1, keepdims=True)
    leave = b * ((1 - p_set) / a)[..., None] + tf.linalg.diag(p_set)
    return a / p_of_set, leave


def unordered_set(problem, params, noise, orderings):
    """The unordered set estimator with its built-in baseline (Kool et al. 2020).

    S: k distinct categories by Gumbel-top-k. Score part
    sum_{s in S} p(s) R(S, s) (g_s - b_s) grad log p_s, with b_s = sum_{s' in S}
    p(s') R^{D\\s}(S, s') g_{s'}; pathwise part sum_{s in S} p(s) R(S, s) grad g_s
    (the same weights, held constant). k = len(orderings[0]) = n_samples.
    """
    params = with_sample_axis(params)
    log_p = _one_latent_log_p(problem, params)[:, 0]  # (R, K)
    k = len(orderings[0])
    members = gumbel_top_k(tf.stop_gradient(log_p), noise["u"][:, 0, 0], k)  # (R, k)
    values = tf.gather(
        _category_objective(problem, params, noise["eps_category"]), members, batch_dims=1
    )
    weight, leave = (
        tf.stop_gradient(v) for v in set_weights(tf.stop_gradient(log_p), members, orderings)
    )
    b = tf.linalg.matvec(leave, values)  # (R, k): b_s
    log_q = tf.gather(log_p, members, batch_dims=1)
    return tf.reduce_sum(weight * (values + score_term(values - b, log_q)), axis=-1)


# k! orderings per replicate: 8! = 40,320 keeps one replicate's work near a millisecond.
MAX_SET_SIZE = 8


def _check_unordered_set_options(options, n_samples, latents, buckets, dtype=None):
    if not 2 <= n_samples <= buckets:
        raise ValueError(
            f"unordered_set draws n_samples = k distinct categories, so it needs "
            f"2 <= k <= K = {buckets}, got n_samples={n_samples}"
        )
    if n_samples > MAX_SET_SIZE:
        raise ValueError(
            f"unordered_set sums over the k! orderings of a set, so it allows "
            f"k <= {MAX_SET_SIZE}, got n_samples={n_samples}"
        )
    return {**options, "orderings": tuple(itertools.permutations(range(n_samples)))}


def conditional_gumbel(log_p, b, v):
    """z~ ~ (log p + G) given argmax = b, from fresh uniforms v, in log space.

    log_p normalised (logsumexp 0), b one-hot, v (..., K) strictly inside (0, 1).
    The maximum is a standard Gumbel: z~_b = -log E_b with E = -log v; every other
    coordinate is Gumbel(log p_i) truncated below it: z~_i = -log(E_i / p_i + E_b),
    computed as -logaddexp(log E_i - log p_i, log E_b) (Tucker et al. 2017).
    """
    log_e = -gumbel(v)  # log(-log v)
    log_e_b = tf.reduce_sum(b * log_e, axis=-1, keepdims=True)
    others = -tf.math.reduce_logsumexp(
        tf.stack([log_e - log_p, tf.broadcast_to(log_e_b, tf.shape(log_e))], axis=-1), axis=-1
    )
    return tf.where(b > 0, -log_e_b, others)


def uniform_twice(problem, seed, n_replicates, n_samples, buckets):
    """uniform_per_category's u and eps (the same numbers for the same seed), and
    v (R, N, 1, K): fresh uniforms for the conditional Gumbel z~ given s."""
    noise = uniform_per_category(problem, seed, n_replicates, n_samples, buckets)
    extra = tf.random.experimental.stateless_fold_in(seed, 2)
    tiny = np.finfo(problem.dtype.as_numpy_dtype).tiny
    noise["v"] = tf.random.stateless_uniform(
        tf.shape(noise["u"]), seed=extra, minval=tiny, maxval=1, dtype=problem.dtype
    )
    return noise


def rebar_draws(problem, params, noise):
    """What REBAR and RELAX share, for params with a sample axis: z = log p + G, its
    conditional z~ given s = argmax z, eps, g(s, eps) and log p_s (each (R, N) but z, z~)."""
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, 1, K)
    z = log_p + gumbel(noise["u"])  # (R, N, 1, K)
    s = tf.one_hot(tf.argmax(tf.stop_gradient(z), axis=-1), tf.shape(z)[-1], dtype=z.dtype)
    z_tilde = conditional_gumbel(log_p, s, noise["v"])
    eps = noise["eps"]
    log_q = tf.reduce_sum(s * log_p, axis=[-2, -1])
    return z, z_tilde, eps, problem.objective(params, s, eps), log_q


def rebar(problem, params, noise, tau, eta=1.0):
    """REBAR for one categorical (Tucker et al. 2017), z = log p + G, s = argmax z.

    grad = grad g(s) + [g(s) - eta g(sigma(z~))] grad log p_s
           + eta grad g(sigma(z)) - eta grad g(sigma(z~)),
    sigma(.) = softmax(. / tau), z~ ~ z | s (conditional_gumbel), all three with the
    same eps. The control variate has mean zero for every tau and eta.
    """
    params = with_sample_axis(params)
    z, z_tilde, eps, f_hard, log_q = rebar_draws(problem, params, noise)
    f_relaxed = problem.objective(params, tf.nn.softmax(z / tau, axis=-1), eps)
    f_conditional = problem.objective(params, tf.nn.softmax(z_tilde / tau, axis=-1), eps)
    surrogate = f_hard + score_term(f_hard - eta * f_conditional, log_q)
    surrogate += eta * (f_relaxed - f_conditional)
    return tf.reduce_mean(surrogate, axis=1)


def _check_rebar_options(options, n_samples, latents, buckets, dtype=None):
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "eta": checks.real(options["eta"], "eta", dtype)}


def gumbel_rao(problem, params, noise, tau, n_gumbel):
    """Straight-through Gumbel with its gradient averaged over n_gumbel = M conditional
    Gumbels given s (Paulus et al. 2021): forward one-hot(s), gradient through
    mean_m softmax((log p + G~_m) / tau), G~_m = z~_m - log p held constant."""
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, 1, K)
    u = noise["u"]  # (R, N, 1, K)
    s = gumbel_max(tf.stop_gradient(log_p), u)
    z_tilde = conditional_gumbel(tf.stop_gradient(log_p)[:, :, None], s[:, :, None], noise["v"])
    g_tilde = tf.stop_gradient(z_tilde - log_p[:, :, None])  # (R, N, M, 1, K)
    soft = tf.reduce_mean(tf.nn.softmax((log_p[:, :, None] + g_tilde) / tau, axis=-1), axis=2)
    y = s + soft - tf.stop_gradient(soft)
    return tf.reduce_mean(problem.objective(params, y, noise["eps"]), axis=1)


def uniform_and_conditionals(problem, seed, n_replicates, n_samples, buckets, n_gumbel):
    """uniform_per_category's u and eps, and v (R, N, M, 1, K) for M conditional Gumbels."""
    noise = uniform_per_category(problem, seed, n_replicates, n_samples, buckets)
    extra = tf.random.experimental.stateless_fold_in(seed, 2)
    tiny = np.finfo(problem.dtype.as_numpy_dtype).tiny
    shape = tf.concat([tf.shape(noise["u"])[:2], [tf.cast(n_gumbel, tf.int32)], [1, buckets]], 0)
    noise["v"] = tf.random.stateless_uniform(
        shape, seed=extra, minval=tiny, maxval=1, dtype=problem.dtype
    )
    return noise


def _check_gumbel_rao_options(options, n_samples, latents, buckets, dtype=None):
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "n_gumbel": checks.integer(options["n_gumbel"], "n_gumbel", 1)}


register(
    Estimator(
        name="sum_and_sample",
        surrogate=sum_and_sample,
        noise=noise_with_categories,
        evaluations=_sum_and_sample_evaluations,
        options={"top": 1, "baseline": "none"},
        check=_check_sum_and_sample_options,
        max_latents=1,
    )
)

register(
    Estimator(
        name="unordered_set",
        surrogate=unordered_set,
        noise=noise_with_categories,
        evaluations=lambda buckets, n_samples, latents=1, **_: n_samples,
        check=_check_unordered_set_options,
        max_latents=1,
        # the k! orderings of each set are the working set, not the noise: chunk by them
        noise_values=lambda buckets, n_samples, **_: (
            n_samples * (buckets + 2 * math.factorial(n_samples))
        ),
    )
)

register(
    Estimator(
        name="rebar",
        surrogate=rebar,
        noise=uniform_twice,
        evaluations=lambda buckets, n_samples, latents=1, **_: 3 * n_samples,
        options={"tau": 1.0, "eta": 1.0},
        check=_check_rebar_options,
        max_latents=1,
    )
)

register(
    Estimator(
        name="gumbel_rao",
        surrogate=gumbel_rao,
        noise=uniform_and_conditionals,
        evaluations=lambda buckets, n_samples, latents=1, **_: n_samples,
        options={"tau": 1.0, "n_gumbel": 1},
        check=_check_gumbel_rao_options,
        max_latents=1,
        noise_options=("n_gumbel",),
        noise_values=lambda buckets, n_samples, n_gumbel=1, **_: (
            n_samples * buckets * (2 + n_gumbel)
        ),
    )
)


# IndeCateR (De Smet et al. 2023): independent categorical REINFORCE, one latent at a time.


def indecater_noise(problem, seed, n_replicates, n_samples, buckets):
    """u (R, M, n, K) for the M joint draws, and eps (R, M, n, 1): one per draw and latent.

    Latent i's K evaluations share one eps (common random numbers): its sum over
    categories then compares the categories under the same continuous noise,
    which removes that noise from the logits' estimate where the categories
    agree. Different latents and draws get independent eps, which the
    pathwise part averages.
    """
    shape = tf.stack([n_replicates, n_samples, problem.latents, buckets])
    dtype = problem.dtype
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    u_seed = tf.random.experimental.stateless_fold_in(seed, 1)
    u = tf.random.stateless_uniform(shape, seed=u_seed, minval=tiny, maxval=1, dtype=dtype)
    return {"u": u, "eps": problem.noise(seed, tf.concat([shape[:3], [1]], 0))}


def one_latent_changed(s):
    """s (..., n, K) with latent i set to category k, for every (i, k): (..., n, K, n, K)."""
    latents, buckets = s.shape[-2], tf.shape(s)[-1]
    same = tf.eye(latents, dtype=s.dtype)[:, None, :, None]  # (n, 1, n, 1): j == i
    category = tf.eye(buckets, dtype=s.dtype)[None, :, None, :]  # (1, K, 1, K): onehot(k)
    return s[..., None, None, :, :] * (1 - same) + same * category


def indecater(problem, params, noise):
    """For each latent i, sum over its K categories with the other latents at their draws.

    With M joint draws s^m (Gumbel-max) and g_mik = g(s^m with s_i = k, eps_mi):
        logits of latent i:     mean_m sum_k grad p_i(k) g_mik
        continuous parameters:  mean_m mean_i sum_k p_i(k) grad g_mik
    Each latent's term is an exact sum over s_i given draws of the others, so
    both parts are unbiased; the cost is M n K evaluations. For n = 1 there are
    no others, and this is the elementary estimator given one eps for all K
    categories.
    """
    params = with_sample_axis(params)
    p = tf.nn.softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(tf.math.log(p)), noise["u"])  # (R, M, n, K)
    if hasattr(problem, "objective_one_changed"):  # the problem's fast path: O(n K) per draw
        g = problem.objective_one_changed(params, s, noise["eps"])  # (R, M, n, K)
    else:  # the n K changed draws as one-hots (R, M, n, K, n, K): O((n K)**2) per draw
        branch = with_sample_axis(with_sample_axis(params))  # (R, 1, 1, 1, ...)
        eps = tf.broadcast_to(noise["eps"], tf.shape(s))  # (R, M, n, K): shared over k
        g = problem.objective(branch, one_latent_changed(s), eps)  # (R, M, n, K)
    pathwise = tf.reduce_mean(tf.reduce_sum(tf.stop_gradient(p) * g, axis=-1), axis=-1)
    discrete = tf.reduce_sum(p * tf.stop_gradient(g), axis=[-2, -1])
    # Value: the pathwise average (an estimate of L); gradient: both parts.
    surrogate = pathwise + discrete - tf.stop_gradient(discrete)
    return tf.reduce_mean(surrogate, axis=1)


class IndeCateR(Estimator):
    def values_per_replicate(self, buckets, latents, n_samples, options=None):
        """n K evaluations per sample, each of a one-hot of n K values: sizes the chunks."""
        return n_samples * (latents * buckets) ** 2

    def working_values(self, problem, buckets, latents, n_samples, options=None):
        """With the problem's fast path no one-hot is materialised: n K values per sample."""
        if hasattr(problem, "objective_one_changed"):
            return n_samples * latents * buckets
        return self.values_per_replicate(buckets, latents, n_samples, options)


register(
    IndeCateR(
        name="indecater",
        surrogate=indecater,
        noise=indecater_noise,
        evaluations=lambda buckets, n_samples, latents=1, **_: n_samples * latents * buckets,
    )
)
