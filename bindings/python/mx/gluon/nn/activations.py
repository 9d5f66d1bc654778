"""Activation layers (MXNet 1.x ``mxnet.gluon.nn.activations``): each calls the Activation or
LeakyReLU op of libmx."""
from ... import initializer
from ..block import HybridBlock

__all__ = ["Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "Swish", "GELU", "SiLU"]


class Activation(HybridBlock):
    """Applies ``act_type`` element-wise: 'relu', 'sigmoid', 'tanh', 'softrelu', 'softsign'
    (and whatever else the Activation op accepts). The block's name is the activation's."""

    def __init__(self, activation, **kwargs):
        self._act_type = activation
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        return F.Activation(x, act_type=self._act_type, name="fwd")

    def __repr__(self):
        return "{name}({_act_type})".format(name=self.__class__.__name__, **self.__dict__)


class LeakyReLU(HybridBlock):
    """``x if x > 0 else alpha * x`` (alpha >= 0)."""

    def __init__(self, alpha, **kwargs):
        if alpha < 0:
            raise ValueError("Slope coefficient for LeakyReLU must be no less than 0, got %r"
                             % (alpha,))
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="leaky", slope=self._alpha, name="fwd")

    def __repr__(self):
        return "{name}({alpha})".format(name=self.__class__.__name__, alpha=self._alpha)


class PReLU(HybridBlock):
    """Parametric ReLU: ``x if x > 0 else alpha * x`` with a learned alpha of shape
    (in_channels,) along axis 1 (in_channels=1: one shared slope)."""

    def __init__(self, alpha_initializer=initializer.Constant(0.25), in_channels=1, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.alpha = self.params.get("alpha", shape=(in_channels,),
                                         init=alpha_initializer)

    def hybrid_forward(self, F, x, alpha):
        return F.LeakyReLU(x, gamma=alpha, act_type="prelu", name="fwd")


class ELU(HybridBlock):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self._alpha = alpha

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="elu", slope=self._alpha, name="fwd")


class SELU(HybridBlock):
    """Scaled ELU with the fixed constants of Klambauer et al."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def hybrid_forward(self, F, x):
        return F.LeakyReLU(x, act_type="selu", name="fwd")


class GELU(HybridBlock):
    """Gaussian error linear unit, ``0.5 * x * (1 + erf(x / sqrt(2)))``.

    ``approximation='tanh'`` uses ``0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))``."""

    def __init__(self, approximation="erf", **kwargs):
        if approximation not in ("erf", "tanh"):
            raise ValueError("Unsupported approximation! Support values are 'erf' and 'tanh', "
                             "but got '{}'".format(approximation))
        super().__init__(**kwargs)
        self._approximation = approximation

    def hybrid_forward(self, F, x):
        if self._approximation == "erf":
            return F.LeakyReLU(x, act_type="gelu", name="fwd")
        inner = (x + 0.044715 * x * x * x) * 0.7978845608028654
        return 0.5 * x * (1.0 + F.tanh(inner))


class Swish(HybridBlock):
    """``x * sigmoid(beta * x)``."""

    def __init__(self, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self._beta = beta

    def hybrid_forward(self, F, x):
        return x * F.sigmoid(self._beta * x, name="fwd")


class SiLU(HybridBlock):
    """``x * sigmoid(x)``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def hybrid_forward(self, F, x):
        return x * F.sigmoid(x, name="fwd")
