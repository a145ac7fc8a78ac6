"""An independent float64 implementation of the model in numpy, for the tests.

It shares no code with helpers: the model is rebuilt from its definition, the
Gaussian expectations are closed forms (or scipy quadrature), and gradients are
central finite differences. Several latents (logits of shape (n, K)) are
handled by listing all K**n joint configurations with itertools.product and
building each x_s = [x, onehot(s_1), ..., onehot(s_n)] explicitly.
"""

import itertools

import numpy as np
from scipy import integrate

# E_eps g(mu + sigma eps) in closed form, for the f's the tests use.
INNER = {
    "square": lambda mu, sigma: mu**2 + sigma**2,
    "cos": lambda mu, sigma: np.cos(mu) * np.exp(-(sigma**2) / 2),
    "exp_half": lambda mu, sigma: np.exp(0.5 * mu + 0.125 * sigma**2),
}


def quadrature_inner(g):
    """E g(mu + sigma eps) by adaptive quadrature, for f without a closed form."""

    def inner(mu, sigma):
        def one(m, s):
            density = lambda e: np.exp(-0.5 * e * e) / np.sqrt(2 * np.pi)  # noqa: E731
            return integrate.quad(
                lambda e: g(m + s * e) * density(e), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-13
            )[0]

        return np.vectorize(one)(mu, sigma)

    return inner


def numpy_params(model):
    return {name: np.array(value.numpy(), dtype=np.float64) for name, value in model.params.items()}


def softmax(logits):
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def joint_configurations(latents, buckets):
    """All K**n configurations (rows of category indices), s_1 the most significant."""
    return np.array(list(itertools.product(range(buckets), repeat=latents)), dtype=int)


def loss(params, x, inner):
    """sum over s of p(s) E f(mu_s + sigma_s eps): one latent if logits is (K,), n if (n, K)."""
    logits, A, B, C, D = (params[k] for k in ("logits", "A", "B", "C", "D"))
    logits = np.atleast_2d(logits)  # (n, K)
    n, K = logits.shape
    dim = x.size
    configs = joint_configurations(n, K)  # (K**n, n)
    p = np.prod(softmax(logits)[np.arange(n), configs], axis=1)
    one_hots = np.eye(K)[configs].reshape(len(configs), n * K)
    x_s = np.hstack([np.tile(x, (len(configs), 1)), one_hots])  # row: [x, onehot(s_1), ...]
    mu = 1 / (1 + np.exp(-(x_s @ A + B)))
    sigma = np.exp(x_s @ C + D)
    assert x_s.shape == (K**n, dim + n * K)
    return float(np.sum(p * inner(mu, sigma)))


def finite_difference_gradient(params, x, inner, step=1e-6):
    """Central differences of the exact loss, coordinate by coordinate: error O(step^2)."""
    return finite_difference(lambda p: loss(p, x, inner), params, step)


def relaxed_loss(params, x, gumbels, eps, tau, g):
    """Common-random-numbers Monte Carlo value of the Gumbel-softmax relaxed objective.

    gumbels: (M, K) for one latent, (M, n, K) for n latents (logits (n, K)).
    """
    logits, A, B, C, D = (params[k] for k in ("logits", "A", "B", "C", "D"))
    dim = x.size
    log_p = logits - logits.max(axis=-1, keepdims=True)
    log_p = log_p - np.log(np.sum(np.exp(log_p), axis=-1, keepdims=True))
    a = (log_p + gumbels) / tau
    y = np.exp(a - a.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)  # relaxed one-hots, one per latent
    y = y.reshape(len(y), -1)  # (M, n K): [y_1, ..., y_n]
    mu = 1 / (1 + np.exp(-(x @ A[:dim] + y @ A[dim:] + B)))
    sigma = np.exp(x @ C[:dim] + y @ C[dim:] + D)
    return float(np.mean(g(mu + sigma * eps)))


def finite_difference(loss_of_params, params, step=1e-6):
    """Central differences of any scalar function of a parameter dict."""
    grad = {}
    for name, value in params.items():
        flat = np.atleast_1d(value).astype(np.float64).reshape(-1)
        g = np.zeros_like(flat)
        for i in range(flat.size):
            up, down = flat.copy(), flat.copy()
            up[i] += step
            down[i] -= step
            shape = np.shape(value)
            g[i] = (
                loss_of_params({**params, name: up.reshape(shape)})
                - loss_of_params({**params, name: down.reshape(shape)})
            ) / (2 * step)
        grad[name] = g.reshape(np.shape(value))
    return grad
