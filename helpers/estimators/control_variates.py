"""Control variates built from a relaxation: REBAR, and RELAX, which learns its own (notebook 08).

For n independent categoricals s (n = 1 or more), the perturbed logits zeta = log p + G,
s = argmax zeta and zeta~ ~ zeta | s:
    grad = grad g(s) + [g(s) - c(zeta~)] grad log q(s) + grad c(zeta) - grad c(zeta~)
is unbiased for every c: c(zeta) - c(zeta~) puts back the expected value that
c(zeta~) grad log q(s) takes away. REBAR (Tucker et al. 2017): c = eta g(softmax(zeta / tau)).
RELAX (Grathwohl et al. 2018) adds r, a one-hidden-layer tanh network of the relaxed sample
(the n latents' K values side by side), and learns psi = (eta, log tau, its weights), its
*state*, by descending the variance: E[grad] does not depend on psi, so that is E|grad|^2.
"""

import warnings

import numpy as np

from .. import checks
from .._tf import tf
from ..adam import adam, zero_moments
from .draws import conditional_gumbel, gumbel, uniform_twice, with_sample_axis
from .registry import ControlVariate, Estimator, register
from .score_function import score_term


def rebar_draws(problem, params, noise):
    """What REBAR and RELAX share, for params with a sample axis: zeta = log p + G and
    zeta~ ~ zeta | s = argmax zeta, (R, N, n, K) (the latents independent given s), g(s, eps)
    and log q(s) = sum_i log p_i(s_i), (R, N)."""
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    zeta = log_p + gumbel(noise["u"])  # (R, N, n, K)
    s = tf.one_hot(tf.argmax(tf.stop_gradient(zeta), axis=-1), tf.shape(zeta)[-1], dtype=zeta.dtype)
    zeta_tilde = conditional_gumbel(log_p, s, noise["v"])
    log_q = tf.reduce_sum(s * log_p, axis=[-2, -1])
    return zeta, zeta_tilde, problem.objective(params, s, noise["eps"]), log_q


def rebar(problem, params, noise, tau, eta=1.0):
    """REBAR: c(zeta) = eta g(softmax(zeta / tau)), all three evaluations with the same eps; the
    control variate has mean zero for every tau and eta."""
    params = with_sample_axis(params)
    zeta, zeta_tilde, f_hard, log_q = rebar_draws(problem, params, noise)
    f_relaxed = problem.objective(params, tf.nn.softmax(zeta / tau, axis=-1), noise["eps"])
    f_conditional = problem.objective(
        params, tf.nn.softmax(zeta_tilde / tau, axis=-1), noise["eps"]
    )
    surrogate = f_hard + score_term(f_hard - eta * f_conditional, log_q)
    surrogate += eta * (f_relaxed - f_conditional)
    return tf.reduce_mean(surrogate, axis=1)


def checked_eta(eta, dtype=None):
    """eta as a float of dtype, with a RuntimeWarning where |eta| > sqrt(largest float): eta g(y)
    then overflows wherever the objective's values or gradients reach largest / |eta|."""
    eta, kind = checks.real(eta, "eta", dtype), dtype or tf.float64
    largest = float(np.finfo(kind.as_numpy_dtype).max)
    if abs(eta) > np.sqrt(largest):
        warnings.warn(
            f"eta={eta:.3g} multiplies the objective in the control variate: its values and "
            f"gradients overflow {kind.name} (largest {largest:.3g}) wherever the objective's "
            f"exceed {largest / abs(eta):.3g}, giving inf or nan estimates; |eta| <= "
            f"{np.sqrt(largest):.3g} keeps every objective up to that size finite",
            RuntimeWarning,
            stacklevel=2,
        )
    return eta


def _check_rebar_options(options, n_samples, latents, buckets, dtype=None):
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "eta": checked_eta(options["eta"], dtype)}


def three_per_sample(buckets, n_samples, latents=1, **_):
    """g at the hard draw, at its relaxation and at the conditional one."""
    return 3 * n_samples


register(Estimator("rebar", rebar, uniform_twice, three_per_sample,
                   options={"tau": 1.0, "eta": 1.0}, check=_check_rebar_options))  # fmt: skip

STATE_NAMES = ("eta", "log_tau", "W1", "b1", "w2")
HIDDEN = 8  # tanh units of r: small next to the model, enough to shape c_psi


