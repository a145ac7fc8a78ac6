"""The figures of notebook 07 · Rao-Blackwellisation and sampling without replacement:
one function per figure."""

__all__ = []
