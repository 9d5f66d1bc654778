"""mx.nd.contrib: functions of the registry's ``_contrib_X`` ops, named X (generated at import)."""
__all__ = []
