"""Gradient descent with any estimator: several independent runs in one batched pass.

Every run starts from the model's current theta and gets its own noise; the
parameters carry a leading run axis, so each step evaluates all runs' surrogates
at once (the same trick as sampling.gradient_samples) and applies Adam to each
run. The exact objective of every run is recorded after every step. It works
on the problem interface (helpers.problem.Problem): `optimise_problem` for any
problem with an `exact` method, `optimise` for a helpers Model and f.
"""

import numbers
import time

import numpy as np

from . import checks
from ._tf import tf
from .estimators import resolve
from .model import PARAM_NAMES, as_model, square
from .problem import check_enumerable, join_tensors, split_tensors
from .sampling import split_options
from .tracing import trace_cache

ADAM_BETAS, ADAM_EPSILON = (0.9, 0.999), 1e-8


def _exact_surrogate(problem, params, noise, **options):
    return problem.exact(params)


def adam(params, grads, moments, step, learning_rate, names=None):
    """One Adam step on the parameters `names` (default: every one in grads), for every run.

    moments = (first, second), dicts like grads; step counts from 0. Returns the new
    parameters (the others unchanged) and the new moments.
    """
    (b1, b2), (first, second) = ADAM_BETAS, moments
    t = tf.cast(step + 1, learning_rate.dtype)
    new, first, second = dict(params), dict(first), dict(second)
    for name in grads if names is None else names:
        first[name] = b1 * first[name] + (1 - b1) * grads[name]
        second[name] = b2 * second[name] + (1 - b2) * tf.square(grads[name])
        m_hat = first[name] / (1 - b1**t)
        v_hat = second[name] / (1 - b2**t)
        new[name] = params[name] - learning_rate * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON)
    return new, (first, second)


def _zero_moments(values):
    """Adam's first and second moments, zero, for every tensor of `values`."""
    return tuple({name: tf.zeros_like(value) for name, value in values.items()} for _ in range(2))


def _runs_and_buckets(problem, params):
    """(number of runs, K) of parameters that carry a leading run axis."""
    shape = tf.shape(problem.logits(params))
    return shape[0], shape[-1]


def _checked_names(trainable, known=PARAM_NAMES):
    """trainable as a tuple of parameter names in the order of `known`, or a ValueError."""
    names = (trainable,) if isinstance(trainable, str) else trainable
    try:
        names = tuple(names)
    except TypeError:
        names = None
    if not names or any(name not in known for name in names):
        raise ValueError(
            f"trainable must be a non-empty collection of parameter names from "
            f"{', '.join(known)}; got {trainable!r}"
        )
    return tuple(name for name in known if name in names)


def distribution_names(problem, params, trainable):
    """The trainable parameters that the logits depend on, or all trainable ones if none.

    A learned control variate (RELAX's phi) descends the variance of these
    parameters' estimate, as in Grathwohl et al.: the others (A-D) get their
    gradient by the pathwise derivative, and counting their variance would
    penalise phi for the pathwise noise its relaxed term adds to them.
    """
    with tf.GradientTape() as tape:
        tape.watch(params)
        logits = problem.logits(params)
    grads = tape.gradient(logits, {name: params[name] for name in trainable})
    names = tuple(name for name in trainable if grads[name] is not None)
    return names or trainable


@trace_cache
def _traced_run(estimator, structure, static_options, moving_average, trainable, moment_names):
    static = dict(static_options)
    surrogate = estimator.surrogate if estimator else _exact_surrogate

    if estimator and estimator.variance_step:
        return _traced_stateful_run(estimator, structure, static_options, trainable, moment_names)

    @tf.function(reduce_retracing=True)
    def run(params, tensors, seed, steps, n_samples, learning_rate, dynamic, decay):
        problem = join_tensors(structure, tensors)
        dtype = problem.dtype
        n_runs, buckets = _runs_and_buckets(problem, params)
        moments = _zero_moments(params)
        average = tf.zeros([n_runs, 1], dtype=dtype)  # bias-corrected below, as in Adam
        losses = tf.TensorArray(dtype, size=steps + 1)
        losses = losses.write(0, problem.exact(params))
        for step in tf.range(steps):
            noise = {}
            if estimator:
                step_seed = tf.random.experimental.stateless_fold_in(seed, step)
                extra = {name: {**static, **dynamic}[name] for name in estimator.noise_options}
                noise = estimator.noise(problem, step_seed, n_runs, n_samples, buckets, **extra)
            options = dict(dynamic)
            if moving_average:  # no baseline at step 0, then the corrected average
                correction = 1 - decay ** tf.cast(step, dtype)
                options["value"] = tf.math.divide_no_nan(average, correction)
            with tf.GradientTape() as tape:
                tape.watch(params)
                values = surrogate(problem, params, noise, **static, **options)
                total = tf.reduce_sum(values)
            grads = tape.gradient(total, params, unconnected_gradients="zero")
            if moving_average:  # update after use: the baseline never sees its own draw
                average = decay * average + (1 - decay) * tf.stop_gradient(values)[:, None]
            params, moments = adam(params, grads, moments, step, learning_rate, trainable)
            losses = losses.write(step + 1, problem.exact(params))
        return losses.stack()

    return run


