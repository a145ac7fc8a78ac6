"""Gradient descent with any estimator (notebooks 06, 08 and 09): independent runs in one pass.

Every run starts from the same theta with its own noise; the parameters carry a leading run
axis, so each step evaluates all runs' surrogates at once, applies Adam to each run and records
its exact objective. One loop serves every estimator: it threads the estimator's state
(estimators.ControlVariate: none, a moving-average baseline, or RELAX's learned psi).
"""

import numbers
import time

import numpy as np

from . import checks
from ._tf import tf
from .adam import adam, zero_moments
from .estimators import ESTIMATORS, MOVING_AVERAGE, resolve
from .model import PARAM_NAMES, as_model, square
from .problem import Checked, check_enumerable, join_tensors, shape_errors, split_tensors
from .sampling import MAX_OUTPUT_BYTES, chunk_noise, needs_autograph, replicate, split_options
from .tracing import trace_cache


def checked_names(names, argument, known):
    """names (one name or a collection; None: all) as a tuple in the order of `known`."""
    given = known if names is None else (names,) if isinstance(names, str) else names
    try:
        given = tuple(given)
    except TypeError:
        given = None
    if not given or any(name not in known for name in given):
        raise ValueError(
            f"{argument} must be a non-empty collection of parameter names from "
            f"{', '.join(known)}; got {names!r}"
        )
    return tuple(name for name in known if name in given)


def distribution_names(problem, params, trainable):
    """The trainable parameters that the logits depend on, or all trainable ones if none.

    RELAX's psi descends the variance of these parameters' estimate (Grathwohl et al.): the
    others get their gradient pathwise, and counting their variance would penalise psi for
    the pathwise noise its relaxed term adds to them."""
    with tf.GradientTape() as tape:
        tape.watch(params)
        logits = problem.logits(params)
    grads = tape.gradient(logits, {name: params[name] for name in trainable})
    return tuple(name for name in trainable if grads[name] is not None) or trainable


def _tape_gradients(estimator, problem, params, noise, options, names):
    """Each run's gradient: one tape over the surrogates, which are the step's values."""
    with tf.GradientTape() as tape:
        tape.watch(params)
        values = estimator.surrogate(problem, params, noise, **options)
        total = tf.reduce_sum(values)
    return tape.gradient(total, params, unconnected_gradients="zero"), values, None


