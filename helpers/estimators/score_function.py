"""The log-derivative trick and the estimators that reduce its variance.

The score function with its baselines (notebook 04): none, a constant, the exact optimal
constant (an oracle), leave-one-out, and in optimise a moving average. For one latent
(notebook 07): sum-and-sample (Liu et al. 2019), which enumerates the most probable
categories and samples the rest, and the unordered set (Kool et al. 2020), k distinct draws.
"""

import itertools
import math

import numpy as np

from .. import checks
from .._tf import tf
from ..problem import check_enumerable
from .draws import gumbel, gumbel_max, uniform_per_category, with_sample_axis
from .registry import ControlVariate, Estimator, per_sample, register


def score_term(weight, log_q):
    """Value 0, gradient weight * grad log q: the log-derivative trick, weight held constant."""
    return tf.stop_gradient(weight) * (log_q - tf.stop_gradient(log_q))


def leave_one_out_mean(values):
    """For each of the N draws (axis 1), the mean of the other N - 1: (R, N, ...)."""
    n = tf.cast(tf.shape(values)[1], values.dtype)
    return (tf.reduce_sum(values, axis=1, keepdims=True) - values) / (n - 1)


# A baseline b must not depend on the draw it multiplies (E[b grad log q] = 0, nothing to
# correct). name -> b(problem, params, the draws' values f, value, pathwise_z)
BASELINES = {
    "none": lambda problem, params, f, value, z: 0.0,
    "constant": lambda problem, params, f, value, z: value,
    "optimal": lambda problem, params, f, value, z: problem.optimal_baseline(params, z),
    "loo": lambda problem, params, f, value, z: leave_one_out_mean(f),
}


def score_function(problem, params, noise, baseline="none", value=None, pathwise_z=True):
    """The log-derivative trick: grad E g = E[(g - b) grad log q] (+ the pathwise part), s by
    Gumbel-max, log q(s) = sum_i log p_i(s_i). pathwise_z=True scores s alone and
    reparameterises the continuous noise (z = mu_s + sigma_s eps); pathwise_z=False also scores
    z, adding its log density (problem.scored_objective) with no gradient through it. The
    baseline b is one of BASELINES."""
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(log_p), noise["u"])  # (R, N, n, K)
    log_q = tf.reduce_sum(tf.reduce_sum(s * log_p, axis=-1), axis=-1)  # (R, N)
    if pathwise_z:
        f_z = problem.objective(params, s, noise["eps"])
    else:
        f_z, log_density = problem.scored_objective(params, s, noise["eps"])
        log_q += log_density
    b = BASELINES[baseline](problem, params, f_z, value, pathwise_z)
    # Value g; gradient: pathwise part of g + (g - b) grad log q.
    return tf.reduce_mean(f_z + score_term(f_z - b, log_q), axis=1)


def _check_loo(baseline, n_samples):
    if baseline == "loo" and n_samples < 2:
        raise ValueError(
            f"baseline='loo' averages the other draws of a replicate, so it needs "
            f"n_samples >= 2, got n_samples={n_samples}"
        )


def _check_score_options(options, n_samples, latents, buckets, dtype=None):
    baseline, value = options["baseline"], options["value"]
    if baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; allowed: {', '.join(BASELINES)}")
    pathwise_z = checks.flag(options["pathwise_z"], "pathwise_z")
    _check_loo(baseline, n_samples)
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


register(Estimator("score_function", score_function, uniform_per_category, per_sample,
                   options={"baseline": "none", "value": None, "pathwise_z": True},
                   check=_check_score_options, prepare=_prepare_score_options))  # fmt: skip


def _average_update(state, step, values, state_gradient):
    """The step's values join the average after use: the baseline never sees its own draw.
    ensure_shape: the loop keeps the state's shape, one run's (1, 1) must not become (None, 1)."""
    decay = state["decay"]
    average = decay * state["average"] + (1 - decay) * tf.stop_gradient(values)[:, None]
    return {**state, "average": tf.ensure_shape(average, state["average"].shape)}


# optimise(..., moving_average=decay): a per-run exponential moving average of past values as
# the baseline `value`, from zero, bias-corrected as in Adam (no baseline at step 0).
MOVING_AVERAGE = ControlVariate(
    init=lambda problem, params, options: {
        "average": tf.zeros([tf.shape(problem.logits(params))[0], 1], dtype=problem.dtype),
        "decay": tf.constant(options["decay"], problem.dtype),
    },
    value=lambda state, step: {
        "value": tf.math.divide_no_nan(
            state["average"], 1 - state["decay"] ** tf.cast(step, state["decay"].dtype)
        )
    },
    update=_average_update,
)


