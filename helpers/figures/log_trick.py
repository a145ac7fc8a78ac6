"""The figures of notebook 04 · the log trick: one function per figure."""

__all__ = []
