"""The exact objective L(theta) = sum_s p_s E_eps f(mu_s + sigma_s eps) and its gradient.

The sum enumerates all K**n joint configurations (up to problem.MAX_CONFIGURATIONS) in chunks,
so memory stays bounded; autodiff of it, accumulated chunk by chunk, is the exact gradient.
E_eps f is closed form for f = square and Gauss-Hermite quadrature otherwise: its
GAUSS_HERMITE_NODES = 64 nodes are exact for polynomials of degree <= 127, and for smooth f the
error falls geometrically (f = cos: machine precision up to sigma = 8, where 32 nodes are off by
1e-3). It is *not* accurate for f with kinks or jumps (|z|, a step), nor f varying on scales
much smaller than sigma (cos(10 z) at sigma = 1): a second rule with CHECK_NODES nodes detects
both (a QuadratureWarning).
"""

import functools
import warnings

from . import checks
from ._tf import tf
from .model import as_model
from .model_math import (
    CHUNK_VALUES,
    GAUSS_HERMITE_NODES,
    chunked,
    loss_from,
    square,
    value_and_gradient_from,
)
from .problem import check_enumerable
from .tracing import trace_cache

__all__ = ["CHUNK_VALUES", "QuadratureWarning", "exact_gradient", "exact_loss"]

CHECK_NODES = 96
# The relative disagreement that warns: far above rounding, far below any error a reader sees.
QUADRATURE_TOLERANCE = {"float64": 1e-8, "float32": 1e-4}


class QuadratureWarning(UserWarning):
    """Gauss-Hermite quadrature may be inaccurate for this f and these parameters."""


def _checked(model, f):
    """The model and its current parameter values, after checking both and f."""
    model = as_model(model)
    check_enumerable(model.latents, model.buckets, "the exact loss")
    f = checks.objective(f, model.dtype)
    return model, model.values(), f


def _warn_if_inaccurate(value, params, x, f, latents):
    """Compare the loss `value` (64 nodes) with a finer rule; warn when they disagree."""
    if f is square:  # closed form, no quadrature
        return
    used, finer = float(value), float(_loss(params, x, f, CHECK_NODES, latents))
    if not abs(used - finer) <= QUADRATURE_TOLERANCE[x.dtype.name] * max(1.0, abs(finer)):
        warnings.warn(
            f"Gauss-Hermite quadrature with {GAUSS_HERMITE_NODES} and {CHECK_NODES} nodes "
            f"disagrees ({used:.10g} vs {finer:.10g}): f may have a kink or jump, or vary "
            "on a scale much smaller than sigma; the exact loss and gradient are then "
            "approximate",
            QuadratureWarning,
            stacklevel=3,
        )


@trace_cache
def _traced(function, reduce_retracing, **settings):
    """function(params, x) with these settings (f, latents, ...), traced once without AutoGraph
    (not needed: checks.objective) and reused across calls and models (its loop: one graph)."""
    traced = functools.partial(function, **settings)
    return tf.function(traced, reduce_retracing=reduce_retracing, autograph=False)


def _loss(params, x, f, nodes, latents):
    buckets = int(params["logits"].shape[-1])
    if not chunked(latents, buckets, f, nodes):  # one small pass, eager
        return loss_from(params, x, f, nodes)
    return _traced(loss_from, False, f=f, nodes=nodes, latents=latents, in_chunks=True)(params, x)


def exact_loss(model, f=square):
    """L(theta) = E[f(z)] for the model's current parameters: a scalar tensor."""
    model, params, f = _checked(model, f)
    value = _loss(params, model.x, f, GAUSS_HERMITE_NODES, model.latents)
    _warn_if_inaccurate(value, params, model.x, f, model.latents)
    return value


def exact_gradient(model, f=square):
    """The exact gradient of L(theta): dict name -> np.ndarray, keys as model.params."""
    model, params, f = _checked(model, f)
    in_chunks = chunked(model.latents, model.buckets, f)
    step = _traced(value_and_gradient_from, True, f=f, latents=model.latents, in_chunks=in_chunks)
    value, grads = step(params, model.x)
    _warn_if_inaccurate(value, params, model.x, f, model.latents)
    return {name: grad.numpy() for name, grad in grads.items()}
