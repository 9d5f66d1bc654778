"""Image transforms (MXNet 1.x ``mxnet.gluon.data.vision.transforms``).

Images are NDArrays of shape (H, W, C) (or batches (N, H, W, C)); ``ToTensor`` turns them into
float32 (C, H, W) in [0, 1). Casting, transposing, normalising, cropping and flipping are op calls
(``cast``, ``transpose``, ``broadcast_sub``/``broadcast_div``, ``slice``, ``flip``).

``Resize`` and the resizing step of ``CenterCrop`` / ``RandomResizedCrop`` call the
``_image_resize`` op (``mx.nd.image.resize``: OpenCV's pixel mapping, ``interpolation`` 0 =
nearest and 1 = bilinear; other modes raise UnsupportedError).
"""
import math
import random

import numpy as np

from .... import ndarray as nd
from ....base import UnsupportedError
from ....ndarray import NDArray
from ...block import Block, HybridBlock

try:  # Compose is a Sequential, as in MXNet
    from ...nn import Sequential as _SequentialBase
except ImportError:  # gluon.nn not there yet: same behaviour on a plain Block
    _SequentialBase = None

__all__ = ["Compose", "Cast", "ToTensor", "Normalize", "Resize", "CenterCrop",
           "RandomResizedCrop", "RandomFlipLeftRight", "RandomFlipTopBottom"]


if _SequentialBase is not None:
    class Compose(_SequentialBase):
        """Applies the transforms in order: ``Compose([Resize(32), ToTensor()])``."""

        def __init__(self, transforms):
            super(Compose, self).__init__()
            for t in transforms:
                self.add(t)
else:
    class Compose(Block):
        """Applies the transforms in order: ``Compose([Resize(32), ToTensor()])``."""

        def __init__(self, transforms):
            super(Compose, self).__init__()
            self._transforms = list(transforms)
            for i, t in enumerate(self._transforms):
                if isinstance(t, Block):
                    self.register_child(t, str(i))

        def forward(self, *args):
            x = args
            for t in self._transforms:
                x = t(*x) if isinstance(x, tuple) else t(x)
            return x

        def __len__(self):
            return len(self._transforms)

        def __getitem__(self, i):
            return self._transforms[i]


class Cast(HybridBlock):
    """Casts the input (or each of several inputs) to ``dtype``."""

    def __init__(self, dtype="float32"):
        super(Cast, self).__init__()
        self._dtype = dtype

    def hybrid_forward(self, F, *args):
        if len(args) == 1:
            return F.cast(args[0], dtype=self._dtype)
        return tuple(F.cast(x, dtype=self._dtype) for x in args)


class ToTensor(HybridBlock):
    """(H, W, C) [or (N, H, W, C)] image in [0, 255] -> float32 (C, H, W) [or (N, C, H, W)]
    in [0, 1] (divided by 255)."""

    def __init__(self):
        super(ToTensor, self).__init__()

    def hybrid_forward(self, F, x):
        if x.ndim == 3:
            axes = (2, 0, 1)
        elif x.ndim == 4:
            axes = (0, 3, 1, 2)
        else:
            raise ValueError("ToTensor expects an image of shape (H, W, C) or a batch "
                             "(N, H, W, C), got shape %s" % (x.shape,))
        return F.transpose(F.cast(x, dtype="float32"), axes=axes) / 255.0


class Normalize(HybridBlock):
    """``(x - mean[c]) / std[c]`` per channel of a (C, H, W) or (N, C, H, W) tensor; mean and
    std are numbers or sequences of one value per channel."""

    def __init__(self, mean=0.0, std=1.0):
        super(Normalize, self).__init__()
        self._mean = mean
        self._std = std

    @staticmethod
    def _per_channel(v, c, what, ctx, dtype):
        vals = [float(v)] if isinstance(v, (int, float, np.number)) else [float(a) for a in v]
        if len(vals) == 1:
            vals = vals * c
        if len(vals) != c:
            raise ValueError("Normalize: %s has %d values but the input has %d channels"
                             % (what, len(vals), c))
        return nd.array(vals, ctx=ctx, dtype=dtype).reshape((c, 1, 1))

    def hybrid_forward(self, F, x):
        if x.ndim not in (3, 4):
            raise ValueError("Normalize expects a (C, H, W) or (N, C, H, W) tensor, got shape %s"
                             % (x.shape,))
        c = x.shape[-3]
        mean = self._per_channel(self._mean, c, "mean", x.context, x.dtype)
        std = self._per_channel(self._std, c, "std", x.context, x.dtype)
        return F.broadcast_div(F.broadcast_sub(x, mean), std)


# ---------------------------------------------------------------------------------------------
# resizing (numpy: the documented exception, see the module docstring)

_INTERP_NAMES = {0: "nearest", 1: "bilinear", 2: "area", 3: "bicubic", 4: "lanczos",
                 9: "auto", 10: "random"}


def _check_interp(interpolation):
    if interpolation not in (0, 1):
        raise UnsupportedError(
            "interpolation=%r (%s) is not supported: MX resizes with nearest (0) or bilinear "
            "(1) interpolation" % (interpolation, _INTERP_NAMES.get(interpolation, "unknown")))


