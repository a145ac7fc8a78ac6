"""The figures of notebook 03 · Gumbel-softmax: one function per figure."""

__all__ = []
