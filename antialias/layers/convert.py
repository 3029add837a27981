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

In 1-D and 3-D the same: ``MaxPool{1,3}d`` -> ``MaxBlurPool{1,3}d``, ``AvgPool{1,3}d`` ->
box at stride 1 + ``BlurPool{1,3}d``, strided ``Conv{1,3}d`` -> ``ConvBlurPool{1,3}d``,
``ConvTranspose{1,3}d`` -> ``ConvTransposeBlur{1,3}d``, ``nn.Upsample`` of signals / volumes
-> ``BlurUpsample{1,3}d`` (its dims from its factors or mode, else the model's convs); kernels,
strides and factors may differ per axis, and no axis with stride 1 is blurred
(``convert_nd.py``). Pixel shuffles (``nn.PixelShuffle``,
``PixelShuffle3d``, MONAI's ``SubpixelUpsample``, whose shuffle is a function call) gain a
same-size blur after the shuffle (:class:`~antialias.layers.blurconv.PixelShuffleBlur`);
MONAI's ``UpSample(mode="nontrainable")`` is an ``nn.Upsample`` and converted as one.

With ``up`` set to another :data:`UPSAMPLE_METHODS` name, 2-D transposed convs are *replaced*
by a freshly initialised ``Upsample2d(in, out, method=up)`` (weights new; only when that keeps
the output size) and ``nn.Upsample`` by the fixed method (``nearest``, ``bilinear``,
``bicubic``). ``down=None`` / ``up=None`` leave that direction alone. ``skip_first=k`` leaves
the first ``k`` down-samplers; ``blur_position="before"`` blurs *before* strided convs
(``BlurConv{1,2,3}d``, the conv unchanged) instead of conv at stride 1 + blur-pool.

Why the output sizes never change: a stride-1 op followed by an "adobe"-split blur-pool by
``s`` gives ``ceil(H'/s) = floor((H'-1)/s) + 1`` rows, exactly what the strided op gives,
for every input size; a same-size blur keeps every size. Why the weights carry over: the
conv replacements subclass the torch convs and share their ``weight``/``bias``, so the
converted model's ``state_dict`` has the same keys as the original's, and with ``taps=1``
the converted model computes exactly what the original did (tested on MONAI's nets, 2-D and
3-D).

What is left, and said so in the report: ``ceil_mode`` / dilated pools, non-square 2-D pools
(1-D / 3-D pools with per-axis kernels and strides such as ``(1, 2, 2)`` are converted,
blurred only along the strided axes), ``return_indices``, 2-D convs with unequal strides,
``Upsample(size=...)`` or non-integer factors, transposed convs whose replacement would
change the size, up-sampling methods other than ``blur`` in 1-D / 3-D, and resamplers of
other kinds (adaptive pools, pixel unshuffle, unpooling). Resampling written as function
calls in a ``forward`` (``F.max_pool3d``, ``F.interpolate``, strided ``F.conv2d``,
``x[..., ::2]``) cannot be swapped: the report lists each with its module and source line
(:mod:`antialias.layers.convert_scan`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from torch import nn

from antialias._checks import check_choice, check_int

from ._common import check_pad_mode
from .blurconv import (
    BlurConv1d,
    BlurConv2d,
    BlurConv3d,
    ConvTransposeBlur1d,
    ConvTransposeBlur3d,
    PixelShuffleBlur,
)
from .blurpool import BlurPool2d, ConvBlurPool2d, MaxBlurPool2d
from .blurpool_nd import ConvBlurPool1d, ConvBlurPool3d
from .convert_nd import (
    AVGPOOLS,
    CONVS,
    MAXPOOLS,
    TCONVS,
    convert_avgpool_nd,
    convert_conv_nd,
    convert_maxpool_nd,
    convert_tconv_nd,
    convert_upsample_nd,
    guess_spatial_dims,
    model_spatial_dims,
)
from .convert_scan import ScanWarning, scan_functional
from .upsample import UPSAMPLE_METHODS, ConvTransposeBlur2d, Upsample2d
from .upsample_nd import PixelShuffle3d

__all__ = ["Change", "ConversionReport", "ScanWarning", "convert", "scan_functional"]

BLUR_POSITIONS = ("after", "before")

# our own anti-aliased layers: convert leaves them alone, silently
_OURS = (
    ConvBlurPool2d,
    ConvBlurPool1d,
    ConvBlurPool3d,
    ConvTransposeBlur2d,
    ConvTransposeBlur1d,
    ConvTransposeBlur3d,
    BlurConv1d,
    BlurConv2d,
    BlurConv3d,
    PixelShuffleBlur,
)

_FIXED = ("nearest", "bilinear", "bicubic", "blur")

# resamplers this converter knows it does not handle (reported as left): always ...
_ANTIALIASED_UP = ("blur", "transposed_blur", "aps")
"""Upsample2d methods convert leaves alone: already low-pass (or phase-exact, for APS)."""
_LEARNED_UP = ("transposed", "pixel_shuffle")
"""Upsample2d methods convert looks inside: their learned layers alias like torch's own."""

_OTHER_RESAMPLERS = (
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d,
    nn.AdaptiveMaxPool2d,
    nn.AdaptiveMaxPool3d,
    nn.PixelUnshuffle,
    nn.MaxUnpool1d,
    nn.MaxUnpool2d,
    nn.MaxUnpool3d,
    nn.FractionalMaxPool2d,
    nn.FractionalMaxPool3d,
)
# ... or when their stride is above 1
_OTHER_STRIDED = (nn.LPPool1d, nn.LPPool2d)


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
        kind: the original's type name.
        replacement: the replacement's type name (``""`` when left).
        keys: the original's ``state_dict`` keys (relative to the model) that the converted
            model still has under the same name (all of them when ``weights == "kept"``).
    """

    name: str
    before: str
    after: str | None
    weights: str
    reason: str = ""
    kind: str = ""
    replacement: str = ""
    keys: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """One row of the machine-readable report."""
        return {
            "module": self.name,
            "status": "left" if self.after is None else "changed",
            "original_type": self.kind,
            "replacement": self.replacement,
            "weights": self.weights,
            "state_dict_keys_kept": list(self.keys),
            "warnings": [self.reason] if self.reason else [],
            "before": self.before,
            "after": self.after,
        }


@dataclass
class ConversionReport:
    """What :func:`convert` changed and left (in model order), and what it could not see.

    ``str(report)`` is a table a user can read; :meth:`rows` / :meth:`to_json` the same as
    data. ``warnings`` are the functional resampling calls found in ``forward`` methods
    (:func:`scan_functional`), ``scan`` how they were found (``"fx"``, ``"ast: ..."``, or
    ``"off"``).
    """

    changed: list[Change] = field(default_factory=list)
    left: list[Change] = field(default_factory=list)
    warnings: list[ScanWarning] = field(default_factory=list)
    scan: str = "off"

    def rows(self) -> list[dict]:
        """Every module looked at, changed first, as plain dicts (see :meth:`Change.as_dict`)."""
        return [c.as_dict() for c in self.changed + self.left]

    def as_dict(self) -> dict:
        """The whole report: ``modules`` (rows), ``functional`` (warnings), ``scan``."""
        return {
            "changed": len(self.changed),
            "left": len(self.left),
            "modules": self.rows(),
            "functional": [w.as_dict() for w in self.warnings],
            "scan": self.scan,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`as_dict` as JSON text."""
        return json.dumps(self.as_dict(), indent=indent)

    def table(self) -> str:
        """The modules as an aligned text table (module, status, original, replacement,
        weights, keys kept, note)."""
        head = ("module", "status", "original", "replacement", "weights", "keys kept", "note")
        rows = [head]
        for c in self.changed + self.left:
            keys = str(len(c.keys)) if c.keys or c.after is not None else "-"
            status = "left" if c.after is None else "changed"
            rows.append(
                (c.name, status, c.kind, c.replacement or "-", c.weights, keys, c.reason or "")
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
        lines = []
        for r in rows:
            cells = [v.ljust(w) for v, w in zip(r[:-1], widths)]
            lines.append(("  ".join(cells) + "  " + r[-1]).rstrip())
        lines.insert(1, "  ".join("-" * w for w in widths) + "  ----")
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [f"changed {len(self.changed)} module(s), left {len(self.left)}"]
        if self.changed or self.left:
            lines.append(self.table())
        if self.warnings:
            lines.append(
                f"{len(self.warnings)} functional resampling call(s) convert() cannot "
                f"replace (found by {self.scan}):"
            )
            lines.extend(f"  warning {w}" for w in self.warnings)
        elif self.scan != "off":
            lines.append(f"no functional resampling calls found (scan: {self.scan})")
        return "\n".join(lines)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


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
    *,
    skip_first: int = 0,
    blur_position: str = "after",
    scan: bool = True,
) -> tuple[nn.Module, ConversionReport]:
    """Replace the model's down- and up-samplers with anti-aliased equivalents (1-D to 3-D).

    Args:
        model: any ``nn.Module``.
        down: ``"blurpool"`` (pools and strided convs, module docstring) or ``None``.
        up: ``"blur"`` (transposed convs keep their weights and gain a blur; ``nn.Upsample``
            becomes the blur up-sampler; a pixel shuffle, MONAI's ``SubpixelUpsample``
            included, gains a blur after it), another :data:`UPSAMPLE_METHODS` name (2-D
            transposed convs replaced by ``Upsample2d(method=up)``), or ``None``.
        taps: blur of the down-samplers and of the blur after transposed convs and pixel
            shuffles (binomial length or explicit taps, normalised to sum 1). ``taps=1``
            changes nothing numerically: the ablation / sanity check.
        up_taps: taps of the blur up-sampler replacing ``nn.Upsample`` (normalised to sum
            ``up``); ``None``: ``box(up)`` convolved 5 times (``[1, 5, 10, 10, 5, 1]`` at 2).
        pad_mode: padding of every blur (and of new convs).
        inplace: modify ``model`` itself; default converts a deep copy.
        skip_first: leave the first ``skip_first`` down-samplers (strided convs and pools, in
            module order) as they are: the stem, whose aliasing matters least and whose
            blur costs most (composer's ``apply_blurpool`` users ask for it).
        blur_position: ``"after"`` (default: strided conv -> conv at stride 1 + blur-pool,
            ``ConvBlurPool{n}d``) or ``"before"`` (same-size blur, then the strided conv as
            it was, ``BlurConv{n}d``: composer's ``blur_first``, ``s^d`` times cheaper).
        scan: look for functional resampling in ``forward`` methods (``F.max_pool2d``,
            ``F.interpolate``, strided ``F.conv3d``, ``x[..., ::2]`` ...) that convert
            cannot replace and list them in ``report.warnings`` (torch.fx, else the source).

    Returns:
        ``(converted model, report)``; the report lists every resampler changed (with whether
        its weights were kept) and every one left, with the reason, and the functional
        calls found (``str(report)`` a table, ``report.to_json()`` the data).

    Raises:
        ValueError: unknown ``down`` / ``up`` / ``pad_mode`` / ``blur_position``, bad
            ``skip_first``.
        TypeError: ``model`` is not an ``nn.Module``.

    Example:
        >>> import torch
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.MaxPool2d(2))
        >>> new, report = convert(net)
        >>> [c.weights for c in report.changed]
        ['kept', 'none']
        >>> new(torch.randn(1, 3, 16, 16)).shape == net(torch.randn(1, 3, 16, 16)).shape
        True
        >>> vol = nn.Sequential(nn.Conv3d(1, 4, 3, stride=2, padding=1), nn.MaxPool3d(2))
        >>> [c.replacement for c in convert(vol)[1].changed]
        ['ConvBlurPool3d', 'MaxBlurPool3d']
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
    check_int("skip_first", skip_first, 0)
    check_choice("blur_position", blur_position, BLUR_POSITIONS)
    if not isinstance(scan, bool):
        raise TypeError(f"expected scan to be True or False, got {scan!r}")
    walk = _Walk(model, down, up, taps, up_taps, pad_mode, skip_first, blur_position)
    if not inplace:
        walk.model = copy.deepcopy(model)
    walk.visit(walk.model, "")
    if scan:
        walk.report.warnings, walk.report.scan = scan_functional(
            walk.model, tuple(walk.handled_types)
        )
    return walk.model, walk.report


class _Walk:
    """One conversion: the options, the report, and the visit of the module tree."""

    def __init__(
        self,
        model: nn.Module,
        down: str | None,
        up: str | None,
        taps: object,
        up_taps: object,
        pad_mode: str,
        skip_first: int,
        blur_position: str,
    ) -> None:
        self.model = model
        self.down, self.up, self.taps, self.up_taps = down, up, taps, up_taps
        self.pad_mode, self.skip_first, self.blur_position = pad_mode, skip_first, blur_position
        self.original_keys = set(model.state_dict())
        self.model_dims = model_spatial_dims(model)
        self.skipped = 0
        self.handled_types: set[type] = set()
        self.report = ConversionReport()

    def down_result(self, child: nn.Module) -> nn.Module | str:
        """The down-sampler's replacement (or why not), counting ``skip_first``."""
        taps, pad_mode = self.taps, self.pad_mode
        if isinstance(child, nn.MaxPool2d):
            result = _convert_maxpool(child, taps, pad_mode)
        elif isinstance(child, nn.AvgPool2d):
            result = _convert_avgpool(child, taps, pad_mode)
        elif type(child) in MAXPOOLS:
            result = convert_maxpool_nd(child, MAXPOOLS[type(child)], taps, pad_mode)
        elif type(child) in AVGPOOLS:
            result = convert_avgpool_nd(child, AVGPOOLS[type(child)], taps, pad_mode)
        elif isinstance(child, nn.Conv2d) and self.blur_position == "after":
            result = _convert_conv(child, taps, pad_mode)
        else:
            dims = next(d for t, d in CONVS.items() if isinstance(child, t))
            result = convert_conv_nd(child, dims, taps, pad_mode, self.blur_position)
        if isinstance(result, nn.Module) and self.skipped < self.skip_first:
            self.skipped += 1
            return f"skip_first={self.skip_first}"
        return result

    def up_result(self, child: nn.Module) -> tuple[nn.Module | str, str]:
        up, taps, pad_mode = self.up, self.taps, self.pad_mode
        assert up is not None  # the caller handles up=None
        if isinstance(child, nn.ConvTranspose2d):
            return _convert_tconv(child, up, taps, self.up_taps, pad_mode)
        if type(child) in TCONVS:
            return convert_tconv_nd(child, TCONVS[type(child)], up, taps, pad_mode)
        if isinstance(child, nn.Upsample):
            dims = guess_spatial_dims(child, self.model_dims)
            if dims == 2:
                return _convert_upsample(child, up, self.up_taps, pad_mode), "none"
            new = convert_upsample_nd(child, dims, up, self.up_taps, pad_mode, _default_up_taps)
            return new, "none"
        # pixel shuffles (torch's 2-D, ours 3-D): a sub-pixel conv's checkerboard, blurred
        if up != "blur":
            return f"up={up!r}: a pixel shuffle takes up='blur' (a blur after it)", ""
        return PixelShuffleBlur(child, taps, pad_mode), "none"

    def result_of(self, child: nn.Module) -> tuple[bool, nn.Module | str, str]:
        """``(handled, replacement or reason, weights)`` for one module."""
        is_down = isinstance(child, (nn.MaxPool2d, nn.AvgPool2d, *MAXPOOLS, *AVGPOOLS))
        is_conv = isinstance(child, tuple(CONVS))
        shuffle = isinstance(child, (nn.PixelShuffle, PixelShuffle3d))
        is_up = shuffle or isinstance(child, (nn.ConvTranspose2d, *TCONVS, nn.Upsample))
        if is_down or is_conv:
            weights = "kept" if is_conv else "none"
            if self.down:
                return True, self.down_result(child), weights
            return True, "" if _is_stride_one(child) else "down=None", weights
        if is_up:
            if self.up is None:
                return True, "" if not shuffle and _is_stride_one(child) else "up=None", "none"
            result, weights = self.up_result(child)
            return True, result, weights
        if isinstance(child, _OTHER_RESAMPLERS) or (
            isinstance(child, _OTHER_STRIDED) and not _is_stride_one(child)
        ):
            return True, f"{type(child).__name__} is not handled by convert", "none"
        return False, "", "none"

    def visit(self, parent: nn.Module, prefix: str) -> None:
        report = self.report
        for name, child in list(parent.named_children()):
            full = f"{prefix}{name}"
            # our own anti-aliased layers: leave them, silently
            if isinstance(child, _OURS) or (
                isinstance(child, Upsample2d) and child.method in _ANTIALIASED_UP
            ):
                continue
            # our fixed interpolations are not torch resamplers convert could swap: say so
            if isinstance(child, Upsample2d) and child.method not in _LEARNED_UP:
                reason = f"Upsample2d(method={child.method!r}) is a fixed interpolation"
                report.left.append(_left(full, child, reason, self.original_keys))
                continue
            if _is_monai_subpixel(child):
                self.subpixel(child, full)
                continue
            # a learned Upsample2d (transposed, pixel_shuffle) is converted inside: its
            # ConvTranspose2d gains a blur like any other, state-dict keys unchanged
            handled, result, weights = self.result_of(child)
            if not handled:
                self.visit(child, f"{full}.")
            elif isinstance(result, nn.Module):
                setattr(parent, name, result)
                report.changed.append(_changed(full, child, result, weights))
            elif result:
                report.left.append(_left(full, child, result, self.original_keys))

    def subpixel(self, child: nn.Module, full: str) -> None:
        """MONAI's SubpixelUpsample calls a functional shuffle: blur after its pad_pool."""
        up = self.up
        if up != "blur":
            reason = "up=None" if up is None else f"up={up!r}: a pixel shuffle takes up='blur'"
            self.report.left.append(_left(full, child, reason, self.original_keys))
            return
        before = _short(child)
        old = child.pad_pool
        child.pad_pool = PixelShuffleBlur(
            None if isinstance(old, nn.Identity) else old, self.taps, self.pad_mode
        )
        self.handled_types.add(type(child))
        keys = tuple(k for k in _keys_of(child, full) if k in self.original_keys)
        after = f"{type(child).__name__} + blur after the shuffle ({_short(child.pad_pool)})"
        replacement = f"{type(child).__name__}+PixelShuffleBlur"
        self.report.changed.append(
            Change(full, before, after, "kept", "", type(child).__name__, replacement, keys)
        )


def _is_monai_subpixel(m: nn.Module) -> bool:
    cls = type(m)
    return (
        cls.__name__ == "SubpixelUpsample"
        and cls.__module__.startswith("monai.")
        and hasattr(m, "pad_pool")
    )


def _keys_of(m: nn.Module, prefix: str) -> list[str]:
    return [f"{prefix}.{k}" for k in m.state_dict()]


def _changed(full: str, old: nn.Module, new: nn.Module, weights: str) -> Change:
    old_keys = _keys_of(old, full)
    new_keys = set(_keys_of(new, full))
    keys = tuple(k for k in old_keys if k in new_keys)
    return Change(
        full, _short(old), _short(new), weights, "", type(old).__name__, type(new).__name__, keys
    )


def _left(full: str, m: nn.Module, reason: str, original_keys: set[str]) -> Change:
    keys = tuple(k for k in _keys_of(m, full) if k in original_keys)
    return Change(full, _short(m), None, "-", reason, type(m).__name__, "", keys)


def _is_stride_one(m: nn.Module) -> bool:
    stride = getattr(m, "stride", 1)
    stride = stride if isinstance(stride, tuple) else (stride,)
    return all(v in (1, None) for v in stride)


def _short(m: nn.Module) -> str:
    text = repr(m).replace("\n", " ")
    return " ".join(text.split())
