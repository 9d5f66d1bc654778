"""Specs of the image resizing ops: _image_resize (OpenCV's pixel mapping, written out in numpy;
uint8 with OpenCV's 11-bit fixed-point weights), _contrib_BilinearResize2D (MXNet's mapping with
align_corners, float32 coordinates as MXNet computes them) and its adjoint
_backward_contrib_BilinearResize2D (checked as the transpose of the forward's dense matrix)."""
import numpy as np

from opspec import Case, rand


# ------------------------------------------------------------------ _image_resize
def _out_hw(h, w, size, keep_ratio):
    size = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    if len(size) == 2:
        return size[1], size[0]
    s = size[0]
    if not keep_ratio:
        return s, s
    return (h * s // w, s) if h > w else (s, w * s // h)


def _cv_linear_taps(dst, src):
    scale = 1.0 / (dst / src)
    f = ((np.arange(dst) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = (f - s.astype(np.float32)).astype(np.float32)
    low = s < 0
    f[low], s[low] = 0, 0
    high = s >= src - 1
    f[high], s[high] = 0, src - 1
    return s, np.minimum(s + 1, src - 1), f


def _cv_nearest_taps(dst, src):
    inv = 1.0 / (dst / src)
    return np.minimum(np.floor(np.arange(dst) * inv).astype(np.int64), src - 1)


def _resize_one(img, oh, ow, interp):
    h, w = img.shape[:2]
    if interp == 0:
        return img[_cv_nearest_taps(oh, h)][:, _cv_nearest_taps(ow, w)]
    x0, x1, fx = _cv_linear_taps(ow, w)
    y0, y1, fy = _cv_linear_taps(oh, h)
    if img.dtype == np.uint8:
        a0 = np.rint((np.float32(1) - fx) * np.float32(2048)).astype(np.int64)[None, :, None]
        a1 = np.rint(fx * np.float32(2048)).astype(np.int64)[None, :, None]
        b0 = np.rint((np.float32(1) - fy) * np.float32(2048)).astype(np.int64)[:, None, None]
        b1 = np.rint(fy * np.float32(2048)).astype(np.int64)[:, None, None]
        im = img.astype(np.int64)
        hz = im[:, x0] * a0 + im[:, x1] * a1
        v = (((hz[y0] >> 4) * b0) >> 16) + (((hz[y1] >> 4) * b1) >> 16)
        return np.clip((v + 2) >> 2, 0, 255).astype(np.uint8)
    im = img.astype(np.float64)
    # OpenCV's weights are floats: w0 = 1 - f rounded to float32, then used at the image's precision.
    wx0, wx1 = (np.float32(1) - fx).astype(np.float64)[None, :, None], fx.astype(np.float64)[None, :, None]
    wy0, wy1 = (np.float32(1) - fy).astype(np.float64)[:, None, None], fy.astype(np.float64)[:, None, None]
    hz = im[:, x0] * wx0 + im[:, x1] * wx1
    return (hz[y0] * wy0 + hz[y1] * wy1).astype(img.dtype)


def resize_ref(x, size=(), keep_ratio=False, interp=1):
    if x.ndim == 3:
        oh, ow = _out_hw(x.shape[0], x.shape[1], size, keep_ratio)
        return _resize_one(x, oh, ow, interp)
    oh, ow = _out_hw(x.shape[1], x.shape[2], size, keep_ratio)
    return np.stack([_resize_one(im, oh, ow, interp) for im in x])


def image(shape, low=0.0, high=255.0):
    return lambda dt, rng: [rand(shape, dt, rng, low, high)]


def _check_against_opencv(outputs, inputs, params):
    """The op agrees with OpenCV's cv2.resize itself (a test dependency, not one of MX), within 1 for
    uint8, whose vectorised and scalar OpenCV paths differ by a rounding step."""
    import cv2
    x = inputs[0]
    imgs = x if x.ndim == 4 else x[None]
    oh, ow = outputs[0].shape[-3:-1]
    flag = cv2.INTER_NEAREST if params.get("interp", 1) == 0 else cv2.INTER_LINEAR
    exp = np.stack([cv2.resize(im, (ow, oh), interpolation=flag).reshape(oh, ow, -1) for im in imgs])
    got = outputs[0] if x.ndim == 4 else outputs[0][None]
    if x.dtype == np.uint8:
        assert np.abs(got.astype(int) - exp.astype(int)).max() <= 1
    else:
        np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-4)


RESIZE = [
    Case(image((7, 9, 3)), resize_ref, {"size": (13, 5)}, name="hwc-up-down"),
    Case(image((2, 32, 24, 3)), resize_ref, {"size": (17, 40)}, name="nhwc"),
    Case(image((10, 6, 1)), resize_ref, {"size": 4}, name="square"),
    Case(image((10, 6, 2)), resize_ref, {"size": 4, "keep_ratio": True}, name="keep-ratio-tall"),
    Case(image((6, 11, 3)), resize_ref, {"size": 4, "keep_ratio": True}, name="keep-ratio-wide"),
    Case(image((5, 5, 3)), resize_ref, {"size": (12, 11), "interp": 0}, name="nearest-up"),
    Case(image((2, 13, 9, 3)), resize_ref, {"size": (4, 6), "interp": 0}, name="nearest-down"),
    Case(image((8, 8, 3)), resize_ref, {"size": (4, 4)}, name="half"),
    Case(image((3, 4, 3)), resize_ref, {"size": (4, 3)}, name="same-size"),
    Case(image((2, 21, 17, 3)), None, {"size": (9, 30)}, check=_check_against_opencv, name="vs-opencv-linear"),
    Case(image((19, 23, 3)), None, {"size": (40, 7), "interp": 0}, check=_check_against_opencv,
         name="vs-opencv-nearest"),
]


# ------------------------------------------------------------------ BilinearResize2D
def _mx_taps(src, dst, align):
    if dst > 1:
        scale = np.float32(src - 1) / np.float32(dst - 1) if align else np.float32(src) / np.float32(dst)
    else:
        scale = np.float32(0)
    d = np.arange(dst, dtype=np.float32)
    if src == dst:
        r = d
    elif align:
        r = (scale * d).astype(np.float32)
    else:
        r = np.maximum((scale * (d + np.float32(0.5)) - np.float32(0.5)).astype(np.float32), 0)
    i0 = r.astype(np.int64)
    i1 = np.where(i0 < src - 1, i0 + 1, i0)
    return i0, i1, (r - i0.astype(np.float32)).astype(np.float32)


def _bilinear_matrix(src, dst, align):
    """(dst, src) interpolation matrix along one axis."""
    i0, i1, l1 = _mx_taps(src, dst, align)
    m = np.zeros((dst, src))
    l1 = l1.astype(np.float64)
    np.add.at(m, (np.arange(dst), i0), 1 - l1)
    np.add.at(m, (np.arange(dst), i1), l1)
    return m


def _out_size(shape, like, height=1, width=1, scale_height=None, scale_width=None, mode="size"):
    H, W = shape[2], shape[3]
    f32 = np.float32
    if mode == "size":
        oh = height if scale_height is None else int(f32(scale_height) * f32(H))
        ow = width if scale_width is None else int(f32(scale_width) * f32(W))
    elif mode == "odd_scale":
        oh = int(f32(scale_height) * f32(H)) if H % 2 == 0 else int(f32(scale_height) * f32(H - 1)) + 1
        ow = int(f32(scale_width) * f32(W)) if W % 2 == 0 else int(f32(scale_width) * f32(W - 1)) + 1
    elif mode == "like":
        oh, ow = like.shape[2], like.shape[3]
    else:
        even = mode.startswith("to_even")
        up = mode.endswith("up")
        def fix(v):
            ok = (v % 2 == 0) == even
            return v if ok else (v + 1 if up else v - 1)
        oh, ow = fix(H), fix(W)
    return oh, ow


def bilinear_ref(x, *like, align_corners=True, **p):
    oh, ow = _out_size(x.shape, like[0] if like else None, **p)
    mh = _bilinear_matrix(x.shape[2], oh, align_corners)
    mw = _bilinear_matrix(x.shape[3], ow, align_corners)
    y = np.einsum("ih,nchw,jw->ncij", mh, x.astype(np.float64), mw)
    return y.astype(x.dtype)


def bilinear_backward_ref(g, x, align_corners=True):
    mh = _bilinear_matrix(x.shape[2], g.shape[2], align_corners)
    mw = _bilinear_matrix(x.shape[3], g.shape[3], align_corners)
    return np.einsum("ih,ncij,jw->nchw", mh, g.astype(np.float64), mw).astype(g.dtype)


def nchw(*shapes):
    return lambda dt, rng: [rand(s, dt, rng) for s in shapes]


BILINEAR = [
    Case(nchw((2, 3, 4, 5)), bilinear_ref, {"height": 7, "width": 3}, name="size-align"),
    Case(nchw((1, 2, 6, 5)), bilinear_ref, {"height": 3, "width": 9, "align_corners": False}, name="size-half-pixel"),
    Case(nchw((1, 2, 4, 6)), bilinear_ref, {"scale_height": 1.5, "scale_width": 0.5}, name="scales"),
    Case(nchw((1, 1, 5, 4)), bilinear_ref, {"scale_height": 2.0, "scale_width": 2.0, "mode": "odd_scale"},
         name="odd-scale"),
    Case(nchw((2, 2, 3, 4), (1, 1, 6, 2)), bilinear_ref, {"mode": "like", "align_corners": False}, name="like"),
    Case(nchw((1, 2, 5, 4)), bilinear_ref, {"mode": "to_even_up"}, name="to-even-up"),
    Case(nchw((1, 2, 5, 4)), bilinear_ref, {"mode": "to_odd_down"}, name="to-odd-down"),
    Case(nchw((1, 2, 5, 4)), bilinear_ref, {"mode": "to_even_down", "align_corners": False}, name="to-even-down"),
    Case(nchw((1, 2, 5, 4)), bilinear_ref, {"mode": "to_odd_up"}, name="to-odd-up"),
    Case(nchw((1, 1, 3, 3)), bilinear_ref, {"height": 1, "width": 1}, name="to-one-pixel"),
]

BILINEAR_BACKWARD = [
    Case(nchw((2, 3, 7, 3), (2, 3, 4, 5)), bilinear_backward_ref, {}, name="align"),
    Case(nchw((1, 2, 3, 9), (1, 2, 6, 5)), bilinear_backward_ref, {"align_corners": False}, name="half-pixel"),
    Case(nchw((1, 2, 4, 5), (1, 2, 4, 5)), bilinear_backward_ref, {}, name="same-size"),
]

SPECS = {
    "_image_resize": RESIZE,
    "_contrib_BilinearResize2D": BILINEAR,
    "_backward_contrib_BilinearResize2D": BILINEAR_BACKWARD,
}