@trace_cache
def _traced_run(estimator, control, structure, static_options, trainable, names):
    """Steps of Adam on theta, the control variate's state updated after each step (one_step,
    which AutoGraph, where needed, converts with run: a nested function is converted with it)."""
    static = dict(static_options)
    gradients = control.gradients or _tape_gradients

    code = (estimator.surrogate, estimator.noise, control.value, control.update, gradients)

    @tf.function(reduce_retracing=True, autograph=needs_autograph(structure, *code))
    def run(params, tensors, seed, steps, n_samples, learning_rate, dynamic, state):
        problem = Checked(join_tensors(structure, tensors), params, batch=1)
        shape = tf.shape(problem.logits(params))
        n_runs, buckets = shape[0], shape[-1]

        def one_step(step, params, moments, state, losses, values_seen):
            step_seed = tf.random.experimental.stateless_fold_in(seed, step)
            options = {**static, **dynamic, **control.value(state, step)}
            noise = chunk_noise(estimator, problem, step_seed, n_runs, n_samples, buckets, options)
            grads, values, state_grad = gradients(estimator, problem, params, noise, options, names)
            state = control.update(state, step, values, state_grad)
            values_seen = values_seen.write(step, values)
            params, moments = adam(params, grads, moments, step, learning_rate, trainable)
            losses = losses.write(step + 1, problem.exact(params))
            return step + 1, params, moments, state, losses, values_seen

        losses = tf.TensorArray(problem.dtype, size=steps + 1).write(0, problem.exact(params))
        values_seen = tf.TensorArray(problem.dtype, size=steps)
        start = (tf.constant(0), params, zero_moments(params), state, losses, values_seen)
        *_, state, losses, values_seen = tf.while_loop(lambda i, *_: i < steps, one_step, start)
        return losses.stack(), values_seen.stack(), state

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

    estimator: a name or surrogate function, or "exact" for the exact gradient.
    moving_average: a decay in (0, 1) for "score_function", whose constant baseline is then
    each run's exponential moving average of past f values.
    trainable: the parameters Adam updates (("logits",): the discrete choice alone).
    state_learning_rate: Adam's rate (default learning_rate) for a learned state: each run
    learns its own RELAX psi (options tau, eta or state) by descending the variance of its
    distribution parameters' estimate (distribution_names).
    Returns {"loss": (steps + 1, n_runs), the exact objective before each step and after the
    last; "seconds": the runs' wall time, tracing excluded}; with a learned state also
    "second_moment" (steps, n_runs), each step's mean |g|^2 of one draw over those parameters,
    and "state", name -> (n_runs, ...). The model is not changed.
    """
    model = as_model(model)
    problem = model.problem(checks.objective(f, model.dtype))
    settings = (steps, learning_rate, n_samples, n_runs, seed, moving_average, trainable)
    return optimise_problem(
        problem, model.values(), estimator, *settings, state_learning_rate, **options
    )


def _control(spec, options, moving_average):
    """The control variate whose state the loop threads, its settings, and the options."""
    if moving_average is None:
        return spec.control, {}, options
    if "value" not in spec.options:
        names = ", ".join(repr(n) for n, known in ESTIMATORS.items() if "value" in known.options)
        raise ValueError(f"moving_average is a baseline for estimator {names} only")
    if not isinstance(moving_average, numbers.Real) or not 0 < moving_average < 1:
        raise ValueError(f"moving_average must be a decay in (0, 1), got {moving_average!r}")
    if options.get("baseline", "constant") != "constant":
        raise ValueError("moving_average sets baseline='constant'; do not pass another one")
    if options.get("value") is not None:
        raise ValueError("moving_average supplies the baseline's value at every step; omit value")
    return MOVING_AVERAGE, {"decay": moving_average}, {**options, "baseline": "constant"}


@shape_errors()
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
    """optimise for any problem with an `exact` method, every run from `params` (dict name ->
    tensor or numpy array); trainable defaults to all of them."""
    spec, checked = resolve(estimator), Checked(problem, params)
    params = checked.params
    steps = checks.integer(steps, "steps", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    n_runs = checks.integer(n_runs, "n_runs", 1)
    recorded = 2 * (steps + 1) * n_runs * checked.dtype.size  # losses and second moments
    if recorded > MAX_OUTPUT_BYTES:
        raise ValueError(
            f"steps and n_runs: recording every step of every run would take "
            f"{recorded / 2**30:.3g} GiB; the limit is {MAX_OUTPUT_BYTES / 2**30:g} GiB "
            "(helpers.sampling.MAX_OUTPUT_BYTES): ask for fewer steps or runs"
        )
    learning_rate = checks.positive_finite(learning_rate, "learning_rate", checked.dtype)
    control, settings, options = _control(spec, options, moving_average)
    if state_learning_rate is not None and control.gradients is None:
        raise ValueError(
            "state_learning_rate is for an estimator with a learned state ('relax'), "
            f"not {spec.name!r}"
        )
    rate = learning_rate if state_learning_rate is None else state_learning_rate
    settings["rate"] = checks.positive_finite(rate, "state_learning_rate", checked.dtype)
    if not hasattr(problem, "exact"):
        raise ValueError(
            "optimise records the exact objective after every step, so the problem needs an "
            f"exact method; {type(problem).__name__} has none"
        )
    latents, buckets = checked.latents, int(checked.logits(params).shape[-1])
    check_enumerable(latents, buckets, "optimise (it records the exact objective)")
    options = spec.checked_options(options, n_samples, latents, buckets, checked.dtype)
    trainable = checked_names(trainable, "trainable", tuple(params))
    static, dynamic = split_options(options, checked.dtype)
    names = distribution_names(checked, params, trainable)
    params = replicate(params, n_runs)
    state = control.init(checked, params, {**options, **settings})
    structure, tensors = split_tensors(problem)
    run = _traced_run(spec, control, structure, static, trainable, names)
    args = (params, tensors, checks.seed(seed), tf.constant(steps), tf.constant(n_samples))
    args += (tf.constant(learning_rate, checked.dtype), dynamic, state)
    run.get_concrete_function(*args)  # trace first: "seconds" times the runs alone
    start = time.perf_counter()
    losses, values, state = run(*args)
    seconds = time.perf_counter() - start
    _check_finite(losses.numpy())
    return {"loss": losses.numpy(), "seconds": seconds, **control.report(state, values)}


def _check_finite(losses):
    """A ValueError naming the first step at which a run's objective became inf or NaN."""
    bad = ~np.isfinite(losses)
    if bad.any():
        step, run = np.argwhere(bad)[0]
        raise ValueError(
            f"run {run} reached a non-finite objective ({losses[step, run]}) after step {step} "
            f"of {len(losses) - 1}: lower the learning rate, or check that f is bounded below"
        )
