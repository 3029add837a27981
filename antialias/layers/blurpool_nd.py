"""Blur-pool family in 1-D and 3-D (signals and volumes), on :func:`antialias.upfirdn.upfirdn`.

What lives here: blur-pool (:func:`blur_pool_nd`, :class:`BlurPool1d`, :class:`BlurPool3d`),
max-blur-pool (:func:`max_blur_pool_nd`, :class:`MaxBlurPool1d`, :class:`MaxBlurPool3d`),
conv-blur-pool (:class:`ConvBlurPool1d`, :class:`ConvBlurPool3d`, subclasses of
``nn.Conv1d`` / ``nn.Conv3d`` with their ``state_dict`` keys). What does not: up-sampling
(``upsample_nd.py``), the 2-D layers (``blurpool.py``; same semantics, mirrored here), APS,
the factory and ``convert()`` (3-D support there is to come), filter design.

Conventions, as the 2-D layers (``blurpool.py``): ``taps`` is an int (binomial length; 1 =
plain decimation, the ablation knob) or explicit 1-D taps, normalised to sum 1, applied
separably as a correlation (``taps[m]`` weighs ``x[j down - before + m]``). ``down`` is an int
or one per spatial axis (anisotropic volumes: ``(1, 2, 2)``). An axis whose factor is 1 is not
filtered when another axis has a factor > 1 (nothing aliases there, as MONAI's ``(1, 2, 2)``
pooling); with factor 1 everywhere the layer is a same-size blur, as ``BlurPool2d(down=1)``.
Padding split for ``k`` taps (``pad_split``): ``"adobe"`` ``((k-1)//2, k//2)``, output
``ceil(n / down)``; ``"symmetric"`` ``((down-1) + (k-1)) // 2`` both sides (timm).
``pad_mode="circular"`` makes every layer periodic (the max and the conv wrap too), hence
exactly equivariant to circular shifts by multiples of the factor when it divides the size.

Filters are non-persistent buffers (they move with ``.to()``, never enter checkpoints); every
layer takes ``device=`` / ``dtype=``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias._checks import check_choice, check_int, check_pad_mode
from antialias.upfirdn import upfirdn

from ._nd_common import (
    PAD_SPLITS,
    Factor,
    TapsLike,
    check_input_nd,
    filtered_axes,
    fit_periodic_nd,
    optional_channels,
    pad_split_of,
    per_axis_factors,
    resolve_taps_nd,
    taps_repr,
    wrap_nd,
)

__all__ = [
    "PAD_SPLITS",
    "BlurPool1d",
    "BlurPool3d",
    "ConvBlurPool1d",
    "ConvBlurPool3d",
    "MaxBlurPool1d",
    "MaxBlurPool3d",
    "blur_pool_nd",
    "max_blur_pool_nd",
]


# --------------------------------------------------------------------------- parts


def _pool_size(n: int, k: int, down: int, split: str) -> int:
    before, after = pad_split_of(k, down, split)
    return (n + before + after - k) // down + 1


def _blur_pool(
    x: Tensor, taps: Tensor, downs: tuple[int, ...], pad_mode: str, split: str
) -> Tensor:
    """Separable low-pass (correlation) then keep every ``down``-th sample from index 0."""
    per_axis: list[Tensor | list[float]] = []
    padding: list[tuple[int, int]] = []
    k = taps.numel()
    for down, on in zip(downs, filtered_axes(downs)):
        per_axis.append(taps if on else [1.0])
        padding.append(pad_split_of(k, down, split) if on else (0, 0))
    return upfirdn(x, per_axis, 1, downs, padding, pad_mode, flip_filter=True)


# --------------------------------------------------------------------------- blur-pool


def blur_pool_nd(
    x: Tensor,
    taps: TapsLike = 3,
    down: Factor = 2,
    pad_mode: str = "reflect",
    pad_split: str = "adobe",
) -> Tensor:
    """Blur with ``taps`` (sum 1) along each decimated axis, keep every ``down``-th sample.

    Args:
        x: input with 1, 2 or 3 spatial axes.
        taps: binomial length (1: plain decimation) or explicit 1-D taps (normalised to sum 1).
        down: factor, an int or one per spatial axis.
        pad_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        pad_split: ``"adobe"`` or ``"symmetric"`` (module docstring).

    Returns:
        The blurred, decimated map.

    Shape:
        - x: ``(B, C, *S)``
        - output: ``(B, C, *ceil(S_d / down_d))`` with ``pad_split="adobe"``

    Example:
        >>> blur_pool_nd(torch.tensor([[[0.0, 0.0, 4.0, 4.0, 4.0]]]), 3, pad_mode="replicate")
        tensor([[[0., 3., 4.]]])
    """
    if not isinstance(x, Tensor) or x.dim() not in (3, 4, 5):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"blur_pool_nd: expected input (B, C, *S) with 1 to 3 axes, got {shape}")
    dims = x.dim() - 2
    check_input_nd(x, "blur_pool_nd", dims)
    downs = per_axis_factors("down", down, dims)
    check_pad_mode(pad_mode)
    check_choice("pad_split", pad_split, PAD_SPLITS)
    t = resolve_taps_nd(taps, 1.0, x.device, x.dtype)
    return _blur_pool(x, t, downs, pad_mode, pad_split)


class _BlurPoolNd(nn.Module):
    spatial_dims = 0

    def __init__(
        self,
        channels: int | None = None,
        taps: TapsLike = 3,
        down: Factor = 2,
        pad_mode: str = "reflect",
        pad_split: str = "adobe",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.channels = optional_channels(channels)
        self.down = per_axis_factors("down", down, self.spatial_dims)
        self.pad_mode = check_pad_mode(pad_mode)
        self.pad_split = check_choice("pad_split", pad_split, PAD_SPLITS)
        taps = resolve_taps_nd(taps, 1.0, device, dtype)
        self.register_buffer("taps", taps, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        check_input_nd(x, type(self).__name__, self.spatial_dims, self.channels)
        return _blur_pool(x, self.taps.to(x.dtype), self.down, self.pad_mode, self.pad_split)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, taps={taps_repr(self.taps)}, down={self.down}, "
            f"pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )


class BlurPool1d(_BlurPoolNd):
    """Anti-aliased down-sampling of signals: :func:`blur_pool_nd` with its filter as a buffer.

    Args:
        channels: expected input channels, or ``None`` for any.
        taps: binomial length (1 = plain decimation) or explicit taps (normalised to sum 1).
        down: factor, ``>= 1``.
        pad_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        pad_split: ``"adobe"`` or ``"symmetric"``.
        device: device of the filter buffer.
        dtype: dtype of the filter buffer (cast to the input's dtype at run time).

    Shape:
        - Input: ``(B, C, L)``
        - Output: ``(B, C, ceil(L / down))`` (``pad_split="adobe"``)

    Example:
        >>> BlurPool1d(taps=1)(torch.arange(6.0).view(1, 1, 6)).tolist()
        [[[0.0, 2.0, 4.0]]]
    """

    spatial_dims = 1


class BlurPool3d(_BlurPoolNd):
    """Anti-aliased down-sampling of volumes: :func:`blur_pool_nd` with its filter as a buffer.

    Args: as :class:`BlurPool1d`; ``down`` may be one factor per axis (``(1, 2, 2)``: D kept
    and not blurred).

    Shape:
        - Input: ``(B, C, D, H, W)``
        - Output: ``(B, C, ceil(D / down_D), ceil(H / down_H), ceil(W / down_W))``

    Example:
        >>> BlurPool3d(4, down=(1, 2, 2))(torch.randn(1, 4, 3, 8, 7)).shape
        torch.Size([1, 4, 3, 4, 4])
    """

    spatial_dims = 3


# --------------------------------------------------------------------------- max-blur-pool


def _check_max(max_kernel_size: object, max_padding: object, dims: int) -> tuple:
    """Per-axis ``(kernel sizes, paddings)``: an int each, or one per spatial axis."""
    ks = per_axis_factors("max_kernel_size", max_kernel_size, dims, maximum=None)
    ps = per_axis_factors("max_padding", max_padding, dims, minimum=0, maximum=None)
    for k, p in zip(ks, ps):
        if 2 * p > k:
            raise ValueError(
                f"expected max_padding <= max_kernel_size / 2 on every axis (as MaxPool3d), "
                f"got max_padding={max_padding}, max_kernel_size={max_kernel_size}"
            )
    return ks, ps


def _one_or_all(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """An int when equal on every axis (the repr and the attribute stay as before)."""
    return values[0] if len(set(values)) == 1 else values


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}


def _max_blur(
    x: Tensor,
    taps: Tensor,
    downs: tuple[int, ...],
    pad_mode: str,
    ks: tuple[int, ...],
    ps: tuple[int, ...],
    split: str,
) -> Tensor:
    dims = x.dim() - 2
    if pad_mode != "circular":
        x = _MAX_POOL[dims](x, ks, stride=1, padding=ps)
        return _blur_pool(x, taps, downs, pad_mode, split)
    # The max wraps too (torch's pads with -inf): a periodic map of the input's size, then the
    # circular blur-pool, fitted to the size the other modes give (which it has when down
    # divides the size and k - 1 - 2p < down, the defaults).
    sizes = x.shape[2:]
    xp = wrap_nd(x, [(p, k - 1 - p) for k, p in zip(ks, ps)])
    y = _blur_pool(_MAX_POOL[dims](xp, ks, stride=1), taps, downs, "circular", split)
    n = taps.numel()
    on = filtered_axes(downs)
    target = [
        _pool_size(s + 2 * p - k + 1, n if f else 1, d, split)
        for s, k, p, d, f in zip(sizes, ks, ps, downs, on)
    ]
    return fit_periodic_nd(y, target)


def max_blur_pool_nd(
    x: Tensor,
    taps: TapsLike = 3,
    down: Factor = 2,
    pad_mode: str = "reflect",
    max_kernel_size: Factor = 2,
    max_padding: Factor = 0,
    pad_split: str = "adobe",
) -> Tensor:
    """Max-pool at stride 1 (``max_kernel_size``, ``max_padding``), then :func:`blur_pool_nd`.

    With the default ``pad_split`` the output size equals ``F.max_pool3d(x, k, down, p)``'s
    (``k``, ``p`` and ``down`` each an int or one per axis). With ``pad_mode="circular"`` the
    max wraps as well.

    Shape:
        - x: ``(B, C, *S)``
        - output: ``(B, C, *(floor((S_d + 2p - k) / down_d) + 1))``

    Example:
        >>> max_blur_pool_nd(torch.tensor([[[0.0, 4.0, 0.0, 0.0]]]), 1, pad_mode="zeros")
        tensor([[[4., 0.]]])
    """
    if not isinstance(x, Tensor) or x.dim() not in (3, 4, 5):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(
            f"max_blur_pool_nd: expected input (B, C, *S) with 1 to 3 axes, got {shape}"
        )
    dims = x.dim() - 2
    check_input_nd(x, "max_blur_pool_nd", dims)
    downs = per_axis_factors("down", down, dims)
    check_pad_mode(pad_mode)
    check_choice("pad_split", pad_split, PAD_SPLITS)
    ks, ps = _check_max(max_kernel_size, max_padding, dims)
    t = resolve_taps_nd(taps, 1.0, x.device, x.dtype)
    return _max_blur(x, t, downs, pad_mode, ks, ps, pad_split)


class _MaxBlurPoolNd(_BlurPoolNd):
    def __init__(
        self,
        channels: int | None = None,
        taps: TapsLike = 3,
        down: Factor = 2,
        pad_mode: str = "reflect",
        max_kernel_size: Factor = 2,
        max_padding: Factor = 0,
        pad_split: str = "adobe",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(channels, taps, down, pad_mode, pad_split, device=device, dtype=dtype)
        self._ks, self._ps = _check_max(max_kernel_size, max_padding, self.spatial_dims)
        self.max_kernel_size = _one_or_all(self._ks)
        self.max_padding = _one_or_all(self._ps)

    def forward(self, x: Tensor) -> Tensor:
        check_input_nd(x, type(self).__name__, self.spatial_dims, self.channels)
        taps = self.taps.to(x.dtype)
        return _max_blur(x, taps, self.down, self.pad_mode, self._ks, self._ps, self.pad_split)

    def extra_repr(self) -> str:
        return (
            f"max_kernel_size={self.max_kernel_size}, max_padding={self.max_padding}, "
            f"{super().extra_repr()}"
        )


class MaxBlurPool1d(_MaxBlurPoolNd):
    """Max-pool at stride 1 then blur-pool: the anti-aliased ``MaxPool1d(k, down)``.

    Args: as :class:`MaxBlurPool3d`.

    Shape:
        - Input: ``(B, C, L)``
        - Output: ``(B, C, floor((L + 2p - k) / down) + 1)``

    Example:
        >>> MaxBlurPool1d(2)(torch.randn(1, 2, 7)).shape
        torch.Size([1, 2, 3])
    """

    spatial_dims = 1


class MaxBlurPool3d(_MaxBlurPoolNd):
    """Max-pool at stride 1 then blur-pool: the anti-aliased ``MaxPool3d(k, down)``.

    Args:
        channels: expected input channels, or ``None`` for any.
        taps: blur: binomial length (1: ``MaxPool3d(k, down)`` exactly) or explicit taps.
        down: factor, an int or one per axis.
        pad_mode: padding of the blur (``"circular"``: the max wraps too).
        max_kernel_size: kernel of the stride-1 max-pool (2 replaces ``MaxPool3d(2, 2)``), an
            int or one per axis (``(1, 2, 2)`` with ``down=(1, 2, 2)`` replaces MONAI's and
            nnU-Net's in-plane pooling of anisotropic volumes).
        max_padding: padding of the max-pool, an int or one per axis.
        pad_split: ``"adobe"`` or ``"symmetric"`` (of the blur).
        device: device of the filter buffer.
        dtype: dtype of the filter buffer.

    Shape:
        - Input: ``(B, C, D, H, W)``
        - Output: as ``MaxPool3d(max_kernel_size, down, max_padding)``, e.g. ``floor(S / 2)``

    Example:
        >>> MaxBlurPool3d(4)(torch.randn(1, 4, 7, 6, 5)).shape
        torch.Size([1, 4, 3, 3, 2])
    """

    spatial_dims = 3


# --------------------------------------------------------------------------- conv-blur-pool


def _conv_blur_init(
    layer: nn.Module, taps: TapsLike, down: Factor, pad_mode: str, pad_split: str, device, dtype
) -> None:
    dims = layer.spatial_dims  # type: ignore[attr-defined]
    layer.down = per_axis_factors("down", down, dims)
    layer.pad_mode = pad_mode
    layer.pad_split = pad_split
    layer.register_buffer("taps", resolve_taps_nd(taps, 1.0, device, dtype), persistent=False)


def _conv_blur_forward(layer: nn.Module, x: Tensor) -> Tensor:
    conv: nn.Module = layer
    check_input_nd(x, type(layer).__name__, layer.spatial_dims, None)  # type: ignore[attr-defined]
    taps = layer.taps
    if not (conv.padding_mode == "circular" and layer.pad_mode == "circular"):
        y = conv._conv_forward(x, conv.weight, conv.bias)
        return _blur_pool(y, taps.to(y.dtype), layer.down, layer.pad_mode, layer.pad_split)
    # torch pads (p, p) circularly: a periodic map only when 2 p = d (k - 1) (odd kernels).
    # Otherwise wrap (p, d (k - 1) - p) so the conv keeps the period, blur-pool circularly,
    # and fit the documented size.
    sizes = x.shape[2:]
    reach = [d * (k - 1) for d, k in zip(conv.dilation, conv.kernel_size)]
    pad = [int(p) for p in conv.padding]
    conv_nd = {1: F.conv1d, 3: F.conv3d}[layer.spatial_dims]
    if all(2 * p == r for p, r in zip(pad, reach)) or any(p > r for p, r in zip(pad, reach)):
        y = conv._conv_forward(x, conv.weight, conv.bias)
        return _blur_pool(y, taps.to(y.dtype), layer.down, "circular", layer.pad_split)
    xp = wrap_nd(x, [(p, r - p) for p, r in zip(pad, reach)])
    y = conv_nd(xp, conv.weight, conv.bias, 1, 0, conv.dilation, conv.groups)
    y = _blur_pool(y, taps.to(y.dtype), layer.down, "circular", layer.pad_split)
    n = taps.numel()
    on = filtered_axes(layer.down)
    target = [
        _pool_size(s + 2 * p - r, n if f else 1, d, layer.pad_split)
        for s, p, r, d, f in zip(sizes, pad, reach, layer.down, on)
    ]
    return fit_periodic_nd(y, target)


def _conv_blur_args(
    kernel_size: int | tuple[int, ...],
    padding: int | tuple[int, ...] | None,
    pad_mode: str,
    pad_split: str,
    conv_pad_mode: str | None,
    dims: int,
) -> tuple[int | tuple[int, ...], str]:
    """Checked conv arguments: (padding, the conv's padding_mode)."""
    if isinstance(padding, str):  # "same"/"valid": the output size would not be the strided one's
        raise ValueError(f"expected numeric conv padding, got {padding!r}")
    check_pad_mode(pad_mode)
    check_choice("pad_split", pad_split, PAD_SPLITS)
    if isinstance(kernel_size, int):
        check_int("kernel_size", kernel_size, minimum=1)
    if padding is None:
        ks = (kernel_size,) * dims if isinstance(kernel_size, int) else tuple(kernel_size)
        padding = tuple((k - 1) // 2 for k in ks)
    conv_pad_mode = pad_mode if conv_pad_mode is None else check_pad_mode(conv_pad_mode)
    return padding, conv_pad_mode


def _from_conv(cls, conv: nn.Module, taps: TapsLike, pad_mode: str, pad_split: str):
    if isinstance(conv.padding, str):
        raise ValueError(f"expected numeric conv padding, got {conv.padding!r}")
    weight = conv.weight
    new = cls(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        taps,
        tuple(conv.stride),
        pad_mode,
        padding=conv.padding,
        bias=conv.bias is not None,
        pad_split=pad_split,
        dilation=conv.dilation,
        groups=conv.groups,
        conv_pad_mode=conv.padding_mode,
        device=weight.device,
        dtype=weight.dtype,
    )
    new.weight = conv.weight
    new.bias = conv.bias
    return new


class ConvBlurPool3d(nn.Conv3d):
    """Conv at stride 1 then blur-pool: the anti-aliased ``Conv3d(..., stride=down)``.

    A subclass of ``nn.Conv3d`` with the same parameters and ``state_dict`` keys (a checkpoint
    of the strided original loads unchanged; :meth:`from_conv` shares its parameters). With
    ``taps=1`` it equals the strided conv exactly; with ``pad_split="adobe"`` its output size
    equals the strided conv's. ``self.stride`` is ``(1, 1, 1)``; the factor is ``down`` (per
    axis allowed: ``from_conv`` of a ``(1, 2, 2)``-strided conv keeps D unblurred).

    Args:
        in_channels: input channels.
        out_channels: output channels (``None``: same as input).
        kernel_size: conv kernel size.
        taps: blur: binomial length or explicit taps (normalised to sum 1).
        down: factor, an int or one per axis.
        pad_mode: padding of the blur, and of the conv unless ``conv_pad_mode`` is given.
        padding: conv padding; ``None`` means ``(kernel_size - 1) // 2``.
        bias: conv bias.
        pad_split: ``"adobe"`` or ``"symmetric"`` (of the blur).
        dilation: conv dilation.
        groups: conv groups.
        conv_pad_mode: the conv's ``padding_mode`` if different from ``pad_mode``.
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Shape:
        - Input: ``(B, C_in, D, H, W)``
        - Output: ``(B, C_out, *ceil(S'_d / down_d))``, ``S'`` the stride-1 conv's output

    Example:
        >>> ConvBlurPool3d(2, 4)(torch.randn(1, 2, 5, 6, 7)).shape
        torch.Size([1, 4, 3, 3, 4])
    """

    spatial_dims = 3

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        kernel_size: int | tuple[int, int, int] = 3,
        taps: TapsLike = 3,
        down: Factor = 2,
        pad_mode: str = "reflect",
        padding: int | tuple[int, int, int] | None = None,
        bias: bool = True,
        pad_split: str = "adobe",
        dilation: int | tuple[int, int, int] = 1,
        groups: int = 1,
        conv_pad_mode: str | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_int("in_channels", in_channels, minimum=1)
        out_channels = in_channels if out_channels is None else out_channels
        check_int("out_channels", out_channels, minimum=1)
        padding, conv_mode = _conv_blur_args(
            kernel_size, padding, pad_mode, pad_split, conv_pad_mode, 3
        )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            1,
            padding,
            dilation,
            groups,
            bias,
            conv_mode,
            device=device,
            dtype=dtype,
        )
        _conv_blur_init(self, taps, down, pad_mode, pad_split, device, dtype)

    @classmethod
    def from_conv(
        cls, conv: nn.Conv3d, taps: TapsLike = 3, pad_mode: str = "reflect", pad_split="adobe"
    ) -> ConvBlurPool3d:
        """The strided ``conv`` as conv at stride 1 + blur-pool by its stride (shared params).

        Raises:
            TypeError: not an ``nn.Conv3d``.
            ValueError: string padding.
        """
        if not isinstance(conv, nn.Conv3d):
            raise TypeError(f"expected an nn.Conv3d, got {type(conv).__name__}")
        return _from_conv(cls, conv, taps, pad_mode, pad_split)

    def forward(self, x: Tensor) -> Tensor:
        return _conv_blur_forward(self, x)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, then blur-pool taps={taps_repr(self.taps)}, "
            f"down={self.down}, pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )


class ConvBlurPool1d(nn.Conv1d):
    """Conv at stride 1 then blur-pool: the anti-aliased ``Conv1d(..., stride=down)``.

    Args and guarantees as :class:`ConvBlurPool3d`, for ``(B, C, L)`` signals.

    Shape:
        - Input: ``(B, C_in, L)``
        - Output: ``(B, C_out, ceil(L' / down))``

    Example:
        >>> ConvBlurPool1d(2, 3)(torch.randn(1, 2, 9)).shape
        torch.Size([1, 3, 5])
    """

    spatial_dims = 1

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        kernel_size: int | tuple[int] = 3,
        taps: TapsLike = 3,
        down: Factor = 2,
        pad_mode: str = "reflect",
        padding: int | tuple[int] | None = None,
        bias: bool = True,
        pad_split: str = "adobe",
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        conv_pad_mode: str | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_int("in_channels", in_channels, minimum=1)
        out_channels = in_channels if out_channels is None else out_channels
        check_int("out_channels", out_channels, minimum=1)
        padding, conv_mode = _conv_blur_args(
            kernel_size, padding, pad_mode, pad_split, conv_pad_mode, 1
        )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            1,
            padding,
            dilation,
            groups,
            bias,
            conv_mode,
            device=device,
            dtype=dtype,
        )
        _conv_blur_init(self, taps, down, pad_mode, pad_split, device, dtype)

    @classmethod
    def from_conv(
        cls, conv: nn.Conv1d, taps: TapsLike = 3, pad_mode: str = "reflect", pad_split="adobe"
    ) -> ConvBlurPool1d:
        """The strided ``conv`` as conv at stride 1 + blur-pool by its stride (shared params)."""
        if not isinstance(conv, nn.Conv1d):
            raise TypeError(f"expected an nn.Conv1d, got {type(conv).__name__}")
        return _from_conv(cls, conv, taps, pad_mode, pad_split)

    def forward(self, x: Tensor) -> Tensor:
        return _conv_blur_forward(self, x)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, then blur-pool taps={taps_repr(self.taps)}, "
            f"down={self.down}, pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )
