"""mx.nd.image: functions of the registry's ``_image_X`` ops, named X (generated at import)."""
__all__ = []