# Why sum_and_sample and unordered_set refuse several latents, and what to use instead.
ONE_LATENT_ONLY = (
    ": they sum over, or draw without replacement, the likeliest categories of one "
    "categorical; of n latents' K**n configurations the k likeliest hold a mass that shrinks "
    "geometrically in n. Use 'indecater' or 'score_function' with baseline='loo'"
)


def _objective_at(problem, params, categories, noise):
    """g(c, eps_c) (R, M) at the one latent's categories (R, M), each with its eps_category:
    only these M one-hots are made per replicate, not K."""
    eps = tf.gather(noise["eps_category"], categories, batch_dims=1)
    s = tf.one_hot(categories, tf.shape(noise["u"])[-1], dtype=eps.dtype)[..., None, :]
    return problem.objective(params, s, eps)


def noise_with_categories(problem, seed, n_replicates, n_samples, buckets):
    """uniform_per_category's u and eps (the same numbers for the same seed), and
    eps_category (R, K): the noise of each category enumerated or drawn without replacement."""
    noise = uniform_per_category(problem, seed, n_replicates, n_samples, buckets)
    extra = tf.random.experimental.stateless_fold_in(seed, 1)
    noise["eps_category"] = problem.noise(extra, tf.stack([n_replicates, buckets]))
    return noise


def sum_and_sample(problem, params, noise, top, baseline):
    """Rao-Blackwellised score function (Liu et al. 2019): enumerate the `top` most probable
    categories T, sample the rest from p restricted to the complement C: grad L = sum_{c in T}
    grad(p_c m_c) + grad(w E_{q_C}[g]), w = sum_{c in C} p_c, q_C = p / w on C. With no baseline
    the sampled term is w [grad g + g grad log p_s]; a LOO baseline b multiplies grad log q_C(s)
    = grad log p_s - grad log w (zero mean under q_C)."""
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)[..., 0, :]  # (R, 1, K)
    p = tf.exp(log_p)
    order = tf.argsort(-tf.stop_gradient(p), axis=-1)  # the most probable first
    in_top = tf.argsort(order, axis=-1) < tf.cast(top, tf.int32)  # rank < top: (R, 1, K)
    enumerated = order[:, 0, : tf.cast(top, tf.int32)]  # T: (R, top)
    values = _objective_at(problem, params, enumerated, noise)
    exact_part = tf.reduce_sum(tf.gather(p[:, 0], enumerated, batch_dims=1) * values, axis=-1)
    w = tf.reduce_sum(tf.where(in_top, tf.zeros_like(p), p), axis=-1)  # C's mass (R, 1)
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
    _check_loo(options["baseline"], n_samples)
    return {**options, "top": top}


# Evaluations: top enumerated + n_samples drawn (at top = K nothing is left to draw).
# Sizes: the N draws' uniforms and the top enumerated one-hots, K (N + top) values.
register(Estimator("sum_and_sample", sum_and_sample, noise_with_categories,
                   lambda buckets, n_samples, top=0, **_: (
                       buckets if top >= buckets else top + n_samples),
                   options={"top": 1, "baseline": "none"}, check=_check_sum_and_sample_options,
                   max_latents=1, why_max_latents=ONE_LATENT_ONLY,
                   sizes=lambda problem, latents, buckets, n_samples, options: (
                       (buckets * (n_samples + options["top"]),) * 2)))  # fmt: skip


