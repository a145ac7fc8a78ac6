"""Shared code for the notebook series on gradients through discrete random choices."""

from . import exercises, plotting, stats
from ._tf import tf  # noqa: F401  (imported first: silences TensorFlow's load-time logs)
from .estimators import ESTIMATORS, Estimator, elementary, gumbel_softmax, score_function
from .exact import (
    GAUSS_HERMITE_NODES,
    QuadratureWarning,
    exact_gradient,
    exact_loss,
    expected_f,
)
from .model import PARAM_NAMES, Model, make_model, sample, square
from .optimise import optimise
from .sampling import gradient_samples, noise_for

__all__ = [
    "exercises",
    "plotting",
    "stats",
    "ESTIMATORS",
    "GAUSS_HERMITE_NODES",
    "PARAM_NAMES",
    "QuadratureWarning",
    "Estimator",
    "Model",
    "elementary",
    "exact_gradient",
    "exact_loss",
    "expected_f",
    "gradient_samples",
    "gumbel_softmax",
    "make_model",
    "noise_for",
    "optimise",
    "sample",
    "score_function",
    "square",
]
