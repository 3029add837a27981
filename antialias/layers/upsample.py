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

from antialias.resample import UpFirDn2dPlan
from antialias.transposed import init_bilinear_, init_icnr_

from ._common import (
    check_choice,
    check_feature_map,
    check_int,
    check_optional_channels,
    check_pad_mode,
)
from ._parts import (
    blur_plan,
    conv_transpose2d_circular,
    interpolate_circular,
    make_resize_conv,
    resolve_taps,
    upsample_plan,
)
from .aps import APSDown2d, APSUp2d

__all__ = [
    "UPSAMPLE_COMMON",
    "UPSAMPLE_KEYWORDS",
    "UPSAMPLE_METHODS",
    "ConvTransposeBlur2d",
    "Upsample2d",
    "blur_upsample2d",
    "transposed_padding",
]

#: Keywords every method takes (besides the channel counts).
UPSAMPLE_COMMON: tuple[str, ...] = ("up", "pad_mode", "device", "dtype")

#: The one keyword table: method -> the optional keywords it takes. :class:`Upsample2d` refuses
#: any other (a layer that does not use an argument does not accept it) and
#: :func:`antialias.layers.create_upsample` reads the same table.
UPSAMPLE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "nearest": ("kernel_size", "conv", "bias"),
    "bilinear": ("kernel_size", "conv", "bias"),
    "bicubic": ("kernel_size", "conv", "bias"),
    "blur": ("taps", "kernel_size", "conv", "bias"),
    "transposed": ("kernel_size", "init", "bias"),
    "transposed_blur": ("kernel_size", "init", "taps", "bias"),
    "pixel_shuffle": ("kernel_size", "init", "bias"),
    "aps": ("pair", "taps", "kernel_size", "conv"),
}

UPSAMPLE_METHODS: tuple[str, ...] = tuple(UPSAMPLE_KEYWORDS)

_FIXED = ("nearest", "bilinear", "bicubic")  # F.interpolate: any up >= 1
_DEFAULT_TAPS = {"blur": 4, "transposed_blur": 3, "aps": 1}
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
    return upsample_plan(t, up, pad_mode)(x, t)


