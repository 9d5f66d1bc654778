"""Generated functions of every public registered operator (names not starting with "_")."""
__all__ = []