def relax_state(buckets, tau=1.0, eta=1.0, hidden=HIDDEN, scale=0.0, seed=0, latents=1):
    """An initial RELAX state psi, name -> float64 array: eta (), log_tau (), and r(y) =
    w2 . tanh(y W1 + b1), y the n latents' relaxed samples side by side, W1 (n K, hidden) ~
    0.1 N(0, 1), b1 = 0, w2 ~ scale N(0, 1); scale = 0 (the default) starts as REBAR."""
    buckets = checks.integer(buckets, "buckets", 2)
    latents = checks.integer(latents, "latents", 1)
    hidden = checks.integer(hidden, "hidden", 1)
    tau = checks.positive_finite(tau, "tau")
    rng = np.random.default_rng(checks.integer(seed, "seed", 0))
    return {
        "eta": np.array(checks.real(eta, "eta")),
        "log_tau": np.array(np.log(tau)),
        "W1": 0.1 * rng.standard_normal((latents * buckets, hidden)),
        "b1": np.zeros(hidden),
        "w2": checks.real(scale, "scale") * rng.standard_normal(hidden),
    }


def checked_state(state, buckets, dtype=None, latents=1):
    """state as a dict of float64 arrays with RELAX's names and shapes for `latents` of K =
    `buckets`, finite in `dtype` (the problem's, when given) with tau = exp(log_tau) a normal
    number of it, or a ValueError."""
    if not isinstance(state, dict) or set(state) != set(STATE_NAMES):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"a RELAX state is a dict with keys {', '.join(STATE_NAMES)}; got {got}")
    state = {name: np.asarray(state[name], dtype=np.float64) for name in STATE_NAMES}
    if state["eta"].ndim:  # one state per run, as optimise returns
        raise ValueError(
            f"a RELAX state is one run's psi (eta of shape ()), got eta of shape "
            f"{state['eta'].shape}: for run r of optimise's state pass "
            "{name: value[r] for name, value in state.items()}"
        )
    if state["b1"].ndim != 1:
        raise ValueError(f"RELAX state 'b1' must be a vector (hidden,), got {state['b1'].shape}")
    hidden = len(state["b1"])
    expected = {"log_tau": (), "W1": (latents * buckets, hidden), "w2": (hidden,)}
    largest = np.finfo(dtype.as_numpy_dtype).max if dtype is not None else np.inf
    for name, value in state.items():
        if value.shape != expected.get(name, value.shape):
            raise ValueError(
                f"RELAX state {name!r} must have shape {expected[name]} for n = {latents} latents"
                f" of K = {buckets} and {hidden} hidden units (b1's length), got {value.shape}"
            )
        if not np.all(np.abs(value) <= largest):  # NaN fails too
            within = f" and representable in {dtype.name}" if dtype is not None else ""
            raise ValueError(f"RELAX state {name!r} must be finite{within}")
    with np.errstate(over="ignore"):  # exp(800) = inf is refused as such
        tau = float(np.exp(state["log_tau"]))
    checks.positive_finite(tau, "the RELAX state's tau = exp(log_tau)", dtype)
    return state


def _aligned(state, name, draw_axes):
    """state[name] to broadcast against draws: a shared state (eta of rank 0) as it is, a
    per-replicate one (eta (R,)) with `draw_axes` new axes after the replicate axis."""
    value = state[name]
    if state["eta"].shape.rank == 0:
        return value
    shape = tf.shape(value)
    return tf.reshape(value, tf.concat([shape[:1], [1] * draw_axes, shape[1:]], 0))


def learned_control(problem, params, state, zeta, eps):
    """c_psi(zeta) for zeta (R, N, n, K) and eps (R, N): (R, N)."""
    tau = tf.exp(_aligned(state, "log_tau", 3))
    y = tf.nn.softmax(zeta / tau, axis=-1)  # (R, N, n, K)
    flat = tf.reshape(y, tf.concat([tf.shape(y)[:2], [-1]], 0))  # (R, N, n K)
    w1 = _aligned(state, "W1", 1)  # (n K, H) or (R, 1, n K, H)
    hidden = tf.tanh(tf.reduce_sum(flat[..., None] * w1, axis=-2) + _aligned(state, "b1", 1))
    r = tf.reduce_sum(hidden * _aligned(state, "w2", 1), axis=-1)  # (R, N)
    return _aligned(state, "eta", 1) * problem.objective(params, y, eps) + r


def relax(problem, params, noise, state):
    """RELAX's surrogate, R scalars; its psi-path is kept for the variance gradient."""
    state = {name: tf.convert_to_tensor(value, problem.dtype) for name, value in state.items()}
    params = with_sample_axis(params)
    zeta, zeta_tilde, f_hard, log_q = rebar_draws(problem, params, noise)
    c, c_tilde = (
        learned_control(problem, params, state, x, noise["eps"]) for x in (zeta, zeta_tilde)
    )
    # No stop_gradient around (f_hard - c_tilde): psi reaches the estimate through it.
    surrogate = f_hard + (f_hard - c_tilde) * (log_q - tf.stop_gradient(log_q)) + c - c_tilde
    return tf.reduce_mean(surrogate, axis=1)


