"""Up-sampling in 1-D and 3-D (signals and volumes): blur up-sampling and pixel shuffle.

What lives here: the blur up-sampler (:func:`blur_upsample_nd`, :class:`BlurUpsample1d`,
:class:`BlurUpsample3d`: zeros + low-pass with DC gain ``up`` per axis; with ``taps=4, up=2``
and replicate edges it *is* ``F.interpolate(mode="linear" | "trilinear")``, and any ``up``
with :func:`antialias.filters.linear_taps`), and the pixel shuffle (:func:`pixel_shuffle_nd`,
:class:`PixelShuffle3d`, :class:`PixelShuffleUpsample3d` with ICNR init). What does not:
down-sampling (``blurpool_nd.py``), the 2-D up-samplers (``upsample.py``; same semantics),
transposed convs (``nn.ConvTranspose3d`` as is; their analysis: :mod:`antialias.spectral_nd`).

``up`` is an int or one per spatial axis; an axis whose factor is 1 is not filtered when
another has a factor > 1. Filters are non-persistent buffers; layers take ``device=`` /
``dtype=``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from antialias._checks import check_choice, check_int, check_pad_mode
from antialias.transposed import init_icnr_
from antialias.upfirdn import MAX_FACTOR, upfirdn

from ._nd_common import (
    Factor,
    TapsLike,
    check_input_nd,
    filtered_axes,
    optional_channels,
    per_axis_factors,
    resolve_taps_nd,
    taps_repr,
)

__all__ = [
    "BlurUpsample1d",
    "BlurUpsample3d",
    "PixelShuffle3d",
    "PixelShuffleUpsample3d",
    "blur_upsample_nd",
    "pixel_shuffle_nd",
]


# --------------------------------------------------------------------------- blur up-sampling


def _blur_up(x: Tensor, taps: Tensor, ups: tuple[int, ...], pad_mode: str) -> Tensor:
    """Zero insertion + separable FIR; ``taps`` sums to 1 and is scaled by ``up`` per axis."""
    per_axis = [taps * u if on else [1.0] for u, on in zip(ups, filtered_axes(ups))]
    return upfirdn(x, per_axis, ups, 1, None, pad_mode)


def blur_upsample_nd(
    x: Tensor, taps: TapsLike = 4, up: Factor = 2, pad_mode: str = "reflect"
) -> Tensor:
    """Zero insertion + separable low-pass with DC gain ``up_d`` per axis.

    ``taps=4, up=2, pad_mode="replicate"`` is ``F.interpolate(mode="linear" | "bilinear" |
    "trilinear", align_corners=False)`` exactly (to rounding); any ``up`` with
    ``taps=linear_taps(up)`` likewise.

    Args:
        x: input with 1, 2 or 3 spatial axes.
        taps: binomial length or explicit 1-D taps (normalised to sum ``up`` per axis).
        up: factor, an int or one per axis.
        pad_mode: border handling of the low-resolution input.

    Shape:
        - x: ``(B, C, *S)``
        - output: ``(B, C, *(up_d S_d))``

    Example:
        >>> blur_upsample_nd(torch.tensor([[[0.0, 4.0]]]), 4, pad_mode="replicate")
        tensor([[[0., 1., 3., 4.]]])
    """
    if not isinstance(x, Tensor) or x.dim() not in (3, 4, 5):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(
            f"blur_upsample_nd: expected input (B, C, *S) with 1 to 3 axes, got {shape}"
        )
    dims = x.dim() - 2
    check_input_nd(x, "blur_upsample_nd", dims)
    ups = per_axis_factors("up", up, dims)
    check_pad_mode(pad_mode)
    return _blur_up(x, resolve_taps_nd(taps, 1.0, x.device, x.dtype), ups, pad_mode)


class _BlurUpsampleNd(nn.Module):
    spatial_dims = 0

    def __init__(
        self,
        channels: int | None = None,
        taps: TapsLike = 4,
        up: Factor = 2,
        pad_mode: str = "reflect",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = optional_channels(channels)
        self.up = per_axis_factors("up", up, self.spatial_dims)
        self.pad_mode = check_pad_mode(pad_mode)
        # stored with sum 1; scaled by each axis' factor when applied
        self.register_buffer("taps", resolve_taps_nd(taps, 1.0, device, dtype), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        check_input_nd(x, type(self).__name__, self.spatial_dims, self.channels)
        return _blur_up(x, self.taps.to(x.dtype), self.up, self.pad_mode)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, taps={taps_repr(self.taps)} (x up), up={self.up}, "
            f"pad_mode={self.pad_mode!r}"
        )


class BlurUpsample1d(_BlurUpsampleNd):
    """Zero insertion + low-pass (:func:`blur_upsample_nd`) for signals, filter as a buffer.

    Args: as :class:`BlurUpsample3d`.

    Shape:
        - Input: ``(B, C, L)``
        - Output: ``(B, C, up L)``

    Example:
        >>> BlurUpsample1d(pad_mode="replicate")(torch.tensor([[[0.0, 4.0]]]))
        tensor([[[0., 1., 3., 4.]]])
    """

    spatial_dims = 1


class BlurUpsample3d(_BlurUpsampleNd):
    """Zero insertion + low-pass (:func:`blur_upsample_nd`) for volumes, filter as a buffer.

    With the defaults ``taps=4, up=2`` and ``pad_mode="replicate"`` this is trilinear
    up-sampling (``align_corners=False``) computed as an FIR; other pad modes give the same
    interpolation with reflected or periodic borders.

    Args:
        channels: expected input channels, or ``None`` for any.
        taps: binomial length or explicit taps (normalised to sum ``up`` per axis).
        up: factor, an int or one per axis (axes with factor 1 are not filtered).
        pad_mode: border handling of the input.
        device: device of the filter buffer.
        dtype: dtype of the filter buffer.

    Shape:
        - Input: ``(B, C, D, H, W)``
        - Output: ``(B, C, up_D D, up_H H, up_W W)``

    Example:
        >>> BlurUpsample3d(up=(1, 2, 2))(torch.randn(1, 3, 2, 4, 5)).shape
        torch.Size([1, 3, 2, 8, 10])
    """

    spatial_dims = 3


# --------------------------------------------------------------------------- pixel shuffle


def pixel_shuffle_nd(x: Tensor, up: int) -> Tensor:
    """Sub-pixel rearrangement in N-D: channel ``c up^d + r`` goes to phase ``r`` of ``c``.

    ``r = (r_1 up + r_2) up + ...`` (first spatial axis slowest), as ``F.pixel_shuffle`` in
    2-D; a reshape and a permute.

    Shape:
        - x: ``(B, C up^d, *S)``
        - output: ``(B, C, *(up S))``

    Example:
        >>> pixel_shuffle_nd(torch.arange(8.0).view(1, 8, 1, 1, 1), 2).flatten().tolist()
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """
    if not isinstance(x, Tensor) or x.dim() not in (3, 4, 5):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"pixel_shuffle_nd: expected input (B, C, *S), got {shape}")
    up = check_int("up", up, minimum=1, maximum=MAX_FACTOR)
    dims = x.dim() - 2
    b, c, *sizes = x.shape
    phases = up**dims
    if c % phases:
        raise ValueError(
            f"pixel_shuffle_nd: expected channels divisible by up^{dims} = {phases}, got {c}"
        )
    y = x.reshape(b, c // phases, *([up] * dims), *sizes)
    # (b, c, r_1..r_d, s_1..s_d) -> (b, c, s_1, r_1, ..., s_d, r_d)
    order = [0, 1] + [i for d in range(dims) for i in (2 + dims + d, 2 + d)]
    return y.permute(order).reshape(b, c // phases, *(s * up for s in sizes))


class PixelShuffle3d(nn.Module):
    """:func:`pixel_shuffle_nd` for volumes, as ``nn.PixelShuffle`` in 2-D.

    Shape:
        - Input: ``(B, C up^3, D, H, W)``
        - Output: ``(B, C, up D, up H, up W)``

    Example:
        >>> PixelShuffle3d(2)(torch.randn(1, 16, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 8])
    """

    def __init__(self, up: int = 2) -> None:
        super().__init__()
        self.up = check_int("up", up, minimum=1, maximum=MAX_FACTOR)

    def forward(self, x: Tensor) -> Tensor:
        check_input_nd(x, "PixelShuffle3d", 3)
        return pixel_shuffle_nd(x, self.up)

    def extra_repr(self) -> str:
        return f"up={self.up}"


class PixelShuffleUpsample3d(nn.Module):
    """Conv to ``C_out up^3`` channels + :class:`PixelShuffle3d` (sub-pixel conv), ICNR init.

    ICNR (:func:`antialias.transposed.init_icnr_`): all ``up^3`` phases start with the same
    sub-kernel and bias, so the layer starts as conv then nearest up-sampling (no checkerboard
    at init) and can still learn distinct phases.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        up: factor (isotropic).
        kernel_size: conv kernel (odd: "same" padding ``k // 2``).
        pad_mode: the conv's padding mode.
        init: ``"icnr"`` (default) or ``"default"`` (torch's).
        bias: conv bias.
        device: device of the parameters.
        dtype: dtype of the parameters.

    Shape:
        - Input: ``(B, C_in, D, H, W)``
        - Output: ``(B, C_out, up D, up H, up W)``

    Example:
        >>> PixelShuffleUpsample3d(4, 2)(torch.randn(1, 4, 2, 3, 3)).shape
        torch.Size([1, 2, 4, 6, 6])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        up: int = 2,
        kernel_size: int = 3,
        pad_mode: str = "zeros",
        init: str = "icnr",
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_int("in_channels", in_channels, minimum=1)
        check_int("out_channels", out_channels, minimum=1)
        self.up = check_int("up", up, minimum=1, maximum=MAX_FACTOR)
        check_int("kernel_size", kernel_size, minimum=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"expected an odd kernel_size ('same' padding), got {kernel_size}")
        check_pad_mode(pad_mode)
        check_choice("init", init, ("icnr", "default"))
        self.conv = nn.Conv3d(
            in_channels,
            out_channels * self.up**3,
            kernel_size,
            padding=kernel_size // 2,
            bias=bias,
            padding_mode=pad_mode,
            device=device,
            dtype=dtype,
        )
        self.shuffle = PixelShuffle3d(self.up)
        if init == "icnr":
            with torch.no_grad():
                init_icnr_(self.conv.weight, self.up, bias=self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))