def _traced_stateful_run(estimator, structure, static_options, trainable, moment_names):
    """The joint loop of an estimator with a learned state (RELAX's phi).

    Each run has its own state. Per step (estimator.variance_step, nested
    tapes): each run's gradient estimate and m_r, the mean over its N draws of
    |g|^2 of one draw over `moment_names` (the trainable distribution
    parameters; an estimate of the variance of one draw plus |grad L|^2, which
    does not depend on the state);
    Adam on theta with the estimates, and Adam on each run's state descending
    its m_r. Records the exact objective and m_r. (RELAX has no static options:
    its tau and eta are part of the state.)
    """

    @tf.function(reduce_retracing=True)
    def run(params, tensors, seed, steps, n_samples, learning_rate, dynamic, state_rate):
        problem = join_tensors(structure, tensors)
        dtype = problem.dtype
        n_runs, buckets = _runs_and_buckets(problem, params)
        options = dict(dynamic)
        state = {
            name: tf.broadcast_to(value, tf.concat([[n_runs], tf.shape(value)], 0))
            for name, value in options.pop("state").items()
        }
        moments, state_moments = _zero_moments(params), _zero_moments(state)
        losses = tf.TensorArray(dtype, size=steps + 1)
        losses = losses.write(0, problem.exact(params))
        squares = tf.TensorArray(dtype, size=steps)
        for step in tf.range(steps):
            step_seed = tf.random.experimental.stateless_fold_in(seed, step)
            noise = estimator.noise(problem, step_seed, n_runs, n_samples, buckets)
            grads, square, state_grads = estimator.variance_step(
                problem, params, noise, state, moment_names
            )
            squares = squares.write(step, square)
            params, moments = adam(params, grads, moments, step, learning_rate, trainable)
            state, state_moments = adam(
                state, state_grads, state_moments, step, state_rate, tuple(state)
            )
            losses = losses.write(step + 1, problem.exact(params))
        return losses.stack(), squares.stack(), state

    return run


def optimise(
    model,
    estimator,
    steps=200,
    learning_rate=0.05,
    n_samples=1,
    n_runs=5,
    seed=0,
    f=square,
    moving_average=None,
    trainable=PARAM_NAMES,
    state_learning_rate=None,
    **options,
):
    """Adam from the model's theta, n_runs independent runs with their own noise.

    estimator: an estimator name or function, or "exact" for the exact gradient.
    moving_average: a decay in (0, 1) to use with estimator "score_function": the
    baseline is then a per-run exponential moving average of past f values
    (baseline="constant" with value updated after every step).
    trainable: the names of the parameters Adam updates; the others keep the
    model's values (trainable=("logits",) optimises the discrete choice alone).
    state_learning_rate: for an estimator with a learned state (estimator
    "relax": its control variate phi, started from the options tau, eta or
    state), Adam's learning rate for the state (default: learning_rate). Each
    run learns its own state beside theta by descending the variance of the
    estimate of its trainable distribution parameters (those the logits depend
    on, as in Grathwohl et al.; all trainable ones if none is).
    Returns {"loss": array (steps + 1, n_runs), the exact objective before each
    step and after the last, "seconds": wall time of the runs, tracing excluded};
    with a learned state also "second_moment": array (steps, n_runs), each
    step's mean over its draws of |g|^2 of one draw over those distribution
    parameters (an estimate of one draw's variance plus |grad L|^2), and
    "state": dict name -> (n_runs, ...), the learned states. The model's parameters are not changed.
    """
    model = as_model(model)
    f = checks.objective(f, model.dtype)
    return optimise_problem(
        model.problem(f),
        model.values(),
        estimator,
        steps,
        learning_rate,
        n_samples,
        n_runs,
        seed,
        moving_average,
        trainable,
        state_learning_rate,
        **options,
    )


