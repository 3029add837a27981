""":func:`~antialias.layers.convert` for 1-D and 3-D layers, and the blur-before-conv option.

What lives here: one function per torch resampler, each returning the replacement module or
the reason it is left (a string; ``""`` = not a resampler): ``MaxPool{1,3}d`` ->
``MaxBlurPool{1,3}d``, ``AvgPool{1,3}d`` -> box at stride 1 + ``BlurPool{1,3}d``, strided
``Conv{1,3}d`` -> ``ConvBlurPool{1,3}d`` (blur after) or ``BlurConv{1,2,3}d`` (blur before),
``ConvTranspose{1,3}d`` -> ``ConvTransposeBlur{1,3}d``, ``nn.Upsample`` on signals / volumes
-> ``BlurUpsample{1,3}d``; and :func:`guess_spatial_dims` (what ``nn.Upsample`` cannot say).
Unlike 2-D, kernels, strides, paddings and scale factors may differ per axis (``(1, 2, 2)``:
anisotropic volumes, as MONAI's and nnU-Net's in-plane pooling): the blur then runs only along
the axes whose stride is above 1. What does not: the 2-D conversions and the walk
(``convert.py``).
"""

from __future__ import annotations

from collections import Counter

from torch import nn

from .blurconv import BlurConv1d, BlurConv2d, BlurConv3d, ConvTransposeBlur1d, ConvTransposeBlur3d
from .blurpool_nd import (
    BlurPool1d,
    BlurPool3d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    MaxBlurPool1d,
    MaxBlurPool3d,
)
from .upsample_nd import BlurUpsample1d, BlurUpsample3d

__all__ = [
    "MAXPOOLS",
    "AVGPOOLS",
    "CONVS",
    "TCONVS",
    "convert_avgpool_nd",
    "convert_conv_nd",
    "convert_maxpool_nd",
    "convert_tconv_nd",
    "convert_upsample_nd",
    "guess_spatial_dims",
    "model_spatial_dims",
]

MAXPOOLS = {nn.MaxPool1d: 1, nn.MaxPool3d: 3}
AVGPOOLS = {nn.AvgPool1d: 1, nn.AvgPool3d: 3}
CONVS = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
TCONVS = {nn.ConvTranspose1d: 1, nn.ConvTranspose3d: 3}
_BLUR = {1: BlurPool1d, 3: BlurPool3d}
_MAXBLUR = {1: MaxBlurPool1d, 3: MaxBlurPool3d}
_CONVBLUR = {1: ConvBlurPool1d, 3: ConvBlurPool3d}
_BLURCONV = {1: BlurConv1d, 2: BlurConv2d, 3: BlurConv3d}
_TCONVBLUR = {1: ConvTransposeBlur1d, 3: ConvTransposeBlur3d}
_BLURUP = {1: BlurUpsample1d, 3: BlurUpsample3d}
_AVG = {1: nn.AvgPool1d, 3: nn.AvgPool3d}


def _per_axis(value: object, dims: int) -> tuple[int, ...]:
    return (
        tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * dims
    )


def convert_maxpool_nd(m: nn.Module, dims: int, taps: object, pad_mode: str) -> nn.Module | str:
    """``MaxPool{1,3}d`` with stride > 1 -> ``MaxBlurPool{1,3}d`` (max at stride 1, blur-pool).

    Kernel, stride and padding may differ per axis (``MaxPool3d((1, 2, 2), (1, 2, 2))``): the
    max keeps its kernel at stride 1 and the blur runs only along axes with a stride > 1.
    """
    stride = _per_axis(m.stride, dims)
    if all(s == 1 for s in stride):
        return ""
    if any(d != 1 for d in _per_axis(m.dilation, dims)):
        return f"dilation {m.dilation!r} (MaxBlurPool{dims}d has none)"
    if m.ceil_mode:
        return "ceil_mode=True (the blur-pool's size follows floor mode)"
    if m.return_indices:
        return "return_indices=True (indices have no blurred equivalent)"
    k = _flat(_per_axis(m.kernel_size, dims))
    p = _flat(_per_axis(m.padding, dims))
    return _MAXBLUR[dims](None, taps, stride, pad_mode, max_kernel_size=k, max_padding=p)


