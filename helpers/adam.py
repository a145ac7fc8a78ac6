"""Adam (Kingma and Ba 2015), one step for many runs at once: the optimiser of optimise,
RELAX's learned control variate and the VAE's training."""

from ._tf import tf

ADAM_BETAS, ADAM_EPSILON = (0.9, 0.999), 1e-8


def adam(params, grads, moments, step, learning_rate, names=None):
    """One Adam step on the parameters `names` (default: all of grads), for every run: the new
    parameters (the others unchanged) and moments = (first, second), dicts like grads. step
    counts from 0."""
    (b1, b2), (first, second) = ADAM_BETAS, moments
    names = list(grads if names is None else names)
    dtype = params[names[0]].dtype  # a Python float rate is made in it, not via float32
    learning_rate = tf.cast(
        learning_rate if tf.is_tensor(learning_rate) else tf.constant(learning_rate, dtype), dtype
    )
    t = tf.cast(step + 1, learning_rate.dtype)
    new, first, second = dict(params), dict(first), dict(second)
    for name in names:
        first[name] = b1 * first[name] + (1 - b1) * grads[name]
        second[name] = b2 * second[name] + (1 - b2) * tf.square(grads[name])
        m_hat, v_hat = first[name] / (1 - b1**t), second[name] / (1 - b2**t)
        new[name] = params[name] - learning_rate * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON)
    return new, (first, second)


def zero_moments(params):
    """Adam's first and second moments at the start: zeros shaped like params."""
    return tuple({name: tf.zeros_like(value) for name, value in params.items()} for _ in range(2))