def optimise_problem(
    problem,
    params,
    estimator,
    steps=200,
    learning_rate=0.05,
    n_samples=1,
    n_runs=5,
    seed=0,
    moving_average=None,
    trainable=None,
    state_learning_rate=None,
    **options,
):
    """optimise for any problem with an `exact` method, from `params`.

    params: dict name -> tensor, the starting point of every run; trainable
    defaults to all of them.
    """
    exact = isinstance(estimator, str) and estimator == "exact"
    spec = None if exact else resolve(estimator)
    steps = checks.integer(steps, "steps", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    n_runs = checks.integer(n_runs, "n_runs", 1)
    learning_rate = checks.positive_finite(learning_rate, "learning_rate", problem.dtype)
    if moving_average is not None:
        if spec is None or spec.name != "score_function":
            raise ValueError("moving_average is a baseline for estimator 'score_function' only")
        if not isinstance(moving_average, numbers.Real) or not 0 < moving_average < 1:
            raise ValueError(f"moving_average must be a decay in (0, 1), got {moving_average!r}")
        if options.get("baseline", "constant") != "constant":
            raise ValueError("moving_average sets baseline='constant'; do not pass another one")
        if options.get("value") is not None:
            raise ValueError(
                "moving_average supplies the baseline's value at every step; do not pass value"
            )
        options = {**options, "baseline": "constant"}
    stateful = spec is not None and spec.variance_step is not None
    if state_learning_rate is not None:
        if not stateful:
            raise ValueError(
                "state_learning_rate is for an estimator with a learned state ('relax'), "
                f"not {estimator!r}"
            )
        state_learning_rate = checks.positive_finite(
            state_learning_rate, "state_learning_rate", problem.dtype
        )
    if exact and options:
        raise ValueError(f"the exact gradient takes no options, got {sorted(options)}")
    if not hasattr(problem, "exact"):
        raise ValueError(
            f"optimise records the exact objective after every step, so the problem needs "
            f"an exact method; {type(problem).__name__} has none"
        )
    latents, buckets = problem.latents, int(problem.logits(params).shape[-1])
    check_enumerable(latents, buckets, "optimise (it records the exact objective)")
    if spec:
        options = spec.checked_options(options, n_samples, latents, buckets, problem.dtype)
    if moving_average is not None:
        del options["value"]  # supplied by the loop at every step
    trainable = _checked_names(tuple(params) if trainable is None else trainable, tuple(params))
    static, dynamic = split_options(options, problem.dtype)
    structure, tensors = split_tensors(problem)
    moment_names = distribution_names(problem, params, trainable) if stateful else None
    run = _traced_run(spec, structure, static, moving_average is not None, trainable, moment_names)
    params = {
        name: tf.broadcast_to(value, [n_runs, *value.shape]) for name, value in params.items()
    }
    args = (
        params,
        tensors,
        checks.seed(seed),
        tf.constant(steps),
        tf.constant(n_samples),
        tf.constant(learning_rate, problem.dtype),
        dynamic,
        tf.constant(moving_average or 0.0, problem.dtype),
    )
    if stateful:  # the last argument is the state's learning rate instead of a decay
        rate = learning_rate if state_learning_rate is None else state_learning_rate
        args = (*args[:-1], tf.constant(rate, problem.dtype))
    run.get_concrete_function(*args)  # trace first: "seconds" times the runs alone
    start = time.perf_counter()
    out = run(*args)
    losses = (out[0] if stateful else out).numpy()
    seconds = time.perf_counter() - start
    _check_finite(losses)
    if not stateful:
        return {"loss": losses, "seconds": seconds}
    state = {name: value.numpy() for name, value in out[2].items()}
    return {"loss": losses, "seconds": seconds, "second_moment": out[1].numpy(), "state": state}


def _check_finite(losses):
    """A ValueError naming the first step at which a run's objective became inf or NaN."""
    bad = ~np.isfinite(losses)
    if bad.any():
        step, run = np.argwhere(bad)[0]
        raise ValueError(
            f"run {run} reached a non-finite objective ({losses[step, run]}) after step {step} "
            f"of {len(losses) - 1}: lower the learning rate, or check that f is bounded below"
        )
