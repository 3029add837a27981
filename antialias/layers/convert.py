"""Convert an existing model to anti-aliased resampling, keeping its trained weights.

:func:`convert` walks any ``nn.Module`` and replaces, module by module:

====================================  ==========================================  =========
found                                 becomes (``down="blurpool"``, ``up="blur"``)  weights
====================================  ==========================================  =========
``MaxPool2d(k, s, p)``, ``s > 1``      :class:`MaxBlurPool2d` (max at stride 1 +     none
                                      blur-pool by ``s``)
``AvgPool2d(k, s, p)``, ``s > 1``      ``AvgPool2d(k, 1, p)`` + :class:`BlurPool2d`  none
``Conv2d(..., stride=s)``, ``s > 1``   :class:`ConvBlurPool2d` (same conv at stride  kept
                                      1 + blur-pool by ``s``)
``ConvTranspose2d``, stride ``> 1``    :class:`ConvTransposeBlur2d` (same transposed  kept
                                      conv + same-size blur)
``Upsample(scale_factor=s)``           :class:`Upsample2d` ``method="blur"``         none
====================================  ==========================================  =========

With ``up`` set to another :data:`UPSAMPLE_METHODS` name, transposed convs are *replaced* by a
freshly initialised ``Upsample2d(in, out, method=up)`` (weights new; only when that keeps
the output size) and ``nn.Upsample`` by the fixed method (``nearest``, ``bilinear``,
``bicubic``). ``down=None`` / ``up=None`` leave that direction alone.

Why the output sizes never change: a stride-1 op followed by an "adobe"-split blur-pool by
``s`` gives ``ceil(H'/s) = floor((H'-1)/s) + 1`` rows, exactly what the strided op gives,
for every input size. Why the weights carry over: ``ConvBlurPool2d`` and
``ConvTransposeBlur2d`` subclass the torch convs and share their ``weight``/``bias``, so the
converted model's ``state_dict`` has the same keys as the original's, and with ``taps=1``
the converted model computes exactly what the original did (tested on MONAI's nets).

What is left, and said so in the report: ``ceil_mode`` / dilated / non-square pools,
``return_indices``, convs with unequal strides, ``Upsample(size=...)`` or non-integer
factors, transposed convs whose replacement would change the size, and resamplers of other
kinds (adaptive pools, pixel (un)shuffle, 1-D/3-D layers).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from torch import nn

from ._common import check_pad_mode
from .blurpool import BlurPool2d, ConvBlurPool2d, MaxBlurPool2d
from .upsample import UPSAMPLE_METHODS, ConvTransposeBlur2d, Upsample2d

__all__ = ["Change", "ConversionReport", "convert"]

_FIXED = ("nearest", "bilinear", "bicubic", "blur")

# resamplers this converter knows it does not handle (reported as left): always ...
_ANTIALIASED_UP = ("blur", "transposed_blur", "aps")
"""Upsample2d methods convert leaves alone: already low-pass (or phase-exact, for APS)."""
_LEARNED_UP = ("transposed", "pixel_shuffle")
"""Upsample2d methods convert looks inside: their learned layers alias like torch's own."""

_OTHER_RESAMPLERS = (
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.PixelShuffle,
    nn.PixelUnshuffle,
    nn.MaxUnpool2d,
    nn.FractionalMaxPool2d,
)
# ... or when their stride is above 1
_OTHER_STRIDED = (
    nn.LPPool2d,
    nn.MaxPool1d,
    nn.MaxPool3d,
    nn.AvgPool1d,
    nn.AvgPool3d,
    nn.Conv1d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose3d,
)


@dataclass(frozen=True)
class Change:
    """One module the converter looked at.

    Attributes:
        name: dotted module name in the model.
        before: the original module's repr.
        after: the replacement's repr (``None`` when left).
        weights: ``"kept"`` (parameters shared with the original), ``"new"`` (freshly
            initialised), ``"none"`` (no parameters), or ``"-"`` when left.
        reason: why it was left (empty when changed).
    """

    name: str
    before: str
    after: str | None
    weights: str
    reason: str = ""


@dataclass
class ConversionReport:
    """What :func:`convert` changed and what it left, in model order."""

    changed: list[Change] = field(default_factory=list)
    left: list[Change] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"changed {len(self.changed)} module(s), left {len(self.left)}"]
        for c in self.changed:
            lines.append(f"  changed {c.name}: {c.before} -> {c.after} [weights {c.weights}]")
        for c in self.left:
            lines.append(f"  left    {c.name}: {c.before} ({c.reason})")
        return "\n".join(lines)


def _square(value: object, what: str) -> tuple[int | None, str]:
    """``(v, "")`` for an int or an equal pair, else ``(None, reason)``."""
    if isinstance(value, int):
        return value, ""
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return int(value[0]), ""
    return None, f"{what} {value!r} differs between H and W"