def set_weights(log_p, members, orderings):
    """Weights of the unordered set estimator (Kool et al. 2020) for sets S = members.

    log_p (R, K), members (R, k) indices, orderings (k!, k) all permutations of 0..k-1. t(o) =
    prod_i p_{o_i} / (1 - sum_{j<i} p_{o_j}) is the probability of drawing S in the order o:
    p(S) = sum_o t(o), A_s = sum_{o: o_1 = s} t(o), B_{s s'} = sum_{o: o_1 = s, o_2 = s'} t(o).
    Returns weight (R, k) = p(s) R(S, s) = A_s / p(S), and leave (R, k, k) = p(s') R^{D\\s}(S,
    s') = B_{s s'} (1 - p_s) / A_s for s' != s, p_s on the diagonal (the baseline of s, Kool et
    al. eq. 17). Each 1 - (mass drawn) is the log of the mass left, never a difference: exact
    even where one p_s rounds to 1.
    """
    k = len(orderings[0])
    log_set = tf.gather(log_p, members, batch_dims=1)  # (R, k)
    chosen = tf.one_hot(members, tf.shape(log_p)[-1]) > 0  # (R, k, K)
    never = tf.constant(-np.inf, log_p.dtype)
    log_rest = tf.reduce_logsumexp(tf.where(tf.reduce_any(chosen, 1), never, log_p), -1)
    log_not_s = tf.reduce_logsumexp(tf.where(chosen, never, log_p[:, None]), -1)  # (R, k)
    order = tf.constant(orderings, dtype=tf.int32)  # (O, k)
    log_ordered = tf.gather(log_set, order, axis=-1)  # (R, O, k)
    rest = tf.broadcast_to(log_rest[:, None, None], tf.shape(log_ordered[..., :1]))
    # log(1 - sum_{j<i} p_{o_j}) = log(rest + sum_{j>=i} p_{o_j}), a reversed cumulative sum
    log_left = tf.math.cumulative_logsumexp(tf.concat([log_ordered, rest], -1), -1, reverse=True)
    log_t = tf.reduce_sum(log_ordered - log_left[..., :k], axis=-1)  # (R, O)
    t = tf.exp(log_t - tf.reduce_max(log_t, -1, keepdims=True))  # t / max t: no underflow
    first = tf.one_hot(order[:, 0], k, dtype=t.dtype)  # (O, k)
    a = tf.linalg.matvec(first, t, transpose_a=True)  # (R, k)
    if k > 1:
        pair = first[:, :, None] * tf.one_hot(order[:, 1], k, dtype=t.dtype)[:, None, :]
        b = tf.einsum("ro,ost->rst", t, pair)  # (R, k, k)
    else:
        b = tf.zeros_like(a)[..., None]
    leave = b * tf.math.divide_no_nan(tf.exp(log_not_s), a)[..., None]
    leave += tf.linalg.diag(tf.exp(log_set))
    return a / tf.reduce_sum(t, axis=-1, keepdims=True), leave


def unordered_set(problem, params, noise, orderings):
    """The unordered set estimator with its built-in baseline (Kool et al. 2020). S: k =
    n_samples distinct categories, the k largest log p + G. Score part sum_{s in S} p(s) R(S, s)
    (g_s - b_s) grad log p_s, b_s = sum_{s' in S} p(s') R^{D\\s}(S, s') g_{s'}; pathwise part
    sum_{s in S} p(s) R(S, s) grad g_s, the same weights held constant."""
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)[:, 0, 0]  # (R, K)
    k = len(orderings[0])
    members = tf.math.top_k(tf.stop_gradient(log_p) + gumbel(noise["u"][:, 0, 0]), k=k).indices
    values = _objective_at(problem, params, members, noise)  # (R, k)
    weight, leave = (
        tf.stop_gradient(v) for v in set_weights(tf.stop_gradient(log_p), members, orderings)
    )
    b = tf.linalg.matvec(leave, values)  # (R, k): b_s
    log_q = tf.gather(log_p, members, batch_dims=1)
    return tf.reduce_sum(weight * (values + score_term(values - b, log_q)), axis=-1)


# k! orderings per replicate: 8! = 40,320 keeps one replicate's work near a millisecond.
MAX_SET_SIZE = 8


def _check_unordered_set_options(options, n_samples, latents, buckets, dtype=None):
    if not 2 <= n_samples <= min(buckets, MAX_SET_SIZE):
        raise ValueError(
            f"unordered_set draws n_samples = k distinct categories and sums over their k! "
            f"orderings: 2 <= k <= K = {buckets} and k <= {MAX_SET_SIZE}, got n_samples={n_samples}"
        )
    return {**options, "orderings": tuple(itertools.permutations(range(n_samples)))}


# Sizes: the k! orderings of each set are the working set, not the noise: chunk by them.
register(Estimator("unordered_set", unordered_set, noise_with_categories, per_sample,
                   check=_check_unordered_set_options, max_latents=1,
                   why_max_latents=ONE_LATENT_ONLY,
                   sizes=lambda problem, latents, buckets, n_samples, options: (
                       (n_samples * (buckets + 2 * math.factorial(n_samples)),) * 2)))  # fmt: skip
