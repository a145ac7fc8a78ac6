"""The figures of notebook 05 · the comparison: one function per figure."""

__all__ = []
