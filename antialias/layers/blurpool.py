"""Blur-pool family: low-pass then decimate (Zhang 2019), as functions plus thin modules.

What lives here: :func:`blur_pool2d` / :class:`BlurPool2d`, :func:`max_blur_pool2d` /
:class:`MaxBlurPool2d` (max at stride 1, then blur-pool), :class:`ConvBlurPool2d` (conv at
stride 1, then blur-pool: the recipe for a strided conv). What does not: APS (``aps.py``),
up-sampling (``upsample.py``), filter design (:mod:`antialias.filters`).

Conventions. ``taps`` is an int (binomial length; 1 = plain decimation, the ablation knob),
or explicit 1-D taps (a designed filter, e.g. :func:`antialias.filters.kaiser_lowpass_taps`);
they are normalised to sum 1 (DC gain 1) and applied separably as ``outer(taps, taps)``.
The blurred map is sampled at indices ``0, down, 2 down, ...``. Padding split for ``k``
taps (``pad_split``):

- ``"adobe"`` (default): ``(k-1)//2`` before, ``k//2`` after, as antialiased-cnns and
  kornia; output ``ceil(H / down)``.
- ``"symmetric"``: ``((down-1) + (k-1)) // 2`` both sides, as timm; output
  ``floor((H + 2p - k) / down) + 1``.

Both agree for odd ``k`` at ``down = 2``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias.resample import UpFirDn2dPlan

from ._common import (
    check_choice,
    check_feature_map,
    check_int,
    check_optional_channels,
    check_pad_mode,
)
from ._parts import (
    blur_plan,
    blur_pool_size,
    fit_periodic,
    max_pool_circular,
    resolve_taps,
    wrap_pad,
)

__all__ = [
    "PAD_SPLITS",
    "BlurPool2d",
    "ConvBlurPool2d",
    "MaxBlurPool2d",
    "blur_pool2d",
    "max_blur_pool2d",
]

PAD_SPLITS: tuple[str, ...] = ("adobe", "symmetric")

TapsLike = int | Tensor | list[float] | tuple[float, ...]


def _check_common(down: int, pad_mode: str, pad_split: str) -> None:
    check_int("down", down, 1)
    check_pad_mode(pad_mode)
    check_choice("pad_split", pad_split, PAD_SPLITS)


def blur_pool2d(
    x: Tensor,
    taps: TapsLike = 3,
    down: int = 2,
    pad_mode: str = "reflect",
    pad_split: str = "adobe",
) -> Tensor:
    """Blur with ``outer(taps, taps)`` (sum 1) then keep every ``down``-th sample.

    Args:
        x: input feature map.
        taps: binomial length or explicit 1-D taps (normalised to sum 1).
        down: decimation factor, ``>= 1``.
        pad_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        pad_split: ``"adobe"`` or ``"symmetric"`` (module docstring).

    Returns:
        The blurred, decimated map.

    Shape:
        - x: ``(B, C, H, W)``
        - output: ``(B, C, ceil(H / down), ceil(W / down))`` with ``pad_split="adobe"``

    Example:
        >>> blur_pool2d(torch.eye(5)[None, None], 3, pad_mode="zeros")
        tensor([[[[0.3125, 0.0625, 0.0000],
                  [0.0625, 0.3750, 0.0625],
                  [0.0000, 0.0625, 0.3125]]]])
    """
    check_feature_map(x, "blur_pool2d")
    _check_common(down, pad_mode, pad_split)
    t = resolve_taps(taps, 1.0, device=x.device, dtype=x.dtype)
    return blur_plan(t, down, pad_mode, pad_split)(x, t)


def max_blur_pool2d(
    x: Tensor,
    taps: TapsLike = 3,
    down: int = 2,
    pad_mode: str = "reflect",
    max_kernel_size: int = 2,
    max_padding: int = 0,
    pad_split: str = "adobe",
) -> Tensor:
    """Max-pool at stride 1 (``max_kernel_size``, ``max_padding``), then :func:`blur_pool2d`.

    With the default ``pad_split`` the output size equals ``F.max_pool2d(x, k, down, p)``'s:
    ``ceil((H + 2p - k + 1) / down) == floor((H + 2p - k) / down) + 1``.

    With ``pad_mode="circular"`` the max wraps as well (a periodic map of size ``H``, then the
    circular blur-pool), cropped or periodically extended to that same size: exactly
    shift-equivariant (shift ``down k`` in, ``k`` out) whenever ``down`` divides ``H`` and
    ``k - 1 - 2p < down`` (the defaults).

    Shape:
        - x: ``(B, C, H, W)``
        - output: ``(B, C, floor((H + 2p - k) / down) + 1, ...)`` (``k, p``: the max-pool's)

    Example:
        >>> max_blur_pool2d(torch.eye(5)[None, None], 3, pad_mode="zeros")
        tensor([[[[0.5625, 0.3125],
                  [0.3125, 0.8750]]]])
    """
    check_feature_map(x, "max_blur_pool2d")
    _check_common(down, pad_mode, pad_split)
    _check_max(max_kernel_size, max_padding)
    t = resolve_taps(taps, 1.0, device=x.device, dtype=x.dtype)
    plan = blur_plan(t, down, pad_mode, pad_split)
    return _max_blur(x, t, plan, max_kernel_size, max_padding, pad_split)


def _check_max(max_kernel_size: int, max_padding: int) -> None:
    check_int("max_kernel_size", max_kernel_size, 1)
    check_int("max_padding", max_padding, 0)
    if 2 * max_padding > max_kernel_size:
        raise ValueError(
            f"expected max_padding <= max_kernel_size / 2 (as MaxPool2d), got "
            f"max_padding={max_padding}, max_kernel_size={max_kernel_size}"
        )


def _max_blur(x: Tensor, taps: Tensor, plan: UpFirDn2dPlan, k: int, p: int, split: str) -> Tensor:
    if plan.pad_mode != "circular":
        return plan(F.max_pool2d(x, k, stride=1, padding=p), taps)
    # The max wraps too (torch's pads with -inf): a periodic map of the input's size, then
    # the circular blur-pool; cropped (or wrapped on) to the size the other modes give, which
    # it already has when down divides H and k - 1 - 2p < down (the defaults).
    h, w = x.shape[-2], x.shape[-1]
    y = plan(max_pool_circular(x, k, p), taps)
    n, down = plan.taps_shape[0], plan.down  # Python ints (taps.numel() traces as a tensor)
    return fit_periodic(
        y,
        blur_pool_size(h + 2 * p - k + 1, n, down, split),
        blur_pool_size(w + 2 * p - k + 1, n, down, split),
    )


class BlurPool2d(nn.Module):
    """Anti-aliased down-sampling: :func:`blur_pool2d` with its filter as a buffer.

    Args:
        channels: expected input channels, or ``None`` for any (the filter is shared by all
            channels, so it does not need the count).
        taps: binomial length (1 = plain decimation) or explicit taps (normalised to sum 1).
        down: factor, ``>= 1``.
        pad_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        pad_split: ``"adobe"`` or ``"symmetric"``.
        device: device of the filter buffer.
        dtype: dtype of the filter buffer (cast to the input's dtype at run time).

    Shape:
        - Input: ``(B, C, H, W)``
        - Output: ``(B, C, ceil(H / down), ceil(W / down))`` (``pad_split="adobe"``)

    Example:
        >>> BlurPool2d(8, taps=4).taps.tolist()
        [0.125, 0.375, 0.375, 0.125]
        >>> BlurPool2d(taps=1)(torch.arange(16.0).view(1, 1, 4, 4))[0, 0].tolist()
        [[0.0, 2.0], [8.0, 10.0]]
    """

    def __init__(
        self,
        channels: int | None = None,
        taps: TapsLike = 3,
        down: int = 2,
        pad_mode: str = "reflect",
        pad_split: str = "adobe",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_common(down, pad_mode, pad_split)
        self.channels = check_optional_channels("channels", channels)
        self.down = down
        self.pad_mode = pad_mode
        self.pad_split = pad_split
        self.register_buffer(
            "taps", resolve_taps(taps, 1.0, device=device, dtype=dtype), persistent=False
        )
        self.plan = blur_plan(self.taps, down, pad_mode, pad_split)

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(x, "BlurPool2d", self.channels)
        return self.plan(x, self.taps.to(x.dtype))

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, taps={_taps_repr(self.taps)}, down={self.down}, "
            f"pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )


class MaxBlurPool2d(nn.Module):
    """Max-pool at stride 1 then blur-pool: the anti-aliased ``MaxPool2d(k, down)``.

    Args:
        channels: expected input channels, or ``None`` for any.
        taps: blur: binomial length or explicit taps (normalised to sum 1).
        down: factor, ``>= 1``.
        pad_mode: padding of the blur.
        max_kernel_size: kernel of the stride-1 max-pool (2 replaces ``MaxPool2d(2, 2)``).
        max_padding: padding of the max-pool: negative infinity, or the input's periodic
            extension when ``pad_mode="circular"`` (the max then wraps too, so the layer
            commutes exactly with circular shifts by multiples of ``down``).
        pad_split: ``"adobe"`` or ``"symmetric"`` (of the blur).
        device: device of the filter buffer.
        dtype: dtype of the filter buffer.

    Shape:
        - Input: ``(B, C, H, W)``
        - Output: same size as ``MaxPool2d(max_kernel_size, down, max_padding)`` gives
          (``pad_split="adobe"``), e.g. ``floor(H / 2)`` for the defaults.

    Example:
        >>> MaxBlurPool2d(4)(torch.randn(1, 4, 7, 6)).shape
        torch.Size([1, 4, 3, 3])
    """

    def __init__(
        self,
        channels: int | None = None,
        taps: TapsLike = 3,
        down: int = 2,
        pad_mode: str = "reflect",
        max_kernel_size: int = 2,
        max_padding: int = 0,
        pad_split: str = "adobe",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_common(down, pad_mode, pad_split)
        self.channels = check_optional_channels("channels", channels)
        self.down = down
        self.pad_mode = pad_mode
        self.pad_split = pad_split
        _check_max(max_kernel_size, max_padding)
        self.max_kernel_size = max_kernel_size
        self.max_padding = max_padding
        self.register_buffer(
            "taps", resolve_taps(taps, 1.0, device=device, dtype=dtype), persistent=False
        )
        self.plan = blur_plan(self.taps, down, pad_mode, pad_split)

    def forward(self, x: Tensor) -> Tensor:
        check_feature_map(x, "MaxBlurPool2d", self.channels)
        return _max_blur(
            x,
            self.taps.to(x.dtype),
            self.plan,
            self.max_kernel_size,
            self.max_padding,
            self.pad_split,
        )

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, max_kernel_size={self.max_kernel_size}, "
            f"max_padding={self.max_padding}, taps={_taps_repr(self.taps)}, down={self.down}, "
            f"pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )


class ConvBlurPool2d(nn.Conv2d):
    """Conv at stride 1 then blur-pool: the anti-aliased ``Conv2d(..., stride=down)``.

    A subclass of ``nn.Conv2d`` with the same parameters (``weight``, ``bias``) and the same
    ``state_dict`` keys, so a checkpoint of the strided original loads into it unchanged
    (:meth:`from_conv` shares the original's parameters). With ``taps=1`` it equals the strided
    conv exactly; with ``pad_split="adobe"`` its output size always equals the strided conv's:
    ``ceil(H' / down) == floor((H' - 1) / down) + 1`` where ``H' = H + 2p - d (k - 1)`` is the
    stride-1 conv's output. ``self.stride`` is ``(1, 1)``; the factor is ``down``.

    Args:
        in_channels: input channels.
        out_channels: output channels (``None``: same as input).
        kernel_size: conv kernel size.
        taps: blur: binomial length or explicit taps (normalised to sum 1).
        down: factor, ``>= 1``.
        pad_mode: padding of the blur, and of the conv unless ``conv_pad_mode`` is given.
        padding: conv padding; ``None`` means ``(kernel_size - 1) // 2`` (output
            ``ceil(H / down)`` for odd kernels).
        bias: conv bias.
        pad_split: ``"adobe"`` or ``"symmetric"`` (of the blur).
        dilation: conv dilation.
        groups: conv groups.
        conv_pad_mode: the conv's ``padding_mode`` if different from ``pad_mode``.
        device: device of parameters and buffers.
        dtype: dtype of parameters and buffers.

    Shape:
        - Input: ``(B, C_in, H, W)``
        - Output: ``(B, C_out, ceil(H' / down), ceil(W' / down))``

    Example:
        >>> ConvBlurPool2d(3, 8)(torch.randn(1, 3, 9, 8)).shape
        torch.Size([1, 8, 5, 4])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        kernel_size: int | tuple[int, int] = 3,
        taps: TapsLike = 3,
        down: int = 2,
        pad_mode: str = "reflect",
        padding: int | tuple[int, int] | None = None,
        bias: bool = True,
        pad_split: str = "adobe",
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        conv_pad_mode: str | None = None,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        _check_common(down, pad_mode, pad_split)
        check_int("in_channels", in_channels, 1)
        out_channels = in_channels if out_channels is None else out_channels
        check_int("out_channels", out_channels, 1)
        if isinstance(kernel_size, int):
            check_int("kernel_size", kernel_size, 1)
        if padding is None:
            ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
            padding = ((ks[0] - 1) // 2, (ks[1] - 1) // 2)
        conv_pad_mode = pad_mode if conv_pad_mode is None else check_pad_mode(conv_pad_mode)
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=1,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=conv_pad_mode,
            device=device,
            dtype=dtype,
        )
        self.down = down
        self.pad_mode = pad_mode
        self.pad_split = pad_split
        self.register_buffer(
            "taps", resolve_taps(taps, 1.0, device=device, dtype=dtype), persistent=False
        )
        self.plan = blur_plan(self.taps, down, pad_mode, pad_split)

    @classmethod
    def from_conv(
        cls,
        conv: nn.Conv2d,
        taps: TapsLike = 3,
        pad_mode: str = "reflect",
        pad_split: str = "adobe",
    ) -> ConvBlurPool2d:
        """The strided ``conv`` as conv at stride 1 + blur-pool by its stride.

        The new layer *shares* ``conv.weight`` / ``conv.bias`` (same ``Parameter`` objects);
        ``conv`` itself is not modified.

        Raises:
            TypeError: not an ``nn.Conv2d``.
            ValueError: unequal strides along H and W, or string padding.
        """
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"expected an nn.Conv2d, got {type(conv).__name__}")
        sh, sw = conv.stride
        if sh != sw:
            raise ValueError(f"expected equal strides along H and W, got {conv.stride}")
        if isinstance(conv.padding, str):
            raise ValueError(f"expected numeric conv padding, got {conv.padding!r}")
        weight = conv.weight
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            taps,
            sh,
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

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode == "circular" and self.pad_mode == "circular":
            return self._forward_circular(x)
        y = self._conv_forward(x, self.weight, self.bias)
        return self.plan(y, self.taps.to(y.dtype))

    def _forward_circular(self, x: Tensor) -> Tensor:
        # nn.Conv2d pads (p, p) circularly: a periodic map only when 2 p = d (k - 1) (odd
        # kernels, default padding). Otherwise (even kernels) wrap (p, d (k - 1) - p) so the
        # conv keeps the period H, blur-pool circularly, and fit the documented size.
        h, w = x.shape[-2], x.shape[-1]
        reach = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
        pad = [int(p) for p in self.padding]  # numeric: set in __init__ / from_conv
        same = 2 * pad[0] == reach[0] and 2 * pad[1] == reach[1]
        if same or pad[0] > reach[0] or pad[1] > reach[1]:
            y = self._conv_forward(x, self.weight, self.bias)
            return self.plan(y, self.taps.to(y.dtype))
        xp = wrap_pad(x, pad[0], reach[0] - pad[0], pad[1], reach[1] - pad[1])
        y = F.conv2d(xp, self.weight, self.bias, 1, 0, self.dilation, self.groups)
        y = self.plan(y, self.taps.to(y.dtype))
        n = self.plan.taps_shape[0]  # a Python int (taps.numel() traces as a tensor)
        return fit_periodic(
            y,
            blur_pool_size(h + 2 * pad[0] - reach[0], n, self.down, self.pad_split),
            blur_pool_size(w + 2 * pad[1] - reach[1], n, self.down, self.pad_split),
        )

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, then blur-pool taps={_taps_repr(self.taps)}, "
            f"down={self.down}, pad_mode={self.pad_mode!r}, pad_split={self.pad_split!r}"
        )


def _taps_repr(taps: Tensor) -> str:
    values = ", ".join(f"{v:.4g}" for v in taps.tolist())
    return f"{taps.numel()} [{values}]"
