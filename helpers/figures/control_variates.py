"""The figures of notebook 08 · control variates and relaxations: one function per figure."""

__all__ = []
