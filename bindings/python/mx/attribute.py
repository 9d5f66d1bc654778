"""Attribute scopes for symbols (MXNet's ``mx.attribute.AttrScope``).

Inside ``with mx.AttrScope(ctx_group='dev1', mood='calm'):`` every symbol created (variables and
op nodes) gets those attributes; attributes given at creation win over the scope's. Scopes nest
(the inner one adds to the outer one) and are per thread.
"""
import threading

__all__ = ["AttrScope"]


class _CurrentProperty(type):
    @property
    def current(cls):
        tls = AttrScope._tls
        try:
            return tls.value
        except AttributeError:
            tls.value = AttrScope()
            return tls.value

    @current.setter
    def current(cls, scope):
        if not isinstance(scope, AttrScope):
            raise TypeError("AttrScope.current must be an AttrScope, got %s" % type(scope).__name__)
        AttrScope._tls.value = scope


class AttrScope(metaclass=_CurrentProperty):
    """Attributes (string values) set on every symbol created inside the ``with`` block."""

    _tls = threading.local()

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            if not isinstance(value, str):
                raise ValueError("Attributes need to be string: attribute %r is %s"
                                 % (key, type(value).__name__))
        self._attr = kwargs
        self._old_scope = None

    def get(self, attr):
        """The scope's attributes updated with ``attr`` (a dict, or None): a new dict."""
        if self._attr:
            ret = dict(self._attr)
            if attr:
                ret.update(attr)
            return ret
        return dict(attr) if attr else {}

    def __enter__(self):
        self._old_scope = AttrScope.current
        merged = dict(self._old_scope._attr)
        merged.update(self._attr)
        self._attr = merged
        AttrScope.current = self
        return self

    def __exit__(self, ptype, value, trace):
        AttrScope.current = self._old_scope
        self._old_scope = None