def _check_relax_options(options, n_samples, latents, buckets, dtype=None):
    """Options -> {"state": dict of arrays}: the given state, or one made from tau and eta."""
    state, tau, eta = options["state"], options["tau"], options["eta"]
    if state is None:
        tau = checks.positive_finite(1.0 if tau is None else tau, "tau", dtype)
        eta = checked_eta(1.0 if eta is None else eta, dtype)
        return {"state": relax_state(buckets, tau=tau, eta=eta, latents=latents)}
    if tau is not None or eta is not None:
        raise ValueError("a RELAX state carries its own eta and log_tau: pass state or tau/eta")
    return {"state": checked_state(state, buckets, dtype, latents)}


def _per_draw(value, draws):
    """(R, N, ...) -> (R N, 1, ...): each of a replicate's N draws as a replicate of its own."""
    shape = tf.shape(value)
    return tf.reshape(value, tf.concat([[shape[0] * draws, 1], shape[2:]], 0))


def variance_step(problem, params, noise, state, names):
    """(per-replicate RELAX gradients, m (R,), d sum_r m_r / d state) for params (R, ...) and
    noise of N draws per replicate. Each draw's estimate g_rn is computed (the draws as R N
    replicates of one sample); replicate r's gradient is their mean, and m_r = mean_n |g_rn|^2
    over `names` estimates E|g|^2, whose gradient in psi is the variance's (E g does not depend
    on psi). A per-replicate state (eta (R,)) gets its own m_r's."""
    draws = tf.shape(noise["u"])[1]
    copies = {name: tf.repeat(value, draws, axis=0) for name, value in params.items()}
    noise = {name: _per_draw(value, draws) for name, value in noise.items()}
    with tf.GradientTape() as outer:
        outer.watch(state)
        flat_state = state
        if state["eta"].shape.rank != 0:
            flat_state = {name: tf.repeat(value, draws, axis=0) for name, value in state.items()}
        with tf.GradientTape() as inner:
            inner.watch(copies)
            total = tf.reduce_sum(relax(problem, copies, noise, flat_state))
        per_draw = inner.gradient(total, copies, unconnected_gradients="zero")
        flat = [tf.reshape(tf.square(per_draw[n]), [tf.shape(per_draw[n])[0], -1]) for n in names]
        squares = tf.add_n([tf.reduce_sum(value, -1) for value in flat])  # |g_rn|^2: (R N,)
        moments = tf.reduce_mean(tf.reshape(squares, [-1, draws]), axis=1)
        summed = tf.reduce_sum(moments)
    grads = {  # each replicate's mean over its draws, with the static shape of params
        name: tf.ensure_shape(
            tf.reduce_mean(tf.reshape(value, tf.concat([[-1, draws], tf.shape(value)[1:]], 0)), 1),
            params[name].shape,
        )
        for name, value in per_draw.items()
    }
    return grads, moments, outer.gradient(summed, state, unconnected_gradients="zero")


def _learned_init(problem, params, options):
    """Each run's own psi, from the options' state, with Adam's zero moments and rate."""
    runs = tf.shape(problem.logits(params))[0]
    psi = {
        name: tf.broadcast_to(tf.constant(value, problem.dtype), [runs, *np.shape(value)])
        for name, value in options["state"].items()
    }
    rate = tf.constant(options["rate"], problem.dtype)
    return {"psi": psi, "moments": zero_moments(psi), "rate": rate}


def _learned_update(state, step, values, state_gradient):
    """One Adam step of each run's psi down its m_r (the variance plus |grad L|^2)."""
    psi = state["psi"]
    psi, moments = adam(psi, state_gradient, state["moments"], step, state["rate"], tuple(psi))
    return {**state, "psi": psi, "moments": moments}


# Each step's estimates come from variance_step (m_r over the trainable distribution
# parameters `names`); optimise reports every step's m_r and each run's learned psi.
LEARNED = ControlVariate(
    init=_learned_init,
    value=lambda state, step: {"state": state["psi"]},
    update=_learned_update,
    gradients=lambda estimator, problem, params, noise, options, names: variance_step(
        problem, params, noise, options["state"], names
    ),
    report=lambda state, values: {
        "second_moment": values.numpy(),
        "state": {name: value.numpy() for name, value in state["psi"].items()},
    },
)

register(Estimator("relax", relax, uniform_twice, three_per_sample,
                   options={"tau": None, "eta": None, "state": None}, check=_check_relax_options,
                   control=LEARNED))  # fmt: skip
