"""Shared code for the notebook series on gradients through discrete random choices."""

from . import estimators, exact, exercises, figures, memory, model, plotting, problem, stats, vae
from ._tf import tf  # noqa: F401  (every module imports TensorFlow through _tf: no load-time logs)
from .estimators import ESTIMATORS, rebar, score_function
from .exact import exact_gradient, exact_loss
from .model import PARAM_NAMES, Model, make_model, sample
from .model_math import expected_f, square
from .optimise import optimise, optimise_problem
from .plotting import Contestant
from .problem import MAX_CONFIGURATIONS
from .relax import relax, relax_gradients, relax_state
from .sampling import gradient_samples, noise_for, problem_gradient_samples
from .tracing import release_traces

__all__ = [
    "estimators",
    "exact",
    "exercises",
    "figures",
    "memory",
    "model",
    "plotting",
    "problem",
    "stats",
    "vae",
    "ESTIMATORS",
    "Contestant",
    "MAX_CONFIGURATIONS",
    "PARAM_NAMES",
    "Model",
    "exact_gradient",
    "exact_loss",
    "expected_f",
    "gradient_samples",
    "make_model",
    "noise_for",
    "optimise",
    "optimise_problem",
    "problem_gradient_samples",
    "rebar",
    "relax",
    "relax_gradients",
    "relax_state",
    "release_traces",
    "sample",
    "score_function",
    "square",
]
