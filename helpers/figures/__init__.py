"""Figure code for the notebooks, one module per notebook and one function per figure, so a
notebook's cells hold the computation and a single call that draws it."""

from . import (
    comparison,
    control_variates,
    discrete_vae,
    exact_gradient,
    gumbel_softmax,
    log_trick,
    model,
    scaling,
    several_latents,
    without_replacement,
)

__all__ = [
    "comparison",
    "control_variates",
    "discrete_vae",
    "exact_gradient",
    "gumbel_softmax",
    "log_trick",
    "model",
    "scaling",
    "several_latents",
    "without_replacement",
]
