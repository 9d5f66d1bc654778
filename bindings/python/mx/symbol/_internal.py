"""Generated symbol functions of the registered operators whose names start with "_"."""
__all__ = []
