"""The figures of notebook 01 · the model: one function per figure."""

__all__ = []