def _flat(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """One int when equal on every axis (the replacement's repr reads as before)."""
    return values[0] if len(set(values)) == 1 else values


def convert_avgpool_nd(m: nn.Module, dims: int, taps: object, pad_mode: str) -> nn.Module | str:
    """``AvgPool{1,3}d`` with stride > 1 -> the same box at stride 1 + ``BlurPool{1,3}d``."""
    stride = _per_axis(m.stride, dims)
    if all(s == 1 for s in stride):
        return ""
    if m.ceil_mode:
        return "ceil_mode=True (the blur-pool's size follows floor mode)"
    kw: dict = {"count_include_pad": m.count_include_pad}
    if dims == 3:
        kw["divisor_override"] = m.divisor_override
    box = _AVG[dims](m.kernel_size, stride=1, padding=m.padding, **kw)
    return nn.Sequential(box, _BLUR[dims](None, taps, stride, pad_mode))


def convert_conv_nd(
    m: nn.Module, dims: int, taps: object, pad_mode: str, blur_position: str
) -> nn.Module | str:
    """Strided ``Conv{1,2,3}d`` -> conv at stride 1 + blur-pool ("after") or blur + conv."""
    if all(s == 1 for s in m.stride):
        return ""
    if isinstance(m.padding, str):
        return f"padding={m.padding!r}"
    if blur_position == "before":
        return _BLURCONV[dims].from_conv(m, taps, pad_mode)
    return _CONVBLUR[dims].from_conv(m, taps, pad_mode)


def convert_tconv_nd(
    m: nn.Module, dims: int, up: str, taps: object, pad_mode: str
) -> tuple[nn.Module | str, str]:
    """``ConvTranspose{1,3}d`` with stride > 1 -> the same + a same-size blur (weights kept)."""
    if all(s == 1 for s in m.stride):
        return "", ""
    if up != "blur":
        return f"up={up!r} is 2-D only; {dims}-D transposed convs take up='blur'", ""
    return _TCONVBLUR[dims].from_conv_transpose(m, taps, pad_mode), "kept"


def convert_upsample_nd(
    m: nn.Upsample, dims: int, up: str, up_taps: object, pad_mode: str, default_taps
) -> nn.Module | str:
    """``nn.Upsample`` of signals / volumes -> ``BlurUpsample{1,3}d`` (``up="blur"`` only)."""
    if m.size is not None or m.scale_factor is None:
        return "size= given instead of an integer scale_factor"
    factors = _per_axis(m.scale_factor, dims) if _integral(m.scale_factor) else None
    if factors is None or len(factors) != dims:
        return f"scale_factor {m.scale_factor!r} is not an integer per axis"
    above = {f for f in factors if f > 1}
    if len(above) != 1 or min(factors) < 1:
        return f"scale_factor {m.scale_factor!r}: expected one integer >= 2 (1 on some axes ok)"
    if up != "blur":
        return f"up={up!r} is 2-D only; {dims}-D nn.Upsample takes up='blur'"
    s = above.pop()
    taps = default_taps(s) if up_taps is None else up_taps
    return _BLURUP[dims](None, taps, factors, pad_mode)


def _integral(value: object) -> bool:
    vals = value if isinstance(value, (tuple, list)) else (value,)
    return all(float(v) == int(v) for v in vals)


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def guess_spatial_dims(m: nn.Upsample, model_dims: int) -> int:
    """The spatial dims an ``nn.Upsample`` works on: its factors, its mode, else the model's."""
    if isinstance(m.scale_factor, tuple) and len(m.scale_factor) in (1, 2, 3):
        return len(m.scale_factor)
    return _MODE_DIMS.get(m.mode, model_dims)


def model_spatial_dims(model: nn.Module) -> int:
    """The most common spatial dims of the model's convs and pools (2 when it has none)."""
    kinds = {**CONVS, **MAXPOOLS, **AVGPOOLS, **TCONVS}
    kinds.update({nn.ConvTranspose2d: 2, nn.MaxPool2d: 2, nn.AvgPool2d: 2})
    counts = Counter(d for m in model.modules() for t, d in kinds.items() if isinstance(m, t))
    return counts.most_common(1)[0][0] if counts else 2
