"""Blurs that :func:`~antialias.layers.convert` wraps around existing layers, in 1-D, 2-D, 3-D.

What lives here: the same-size blur (:func:`same_blur`), the transposed convs followed by it
(:class:`ConvTransposeBlur1d`, :class:`ConvTransposeBlur3d`; the 2-D one is
:class:`~antialias.layers.upsample.ConvTransposeBlur2d`), the strided convs *preceded* by it
(:class:`BlurConv1d`, :class:`BlurConv2d`, :class:`BlurConv3d`: composer's ``blur_first``,
``convert(blur_position="before")``), and the pixel shuffle followed by it
(:class:`PixelShuffleBlur`). Every conv class subclasses the torch conv it wraps and shares
its ``weight`` / ``bias``, so ``state_dict`` keys are unchanged. The conv classes blur only
along the axes whose stride is above 1 (all of them when every stride is 1), as the blur-pools
do for per-axis factors. What does not: blur-pool and
the up-samplers themselves (``blurpool_nd.py``, ``upsample_nd.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch  # noqa: F401 - the doctests use it
from torch import Tensor, nn

from antialias._checks import check_pad_mode
from antialias.upfirdn import upfirdn

from ._nd_common import TapsLike, filtered_axes, pad_split_of, resolve_taps_nd, taps_repr

__all__ = [
    "BlurConv1d",
    "BlurConv2d",
    "BlurConv3d",
    "ConvTransposeBlur1d",
    "ConvTransposeBlur3d",
    "PixelShuffleBlur",
    "same_blur",
]


def same_blur(x: Tensor, taps: Tensor, pad_mode: str, axes: Sequence[bool] | None = None) -> Tensor:
    """Separable blur along every spatial axis (or those ``axes`` marks), output the input's
    size ("adobe" pad split).

    Shape:
        - x: ``(B, C, *S)`` with 1 to 3 spatial axes
        - output: ``(B, C, *S)``

    Example:
        >>> same_blur(torch.tensor([[[0.0, 4.0, 0.0]]]), torch.tensor([0.25, 0.5, 0.25]),
        ...           "circular")
        tensor([[[1., 2., 1.]]])
    """
    dims = x.dim() - 2
    n = taps.numel()
    on = [True] * dims if axes is None else list(axes)
    if n == 1 or not any(on):  # no filter: the identity (taps sum 1)
        return x
    pad = pad_split_of(n, 1, "adobe")
    per_axis = [taps if f else [1.0] for f in on]
    pads = [pad if f else (0, 0) for f in on]
    return upfirdn(x, per_axis, 1, 1, pads, pad_mode, flip_filter=True)


def _blur_buffer(layer: nn.Module, taps: TapsLike, pad_mode: str, weight: Tensor) -> None:
    layer.pad_mode = check_pad_mode(pad_mode)
    layer.register_buffer(
        "taps", resolve_taps_nd(taps, 1.0, weight.device, weight.dtype), persistent=False
    )


def _share(new: nn.Module, old: nn.Module) -> None:
    new.weight = old.weight
    new.bias = old.bias


def _tconv_from(cls, tconv: nn.Module, taps: TapsLike, pad_mode: str):
    w = tconv.weight
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
        device=w.device,
        dtype=w.dtype,
    )
    _share(new, tconv)
    _blur_buffer(new, taps, pad_mode, w)
    return new


class _TconvBlurMixin:
    taps: Tensor
    pad_mode: str

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        y = super().forward(x, output_size)  # type: ignore[misc]
        # no blur along an axis with stride 1 (a (1, 2, 2) decoder step): nothing images there
        axes = filtered_axes(tuple(self.stride))  # type: ignore[attr-defined]
        return same_blur(y, self.taps.to(y.dtype), self.pad_mode, axes)

    def extra_repr(self) -> str:
        base = super().extra_repr()  # type: ignore[misc]
        return f"{base}, then blur taps={taps_repr(self.taps)}, pad_mode={self.pad_mode!r}"


class ConvTransposeBlur1d(_TconvBlurMixin, nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` then a same-size blur (taps sum 1); parameters shared.

    Shape:
        - Input: ``(B, C_in, L)``
        - Output: the transposed conv's output size.

    Example:
        >>> t = nn.ConvTranspose1d(4, 2, 2, stride=2)
        >>> ConvTransposeBlur1d.from_conv_transpose(t)(torch.randn(1, 4, 3)).shape
        torch.Size([1, 2, 6])
    """

    @classmethod
    def from_conv_transpose(
        cls, tconv: nn.ConvTranspose1d, taps: TapsLike = 3, pad_mode: str = "reflect"
    ) -> ConvTransposeBlur1d:
        """Wrap ``tconv`` (its parameters shared, itself unchanged) and blur its output."""
        if not isinstance(tconv, nn.ConvTranspose1d):
            raise TypeError(f"expected an nn.ConvTranspose1d, got {type(tconv).__name__}")
        return _tconv_from(cls, tconv, taps, pad_mode)


