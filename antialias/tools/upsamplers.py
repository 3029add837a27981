"""Finding the learned up-samplers of any model: transposed convs and sub-pixel convs.

:func:`find_upsampling_layers` returns every ``nn.ConvTranspose2d`` with stride >= 2, every
``nn.ConvTranspose1d`` / ``nn.ConvTranspose3d`` with a stride >= 2 on some axis (MONAI's 3-D
deconvs; anisotropic strides such as ``(1, 2, 2)`` included) and every ``nn.Conv2d``
immediately followed by an ``nn.PixelShuffle`` among the children of one module (rewritten as
the equivalent transposed-conv weight by :func:`pixel_shuffle_as_transposed`).
:func:`unreadable_upsamplers` names the transposed convs and pixel shuffles it cannot read
(grouped, dilated, ...), for the warning of an analysis that found none.
Nothing here depends on :class:`antialias.models.UNet`, so a user's model works as well.

What does not live here: what is measured on the layers (:mod:`antialias.tools.learned_kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from antialias._checks import check_int

__all__ = [
    "UpsamplingLayer",
    "find_upsampling_layers",
    "pixel_shuffle_as_transposed",
    "unreadable_upsamplers",
]


@dataclass(frozen=True)
class UpsamplingLayer:
    """A learned up-sampler found in a model, as a transposed convolution.

    Attributes:
        name: qualified module name (of the ``ConvTranspose2d``, or of the ``Conv2d`` of a
            conv + pixel-shuffle pair).
        kind: ``"conv_transpose"`` or ``"pixel_shuffle"``.
        stride: the up-sampling factor ``s`` (1-D/3-D layers with unequal strides: one per
            axis, a tuple).
        weight: the equivalent transposed-conv weight, float64, ``(C_in, C_out, k, k)``
            (for a sub-pixel conv with a ``K x K`` kernel, ``k = s K``; 3-D: ``(C_in, C_out,
            k, k, k)``).
        module: the layer as a callable module (the pair as ``nn.Sequential``), for probing.
        output_name: qualified name of the module whose forward output is the layer's output
            (the ``ConvTranspose2d`` itself, or the ``PixelShuffle``), for forward hooks.
        spatial_dims: 1, 2 or 3.
    """

    name: str
    kind: str
    stride: int | tuple[int, ...]
    weight: np.ndarray
    module: nn.Module
    output_name: str
    spatial_dims: int = 2


_OTHER_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose3d)


_TWINS: dict[str, type[nn.Module]] = {
    "Conv2d": nn.Conv2d,
    "ConvTranspose1d": nn.ConvTranspose1d,
    "ConvTranspose2d": nn.ConvTranspose2d,
    "ConvTranspose3d": nn.ConvTranspose3d,
    "PixelShuffle": nn.PixelShuffle,
}
_CONV_ATTRS = ("stride", "padding", "dilation", "groups", "in_channels", "out_channels")


def plain_twin(module: nn.Module) -> nn.Module:
    """A TorchScript conv / transposed conv / pixel shuffle as the plain module it was scripted
    from (same weights), so that layers are found by type; any other module is returned as is.

    ``torch.jit.script`` keeps a module's ``original_name`` and its constants (stride, padding,
    ...); ``torch.jit.trace`` keeps no constants, so traced layers stay unreadable (and are
    reported as such by the analysis).
    """
    kind = _TWINS.get(getattr(module, "original_name", ""))
    if kind is None or not isinstance(module, torch.jit.ScriptModule):
        return module
    try:
        if kind is nn.PixelShuffle:
            return nn.PixelShuffle(int(module.upscale_factor))
        config = {a: getattr(module, a) for a in _CONV_ATTRS}
        weight = module.weight
        config["kernel_size"] = tuple(weight.shape[2:])
        if kind is not nn.Conv2d:
            config["output_padding"] = module.output_padding
        twin = kind(**config, bias=getattr(module, "bias", None) is not None)
    except (AttributeError, RuntimeError, TypeError, ValueError):
        return module  # a traced archive: the constants are gone
    with torch.no_grad():
        twin.weight.copy_(weight)
        if twin.bias is not None:
            twin.bias.copy_(module.bias)
    return twin.eval()


def _readable_nd(m: nn.Module) -> bool:
    """A 1-D/3-D transposed conv whose weight :mod:`antialias.spectral_nd` reads."""
    return m.groups == 1 and set(m.dilation) == {1} and max(m.stride) >= 2


def unreadable_upsamplers(model: nn.Module) -> list[str]:
    """``"name (Type, why)"`` of every transposed conv / pixel shuffle not read as an
    up-sampler by :func:`find_upsampling_layers` (stride-1 transposed convs are not listed)."""
    layers = find_upsampling_layers(model)
    found = {layer.name for layer in layers}
    outputs = {layer.output_name for layer in layers}
    out = []
    for name, m in model.named_modules():
        if name in found:
            continue
        kind = type(m).__name__
        if isinstance(m, nn.modules.conv._ConvTransposeNd) and max(m.stride) >= 2:
            why = []
            if m.groups != 1:
                why.append(f"groups {m.groups}")
            if set(m.dilation) != {1}:
                why.append(f"dilation {tuple(m.dilation)}")
            if isinstance(m, nn.ConvTranspose2d) and m.stride[0] != m.stride[1]:
                why.append(f"unequal strides {tuple(m.stride)}")
            out.append(f"{name} ({kind}, {', '.join(why) or 'not read'})")
        elif isinstance(m, nn.PixelShuffle) and name not in outputs:
            out.append(f"{name} ({kind}, not right after a plain Conv2d in one module)")
    return out


def pixel_shuffle_as_transposed(weight: torch.Tensor | np.ndarray, stride: int) -> np.ndarray:
    """The transposed-conv weight equal to ``PixelShuffle(stride)`` after a stride-1 conv.

    ``PixelShuffle(s)`` puts conv channel ``c s^2 + ry s + rx`` at output pixel
    ``(s m + ry, s n + rx)``; the conv reads input ``m + a - p`` with tap ``a``. As a transposed
    conv (``out[o] = sum_i x[i] w[o - s i + pad]``) that is the tap ``s (K - 1 - a) + r``, so
    ``w[ci, c, s (K-1-a) + ry, s (K-1-b) + rx] = W[c s^2 + ry s + rx, ci, a, b]``: each
    polyphase component of the result is one group of ``s^2`` conv output channels, flipped.
    (The conv's padding only moves the origin, which no measure here sees.)

    Args:
        weight: ``Conv2d.weight``, ``(C_out s^2, C_in, K, K)``.
        stride: the pixel-shuffle factor ``s >= 1``.

    Returns:
        float64 array ``(C_in, C_out, s K, s K)``.

    Shape:
        - weight: ``(C_out * s**2, C_in, K, K)``; output: ``(C_in, C_out, s*K, s*K)``
    """
    stride = check_int("stride", stride, 1)
    w = weight.detach().cpu().double().numpy() if isinstance(weight, torch.Tensor) else weight
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 4 or w.shape[0] % (stride * stride) or w.shape[2] != w.shape[3]:
        raise ValueError(
            f"expected a square conv weight (C_out * {stride}**2, C_in, K, K), got {w.shape}"
        )
    c_out, c_in, k = w.shape[0] // stride**2, w.shape[1], w.shape[2]
    # (c, ry, rx, ci, a, b) -> flip a, b -> (ci, c, a', ry, b', rx) -> (ci, c, s K, s K)
    parts = w.reshape(c_out, stride, stride, c_in, k, k)[..., ::-1, ::-1]
    out = parts.transpose(3, 0, 4, 1, 5, 2).reshape(c_in, c_out, k * stride, k * stride)
    return np.ascontiguousarray(out)


def find_upsampling_layers(model: nn.Module) -> list[UpsamplingLayer]:
    """Every learned up-sampler of ``model``, in module registration order.

    Found: ``nn.ConvTranspose2d`` with equal strides >= 2, no groups, no dilation;
    ``nn.ConvTranspose1d`` / ``nn.ConvTranspose3d`` with a stride >= 2 on some axis, no groups,
    no dilation (``spatial_dims`` 1 / 3); and an ``nn.Conv2d`` (stride 1, no groups, no
    dilation, square kernel) immediately followed by an ``nn.PixelShuffle`` among the children
    of one module.

    Args:
        model: any ``nn.Module``.

    Returns:
        The layers (possibly none).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch nn.Module, got {type(model).__name__}")
    found: list[UpsamplingLayer] = []
    for parent_name, parent in model.named_modules():
        children = [(n, plain_twin(c)) for n, c in parent.named_children()]
        for i, (child_name, child) in enumerate(children):
            name = f"{parent_name}.{child_name}" if parent_name else child_name
            if isinstance(child, nn.ConvTranspose2d):
                s = child.stride
                if s[0] != s[1] or s[0] < 2 or child.groups != 1 or tuple(child.dilation) != (1, 1):
                    continue
                weight = child.weight.detach().cpu().double().numpy()
                found.append(UpsamplingLayer(name, "conv_transpose", s[0], weight, child, name))
            elif isinstance(child, _OTHER_TRANSPOSED):
                if not _readable_nd(child):
                    continue
                s = tuple(int(v) for v in child.stride)
                stride = s[0] if len(set(s)) == 1 else s
                weight = child.weight.detach().cpu().double().numpy()
                dims = weight.ndim - 2
                found.append(
                    UpsamplingLayer(name, "conv_transpose", stride, weight, child, name, dims)
                )
            elif (
                isinstance(child, nn.Conv2d)
                and i + 1 < len(children)
                and isinstance(children[i + 1][1], nn.PixelShuffle)
                and tuple(child.stride) == (1, 1)
                and child.groups == 1
                and tuple(child.dilation) == (1, 1)
                and child.kernel_size[0] == child.kernel_size[1]
            ):
                shuffle = children[i + 1][1]
                s = int(shuffle.upscale_factor)
                if s < 2 or child.out_channels % (s * s):
                    continue
                weight = pixel_shuffle_as_transposed(child.weight, s)
                pair = nn.Sequential(child, shuffle)
                shuffle_name = (
                    f"{parent_name}.{children[i + 1][0]}" if parent_name else children[i + 1][0]
                )
                found.append(UpsamplingLayer(name, "pixel_shuffle", s, weight, pair, shuffle_name))
    return found
