"""Answer checks for the notebooks' exercises.

A check cell calls `check("NN.k", answer, **context)` and prints whether the answer is right,
never the solution, computed here from the context (a model or plain arrays). A wrong answer
gets a reason that does not reveal it: type, shape, choices, rounding, precision, or the
likely slip it matches (a sign, a missing factor, the wrong block or estimator). The
expected answers and the slips are in helpers.exercise_answers.

One tolerance rule for every numeric check: an answer is right when its largest error,
relative to the largest magnitude of the expected value, is at most RTOL = 1e-5. Float32
carries about seven significant digits, and the sums these exercises ask for lose at most
one or two of them, so an answer computed in float32 passes; every named slip moves the
answer by far more (the tests check each by at least 1e-3).
"""

import numbers
from unittest import mock

import helpers

import numpy as np

from . import exact
from .exercise_answers import EXERCISES
from .model import make_model

__all__ = ["check"]

RTOL = 1e-5  # the one rule, for every numeric answer (module docstring)
CLOSE = 1e-2  # relative errors above RTOL up to this: close, told why if we can tell


def _number(answer):
    """answer as a float, or None when it is not a single real number."""
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool | np.bool_):
        return float(answer)
    value = np.asarray(answer)
    if value.shape != () or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        return None
    return float(value)


def _describe(answer):
    shape = getattr(answer, "shape", None)
    return f"a {type(answer).__name__}" if shape is None else f"an array of shape {tuple(shape)}"


def _values(answer, expected):
    """answer as floats of the expected shape, or a verdict saying why it is not that."""
    if expected.shape == ():
        values = _number(answer)
        if values is None:
            return None, f"not yet: expected a single number, got {_describe(answer)}"
        return np.asarray(values), None
    wanted = f"not yet: expected an array of shape {expected.shape}, got "
    if isinstance(answer, dict):  # a whole gradient: name the entry of the expected shape
        keys = [k for k, v in answer.items() if tuple(np.shape(v)) == expected.shape]
        entry = f"; take its {keys[0]!r} entry" if len(keys) == 1 else ""
        return None, wanted + _describe(answer) + entry
    try:
        values = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, wanted + _describe(answer)
    if values.shape != expected.shape:
        return None, wanted + _describe(values)
    return values, None


def _error(values, expected):
    """The largest error relative to the largest magnitude of the expected value."""
    scale = max(float(np.max(np.abs(expected))), np.finfo(float).tiny)
    return float(np.max(np.abs(values - expected))) / scale


def _rounded_to(values, expected):
    """The digits (e.g. "3 decimals") to which values are the expected value rounded, or None."""
    significant = np.vectorize(lambda v, d: float(f"{v:.{d}g}"))
    for name, rounding in (("decimals", np.round), ("significant digits", significant)):
        for digits in range(1, 9):
            target = rounding(expected, digits)
            if np.any(target) and np.allclose(values, target, rtol=1e-12, atol=0):
                return f"{digits} {name}"
    return None


def _low_precision(answer):
    dtype = getattr(answer, "dtype", None)
    return dtype is not None and np.dtype(getattr(dtype, "as_numpy_dtype", dtype)) in (
        np.float16,
        np.float32,
    )


def _judge_value(answer, expected, slips=None):
    """A verdict on a number, or an array of the expected shape, by the one rule (RTOL)."""
    expected = np.asarray(expected, dtype=float)
    values, verdict = _values(answer, expected)
    if verdict:
        return verdict
    error = _error(values, expected)
    if not np.isfinite(error):
        return "not yet: the answer holds a NaN or an infinity"
    if error <= RTOL:
        return "correct"
    for hint, slip in (slips or {}).items():
        if _error(values, np.asarray(slip, dtype=float)) <= RTOL:
            return f"not yet: {hint}"
    rounded = _rounded_to(values, expected)
    if rounded:
        return f"not yet: rounded to {rounded}; keep full precision"
    if error <= CLOSE and _low_precision(answer):
        return (
            f"not yet: close (relative error {error:.1e}) and in {np.dtype(answer.dtype.name)}: "
            "compute in float64 to tell rounding from a slip"
        )
    if error <= CLOSE:
        return (
            f"not yet: close (relative error {error:.1e}) but more than rounding: a term is off, "
            "or the value is estimated by sampling rather than computed exactly"
        )
    return "not yet"


def _judge_choice(answer, accepted, options, name, slips=None):
    """A verdict on one of the allowed values, matched by the one rule (RTOL). Data can put
    several slips on one value: the verdict then names each of them, so none misleads."""
    value = _number(answer)
    if value is None:
        return f"not yet: expected a single number, got {_describe(answer)}"

    def among(values):
        values = np.asarray(values, dtype=float)
        return np.any(np.abs(values - value) <= RTOL * np.abs(values))

    if not among(options):
        return f"not yet: answer with one of the values in `{name}`"
    if among(accepted):
        return "correct"
    hints = [hint for hint, slip in (slips or {}).items() if among(slip)]
    return f"not yet: {'; or '.join(hints)}" if hints else "not yet"


def _judge_function(answer, spec, context):
    if not callable(answer):
        return f"not yet: expected a function of the model, got {_describe(answer)}"
    models = [context["model"], make_model(dim=3, buckets=7, seed=11)]  # on a second model too
    refused = RuntimeError("h.exact_loss is switched off during this check")
    with (
        mock.patch.object(exact, "exact_loss", side_effect=refused),
        mock.patch.object(helpers, "exact_loss", side_effect=refused),
    ):
        try:
            values = [answer(models[0])]
        except RuntimeError as err:
            if err is refused:
                return "not yet: write the sum yourself; your function called h.exact_loss"
            raise  # an error on the student's own model: their traceback shows where
        try:
            values.append(answer(models[1]))
        except Exception as err:  # the student's code, on a model they have not seen
            if err is refused:
                return "not yet: write the sum yourself; your function called h.exact_loss"
            return (
                f"not yet: your function failed on a second model ({models[1].buckets} "
                f"categories) with {type(err).__name__}: {str(err)[:200]}. Take every size "
                "and value from the model it is given (e.g. model.buckets), not from the notebook"
            )
    if all(value is None for value in values):
        return None
    notes = ("", f" (on a second model, {models[1].buckets} categories)")
    for value, model, note in zip(values, models, notes, strict=True):
        slips = spec.slips(model) if spec.slips else None
        verdict = _judge_value(value, spec.expected(model), slips)
        if verdict != "correct":
            return verdict + note
    return "correct"


def _verdict(spec, answer, context):
    if spec.kind == "function":
        return _judge_function(answer, spec, context)
    expected = spec.expected(**context)
    slips = spec.slips(**context) if spec.slips else None
    if spec.kind == "choice":
        return _judge_choice(answer, expected, context[spec.choices], spec.choices, slips)
    return _judge_value(answer, expected, slips)


def check(exercise, answer, **context):
    """Print whether `answer` solves `exercise` ("NN.k"), with a reason when it does not."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    verdict = None if answer is None else _verdict(EXERCISES[exercise], answer, context)
    print(f"Exercise {exercise.split('.')[1]}: {verdict or 'not answered yet'}")
