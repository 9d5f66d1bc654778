"""Gluon data API (MXNet 1.x ``mxnet.gluon.data``): datasets, samplers, DataLoader, vision."""
from .dataset import *  # noqa: F401,F403
from .dataset import Dataset, SimpleDataset, ArrayDataset  # noqa: F401
from .sampler import *  # noqa: F401,F403
from .sampler import (Sampler, SequentialSampler, RandomSampler, FilterSampler,  # noqa: F401
                      BatchSampler, IntervalSampler)
from .dataloader import DataLoader, default_batchify_fn, default_mp_batchify_fn  # noqa: F401
from . import vision  # noqa: F401
