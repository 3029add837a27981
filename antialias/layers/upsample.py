"""Up-sampling by an integer factor: one module, :class:`Upsample2d`, with every method a U-Net
decoder uses, plus the blur up-sampler as a function, :func:`blur_upsample2d`.

What does not live here: the initialisers (:mod:`antialias.transposed`), APS-U's phase logic
(``aps.py``), frequency analysis (:mod:`antialias.spectral`).

Every method maps ``(B, C_in, H, W)`` to ``(B, C_out, up H, up W)`` exactly. With
``pad_mode="circular"`` every method treats the input as periodic (interpolation and the
transposed conv included, which torch clamps / zero-pads), so the layer commutes exactly with
circular shifts: input shift ``k``, output shift ``up k``. Methods:

- ``nearest``, ``bilinear``, ``bicubic``: ``F.interpolate`` (``align_corners=False``), then a
  conv (``kernel_size``, "same" padding) when the channel counts differ: resize-conv.
- ``blur``: zeros + low-pass ``outer(taps, taps)`` with DC gain ``up**2`` (taps normalised
  to sum ``up`` per axis), then the resize conv. ``taps=4, up=2`` is ``[1, 3, 3, 1]``; with
  ``pad_mode="replicate"`` that equals ``bilinear`` exactly.
- ``transposed``: ``ConvTranspose2d(kernel_size, stride=up)`` with padding / output padding
  chosen for the exact size: ``padding = max(0, ceil((k - up) / 2))``,
  ``output_padding = 2 padding - (k - up)``. ``init``: ``default`` (torch), ``bilinear``
  (FCN triangle on the channel diagonal; needs ``C_in == C_out``) or ``icnr`` (kernel =
  box(up) * a random sub-kernel, i.e. nearest then conv: every phase equal, no
  checkerboard at init; needs ``k >= up``).
- ``transposed_blur``: the transposed conv, then a same-size blur (taps sum 1).
- ``pixel_shuffle``: conv to ``C_out up**2`` channels + ``PixelShuffle(up)``; ``init``
  ``icnr`` (default) or ``default``.
- ``aps``: :class:`~antialias.layers.aps.APSUp2d` (zeros except in the phase chosen by the
  paired APS down-sampler).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias.transposed import init_bilinear_, init_icnr_

from ._common import (
    check_choice,
    check_feature_map,
    check_int,
    check_optional_channels,
    check_pad_mode,
)
from ._parts import (
    blur2d,
    blur_upsample,
    conv_transpose2d_circular,
    interpolate_circular,
    interpolation_mode,
    make_resize_conv,
    resolve_taps,
)
from .aps import APSDown2d, APSUp2d

__all__ = [
    "UPSAMPLE_METHODS",
    "ConvTransposeBlur2d",
    "Upsample2d",
    "blur_upsample2d",
    "transposed_padding",
]

UPSAMPLE_METHODS: tuple[str, ...] = (
    "nearest",
    "bilinear",
    "bicubic",
    "blur",
    "transposed",
    "transposed_blur",
    "pixel_shuffle",
    "aps",
)

_DEFAULT_TAPS = {"blur": 4, "transposed_blur": 3, "aps": 1}
_DEFAULT_KERNEL = {"transposed": None, "transposed_blur": None}  # None -> up
_INITS = {
    "transposed": ("default", "bilinear", "icnr"),
    "transposed_blur": ("default", "bilinear", "icnr"),
    "pixel_shuffle": ("default", "icnr"),
}


def transposed_padding(kernel_size: int, up: int) -> tuple[int, int]:
    """``(padding, output_padding)`` making ``ConvTranspose2d(k, stride=up)`` output ``up * H``.

    From ``(H - 1) up - 2 p + k + op = up H``: ``2 p - op = k - up`` with ``0 <= op < up``.

    Example:
        >>> [transposed_padding(k, 2) for k in (1, 2, 3, 4, 5)]
        [(0, 1), (0, 0), (1, 1), (1, 0), (2, 1)]
    """
    check_int("kernel_size", kernel_size, 1)
    check_int("up", up, 1)
    padding = max(0, math.ceil((kernel_size - up) / 2))
    return padding, 2 * padding - (kernel_size - up)


def blur_upsample2d(
    x: Tensor, taps: int | Tensor | list[float] = 4, up: int = 2, pad_mode: str = "reflect"
) -> Tensor:
    """Zero insertion + separable low-pass with DC gain ``up**2``.

    Args:
        x: input.
        taps: binomial length or explicit 1-D taps (normalised to sum ``up``).
        up: factor, ``>= 1``.
        pad_mode: border handling of the low-resolution input.

    Returns:
        The up-sampled map; a constant input stays constant (any ``pad_mode`` but zeros).

    Shape:
        - x: ``(B, C, H, W)``
        - output: ``(B, C, up H, up W)``

    Example:
        >>> blur_upsample2d(torch.tensor([[[[0.0, 4.0]]]]), 4, pad_mode="replicate")[0, 0, 0]
        tensor([0., 1., 3., 4.])
    """
    check_feature_map(x, "blur_upsample2d")
    check_int("up", up, 1)
    check_pad_mode(pad_mode)
    t = resolve_taps(taps, float(up), device=x.device, dtype=x.dtype)
    return blur_upsample(x, t, up, pad_mode)


def _init_transposed_icnr_(weight: Tensor, up: int) -> Tensor:
    # nearest (zeros + box(up)) followed by a conv w0 == a transposed conv whose kernel is the
    # full convolution box(up) * w0; every polyphase component then sums to the same value.
    c_in, c_out, kh, kw = weight.shape
    if kh < up or kw < up:
        raise ValueError(
            f"expected kernel_size >= up for icnr init of a transposed conv, got {kh}x{kw}, up={up}"
        )
    w0 = torch.empty(c_out, c_in, kh - up + 1, kw - up + 1, dtype=torch.float64)
    nn.init.kaiming_normal_(w0)
    box = torch.ones(1, 1, up, up, dtype=torch.float64)
    # full 2-D convolution of each (out, in) sub-kernel with the box
    full = F.conv2d(
        F.pad(w0.reshape(-1, 1, *w0.shape[2:]), (up - 1, up - 1, up - 1, up - 1)), box
    ).reshape(c_out, c_in, kh, kw)
    with torch.no_grad():
        weight.copy_(full.transpose(0, 1) / up)
    return weight


class Upsample2d(nn.Module):
    """Up-sampling by ``up`` with a chosen ``method`` (module docstring lists them).

    Args:
        in_channels: input channels (``None`` = any; only for methods without a conv).
        out_channels: output channels (``None`` = same as input).
        method: one of :data:`UPSAMPLE_METHODS`.
        up: factor, ``>= 2`` (``>= 1`` for the fixed interpolators).
        taps: low-pass for ``blur`` (default 4, normalised to sum ``up``), ``transposed_blur``
            (default 3, sum 1) and ``aps`` (default 1 = none, sum ``up``). Ignored otherwise:
            passing it there raises.
        pad_mode: padding of every filter and conv in the layer. A transposed conv
            zero-pads (as torch's does) except with ``"circular"``, where it, like bilinear
            and bicubic interpolation, wraps: the layer then commutes exactly with circular
            shifts (``up`` output samples per input sample).
        kernel_size: conv kernel: resize conv / pixel shuffle / aps (default 3), transposed
            (default ``up``).
        init: ``default``, ``bilinear`` or ``icnr`` (transposed methods, default ``default``);
            ``default`` or ``icnr`` (``pixel_shuffle``, default ``icnr``).
        conv: force (``True``) or forbid (``False``) the conv after a fixed up-sampler;
            ``None``: only when the channel counts differ.
        bias: conv bias.
        pair: the :class:`~antialias.layers.aps.APSDown2d` to take the phase from (``aps``).
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Shape:
        - Input: ``(B, C_in, H, W)``
        - Output: ``(B, C_out, up H, up W)``

    Example:
        >>> Upsample2d(8, 4, method="transposed", kernel_size=3)(torch.randn(1, 8, 5, 6)).shape
        torch.Size([1, 4, 10, 12])
    """

    def __init__(
        self,
        in_channels: int | None = None,
        out_channels: int | None = None,
        method: str = "blur",
        up: int = 2,
        taps: int | Tensor | list[float] | None = None,
        pad_mode: str = "reflect",
        kernel_size: int | None = None,
        init: str | None = None,
        conv: bool | None = None,
        bias: bool = True,
        pair: APSDown2d | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.method = check_choice("method", method, UPSAMPLE_METHODS)
        self.in_channels = check_optional_channels("in_channels", in_channels)
        out_channels = check_optional_channels("out_channels", out_channels)
        self.out_channels = self.in_channels if out_channels is None else out_channels
        self.up = check_int("up", up, 1 if method in ("nearest", "bilinear", "bicubic") else 2)
        self.pad_mode = check_pad_mode(pad_mode)
        if taps is not None and method not in _DEFAULT_TAPS:
            raise ValueError(
                f"expected taps=None for method {method!r} (taps apply to "
                f"{sorted(_DEFAULT_TAPS)}), got {taps!r}"
            )
        if init is not None and method not in _INITS:
            raise ValueError(
                f"expected init=None for method {method!r} (init applies to {sorted(_INITS)}), "
                f"got {init!r}"
            )
        if pair is not None and method != "aps":
            raise ValueError(f"expected pair=None for method {method!r} (only 'aps'), got one")
        if method == "aps" and not (conv is None or isinstance(conv, bool)):
            raise TypeError(f"expected conv to be True, False or None, got {conv!r}")
        factory = {"device": device, "dtype": dtype}
        self.init = None
        self.kernel_size = None
        # Identity placeholders rather than None keep forward scriptable
        self.body: nn.Module = nn.Identity()
        self.conv: nn.Module = nn.Identity()
        self.has_conv = False
        gain = 1.0 if method == "transposed_blur" else float(up)
        if method in _DEFAULT_TAPS:
            resolved = resolve_taps(
                _DEFAULT_TAPS[method] if taps is None else taps, gain, **factory
            )
        else:
            resolved = torch.ones(1, **factory)
        self.register_buffer("taps", resolved, persistent=False)
        # Whether resample hands the forward to one of torch's kernels (triangle taps: its
        # fused bilinear one), decided once here rather than on every call.
        self.torch_mode = interpolation_mode(resolved, up) if method == "blur" else None
        self.linear = self.torch_mode == "bilinear"

        if method == "aps":
            self.kernel_size = 3 if kernel_size is None else kernel_size
            self.body = APSUp2d(
                self.in_channels,
                self.out_channels,
                up,
                pair=pair,
                taps=1 if taps is None else taps,
                pad_mode=pad_mode,
                kernel_size=self.kernel_size,
                conv=conv,
                **factory,
            )
        elif method in ("transposed", "transposed_blur"):
            if conv is not None:
                raise ValueError(f"expected conv=None for method {method!r}, got {conv!r}")
            if self.in_channels is None or self.out_channels is None:
                raise ValueError(
                    f"expected in_channels and out_channels for method {method!r}, got "
                    f"in_channels={in_channels}, out_channels={out_channels}"
                )
            self.kernel_size = (
                up if kernel_size is None else check_int("kernel_size", kernel_size, 1)
            )
            self.init = check_choice("init", "default" if init is None else init, _INITS[method])
            padding, output_padding = transposed_padding(self.kernel_size, up)
            # torch's transposed conv only zero-pads; the subclass wraps (same parameters and
            # state_dict keys). Kernel <= stride reaches no neighbour: nothing to wrap.
            circular = pad_mode == "circular" and self.kernel_size > up
            tconv = (_CircularConvTranspose2d if circular else nn.ConvTranspose2d)(
                self.in_channels,
                self.out_channels,
                self.kernel_size,
                stride=up,
                padding=padding,
                output_padding=output_padding,
                bias=bias,
                **factory,
            )
            if self.init == "bilinear":
                if self.in_channels != self.out_channels:
                    raise ValueError(
                        "expected in_channels == out_channels for init='bilinear' (the triangle "
                        f"sits on the channel diagonal), got {in_channels} and {out_channels}"
                    )
                init_bilinear_(tconv.weight.data, up)
            elif self.init == "icnr":
                _init_transposed_icnr_(tconv.weight.data, up)
            if self.init != "default" and tconv.bias is not None:
                nn.init.zeros_(tconv.bias)
            self.body = tconv
        elif method == "pixel_shuffle":
            if conv is not None:
                raise ValueError(f"expected conv=None for method {method!r}, got {conv!r}")
            if self.in_channels is None or self.out_channels is None:
                raise ValueError(
                    f"expected in_channels and out_channels for method {method!r}, got "
                    f"in_channels={in_channels}, out_channels={out_channels}"
                )
            self.kernel_size = (
                3 if kernel_size is None else check_int("kernel_size", kernel_size, 1)
            )
            self.init = check_choice("init", "icnr" if init is None else init, _INITS[method])
            pconv = nn.Conv2d(
                self.in_channels,
                self.out_channels * up * up,
                self.kernel_size,
                padding="same",
                padding_mode=pad_mode,
                bias=bias,
                **factory,
            )
            if self.init == "icnr":
                init_icnr_(pconv.weight.data, up, bias=pconv.bias.data if bias else None)
            self.body = nn.Sequential(pconv, nn.PixelShuffle(up))
        else:  # nearest, bilinear, bicubic, blur: fixed up-sampler + optional conv
            self.kernel_size = 3 if kernel_size is None else kernel_size
            resize_conv = make_resize_conv(
                self.in_channels,
                self.out_channels,
                conv,
                self.kernel_size,
                pad_mode,
                device,
                dtype,
            )
            if resize_conv is None:
                self.kernel_size = None
            else:
                if not bias:
                    resize_conv.bias = None
                self.conv = resize_conv
                self.has_conv = True

    @property
    def pair(self) -> APSDown2d | None:
        """The paired APS down-sampler (``method="aps"`` only)."""
        return self.body.pair if isinstance(self.body, APSUp2d) else None

    @pair.setter
    def pair(self, down: APSDown2d | None) -> None:
        if not isinstance(self.body, APSUp2d):
            raise ValueError(f"expected method 'aps' to set a pair, got {self.method!r}")
        self.body.pair = down

    def __setattr__(self, name: str, value: object) -> None:
        # nn.Module would register a Module value as a sub-module and bypass the property
        if name == "pair":
            Upsample2d.pair.fset(self, value)
        else:
            super().__setattr__(name, value)

    def forward(self, x: Tensor) -> Tensor:
        if not torch.jit.is_scripting():
            check_feature_map(x, "Upsample2d", self.in_channels)
        method = self.method
        if method == "aps" or method == "transposed" or method == "pixel_shuffle":
            return self.body(x)
        if method == "transposed_blur":
            return blur2d(self.body(x), self.taps.to(x.dtype), self.pad_mode)
        if method == "blur":
            y = blur_upsample(x, self.taps.to(x.dtype), self.up, self.pad_mode, self.torch_mode)
        elif method == "nearest":
            y = F.interpolate(x, scale_factor=float(self.up), mode="nearest")
        elif self.pad_mode == "circular":
            y = interpolate_circular(x, self.up, method)
        else:
            y = F.interpolate(x, scale_factor=float(self.up), mode=method, align_corners=False)
        if self.has_conv:
            y = self.conv(y)
        return y

    def extra_repr(self) -> str:
        parts = [
            f"in_channels={self.in_channels}",
            f"out_channels={self.out_channels}",
            f"method={self.method!r}",
            f"up={self.up}",
        ]
        if self.method in _DEFAULT_TAPS:
            values = ", ".join(f"{v:.4g}" for v in self.taps.tolist())
            parts.append(f"taps={self.taps.numel()} [{values}]")
        if self.kernel_size is not None:
            parts.append(f"kernel_size={self.kernel_size}")
        if self.init is not None:
            parts.append(f"init={self.init!r}")
        parts.append(f"pad_mode={self.pad_mode!r}")
        return ", ".join(parts)


class _CircularConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` (stride = ``up``, dilation 1) of the periodic extension of its
    input: same parameters, ``state_dict`` keys and output size.

    Shape: as ``nn.ConvTranspose2d``.
    """

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if output_size is not None:
            raise ValueError(f"expected output_size=None (the size is fixed), got {output_size}")
        return conv_transpose2d_circular(
            x,
            self.weight,
            self.bias,
            self.stride[0],
            self.padding[0],
            self.output_padding[0],
            self.groups,
        )


class ConvTransposeBlur2d(nn.ConvTranspose2d):
    """A transposed conv followed by a same-size low-pass blur (taps sum 1).

    A subclass of ``nn.ConvTranspose2d`` with the same parameters and ``state_dict`` keys, so
    trained weights load unchanged; the blur removes what the transposed conv's kernel lets
    through near the images of DC (the checkerboard) without changing the output size.
    Built by :meth:`from_conv_transpose` (sharing the original's parameters).

    Shape:
        - Input: ``(B, C_in, H, W)``
        - Output: the transposed conv's output size.

    Example:
        >>> t = nn.ConvTranspose2d(4, 2, 2, stride=2)
        >>> ConvTransposeBlur2d.from_conv_transpose(t)(torch.randn(1, 4, 3, 3)).shape
        torch.Size([1, 2, 6, 6])
    """

    taps: Tensor

    @classmethod
    def from_conv_transpose(
        cls,
        tconv: nn.ConvTranspose2d,
        taps: int | Tensor | list[float] = 3,
        pad_mode: str = "reflect",
    ) -> ConvTransposeBlur2d:
        """Wrap ``tconv`` (its parameters shared, itself unchanged) and blur its output."""
        if not isinstance(tconv, nn.ConvTranspose2d):
            raise TypeError(f"expected an nn.ConvTranspose2d, got {type(tconv).__name__}")
        check_pad_mode(pad_mode)
        weight = tconv.weight
        new = cls(
            tconv.in_channels,
            tconv.out_channels,
            tconv.kernel_size,
            stride=tconv.stride,
            padding=tconv.padding,
            output_padding=tconv.output_padding,
            groups=tconv.groups,
            bias=tconv.bias is not None,
            dilation=tconv.dilation,
            device=weight.device,
            dtype=weight.dtype,
        )
        new.weight = tconv.weight
        new.bias = tconv.bias
        new.pad_mode = pad_mode
        new.register_buffer(
            "taps",
            resolve_taps(taps, 1.0, device=weight.device, dtype=weight.dtype),
            persistent=False,
        )
        return new

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        y = super().forward(x, output_size)
        return blur2d(y, self.taps.to(y.dtype), self.pad_mode)

    def extra_repr(self) -> str:
        values = ", ".join(f"{v:.4g}" for v in self.taps.tolist())
        return (
            f"{super().extra_repr()}, then blur taps={self.taps.numel()} [{values}], "
            f"pad_mode={self.pad_mode!r}"
        )