class Upsample2d(nn.Module):
    """Up-sampling by ``up`` with a chosen ``method`` (module docstring lists them).

    Args:
        in_channels: input channels (``None`` = any; only for methods without a conv).
        out_channels: output channels (``None`` = same as input).
        method: one of :data:`UPSAMPLE_METHODS`.
        up: factor, ``>= 2`` (``>= 1`` for the fixed interpolators).
        taps: low-pass for ``blur`` (default 4, normalised to sum ``up``), ``transposed_blur``
            (default 3, sum 1) and ``aps`` (default 1 = none, sum ``up``).
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
        bias: conv bias (``None``: ``True``).
        pair: the :class:`~antialias.layers.aps.APSDown2d` to take the phase from (``aps``).
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Only the keywords of :data:`UPSAMPLE_KEYWORDS` ``[method]`` may be given (not ``None``);
    any other raises ``ValueError`` naming it.

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
        bias: bool | None = None,
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
        self.up = check_int("up", up, 1 if method in _FIXED else 2)
        self.pad_mode = check_pad_mode(pad_mode)
        given = {
            "taps": taps,
            "init": init,
            "pair": pair,
            "conv": conv,
            "bias": bias,
            "kernel_size": kernel_size,
        }
        for name, value in given.items():
            if value is not None and name not in UPSAMPLE_KEYWORDS[method]:
                takers = [m for m, kws in UPSAMPLE_KEYWORDS.items() if name in kws]
                shown = "one" if name == "pair" else repr(value)
                raise ValueError(
                    f"expected {name}=None for method {method!r} ({name} applies to "
                    f"{takers}), got {shown}"
                )
        factory = {"device": device, "dtype": dtype}
        self.init: str | None = None
        self.kernel_size: int | None = None
        # Identity placeholders rather than None keep forward scriptable
        self.body: nn.Module = nn.Identity()
        self.conv: nn.Module = nn.Identity()
        self.has_conv = False
        self.plan: UpFirDn2dPlan | None = None
        gain = 1.0 if method == "transposed_blur" else float(up)
        if method in _DEFAULT_TAPS:
            resolved = resolve_taps(
                _DEFAULT_TAPS[method] if taps is None else taps, gain, **factory
            )
        else:
            resolved = torch.ones(1, **factory)
        self.register_buffer("taps", resolved, persistent=False)
        bias = True if bias is None else bias
        if method == "aps":
            self._build_aps(pair, taps, kernel_size, conv, factory)
        elif method in ("transposed", "transposed_blur"):
            self._build_transposed(kernel_size, init, bias, factory)
        elif method == "pixel_shuffle":
            self._build_pixel_shuffle(kernel_size, init, bias, factory)
        else:
            self._build_fixed(kernel_size, conv, bias, factory)

    # --- one builder per method (the checks above are shared) ---------------------------------

    def _build_fixed(
        self, kernel_size: int | None, conv: bool | None, bias: bool, factory: dict
    ) -> None:
        """nearest, bilinear, bicubic, blur: a fixed up-sampler, then the resize conv if any."""
        if self.method == "blur":
            # Decided once: whether resample hands the forward to one of torch's kernels
            # (triangle taps: its fused bilinear one).
            self.plan = upsample_plan(self.taps, self.up, self.pad_mode)
        self.kernel_size = 3 if kernel_size is None else kernel_size
        resize_conv = make_resize_conv(
            self.in_channels, self.out_channels, conv, self.kernel_size, self.pad_mode, **factory
        )
        if resize_conv is None:
            self.kernel_size = None
            return
        if not bias:
            resize_conv.bias = None
        self.conv = resize_conv
        self.has_conv = True

    def _require_channels(self) -> tuple[int, int]:
        if self.in_channels is None or self.out_channels is None:
            raise ValueError(
                f"expected in_channels and out_channels for method {self.method!r}, got "
                f"in_channels={self.in_channels}, out_channels={self.out_channels}"
            )
        return self.in_channels, self.out_channels

    def _build_transposed(
        self, kernel_size: int | None, init: str | None, bias: bool, factory: dict
    ) -> None:
        """transposed (and transposed_blur: then a same-size blur) conv of stride ``up``."""
        c_in, c_out = self._require_channels()
        up = self.up
        self.kernel_size = up if kernel_size is None else check_int("kernel_size", kernel_size, 1)
        self.init = check_choice("init", "default" if init is None else init, _INITS[self.method])
        padding, output_padding = transposed_padding(self.kernel_size, up)
        # torch's transposed conv only zero-pads; the subclass wraps (same parameters and
        # state_dict keys). Kernel <= stride reaches no neighbour: nothing to wrap.
        circular = self.pad_mode == "circular" and self.kernel_size > up
        tconv = (_CircularConvTranspose2d if circular else nn.ConvTranspose2d)(
            c_in,
            c_out,
            self.kernel_size,
            stride=up,
            padding=padding,
            output_padding=output_padding,
            bias=bias,
            **factory,
        )
        if self.init == "bilinear":
            if c_in != c_out:
                raise ValueError(
                    "expected in_channels == out_channels for init='bilinear' (the triangle "
                    f"sits on the channel diagonal), got {c_in} and {c_out}"
                )
            init_bilinear_(tconv.weight.data, up)
        elif self.init == "icnr":
            init_icnr_(tconv.weight.data, up, transposed=True)
        if self.init != "default" and tconv.bias is not None:
            nn.init.zeros_(tconv.bias)
        self.body = tconv
        if self.method == "transposed_blur":
            self.plan = blur_plan(self.taps, 1, self.pad_mode, "adobe")

    def _build_pixel_shuffle(
        self, kernel_size: int | None, init: str | None, bias: bool, factory: dict
    ) -> None:
        """conv to ``C_out up**2`` channels + ``PixelShuffle(up)``."""
        c_in, c_out = self._require_channels()
        up = self.up
        self.kernel_size = 3 if kernel_size is None else check_int("kernel_size", kernel_size, 1)
        self.init = check_choice("init", "icnr" if init is None else init, _INITS[self.method])
        pconv = nn.Conv2d(
            c_in,
            c_out * up * up,
            self.kernel_size,
            padding="same",
            padding_mode=self.pad_mode,
            bias=bias,
            **factory,
        )
        if self.init == "icnr":
            init_icnr_(pconv.weight.data, up, bias=pconv.bias.data if bias else None)
        self.body = nn.Sequential(pconv, nn.PixelShuffle(up))

    def _build_aps(
        self,
        pair: APSDown2d | None,
        taps: int | Tensor | list[float] | None,
        kernel_size: int | None,
        conv: bool | None,
        factory: dict,
    ) -> None:
        """:class:`~antialias.layers.aps.APSUp2d` (its own taps, blur and conv)."""
        self.kernel_size = 3 if kernel_size is None else kernel_size
        self.body = APSUp2d(
            self.in_channels,
            self.out_channels,
            self.up,
            pair=pair,
            taps=1 if taps is None else taps,
            pad_mode=self.pad_mode,
            kernel_size=self.kernel_size,
            conv=conv,
            **factory,
        )

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
        plan = self.plan
        if method == "transposed_blur" and plan is not None:
            return plan(self.body(x), self.taps.to(x.dtype))
        if method == "blur" and plan is not None:
            y = plan(x, self.taps.to(x.dtype))
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
        new.plan = blur_plan(new.taps, 1, pad_mode, "adobe")  # same-size blur
        return new

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        y = super().forward(x, output_size)
        return self.plan(y, self.taps.to(y.dtype))

    def extra_repr(self) -> str:
        values = ", ".join(f"{v:.4g}" for v in self.taps.tolist())
        return (
            f"{super().extra_repr()}, then blur taps={self.taps.numel()} [{values}], "
            f"pad_mode={self.pad_mode!r}"
        )
