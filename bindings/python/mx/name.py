"""Automatic naming of symbols (MXNet's ``mx.name``).

Every op function of ``mx.sym`` asks the current :class:`NameManager` for the node's name: the
name given by the user, or the op's name in lower case plus a counter (``fullyconnected0``,
``_plus1``). :class:`Prefix` puts a prefix in front of every name made in its ``with`` block (Gluon
blocks name their nodes this way). The current manager is per thread.
"""
import threading

__all__ = ["NameManager", "Prefix"]


class _CurrentProperty(type):
    """``NameManager.current``: the manager in effect on this thread (a default one per thread)."""

    @property
    def current(cls):
        tls = NameManager._tls
        try:
            return tls.value
        except AttributeError:
            tls.value = NameManager()
            return tls.value

    @current.setter
    def current(cls, manager):
        if not isinstance(manager, NameManager):
            raise TypeError("NameManager.current must be a NameManager, got %s"
                            % type(manager).__name__)
        NameManager._tls.value = manager


class NameManager(metaclass=_CurrentProperty):
    """Gives names to symbols created without one: ``hint`` plus a per-hint counter.

    Used as a ``with`` block it becomes the current manager (with fresh counters) until the
    block ends."""

    _tls = threading.local()

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        """The name to use: ``name`` when given, else ``hint`` followed by a counter."""
        if name:
            return name
        n = self._counter.get(hint, 0)
        self._counter[hint] = n + 1
        return "%s%d" % (hint, n)

    def __enter__(self):
        self._old_manager = NameManager.current
        NameManager.current = self
        return self

    def __exit__(self, ptype, value, trace):
        NameManager.current = self._old_manager
        self._old_manager = None


class Prefix(NameManager):
    """A name manager that puts ``prefix`` before every name, given or automatic.

    >>> data = mx.sym.Variable('data')
    >>> with mx.name.Prefix('mynet_'):
    ...     net = mx.sym.FullyConnected(data, num_hidden=10, name='fc1')
    >>> net.list_arguments()
    ['data', 'mynet_fc1_weight', 'mynet_fc1_bias']
    """

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
