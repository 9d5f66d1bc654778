"""Vision datasets and transforms (MXNet 1.x ``mxnet.gluon.data.vision``)."""
from .datasets import *  # noqa: F401,F403
from .datasets import MNIST, FashionMNIST, CIFAR10, CIFAR100  # noqa: F401
from . import transforms  # noqa: F401
