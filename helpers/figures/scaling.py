"""The figures of notebook 06 · scaling in K and optimisation: one function per figure."""

__all__ = []