def _resize_nd(x, w, h, interpolation):
    if not isinstance(x, NDArray):
        raise TypeError("expected an NDArray image, got %s" % type(x).__name__)
    if x.ndim not in (3, 4):
        raise ValueError("expected an image of shape (H, W, C) or (N, H, W, C), got shape %s"
                         % (x.shape,))
    dt = x.dtype
    if dt not in (np.uint8, np.float32, np.float64):  # what the resize op computes in
        return nd.image.resize(x.astype("float32"), size=(int(w), int(h)),
                               interp=interpolation).astype(dt)
    return nd.image.resize(x, size=(int(w), int(h)), interp=interpolation)


def _hw(x):
    return (x.shape[0], x.shape[1]) if x.ndim == 3 else (x.shape[1], x.shape[2])


def _crop(x, x0, y0, w, h):
    if x.ndim == 3:
        return nd.slice(x, begin=(y0, x0, None), end=(y0 + h, x0 + w, None))
    return nd.slice(x, begin=(None, y0, x0, None), end=(None, y0 + h, x0 + w, None))


def _fixed_crop(x, x0, y0, w, h, size, interpolation):
    out = _crop(x, x0, y0, w, h)
    if size is not None and (w, h) != tuple(size):
        out = _resize_nd(out, size[0], size[1], interpolation)
    return out


def _size_pair(size):
    if isinstance(size, (int, np.integer)):
        return (int(size), int(size))
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise ValueError("size must be an int or a (width, height) pair, got %r" % (size,))
    return size


def _scale_down(src_size, size):
    """Shrink size (w, h) to fit inside src_size keeping its aspect ratio."""
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def _center_crop(x, size, interpolation):
    h, w = _hw(x)
    new_w, new_h = _scale_down((w, h), size)
    x0 = int((w - new_w) / 2)
    y0 = int((h - new_h) / 2)
    return _fixed_crop(x, x0, y0, new_w, new_h, size, interpolation)


class Resize(HybridBlock):
    """Resizes an (H, W, C) / (N, H, W, C) image to ``size``.

    Parameters
    ----------
    size : int or (width, height)
    keep_ratio : bool, default False
        With an int size: resize the SHORTER edge to size, keeping the aspect ratio.
    interpolation : int, default 1
        0 nearest, 1 bilinear (others raise UnsupportedError).
    """

    def __init__(self, size, keep_ratio=False, interpolation=1):
        super(Resize, self).__init__()
        _check_interp(interpolation)
        self._keep = keep_ratio
        self._size = size
        self._interpolation = interpolation

    def hybrid_forward(self, F, x):
        h, w = _hw(x)
        if isinstance(self._size, (int, np.integer)):
            if not self._keep:
                wsize = hsize = int(self._size)
            elif h > w:
                wsize = int(self._size)
                hsize = int(h * wsize / w)
            else:
                hsize = int(self._size)
                wsize = int(w * hsize / h)
        else:
            wsize, hsize = _size_pair(self._size)
        return _resize_nd(x, wsize, hsize, self._interpolation)


class CenterCrop(Block):
    """Crops the centre (width, height) = size out of an (H, W, C) image; a smaller image is
    cropped at the largest centred box of the same aspect ratio and resized up to size."""

    def __init__(self, size, interpolation=1):
        super(CenterCrop, self).__init__()
        _check_interp(interpolation)
        self._size = _size_pair(size)
        self._interpolation = interpolation

    def forward(self, x):
        return _center_crop(x, self._size, self._interpolation)


class RandomResizedCrop(Block):
    """Crops a random area (fraction ``scale`` of the image, aspect ratio in ``ratio``) and
    resizes it to size; falls back to a centre crop after 10 tries."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=1):
        super(RandomResizedCrop, self).__init__()
        _check_interp(interpolation)
        self._size = _size_pair(size)
        self._scale = scale
        self._ratio = ratio
        self._interpolation = interpolation

    def forward(self, x):
        h, w = _hw(x)
        area = self._scale
        if isinstance(area, (int, float)):
            area = (area, 1.0)
        src_area = h * w
        log_ratio = (math.log(self._ratio[0]), math.log(self._ratio[1]))
        for _ in range(10):
            target_area = random.uniform(area[0], area[1]) * src_area
            new_ratio = math.exp(random.uniform(*log_ratio))
            new_w = int(round(math.sqrt(target_area * new_ratio)))
            new_h = int(round(math.sqrt(target_area / new_ratio)))
            if 0 < new_w <= w and 0 < new_h <= h:
                x0 = random.randint(0, w - new_w)
                y0 = random.randint(0, h - new_h)
                return _fixed_crop(x, x0, y0, new_w, new_h, self._size, self._interpolation)
        return _center_crop(x, self._size, self._interpolation)


class RandomFlipLeftRight(HybridBlock):
    """Flips an (H, W, C) image (or an (N, H, W, C) batch) along its width with probability
    0.5."""

    def __init__(self):
        super(RandomFlipLeftRight, self).__init__()

    def hybrid_forward(self, F, x):
        if random.random() < 0.5:
            return F.flip(x, axis=x.ndim - 2)
        return x


class RandomFlipTopBottom(HybridBlock):
    """Flips an (H, W, C) image (or a batch) along its height with probability 0.5."""

    def __init__(self):
        super(RandomFlipTopBottom, self).__init__()

    def hybrid_forward(self, F, x):
        if random.random() < 0.5:
            return F.flip(x, axis=x.ndim - 3)
        return x
