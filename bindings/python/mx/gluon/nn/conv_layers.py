"""Convolution and pooling layers (MXNet 1.x ``mxnet.gluon.nn.conv_layers``): Convolution,
Deconvolution, Pooling and Pad ops of libmx."""
from ..block import HybridBlock
from .activations import Activation

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
           "Conv3DTranspose", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
           "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "ReflectionPad2D"]


def _tuple(v, n, what):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(i) for i in v)
    if len(v) != n:
        raise ValueError("%s must be an int or a tuple of %d ints, got %s" % (what, n, v))
    return v


class _Conv(HybridBlock):
    """N-D convolution (op_name 'Convolution') or transposed convolution ('Deconvolution').

    Weight shapes (channel-first layouts): Convolution (channels, in_channels/groups, *kernel),
    Deconvolution (in_channels, channels/groups, *kernel). in_channels=0 is inferred from the
    input at the first forward."""

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout,
                 in_channels=0, activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", op_name="Convolution", adj=None, prefix=None,
                 params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            n = len(kernel_size)
            if isinstance(strides, int):
                strides = (strides,) * n
            if isinstance(padding, int):
                padding = (padding,) * n
            if isinstance(dilation, int):
                dilation = (dilation,) * n
            self._op_name = op_name
            self._layout = layout
            self._groups = groups
            self._kwargs = {"kernel": kernel_size, "stride": strides, "dilate": dilation,
                            "pad": padding, "num_filter": channels, "num_group": groups,
                            "no_bias": not use_bias, "layout": layout}
            if adj is not None:
                self._kwargs["adj"] = adj
            if channels % groups:
                raise ValueError("channels (%d) must be divisible by groups (%d)"
                                 % (channels, groups))
            wshape = self._weight_shape(in_channels)
            self.weight = self.params.get("weight", shape=wshape, init=weight_initializer,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            if activation is not None:
                self.act = Activation(activation, prefix=activation + "_")
            else:
                self.act = None

    def _weight_shape(self, in_channels):
        k = tuple(self._kwargs["kernel"])
        g = self._groups
        channel_last = self._layout.endswith("C")
        if self._op_name == "Convolution":
            cin = in_channels // g if in_channels else 0
            return (self._channels,) + ((k + (cin,)) if channel_last else ((cin,) + k))
        cout = self._channels // g
        return (in_channels,) + ((k + (cout,)) if channel_last else ((cout,) + k))

    def _infer_param_shapes(self, x, *args):
        c = x.shape[self._layout.find("C")]
        if self._op_name == "Convolution" and c % self._groups:
            raise ValueError("%s: input channels (%d) must be divisible by groups (%d)"
                             % (self.name, c, self._groups))
        self.weight.shape = self._weight_shape(c)

    def hybrid_forward(self, F, x, weight, bias=None):
        op = getattr(F, self._op_name)
        if bias is None:
            act = op(x, weight, name="fwd", **self._kwargs)
        else:
            act = op(x, weight, bias, name="fwd", **self._kwargs)
        if self.act is not None:
            act = self.act(act)
        return act

    def _alias(self):
        return "conv"

    def __repr__(self):
        s = "{name}({mapping}, kernel_size={kernel}, stride={stride}"
        len_kernel_size = len(self._kwargs["kernel"])
        if self._kwargs["pad"] != (0,) * len_kernel_size:
            s += ", padding={pad}"
        if self._kwargs["dilate"] != (1,) * len_kernel_size:
            s += ", dilation={dilate}"
        if hasattr(self, "out_pad") and self.out_pad != (0,) * len_kernel_size:
            s += ", output_padding={out_pad}".format(out_pad=self.out_pad)
        if self._kwargs["num_group"] != 1:
            s += ", groups={num_group}"
        if self.bias is None:
            s += ", bias=False"
        if self.act:
            s += ", {}".format(self.act)
        s += ")"
        shape = self.weight.shape
        if self._op_name == "Convolution":
            cin = shape[-1] if self._layout.endswith("C") else shape[1]
            mapping = "{0} -> {1}".format(cin * self._groups if cin else None, shape[0])
        else:
            mapping = "{0} -> {1}".format(shape[0] if shape[0] else None,
                                          self._channels)
        return s.format(name=self.__class__.__name__, mapping=mapping, **self._kwargs)


class Conv1D(_Conv):
    """1-D convolution over (N, C, W) input."""

    def __init__(self, channels, kernel_size, strides=1, padding=0, dilation=1, groups=1,
                 layout="NCW", activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCW", "NWC"):
            raise ValueError("Only supports 'NCW' and 'NWC' layout for now, got %r" % layout)
        kernel_size = _tuple(kernel_size, 1, "kernel_size")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over (N, C, H, W) input."""

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), dilation=(1, 1),
                 groups=1, layout="NCHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCHW", "NHWC"):
            raise ValueError("Only supports 'NCHW' and 'NHWC' layout for now, got %r" % layout)
        kernel_size = _tuple(kernel_size, 2, "kernel_size")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over (N, C, D, H, W) input."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0),
                 dilation=(1, 1, 1), groups=1, layout="NCDHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCDHW", "NDHWC"):
            raise ValueError("Only supports 'NCDHW' and 'NDHWC' layout for now, got %r"
                             % layout)
        kernel_size = _tuple(kernel_size, 3, "kernel_size")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, **kwargs)


class Conv1DTranspose(_Conv):
    """1-D transposed convolution; ``output_padding`` adds to one side of the output."""

    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0,
                 dilation=1, groups=1, layout="NCW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCW", "NWC"):
            raise ValueError("Only supports 'NCW' and 'NWC' layout for now, got %r" % layout)
        kernel_size = _tuple(kernel_size, 1, "kernel_size")
        output_padding = _tuple(output_padding, 1, "output_padding")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, op_name="Deconvolution", adj=output_padding,
                         **kwargs)
        self.outpad = output_padding
        self.out_pad = output_padding


class Conv2DTranspose(_Conv):
    """2-D transposed convolution; ``output_padding`` adds to one side of the output."""

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0),
                 output_padding=(0, 0), dilation=(1, 1), groups=1, layout="NCHW",
                 activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCHW", "NHWC"):
            raise ValueError("Only supports 'NCHW' and 'NHWC' layout for now, got %r" % layout)
        kernel_size = _tuple(kernel_size, 2, "kernel_size")
        output_padding = _tuple(output_padding, 2, "output_padding")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, op_name="Deconvolution", adj=output_padding,
                         **kwargs)
        self.outpad = output_padding
        self.out_pad = output_padding


class Conv3DTranspose(_Conv):
    """3-D transposed convolution; ``output_padding`` adds to one side of the output."""

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0),
                 output_padding=(0, 0, 0), dilation=(1, 1, 1), groups=1, layout="NCDHW",
                 activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        if layout not in ("NCDHW", "NDHWC"):
            raise ValueError("Only supports 'NCDHW' and 'NDHWC' layout for now, got %r"
                             % layout)
        kernel_size = _tuple(kernel_size, 3, "kernel_size")
        output_padding = _tuple(output_padding, 3, "output_padding")
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout,
                         in_channels, activation, use_bias, weight_initializer,
                         bias_initializer, op_name="Deconvolution", adj=output_padding,
                         **kwargs)
        self.outpad = output_padding
        self.out_pad = output_padding


class _Pooling(HybridBlock):
    """Pooling (the Pooling op). ceil_mode selects pooling_convention 'full' (else 'valid')."""

    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        n = len(pool_size)
        if strides is None:
            strides = pool_size
        strides = _tuple(strides, n, "strides")
        padding = _tuple(padding, n, "padding")
        self._kwargs = {"kernel": pool_size, "stride": strides, "pad": padding,
                        "global_pool": global_pool, "pool_type": pool_type, "layout": layout,
                        "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        return F.Pooling(x, name="fwd", **self._kwargs)

    def __repr__(self):
        s = "{name}(size={kernel}, stride={stride}, padding={pad}, ceil_mode={ceil_mode}"
        s += ", global_pool={global_pool}, pool_type={pool_type}, layout={layout})"
        return s.format(name=self.__class__.__name__,
                        ceil_mode=self._kwargs["pooling_convention"] == "full", **self._kwargs)


def _check_layout(layout, allowed):
    if layout not in allowed:
        raise ValueError("Only supports %s layout for now, got %r"
                         % (" and ".join("'%s'" % a for a in allowed), layout))


class MaxPool1D(_Pooling):
    """Max pooling over (N, C, W)."""

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False,
                 **kwargs):
        _check_layout(layout, ("NCW", "NWC"))
        pool_size = _tuple(pool_size, 1, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         **kwargs)


class MaxPool2D(_Pooling):
    """Max pooling over (N, C, H, W)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW",
                 ceil_mode=False, **kwargs):
        _check_layout(layout, ("NCHW", "NHWC"))
        pool_size = _tuple(pool_size, 2, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         **kwargs)


class MaxPool3D(_Pooling):
    """Max pooling over (N, C, D, H, W)."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCDHW", **kwargs):
        _check_layout(layout, ("NCDHW", "NDHWC"))
        pool_size = _tuple(pool_size, 3, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout,
                         **kwargs)


class AvgPool1D(_Pooling):
    """Average pooling over (N, C, W); count_include_pad counts padded zeros."""

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False,
                 count_include_pad=True, **kwargs):
        _check_layout(layout, ("NCW", "NWC"))
        pool_size = _tuple(pool_size, 1, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class AvgPool2D(_Pooling):
    """Average pooling over (N, C, H, W); count_include_pad counts padded zeros."""

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCHW", count_include_pad=True, **kwargs):
        _check_layout(layout, ("NCHW", "NHWC"))
        pool_size = _tuple(pool_size, 2, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class AvgPool3D(_Pooling):
    """Average pooling over (N, C, D, H, W); count_include_pad counts padded zeros."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False,
                 layout="NCDHW", count_include_pad=True, **kwargs):
        _check_layout(layout, ("NCDHW", "NDHWC"))
        pool_size = _tuple(pool_size, 3, "pool_size")
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class GlobalMaxPool1D(_Pooling):
    """Max over the whole W axis: (N, C, W) -> (N, C, 1)."""

    def __init__(self, layout="NCW", **kwargs):
        _check_layout(layout, ("NCW", "NWC"))
        super().__init__((1,), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool2D(_Pooling):
    """Max over H and W: (N, C, H, W) -> (N, C, 1, 1)."""

    def __init__(self, layout="NCHW", **kwargs):
        _check_layout(layout, ("NCHW", "NHWC"))
        super().__init__((1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalMaxPool3D(_Pooling):
    """Max over D, H and W."""

    def __init__(self, layout="NCDHW", **kwargs):
        _check_layout(layout, ("NCDHW", "NDHWC"))
        super().__init__((1, 1, 1), None, 0, True, True, "max", layout, **kwargs)


class GlobalAvgPool1D(_Pooling):
    """Mean over the whole W axis."""

    def __init__(self, layout="NCW", **kwargs):
        _check_layout(layout, ("NCW", "NWC"))
        super().__init__((1,), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool2D(_Pooling):
    """Mean over H and W."""

    def __init__(self, layout="NCHW", **kwargs):
        _check_layout(layout, ("NCHW", "NHWC"))
        super().__init__((1, 1), None, 0, True, True, "avg", layout, **kwargs)


class GlobalAvgPool3D(_Pooling):
    """Mean over D, H and W."""

    def __init__(self, layout="NCDHW", **kwargs):
        _check_layout(layout, ("NCDHW", "NDHWC"))
        super().__init__((1, 1, 1), None, 0, True, True, "avg", layout, **kwargs)


class ReflectionPad2D(HybridBlock):
    """Pads the H and W axes of (N, C, H, W) input by reflection (the Pad op, mode 'reflect').
    ``padding`` is an int (all four sides) or MXNet's 8-tuple pad_width."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 8:
            raise ValueError("ReflectionPad2D: padding must be an int or a tuple of 8 ints, "
                             "got %s" % (padding,))
        self._padding = padding

    def hybrid_forward(self, F, x):
        return F.pad(x, mode="reflect", pad_width=self._padding)
