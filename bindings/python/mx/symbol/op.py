"""Generated functions of every public registered operator (names not starting with "_"), each
creating a Symbol node."""
__all__ = []