def _convert_maxpool(m: nn.MaxPool2d, taps: object, pad_mode: str) -> nn.Module | str:
    k, why_k = _square(m.kernel_size, "kernel_size")
    s, why_s = _square(m.stride, "stride")
    p, why_p = _square(m.padding, "padding")
    d, why_d = _square(m.dilation, "dilation")
    if why_k or why_s or why_p or why_d:
        return why_k or why_s or why_p or why_d
    if s == 1:
        return ""  # not a down-sampler
    if d != 1:
        return f"dilation {d} (MaxBlurPool2d has none)"
    if m.ceil_mode:
        return "ceil_mode=True (the blur-pool's size follows floor mode)"
    if m.return_indices:
        return "return_indices=True (indices have no blurred equivalent)"
    return MaxBlurPool2d(None, taps, s, pad_mode, max_kernel_size=k, max_padding=p)


def _convert_avgpool(m: nn.AvgPool2d, taps: object, pad_mode: str) -> nn.Module | str:
    k, why_k = _square(m.kernel_size, "kernel_size")
    s, why_s = _square(m.stride, "stride")
    p, why_p = _square(m.padding, "padding")
    if why_k or why_s or why_p:
        return why_k or why_s or why_p
    if s == 1:
        return ""
    if m.ceil_mode:
        return "ceil_mode=True (the blur-pool's size follows floor mode)"
    box = nn.AvgPool2d(
        k,
        stride=1,
        padding=p,
        count_include_pad=m.count_include_pad,
        divisor_override=m.divisor_override,
    )
    return nn.Sequential(box, BlurPool2d(None, taps, s, pad_mode))


def _convert_conv(m: nn.Conv2d, taps: object, pad_mode: str) -> nn.Module | str:
    if m.stride == (1, 1):
        return ""
    if m.stride[0] != m.stride[1]:
        return f"stride {m.stride} differs between H and W"
    if isinstance(m.padding, str):
        return f"padding={m.padding!r}"
    return ConvBlurPool2d.from_conv(m, taps, pad_mode)


def _convert_tconv(
    m: nn.ConvTranspose2d, up: str, taps: object, up_taps: object, pad_mode: str
) -> tuple[nn.Module | str, str]:
    if m.stride == (1, 1):
        return "", ""
    if up == "blur":
        return ConvTransposeBlur2d.from_conv_transpose(m, taps, pad_mode), "kept"
    s, why = _square(m.stride, "stride")
    if why:
        return why, ""
    # the replacement gives exactly s*H; so does the original, for every H, iff per axis
    # d (k - 1) + output_padding + 1 - 2 padding == s
    sizes_match = all(
        m.dilation[i] * (m.kernel_size[i] - 1) + m.output_padding[i] + 1 - 2 * m.padding[i] == s
        for i in range(2)
    )
    if not sizes_match:
        return f"its output is not exactly {s}x the input (replacing would change shapes)", ""
    if m.groups != 1:
        return f"groups={m.groups} (Upsample2d has no grouped conv)", ""
    kw: dict = {"up": s, "pad_mode": pad_mode, "bias": m.bias is not None}
    if up in ("blur", "aps") and up_taps is not None:
        kw["taps"] = up_taps
    weight = m.weight
    new = Upsample2d(
        m.in_channels,
        m.out_channels,
        method=up,
        device=weight.device,
        dtype=weight.dtype,
        **kw,
    )
    return new, "new" if any(True for _ in new.parameters()) else "none"


def _convert_upsample(m: nn.Upsample, up: str, up_taps: object, pad_mode: str) -> nn.Module | str:
    if m.size is not None or m.scale_factor is None:
        return "size= given instead of an integer scale_factor"
    factors = m.scale_factor if isinstance(m.scale_factor, tuple) else (m.scale_factor,) * 2
    if len(set(factors)) != 1 or float(factors[0]) != int(factors[0]) or int(factors[0]) < 2:
        return f"scale_factor {m.scale_factor!r} is not one integer >= 2"
    s = int(factors[0])
    if up not in _FIXED:
        return f"up={up!r} needs channel counts, which nn.Upsample does not know"
    if up == "blur":
        taps = _default_up_taps(s) if up_taps is None else up_taps
        return Upsample2d(None, None, method="blur", up=s, taps=taps, pad_mode=pad_mode)
    return Upsample2d(None, None, method=up, up=s, pad_mode=pad_mode)


def _default_up_taps(up: int) -> list[float]:
    # box(up) convolved 5 times: every polyphase component sums to the same value (no
    # checkerboard on flat input), length + up even (half-pixel grid), response
    # |sin(pi f up) / (up sin(pi f))|^5: for up = 2 the binomial [1, 5, 10, 10, 5, 1].
    taps = [1.0]
    for _ in range(5):
        out = [0.0] * (len(taps) + up - 1)
        for i, t in enumerate(taps):
            for j in range(up):
                out[i + j] += t
        taps = out
    return taps


