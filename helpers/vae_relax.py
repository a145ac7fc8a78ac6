"""RELAX's control variate psi learned while the VAE trains (helpers.vae.train("relax")).

Each copy of the training has its own psi (eta, log_tau and r_rho's W1, b1, w2), moved
by Adam at every step down the gradient in psi of sum_b mean_n |g_bn|^2, g_bn draw n's
estimate of the gradient of image b's reconstruction term in its encoder LOGITS (as
estimators.control_variates.variance_step): E g does not depend on psi, so this is the
gradient of the variance. The logits stand for Grathwohl et al.'s (2018) theta, as in
their VAE code: one cheap gradient per image instead of one per weight and draw. Here eta
and tau are one scalar each per copy (their scripts differ: scalars, or one per latent), and
the decoder's gradient keeps the control variate's terms (mean zero, extra noise), as
REBAR's here does.
"""

from . import checks
from ._tf import tf
from .adam import adam, zero_moments
from .estimators.control_variates import _per_draw, relax

# Adam's rate for psi: 1e-2 moves psi's few entries by order 1 within a few hundred steps
# from REBAR's start; 1e-3 barely moves them there. Not tuned per model.
STATE_LEARNING_RATE = 1e-2


def initial_control(estimator, rate, dynamic, copies, dtype):
    """{"psi": every copy's psi (C, ...), Adam's "moments" and "rate"} for "relax", from
    dynamic["state"] (popped: the learned psi replace it); {} for the others. rate: the
    option state_learning_rate (None: STATE_LEARNING_RATE), which only "relax" takes."""
    if estimator.control.gradients is None:
        if rate is not None:
            raise ValueError(
                f"state_learning_rate is the learning rate of RELAX's control variate; "
                f"estimator {estimator.name!r} learns none: leave it out"
            )
        return {}
    rate = checks.positive_finite(
        STATE_LEARNING_RATE if rate is None else rate, "state_learning_rate", dtype
    )
    psi = {k: tf.repeat(v[None], copies, axis=0) for k, v in dynamic.pop("state").items()}
    return {"psi": psi, "moments": zero_moments(psi), "rate": tf.constant(rate, dtype)}


def per_row(psi, images):
    """Copy c's psi (C, ...) for each of its rows c B + b, B = images: (C B, ...)."""
    return {name: tf.repeat(value, images, axis=0) for name, value in psi.items()}


def one_pass(tape, kl, weights, problem, params, noise, control, step):
    """(grads, control): the weights' gradient of sum_c mean_b (RELAX's surrogate + KL) and
    one Adam step of every copy's psi, from ONE pass of the decoder (3 N evaluations per
    image). tape recorded kl (the KL term's sum_c mean_b) and params["logits"] (C B, n, K).
    Each draw is a row of its own (as in variance_step): the inner tape's logits gradient
    of each draw gives psi's objective and, averaged over the draws, the encoder's gradient
    by the chain rule; the decoder's comes from the same tape, pathwise."""
    psi = control["psi"]
    images = tf.shape(params["logits"])[0] // tf.shape(psi["eta"])[0]  # B, per copy
    draws = tf.shape(noise["u"])[1]
    per_draw = {k: tf.repeat(tf.stop_gradient(v), draws, axis=0) for k, v in params.items()}
    noise = {name: _per_draw(value, draws) for name, value in noise.items()}
    decoder = {k: v for k, v in weights.items() if k.startswith("dec_")}
    with tf.GradientTape() as outer:
        outer.watch(psi)
        with tf.GradientTape() as inner:
            inner.watch([per_draw["logits"], decoder])
            total = tf.reduce_sum(relax(problem, per_draw, noise, per_row(psi, images * draws)))
        logits_grads, decoder_grads = inner.gradient(total, [per_draw["logits"], decoder])
        squares = tf.reshape(tf.reduce_sum(tf.square(logits_grads), axis=[-2, -1]), [-1, draws])
        summed = tf.reduce_sum(tf.reduce_mean(squares, axis=1))
    # total sums over draws and images, the loss averages them: divide by B N
    shape = tf.concat([[-1, draws], tf.shape(params["logits"])[1:]], 0)
    per_image = tf.cast(images, total.dtype)
    logits_grads = tf.reduce_mean(tf.reshape(logits_grads, shape), axis=1) / per_image
    encoder = {k: v for k, v in weights.items() if k.startswith("enc_")}
    targets, target_grads = [kl, params["logits"]], [tf.ones_like(kl), logits_grads]
    grads = tape.gradient(targets, encoder, output_gradients=target_grads)
    scale = per_image * tf.cast(draws, total.dtype)
    grads.update({name: grad / scale for name, grad in decoder_grads.items()})
    psi, moments = adam(psi, outer.gradient(summed, psi), control["moments"], step, control["rate"])
    return grads, {**control, "psi": psi, "moments": moments}


def learned_state(control, seeds):
    """The learned psi, name -> array: (S, L, ...) for `seeds` seeds, one copy's (no copy
    axis) for seeds None; None where nothing was learned."""
    if not control:
        return None
    psi = {name: value.numpy() for name, value in control["psi"].items()}
    if seeds is None:
        return {name: value[0] for name, value in psi.items()}
    return {name: value.reshape(seeds, -1, *value.shape[1:]) for name, value in psi.items()}
