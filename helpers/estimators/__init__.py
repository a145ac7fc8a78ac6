"""Gradient estimators, each written once as a surrogate loss against a problem.

A surrogate takes a problem (helpers.problem.Problem), parameters with a leading replicate
axis R, noise and options, and returns R scalars: the gradient of scalar r with respect to
replicate r's parameters is replicate r's estimate. No estimator knows which model it
differentiates. Each family file writes its estimators and registers them on import; draws.py
has the draws they share. The names imported here are those reached as h.estimators.X.
"""

from .control_variates import rebar, relax, uniform_twice
from .draws import conditional_gumbel, gumbel, gumbel_max, relaxed_one_hot, with_sample_axis
from .enumeration import (
    elementary,
    exact,
    indecater,
    indecater_noise,
    noise_per_configuration,
    one_latent_changed,
)
from .registry import ESTIMATORS, ControlVariate, Estimator, register, resolve
from .relaxations import gumbel_rao, gumbel_softmax
from .score_function import (
    MOVING_AVERAGE,
    optimal_baseline_at,
    score_function,
    set_weights,
    sum_and_sample,
    unordered_set,
)

# The registry lists the estimators in the order the notebooks teach them, the oracle last
# (an estimator registered later comes after these).
for _name in ("elementary", "gumbel_softmax", "score_function", "sum_and_sample",
              "unordered_set", "rebar", "gumbel_rao", "indecater", "relax", "exact"):  # fmt: skip
    ESTIMATORS[_name] = ESTIMATORS.pop(_name)

__all__ = ["ESTIMATORS", "Estimator", "ControlVariate", "register", "resolve",
           "elementary", "exact", "indecater", "gumbel_softmax", "gumbel_rao", "score_function",
           "sum_and_sample", "unordered_set", "rebar", "relax", "MOVING_AVERAGE",
           "gumbel", "gumbel_max", "relaxed_one_hot", "conditional_gumbel", "with_sample_axis",
           "one_latent_changed", "set_weights", "optimal_baseline_at", "noise_per_configuration",
           "indecater_noise", "uniform_twice"]  # fmt: skip