def convert(
    model: nn.Module,
    down: str | None = "blurpool",
    up: str | None = "blur",
    taps: int | list[float] = 3,
    up_taps: int | list[float] | None = None,
    pad_mode: str = "reflect",
    inplace: bool = False,
) -> tuple[nn.Module, ConversionReport]:
    """Replace the model's down- and up-samplers with anti-aliased equivalents.

    Args:
        model: any ``nn.Module``.
        down: ``"blurpool"`` (pools and strided convs, module docstring) or ``None``.
        up: ``"blur"`` (transposed convs keep their weights and gain a blur; ``nn.Upsample``
            becomes the blur up-sampler), another :data:`UPSAMPLE_METHODS` name (transposed
            convs replaced by ``Upsample2d(method=up)``), or ``None``.
        taps: blur of the down-samplers and of the blur after transposed convs (binomial
            length or explicit taps, normalised to sum 1). ``taps=1`` changes nothing
            numerically: the ablation / sanity check.
        up_taps: taps of the blur up-sampler replacing ``nn.Upsample`` (normalised to sum
            ``up``); ``None``: ``box(up)`` convolved 5 times (``[1, 5, 10, 10, 5, 1]`` at 2).
        pad_mode: padding of every blur (and of new convs).
        inplace: modify ``model`` itself; default converts a deep copy.

    Returns:
        ``(converted model, report)``; the report lists every resampler changed (with whether
        its weights were kept) and every one left, with the reason.

    Raises:
        ValueError: unknown ``down`` / ``up`` / ``pad_mode``.
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> import torch
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.MaxPool2d(2))
        >>> new, report = convert(net)
        >>> [c.weights for c in report.changed]
        ['kept', 'none']
        >>> new(torch.randn(1, 3, 16, 16)).shape == net(torch.randn(1, 3, 16, 16)).shape
        True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected model to be an nn.Module, got {type(model).__name__}")
    if down not in ("blurpool", None):
        raise ValueError(f"expected down to be 'blurpool' or None, got {down!r}")
    if up is not None and up not in UPSAMPLE_METHODS:
        raise ValueError(f"expected up to be one of {list(UPSAMPLE_METHODS)} or None, got {up!r}")
    if up == "aps":
        raise ValueError(
            "expected up other than 'aps': APS up-sampling needs a paired APS down-sampler, "
            "which a converted model does not have; build it with create_upsample('aps', ...)"
        )
    check_pad_mode(pad_mode)
    if not inplace:
        model = copy.deepcopy(model)
    report = ConversionReport()

    def visit(parent: nn.Module, prefix: str) -> None:
        for name, child in list(parent.named_children()):
            full = f"{prefix}{name}"
            result: nn.Module | str = ""
            weights = "none"
            handled = True
            # our own anti-aliased layers: leave them, silently
            if isinstance(child, (ConvBlurPool2d, ConvTransposeBlur2d)) or (
                isinstance(child, Upsample2d) and child.method in _ANTIALIASED_UP
            ):
                continue
            # our fixed interpolations are not torch resamplers convert could swap: say so
            if isinstance(child, Upsample2d) and child.method not in _LEARNED_UP:
                reason = f"Upsample2d(method={child.method!r}) is a fixed interpolation"
                report.left.append(Change(full, _short(child), None, "-", reason))
                continue
            # a learned Upsample2d (transposed, pixel_shuffle) is converted inside: its
            # ConvTranspose2d gains a blur like any other, state-dict keys unchanged
            if isinstance(child, nn.MaxPool2d):
                result = _convert_maxpool(child, taps, pad_mode) if down else "down=None"
            elif isinstance(child, nn.AvgPool2d):
                result = _convert_avgpool(child, taps, pad_mode) if down else "down=None"
            elif isinstance(child, nn.Conv2d):
                result = _convert_conv(child, taps, pad_mode) if down else "down=None"
                weights = "kept"
                if result == "down=None" and child.stride == (1, 1):
                    result = ""
            elif isinstance(child, nn.ConvTranspose2d):
                if up is None:
                    result = "up=None" if child.stride != (1, 1) else ""
                else:
                    result, weights = _convert_tconv(child, up, taps, up_taps, pad_mode)
            elif isinstance(child, nn.Upsample):
                result = _convert_upsample(child, up, up_taps, pad_mode) if up else "up=None"
            elif isinstance(child, _OTHER_RESAMPLERS) or (
                isinstance(child, _OTHER_STRIDED) and not _is_stride_one(child)
            ):
                result = f"{type(child).__name__} is not handled by convert"
            else:
                handled = False
            if not handled:
                visit(child, f"{full}.")
                continue
            if isinstance(result, nn.Module):
                setattr(parent, name, result)
                report.changed.append(Change(full, _short(child), _short(result), weights))
            elif result and not (result.endswith("=None") and _is_stride_one(child)):
                report.left.append(Change(full, _short(child), None, "-", result))

    visit(model, "")
    return model, report


def _is_stride_one(m: nn.Module) -> bool:
    stride = getattr(m, "stride", 1)
    stride = stride if isinstance(stride, tuple) else (stride,)
    return all(v in (1, None) for v in stride)


def _short(m: nn.Module) -> str:
    text = repr(m).replace("\n", " ")
    return " ".join(text.split())