class ConvTransposeBlur3d(_TconvBlurMixin, nn.ConvTranspose3d):
    """``nn.ConvTranspose3d`` then a same-size blur (taps sum 1); parameters shared.

    The blur removes what the kernel lets through near the images of DC (the checkerboard of
    3-D decoders) without changing the output size; ``taps=1`` is the original exactly.

    Shape:
        - Input: ``(B, C_in, D, H, W)``
        - Output: the transposed conv's output size.

    Example:
        >>> t = nn.ConvTranspose3d(4, 2, 2, stride=2)
        >>> ConvTransposeBlur3d.from_conv_transpose(t)(torch.randn(1, 4, 2, 3, 3)).shape
        torch.Size([1, 2, 4, 6, 6])
    """

    @classmethod
    def from_conv_transpose(
        cls, tconv: nn.ConvTranspose3d, taps: TapsLike = 3, pad_mode: str = "reflect"
    ) -> ConvTransposeBlur3d:
        """Wrap ``tconv`` (its parameters shared, itself unchanged) and blur its output."""
        if not isinstance(tconv, nn.ConvTranspose3d):
            raise TypeError(f"expected an nn.ConvTranspose3d, got {type(tconv).__name__}")
        return _tconv_from(cls, tconv, taps, pad_mode)


class _BlurConvMixin:
    taps: Tensor
    pad_mode: str

    def forward(self, x: Tensor) -> Tensor:
        # blur at the input's resolution, then the strided conv as it was (cheaper than
        # conv at stride 1 + blur-pool: composer's blur_first); not along an axis with
        # stride 1 (nothing aliases there)
        axes = filtered_axes(tuple(self.stride))  # type: ignore[attr-defined]
        x = same_blur(x, self.taps.to(x.dtype), self.pad_mode, axes)
        return super().forward(x)  # type: ignore[misc]

    def extra_repr(self) -> str:
        base = super().extra_repr()  # type: ignore[misc]
        return f"blur taps={taps_repr(self.taps)}, pad_mode={self.pad_mode!r}, then {base}"

    @classmethod
    def from_conv(cls, conv: nn.Module, taps: TapsLike = 3, pad_mode: str = "reflect"):
        """A same-size blur before ``conv`` (its parameters shared, itself unchanged)."""
        base = cls.__mro__[2]
        if not isinstance(conv, base):
            raise TypeError(f"expected an nn.{base.__name__}, got {type(conv).__name__}")
        w = conv.weight
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            padding_mode=conv.padding_mode,
            device=w.device,
            dtype=w.dtype,
        )
        _share(new, conv)
        _blur_buffer(new, taps, pad_mode, w)
        return new


class BlurConv1d(_BlurConvMixin, nn.Conv1d):
    """Same-size blur, then the strided ``nn.Conv1d`` unchanged (built by ``from_conv``).

    Example:
        >>> c = nn.Conv1d(2, 4, 3, stride=2, padding=1)
        >>> BlurConv1d.from_conv(c)(torch.randn(1, 2, 8)).shape
        torch.Size([1, 4, 4])
    """


class BlurConv2d(_BlurConvMixin, nn.Conv2d):
    """Same-size blur, then the strided ``nn.Conv2d`` unchanged (built by ``from_conv``).

    Example:
        >>> c = nn.Conv2d(2, 4, 3, stride=2, padding=1)
        >>> BlurConv2d.from_conv(c)(torch.randn(1, 2, 8, 6)).shape
        torch.Size([1, 4, 4, 3])
    """


class BlurConv3d(_BlurConvMixin, nn.Conv3d):
    """Same-size blur, then the strided ``nn.Conv3d`` unchanged (built by ``from_conv``).

    Shape:
        - Input: ``(B, C_in, D, H, W)``
        - Output: the strided conv's output size.

    Example:
        >>> c = nn.Conv3d(2, 4, 3, stride=2, padding=1)
        >>> BlurConv3d.from_conv(c)(torch.randn(1, 2, 4, 8, 6)).shape
        torch.Size([1, 4, 2, 4, 3])
    """


class PixelShuffleBlur(nn.Module):
    """A pixel shuffle (any module or ``None`` = identity) then a same-size blur.

    A sub-pixel conv is a transposed conv in disguise; the blur after the shuffle removes its
    checkerboard as it does after :class:`ConvTransposeBlur3d`. No parameters: the model's
    ``state_dict`` keys are unchanged.

    Shape:
        - Input: the shuffle's input
        - Output: the shuffle's output

    Example:
        >>> PixelShuffleBlur(nn.PixelShuffle(2))(torch.randn(1, 8, 3, 3)).shape
        torch.Size([1, 2, 6, 6])
    """

    def __init__(
        self, shuffle: nn.Module | None, taps: TapsLike = 3, pad_mode: str = "reflect"
    ) -> None:
        super().__init__()
        self.shuffle = nn.Identity() if shuffle is None else shuffle
        self.pad_mode = check_pad_mode(pad_mode)
        self.register_buffer("taps", resolve_taps_nd(taps, 1.0, None, None), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        y = self.shuffle(x)
        return same_blur(y, self.taps.to(y.dtype), self.pad_mode)

    def extra_repr(self) -> str:
        return f"then blur taps={taps_repr(self.taps)}, pad_mode={self.pad_mode!r}"
