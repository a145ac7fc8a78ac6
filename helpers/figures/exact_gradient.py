"""The figures of notebook 02 · the exact gradient: one function per figure."""

__all__ = []
