"""Linear algebra symbols: the registry's ``_linalg_X`` ops as ``mx.sym.linalg.X``."""
__all__ = []
