"""Image symbols: the registry's ``_image_X`` ops as ``mx.sym.image.X``."""
__all__ = []
