"""Contributed symbols: the registry's ``_contrib_X`` ops as ``mx.sym.contrib.X``."""
__all__ = []
