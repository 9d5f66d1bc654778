"""mx.nd.linalg: functions of the registry's ``_linalg_X`` ops, named X (generated at import)."""
__all__ = []
