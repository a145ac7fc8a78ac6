"""Answer checks for the notebooks' exercises.

A check cell calls `check("NN.k", answer, **context)` and prints whether the
answer is right, without showing the solution in the notebook: the expected
value is computed here, from the notebook's own objects passed as context.
"""

import numpy as np

from .estimators import optimal_baseline_at
from .exact import exact_gradient, exact_loss
from .model import square


def _exact_loss_shifted(model):
    return float(exact_loss(model, lambda z: (z - 1) ** 2))


def _logits_gradient_half(model):
    return exact_gradient(model, lambda z: (z - 0.5) ** 2)["logits"]


def _best_tau_for_10000(taus, sweep):
    bias2, variance = sweep[False]["squared_bias"], sweep[False]["variance"]
    return taus[np.argmin(np.maximum(bias2, 0) + variance / 10_000)]


def _optimal_baseline_hybrid(model):
    return optimal_baseline_at(model.problem(square), model.params, True)


def _loo_budget_below_1e3(budgets, results):
    return int(budgets[np.argmax(results["score function, hybrid + LOO"]["mse"] < 1e-3)])


EXPECTED = {
    "01.1": _exact_loss_shifted,
    "02.1": _logits_gradient_half,
    "03.1": _best_tau_for_10000,
    "04.1": _optimal_baseline_hybrid,
    "05.1": _loo_budget_below_1e3,
}


def check(exercise, answer, rtol=1e-8, **context):
    """Print whether `answer` solves `exercise` ("NN.k")."""
    if exercise not in EXPECTED:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXPECTED)}")
    label = f"Exercise {exercise.split('.')[1]}"
    if answer is None:
        print(f"{label}: not answered yet")
        return
    expected = EXPECTED[exercise](**context)
    try:
        right = bool(np.allclose(np.asarray(answer, dtype=float), expected, rtol=rtol))
    except (TypeError, ValueError):
        right = False
    print(f"{label}: {'correct' if right else 'not yet'}")
