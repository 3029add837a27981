"""The factories' 1-D and 3-D builders: ``create_downsample(..., spatial_dims=1 | 3)``.

What lives here: one table per direction, name -> ``builder(dims, channels..., **kw)``
(:data:`DOWNSAMPLERS_ND`, :data:`UPSAMPLERS_ND`), the resize-conv wrapper
:class:`ResizeConvNd`, and the one error for a name with no N-D version. What does not: the
2-D builders and the public ``create_*`` functions (``factory.py``, which dispatches here for
``spatial_dims != 2``).

Names with an N-D version: down ``maxpool``, ``avgpool``, ``decimate``, ``blurpool``,
``maxblurpool``, ``conv``, ``convblurpool``, ``aps`` (:class:`APSDown1d` /
:class:`APSDown3d`); up ``aps`` (:class:`APSUp1d` / :class:`APSUp3d`, ``pair=`` the
down-sampler), ``nearest``, ``linear`` (1-D) /
``trilinear`` (3-D: zeros + triangle FIR, replicate edges, which *is* torch's interpolation
for ``align_corners=False``; circular with ``pad_mode="circular"``), ``blur``, ``transposed``,
``transposed_blur``, ``pixel_shuffle`` (3-D). The N-D transposed convs are torch's: they
zero-pad for every ``pad_mode`` (only the blur of ``transposed_blur`` follows it).
Not: ``bilinear`` / ``bicubic`` (2-D names).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from antialias._checks import check_choice, check_int, check_pad_mode
from antialias.filters import linear_taps

from .aps_nd import APSDown1d, APSDown3d, APSUp1d, APSUp3d
from .blurconv import ConvTransposeBlur1d, ConvTransposeBlur3d
from .blurpool_nd import (
    BlurPool1d,
    BlurPool3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
)
from .upsample import transposed_padding
from .upsample_nd import BlurUpsample1d, BlurUpsample3d, PixelShuffleUpsample3d

__all__ = ["DOWNSAMPLERS_ND", "UPSAMPLERS_ND", "ResizeConvNd", "not_available"]

Device = torch.device | str | None

_BLUR = {1: BlurPool1d, 3: BlurPool3d}
_MAXBLUR = {1: MaxBlurPool1d, 3: MaxBlurPool3d}
_CONVBLUR = {1: ConvBlurPool1d, 3: ConvBlurPool3d}
_BLURUP = {1: BlurUpsample1d, 3: BlurUpsample3d}
_TCONVBLUR = {1: ConvTransposeBlur1d, 3: ConvTransposeBlur3d}
_CONV = {1: nn.Conv1d, 3: nn.Conv3d}
_TCONV = {1: nn.ConvTranspose1d, 3: nn.ConvTranspose3d}
_MAXPOOL = {1: nn.MaxPool1d, 3: nn.MaxPool3d}
_AVGPOOL = {1: nn.AvgPool1d, 3: nn.AvgPool3d}
_APS_DOWN = {1: APSDown1d, 3: APSDown3d}
_APS_UP = {1: APSUp1d, 3: APSUp3d}


def not_available(func: str, name: str, dims: int, valid: list[str]) -> ValueError:
    """The one error for a name that exists in 2-D but not in ``dims`` dimensions."""
    hint = (
        {
            "bilinear": " (use 'linear' / 'trilinear')",
            "linear": " (use 'bilinear')",
            "trilinear": " (use 'bilinear')",
        }.get(name, "")
        if not (dims != 2 and name in ("linear", "trilinear"))
        else ""
    )
    return ValueError(
        f"{func}({name!r}) is not available for spatial_dims={dims}{hint}; expected one of {valid}"
    )


# --- down ---------------------------------------------------------------------------------


def _maxpool(dims: int, channels: int | None, *, down: int = 2) -> nn.Module:
    return _MAXPOOL[dims](check_int("down", down, 1), stride=down)


def _avgpool(dims: int, channels: int | None, *, down: int = 2) -> nn.Module:
    return _AVGPOOL[dims](check_int("down", down, 1), stride=down)


def _decimate(
    dims: int,
    channels: int | None,
    *,
    down=2,
    pad_mode: str = "reflect",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    return _BLUR[dims](channels, 1, down, pad_mode, device=device, dtype=dtype)


def _blurpool(
    dims: int,
    channels: int | None,
    *,
    down=2,
    taps=3,
    pad_mode: str = "reflect",
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    return _BLUR[dims](channels, taps, down, pad_mode, pad_split, device=device, dtype=dtype)


def _maxblurpool(
    dims: int,
    channels: int | None,
    *,
    down=2,
    taps=3,
    pad_mode: str = "reflect",
    max_kernel_size: int = 2,
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    return _MAXBLUR[dims](
        channels,
        taps,
        down,
        pad_mode,
        max_kernel_size,
        pad_split=pad_split,
        device=device,
        dtype=dtype,
    )


def _conv(
    dims: int,
    channels: int | None,
    *,
    down: int = 2,
    out_channels: int | None = None,
    kernel_size: int = 3,
    pad_mode: str = "zeros",
    bias: bool = True,
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    channels = check_int("channels", channels, 1)
    check_int("kernel_size", kernel_size, 1)
    return _CONV[dims](
        channels,
        channels if out_channels is None else check_int("out_channels", out_channels, 1),
        kernel_size,
        stride=check_int("down", down, 1),
        padding=(kernel_size - 1) // 2,
        bias=bias,
        padding_mode=check_pad_mode(pad_mode),
        device=device,
        dtype=dtype,
    )


def _convblurpool(
    dims: int,
    channels: int | None,
    *,
    down=2,
    out_channels: int | None = None,
    kernel_size: int = 3,
    taps=3,
    pad_mode: str = "reflect",
    bias: bool = True,
    pad_split: str = "adobe",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    channels = check_int("channels", channels, 1)
    return _CONVBLUR[dims](
        channels,
        out_channels,
        kernel_size,
        taps,
        down,
        pad_mode,
        bias=bias,
        pad_split=pad_split,
        device=device,
        dtype=dtype,
    )


def _aps(
    dims: int,
    channels: int | None,
    *,
    down=2,
    norm: str = "l2",
    taps=1,
    pad_mode: str = "circular",
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    """``APSDown{1,3}d`` (keeps the chosen phase for a paired ``create_upsample("aps")``)."""
    return _APS_DOWN[dims](channels, down, norm, taps, pad_mode, device=device, dtype=dtype)


DOWNSAMPLERS_ND: dict[str, Callable[..., nn.Module]] = {
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "decimate": _decimate,
    "blurpool": _blurpool,
    "maxblurpool": _maxblurpool,
    "conv": _conv,
    "convblurpool": _convblurpool,
    "aps": _aps,
}


# --- up -----------------------------------------------------------------------------------


class ResizeConvNd(nn.Module):
    """A fixed up-sampler, then (when the channels differ or ``conv=True``) a "same" conv.

    Shape:
        - Input: ``(B, C_in, *S)``
        - Output: ``(B, C_out, *(up S))``

    Example:
        >>> m = ResizeConvNd(nn.Upsample(scale_factor=2), nn.Conv3d(4, 2, 3, padding=1))
        >>> m(torch.randn(1, 4, 2, 3, 3)).shape
        torch.Size([1, 2, 4, 6, 6])
    """

    def __init__(self, upsample: nn.Module, conv: nn.Module | None) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv = nn.Identity() if conv is None else conv

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.upsample(x))


def _resize(
    dims: int,
    upsample: nn.Module,
    in_channels: int | None,
    out_channels: int | None,
    conv: bool | None,
    kernel_size: int,
    bias: bool,
    pad_mode: str,
    factory: dict,
) -> nn.Module:
    if conv is not None and not isinstance(conv, bool):
        raise TypeError(f"expected conv to be True, False or None, got {conv!r}")
    want = (in_channels != out_channels) if conv is None else conv
    if not want:
        if in_channels != out_channels:
            raise ValueError(
                f"expected conv=True (or None) when in_channels ({in_channels}) != "
                f"out_channels ({out_channels}), got conv=False"
            )
        return ResizeConvNd(upsample, None)
    c_in = check_int("in_channels", in_channels, 1)
    c_out = check_int("out_channels", out_channels, 1)
    check_int("kernel_size", kernel_size, 1)
    layer = _CONV[dims](
        c_in,
        c_out,
        kernel_size,
        padding="same",
        bias=bias,
        padding_mode=check_pad_mode(pad_mode),
        **factory,
    )
    return ResizeConvNd(upsample, layer)


def _fixed(kind: str) -> Callable[..., nn.Module]:
    def build(
        dims: int,
        in_channels: int | None,
        out_channels: int | None,
        *,
        up: int = 2,
        taps=4,
        pad_mode: str = "reflect",
        kernel_size: int = 3,
        conv: bool | None = None,
        bias: bool = True,
        device: Device = None,
        dtype: torch.dtype | None = None,
    ) -> nn.Module:
        up = check_int("up", up, 1)
        factory = {"device": device, "dtype": dtype}
        if kind == "nearest":
            layer: nn.Module = nn.Upsample(scale_factor=float(up), mode="nearest")
        elif kind == "linear":
            # torch's interpolation clamps (= replicate); circular wraps, as in 2-D
            border = "circular" if pad_mode == "circular" else "replicate"
            layer = _BLURUP[dims](None, linear_taps(up), up, border, **factory)
        else:
            layer = _BLURUP[dims](None, taps, up, pad_mode, **factory)
        return _resize(
            dims, layer, in_channels, out_channels, conv, kernel_size, bias, pad_mode, factory
        )

    return build


def _fixed_keywords(kind: str) -> tuple[str, ...]:
    base = ("up", "pad_mode", "kernel_size", "conv", "bias", "device", "dtype")
    return base + (("taps",) if kind == "blur" else ())


def _transposed(blur: bool) -> Callable[..., nn.Module]:
    def build(
        dims: int,
        in_channels: int | None,
        out_channels: int | None,
        *,
        up: int = 2,
        kernel_size: int | None = None,
        taps=3,
        pad_mode: str = "reflect",
        bias: bool = True,
        init: str = "default",
        device: Device = None,
        dtype: torch.dtype | None = None,
    ) -> nn.Module:
        c_in = check_int("in_channels", in_channels, 1)
        c_out = check_int("out_channels", out_channels, 1)
        up = check_int("up", up, 2)
        check_choice("init", init, ("default",))
        k = up if kernel_size is None else check_int("kernel_size", kernel_size, 1)
        padding, output_padding = transposed_padding(k, up)
        tconv = _TCONV[dims](
            c_in,
            c_out,
            k,
            stride=up,
            padding=padding,
            output_padding=output_padding,
            bias=bias,
            device=device,
            dtype=dtype,
        )
        if not blur:
            return tconv
        return _TCONVBLUR[dims].from_conv_transpose(tconv, taps, check_pad_mode(pad_mode))

    return build


def _pixel_shuffle(
    dims: int,
    in_channels: int | None,
    out_channels: int | None,
    *,
    up: int = 2,
    kernel_size: int = 3,
    pad_mode: str = "zeros",
    init: str = "icnr",
    bias: bool = True,
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    return PixelShuffleUpsample3d(
        check_int("in_channels", in_channels, 1),
        check_int("out_channels", out_channels, 1),
        up,
        kernel_size,
        pad_mode,
        init,
        bias,
        device=device,
        dtype=dtype,
    )


def _aps_up(
    dims: int,
    in_channels: int | None,
    out_channels: int | None,
    *,
    up=2,
    pair=None,
    taps=1,
    pad_mode: str = "circular",
    kernel_size: int = 3,
    conv: bool | None = None,
    device: Device = None,
    dtype: torch.dtype | None = None,
) -> nn.Module:
    return _APS_UP[dims](
        in_channels,
        out_channels,
        up,
        pair,
        taps,
        pad_mode,
        kernel_size,
        conv,
        device=device,
        dtype=dtype,
    )


_T_KEYS = ("up", "pad_mode", "kernel_size", "bias", "init", "device", "dtype")
_APS_KEYS = ("up", "pair", "taps", "pad_mode", "kernel_size", "conv", "device", "dtype")

#: name -> (builder, accepted keywords, the spatial dims it exists for)
UPSAMPLERS_ND: dict[str, tuple[Callable[..., nn.Module], tuple[str, ...], tuple[int, ...]]] = {
    "nearest": (_fixed("nearest"), _fixed_keywords("nearest"), (1, 3)),
    "linear": (_fixed("linear"), _fixed_keywords("linear"), (1,)),
    "trilinear": (_fixed("linear"), _fixed_keywords("linear"), (3,)),
    "blur": (_fixed("blur"), _fixed_keywords("blur"), (1, 3)),
    "transposed": (_transposed(False), _T_KEYS, (1, 3)),
    "transposed_blur": (_transposed(True), _T_KEYS + ("taps",), (1, 3)),
    "pixel_shuffle": (_pixel_shuffle, _T_KEYS, (3,)),
    "aps": (_aps_up, _APS_KEYS, (1, 3)),
}
