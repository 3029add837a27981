"""Walk through one transposed convolution with small integers, every number computed.

Run (the installed command, or the clone's script)::

    antialias explain-transposed --size 4 --kernel 3 --stride 2 --padding 1 \\
        [--output-padding 1] [--channels 1] [--dilation 1] [--seed 0]
    python analysis/explain_transposed_conv.py ...

It prints (at most 100 columns): the output-size formula evaluated; the zero-stuffed and padded
input; the flipped kernel; every output value as a sum of products, checked against
``nn.ConvTranspose2d``; the same output through the matrix and the polyphase views; nearest and
bilinear up-sampling as fixed transposed-conv kernels; and a resize-conv (nearest, then conv)
as one transposed conv whose kernel is zero at the images of DC, hence no checkerboard on flat
input, next to the transposed conv's own phase gains.

Importable: :func:`run` computes an :class:`ExplainResult` (no printing, no files),
:func:`format_report` renders it, :func:`main` is the command line.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from antialias import _cli
from antialias import transposed as T
from antialias.tools import parse_args

PROG = "antialias explain-transposed"
WIDTH = 100
MAX_OUTPUT = 16
LIMITS = {
    "size": (1, 8),
    "kernel": (1, 7),
    "stride": (1, 4),
    "padding": (0, 8),
    "output_padding": (0, 3),
    "channels": (1, 3),
    "dilation": (1, 3),
}


@dataclass(frozen=True)
class ExplainConfig:
    """What to explain: one square transposed conv on a ``size x size`` integer input."""

    size: int = 4
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    output_padding: int = 0
    channels: int = 1
    dilation: int = 1
    seed: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` ("expected ..., got ...") for out-of-range settings."""
        for name, (lo, hi) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected --{name.replace('_', '-')} an integer, got {value!r}")
            if not lo <= value <= hi:
                raise ValueError(
                    f"expected --{name.replace('_', '-')} in [{lo}, {hi}] (small enough to "
                    f"print), got {value}"
                )
        # the library's own checks (output_padding < max(stride, dilation), output >= 1)
        out = T.conv_transpose_output_size(
            self.size, self.kernel, self.stride, self.padding, self.output_padding, self.dilation
        )
        if out > MAX_OUTPUT:
            raise ValueError(
                f"expected an output of at most {MAX_OUTPUT}x{MAX_OUTPUT} (to fit 100 columns), "
                f"got {out}x{out}; use a smaller --size, --kernel, --stride or --dilation"
            )


@dataclass(frozen=True)
class Term:
    """One product ``x[c_in, i, j] * w[c_in, c_out, a, b]`` contributing to an output."""

    x_index: tuple[int, int, int]
    w_index: tuple[int, int, int, int]
    x_value: float
    w_value: float


@dataclass
class ExplainResult:
    """Everything the walkthrough shows; tensors are float64 holding small integers."""

    config: ExplainConfig
    x: Tensor  # (1, C, size, size)
    weight: Tensor  # (C, C, k, k), transposed-conv layout
    size_out: int
    zero_insertion: T.ZeroInsertionView
    terms: dict[tuple[int, int, int], list[Term]]  # output (c_out, r, c) -> products
    module_out: Tensor  # nn.ConvTranspose2d output
    matrix: T.MatrixView
    polyphase: T.PolyphaseView
    errors: dict[str, float]  # view name -> max abs error vs nn.ConvTranspose2d
    exactly_double: tuple[int, int] | str  # (padding, output_padding) or why impossible
    fixed: dict[str, object] = field(default_factory=dict)  # nearest / bilinear / resize-conv


def _integers(shape: tuple[int, ...], low: int, high: int, gen: torch.Generator) -> Tensor:
    """Small random integers as float64 (exact in every product and sum)."""
    return torch.randint(low, high + 1, shape, generator=gen).to(torch.float64)


def _terms(view: T.ZeroInsertionView, x: Tensor, weight: Tensor, cfg: ExplainConfig) -> dict:
    """Decompose every output value into products of real input samples and weights."""
    k, s, d, p = cfg.kernel, cfg.stride, cfg.dilation, cfg.padding
    c, size_out = x.shape[1], view.result.shape[-1]
    terms: dict[tuple[int, int, int], list[Term]] = {}
    for co in range(c):
        for r in range(size_out):
            for q in range(size_out):
                found = []
                # scatter form: input (i, j) through tap (a, b) lands on (s i + d a - p, ...)
                for ci in range(c):
                    for i in range(cfg.size):
                        for a in range(k):
                            if s * i + d * a - p != r:
                                continue
                            for j in range(cfg.size):
                                for b in range(k):
                                    if s * j + d * b - p != q:
                                        continue
                                    found.append(
                                        Term(
                                            (ci, i, j),
                                            (ci, co, a, b),
                                            float(x[0, ci, i, j]),
                                            float(weight[ci, co, a, b]),
                                        )
                                    )
                terms[(co, r, q)] = found
    return terms


def _fixed_kernels(cfg: ExplainConfig, gen: torch.Generator, weight: Tensor) -> dict:
    """Nearest / bilinear as transposed convs, and the resize-conv's effective kernel."""
    up, c = cfg.stride, cfg.channels
    x = _integers((1, c, cfg.size, cfg.size), 1, 9, gen)
    near_w = T.nearest_weight(up, c)
    near = F.conv_transpose2d(x, near_w, stride=up)
    near_ref = F.interpolate(x, scale_factor=up, mode="nearest")
    kb = T.bilinear_kernel_size(up)
    bil_w = T.init_bilinear_(torch.empty(c, c, kb, kb, dtype=torch.float64))
    pb = (kb - up) // 2
    bil = F.conv_transpose2d(x, bil_w, stride=up, padding=pb)
    bil_ref = F.interpolate(x, scale_factor=up, mode="bilinear", align_corners=False)
    edge = up // 2
    inner = (..., slice(edge, bil.shape[-2] - edge), slice(edge, bil.shape[-1] - edge))
    # resize-conv: nearest, then a conv with a small integer kernel ("same" padding)
    conv_w = _integers((c, c, cfg.kernel, cfg.kernel), 1, 3, gen)
    conv_p = (cfg.kernel - 1) // 2
    resize_w, resize_p = T.compose_with_conv(near_w, 0, conv_w, conv_p)
    resize = F.conv2d(near_ref, conv_w, padding=conv_p)
    resize_t = F.conv_transpose2d(x, resize_w, stride=up, padding=resize_p)
    # a flat input large enough that a 6x6 output window gets every tap of its phase
    span = max(cfg.dilation * (cfg.kernel - 1), resize_w.shape[-1] - 1)
    span = -(-span // up) * up  # start the window on phase (0, 0)
    flat = torch.ones(1, c, -(-(6 + span) // up) + 1, -(-(6 + span) // up) + 1).double()
    tconv_flat = F.conv_transpose2d(flat, weight, stride=up, dilation=cfg.dilation)
    resize_flat = F.conv_transpose2d(flat, resize_w, stride=up)
    window = (..., slice(span, span + 6), slice(span, span + 6))
    return {
        "x": x,
        "nearest_weight": near_w,
        "nearest_error": float((near - near_ref).abs().max()),
        "bilinear_weight": bil_w,
        "bilinear_padding": pb,
        "bilinear_edge": edge,
        "bilinear_interior_error": float((bil[inner] - bil_ref[inner]).abs().max()),
        "bilinear_border_error": float((bil - bil_ref).abs().max()),
        "conv_weight": conv_w,
        "conv_padding": conv_p,
        "resize_weight": resize_w,
        "resize_padding": resize_p,
        "resize_error": float((resize - resize_t).abs().max()),
        "tconv_gains": T.phase_gains(weight, up, cfg.dilation),
        "resize_gains": T.phase_gains(resize_w, up),
        "tconv_dc": T.dc_image_response(weight, up, cfg.dilation),
        "resize_dc": T.dc_image_response(resize_w, up),
        "tconv_flat": tconv_flat[window][0, 0],
        "resize_flat": resize_flat[window][0, 0],
        "flat_size": flat.shape[-1],
        "flat_offset": span,
    }


def run(config: ExplainConfig) -> ExplainResult:
    """Compute the whole walkthrough for ``config`` (no printing, no files).

    Raises:
        ValueError: settings out of range or impossible for a transposed conv.
    """
    config.validate()
    cfg = config
    gen = torch.Generator().manual_seed(cfg.seed)
    c, k = cfg.channels, cfg.kernel
    x = _integers((1, c, cfg.size, cfg.size), 1, 9, gen)
    weight = _integers((c, c, k, k), 1, 4, gen)
    kwargs = dict(
        stride=cfg.stride,
        padding=cfg.padding,
        output_padding=cfg.output_padding,
        dilation=cfg.dilation,
    )
    module = nn.ConvTranspose2d(c, c, k, bias=False, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        module.weight.copy_(weight)
        module_out = module(x)
    zi = T.conv_transpose_as_zero_insertion(x, weight, **kwargs)
    mat = T.conv_transpose_as_matrix(x, weight, **kwargs)
    poly = T.conv_transpose_as_polyphase(x, weight, **kwargs)
    terms = _terms(zi, x, weight, cfg)
    from_terms = torch.zeros_like(module_out)
    for (co, r, q), ts in terms.items():
        from_terms[0, co, r, q] = sum(t.x_value * t.w_value for t in ts)
    errors = {
        name: float((out - module_out).abs().max())
        for name, out in (
            ("sums of products", from_terms),
            ("zero insertion", zi.result),
            ("matrix", mat.result),
            ("polyphase", poly.result),
        )
    }
    try:
        double: tuple[int, int] | str = T.transpose_padding_for(
            cfg.size, 2 * cfg.size, k, cfg.stride, cfg.dilation
        )
    except ValueError as err:
        double = str(err)
    fixed = _fixed_kernels(cfg, gen, weight) if cfg.stride > 1 else {}
    return ExplainResult(
        cfg,
        x,
        weight,
        module_out.shape[-1],
        zi,
        terms,
        module_out,
        mat,
        poly,
        errors,
        double,
        fixed,
    )


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------


def _num(v: float) -> str:
    """An integer as an integer, anything else with 4 significant digits."""
    return str(int(v)) if float(v).is_integer() else f"{v:.4g}"


def grid(t: Tensor, indent: str = "  ") -> list[str]:
    """Lines showing a 2-D tensor as a right-aligned grid of numbers."""
    cells = [[_num(float(v)) for v in row] for row in t.tolist()]
    width = max((len(s) for row in cells for s in row), default=1)
    return [indent + " ".join(s.rjust(width) for s in row) for row in cells]


def side_by_side(blocks: Sequence[tuple[str, list[str]]], gap: int = 4) -> list[str]:
    """Place titled blocks of lines next to each other (falls back to stacking if too wide)."""
    widths = [max([len(title)] + [len(s) for s in lines]) for title, lines in blocks]
    if sum(widths) + gap * (len(blocks) - 1) > WIDTH:
        out: list[str] = []
        for title, lines in blocks:
            out += [title, *lines]
        return out
    height = max(len(lines) for _, lines in blocks)
    rows = []
    for r in range(height + 1):
        parts = []
        for (title, lines), w in zip(blocks, widths):
            text = title if r == 0 else (lines[r - 1] if r - 1 < len(lines) else "")
            parts.append(text.ljust(w))
        rows.append((" " * gap).join(parts).rstrip())
    return rows


def wrap(line: str, indent: int) -> list[str]:
    """Wrap a long ``a + b + c`` line at WIDTH, continuing under ``indent`` spaces."""
    if len(line) <= WIDTH:
        return [line]
    out, current = [], ""
    for piece in line.split(" + "):
        candidate = piece if not current else current + " + " + piece
        if len(candidate) + 2 > WIDTH and current:  # room for the trailing " +"
            out.append(current + " +")
            current = " " * indent + piece
        else:
            current = candidate
    out.append(current)
    return out


def _idx(t: tuple[int, ...], channels: int, drop: int) -> str:
    # with one channel the channel indices are noise
    """An index tuple as text, without channel indices for one channel."""
    return ",".join(str(v) for v in (t[drop:] if channels == 1 else t))


def term_line(result: ExplainResult, key: tuple[int, int, int]) -> list[str]:
    """``y[r,c] = x[i,j]*w[a,b] + ... = 3*2 + ... = value`` for one output, wrapped."""
    c = result.config.channels
    co, r, q = key
    ts = result.terms[key]
    name = f"y[{_idx(key, c, 1)}]"
    value = _num(float(result.module_out[0, co, r, q]))
    if not ts:
        return [f"{name} = 0 (no input sample reaches it: only zeros in its window)"]
    symbolic = " + ".join(f"x[{_idx(t.x_index, c, 1)}]w[{_idx(t.w_index, c, 2)}]" for t in ts)
    numeric = " + ".join(f"{_num(t.x_value)}*{_num(t.w_value)}" for t in ts)
    return wrap(f"{name} = {symbolic} = {numeric} = {value}", len(name) + 3)


def _section(title: str) -> list[str]:
    """A numbered section heading with its underline."""
    return ["", title, "-" * min(len(title), WIDTH)]


def prose(text: str, indent: str = "") -> list[str]:
    """Wrap running text at WIDTH."""
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _matrix_pattern(result: ExplainResult) -> list[str]:
    """Each nonzero of M drawn as the letter of the weight tap it holds (a = w[0,0], ...)."""
    cfg = result.config
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    # the same matrix built from tap numbers 1..k^2 instead of weights: says which tap sits where
    k, c = cfg.kernel, cfg.channels
    taps = torch.arange(1.0, k * k + 1, dtype=torch.float64).reshape(1, 1, k, k)
    index = T.conv_matrix(
        taps.expand(c, c, k, k),
        (result.size_out, result.size_out),
        (cfg.size, cfg.size),
        cfg.stride,
        cfg.padding,
        cfg.dilation,
    )
    lines = []
    cols = min(index.shape[1], WIDTH - 8)
    for r in range(index.shape[0]):
        row = "".join("." if v == 0 else letters[int(v) - 1] for v in index[r, :cols].tolist())
        lines.append(f"  {r:3d}  {row}")
    if cols < index.shape[1]:
        lines.append(f"  (first {cols} of {index.shape[1]} columns shown)")
    return lines


def format_report(result: ExplainResult) -> str:
    """Render :func:`run`'s result as text no wider than 100 columns (one renderer a section)."""
    out = _header(result) + _output_size(result) + _zero_insertion(result)
    out += _sums_of_products(result) + _matrix_view(result) + _polyphase_view(result)
    if not result.fixed:
        out += _section("6. Fixed up-samplers: stride 1 up-samples nothing; skipped")
        return "\n".join(out)
    return "\n".join(out + _fixed_upsamplers(result) + _resize_conv(result))


def _header(result: ExplainResult) -> list[str]:
    """The first lines: the layer's settings and the weight's shape."""
    cfg = result.config
    n, k, s, c = cfg.size, cfg.kernel, cfg.stride, cfg.channels
    return [
        f"Transposed convolution: input (C, H, W) = ({c}, {n}, {n}), kernel {k}x{k}, stride {s},",
        f"padding {cfg.padding}, output_padding {cfg.output_padding}, dilation {cfg.dilation}; "
        f"weight (C_in, C_out, k, k) = {tuple(result.weight.shape)}; seed {cfg.seed}",
    ]


def _output_size(result: ExplainResult) -> list[str]:
    """Section 1: the output-size formula evaluated, and how to exactly double."""
    cfg = result.config
    n, k, s, p, op, d = (
        cfg.size,
        cfg.kernel,
        cfg.stride,
        cfg.padding,
        cfg.output_padding,
        cfg.dilation,
    )
    out = _section("1. Output size")
    out += [
        "H_out = (H - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1",
        f"      = ({n} - 1)*{s} - 2*{p} + {d}*({k} - 1) + {op} + 1 = {result.size_out}",
    ]
    if isinstance(result.exactly_double, tuple):
        pd, opd = result.exactly_double
        out.append(f"exactly double ({n} -> {2 * n}): padding={pd}, output_padding={opd}")
    else:
        out += prose(f"exactly double ({n} -> {2 * n}) is impossible: {result.exactly_double}")
    return out


def _zero_insertion(result: ExplainResult) -> list[str]:
    """Section 2: input, zero-stuffed and padded input, kernel and its flip."""
    s, c = result.config.stride, result.config.channels
    zi = result.zero_insertion
    out = _section("2. Zero insertion: an ordinary stride-1 conv over a zero-stuffed input")
    top, bottom, left, right = zi.pad
    out.append(
        f"insert stride-1 = {s - 1} zeros between samples; pad dilation*(kernel-1) - padding = "
        f"{top} before, {bottom} after"
    )
    out.append("(negative padding crops); then slide the kernel flipped in both axes.")
    for ci in range(c):
        tag = f" (channel {ci})" if c > 1 else ""
        out += side_by_side(
            [
                (f"input x{tag}", grid(result.x[0, ci])),
                ("zero-stuffed", grid(zi.stuffed[0, ci])),
                ("padded", grid(zi.padded[0, ci])),
            ]
        )
    for co in range(c):
        for ci in range(c):
            tag = f" w[{ci},{co}]" if c > 1 else ""
            out += side_by_side(
                [
                    (f"kernel{tag}", grid(result.weight[ci, co])),
                    ("flipped (as the conv uses it)", grid(zi.kernel[co, ci])),
                ]
            )
    return out


def _sums_of_products(result: ExplainResult) -> list[str]:
    """Section 3: every output as a sum of products, against nn.ConvTranspose2d."""
    s, p, d, c = (
        result.config.stride,
        result.config.padding,
        result.config.dilation,
        result.config.channels,
    )
    out = _section("3. Every output value as a sum of products (scatter: y[s*i + d*a - p] += ...)")
    out.append("Each input sample x[i,j] stamps a copy of the kernel scaled by x[i,j] at")
    out.append(f"output ({s}i + {d}a - {p}, {s}j + {d}b - {p}); overlapping stamps add up.")
    for key in result.terms:
        out += term_line(result, key)
    for co in range(c):
        out += side_by_side(
            [(f"output y{f' channel {co}' if c > 1 else ''}", grid(result.module_out[0, co]))]
        )
    errs = result.errors
    out.append(
        f"max |sums of products - nn.ConvTranspose2d| = {errs['sums of products']:.1e}; "
        f"zero insertion: {errs['zero insertion']:.1e}"
    )
    return out


def _matrix_view(result: ExplainResult) -> list[str]:
    """Section 4: the conv's matrix M drawn by taps, and M^T x checked."""
    n, s, c = result.config.size, result.config.stride, result.config.channels
    m = result.matrix.matrix
    out = _section("4. Matrix view: the transposed conv is the transpose of a conv's matrix")
    out += prose(
        f"The stride-{s} conv with the same weight maps a {c}x{result.size_out}x{result.size_out}"
        f" image ({m.shape[1]} numbers) to {c}x{n}x{n} ({m.shape[0]} numbers): z -> M z, M is "
        f"{m.shape[0]}x{m.shape[1]}. The transposed conv is x -> M^T x: input pixel i stamps "
        "row i of M into the output. M^T is also the gradient of the conv with respect to its "
        "input, which is how torch computes conv backprop (tested against autograd)."
    )
    out.append("M, one row per conv output, letters = weight taps (a = w[0,0], b = w[0,1], ...):")
    out += _matrix_pattern(result)
    out.append(f"max |M^T x - nn.ConvTranspose2d| = {result.errors['matrix']:.1e}")
    return out


def _polyphase_view(result: ExplainResult) -> list[str]:
    """Section 5: the stride^2 phase kernels and their outputs, checked."""
    s, p, c = result.config.stride, result.config.padding, result.config.channels
    poly = result.polyphase
    out = _section(f"5. Polyphase view: {s}x{s} = {s * s} ordinary convs, then pixel shuffle")
    out.append(
        f"Output pixel (r, q) belongs to phase ((r+{p}) mod {s}, (q+{p}) mod {s}); each phase is "
        "an ordinary"
    )
    out.append("conv of the small input with the taps of that phase: no zero is ever multiplied.")
    for co in range(c):
        for ci in range(c):
            blocks = []
            for a in range(s):
                for b in range(s):
                    blocks.append((f"phase ({a},{b})", grid(poly.kernels[a, b, co, ci])))
            tag = f" (in {ci} -> out {co})" if c > 1 else ""
            out.append(f"phase kernels, conv form{tag}:")
            out += side_by_side(blocks)
    out.append("phase outputs (before interleaving), output channel 0:")
    out += side_by_side(
        [(f"phase ({a},{b})", grid(poly.phases[0, 0, a, b])) for a in range(s) for b in range(s)]
    )
    n_phase, size_out = int(poly.phases.shape[-1]), result.size_out
    out += prose(
        f"Phase row r is output row {s}r + a - {p}; rows outside 0..{size_out - 1} are cropped "
        "(padding removes them at the top, the output size at the bottom; columns likewise "
        "with b):"
    )
    for a in range(s):
        cut = cropped_phase_rows(a, s, p, n_phase, size_out)
        kept = [r for r in range(n_phase) if r not in cut]
        out.append(f"  phase row offset a={a}: rows {_rows(cut)} cropped, rows {_rows(kept)} kept")
    out.append(f"max |polyphase - nn.ConvTranspose2d| = {result.errors['polyphase']:.1e}")
    return out


def cropped_phase_rows(a: int, stride: int, padding: int, n_rows: int, size_out: int) -> list[int]:
    """Rows ``r`` of phase ``a`` whose output row ``stride r + a - padding`` is not kept.

    Example:
        >>> cropped_phase_rows(0, 2, 1, 5, 8)  # row 0 would be output row -1
        [0]
        >>> cropped_phase_rows(1, 2, 1, 5, 8)  # row 4 would be output row 8
        [4]
    """
    return [r for r in range(n_rows) if not 0 <= stride * r + a - padding < size_out]


def _rows(rows: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``; ``"none"`` when empty."""
    runs: list[list[int]] = []
    for r in rows:
        if runs and r == runs[-1][-1] + 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return ", ".join(f"{u[0]}-{u[-1]}" if len(u) > 1 else f"{u[0]}" for u in runs) or "none"


def _fixed_upsamplers(result: ExplainResult) -> list[str]:
    """Section 6: nearest and bilinear as fixed transposed-conv kernels."""
    s, fx = result.config.stride, result.fixed
    out = _section(f"6. Fixed up-samplers are transposed convs with fixed kernels (x{s})")
    kb = fx["bilinear_weight"].shape[-1]
    scale = (2 * s) ** 2 if s % 2 == 0 else s * s
    out += side_by_side(
        [
            (f"nearest: {s}x{s} ones, pad 0", grid(fx["nearest_weight"][0, 0])),
            (
                f"bilinear: {kb}x{kb}, pad {fx['bilinear_padding']}, taps = these /{scale}",
                grid(fx["bilinear_weight"][0, 0] * scale),
            ),
        ]
    )
    out.append(f"nearest == F.interpolate(nearest) everywhere: max err {fx['nearest_error']:.1e}")
    out += prose(
        f"bilinear == F.interpolate(bilinear, align_corners=False) away from the outer "
        f"{fx['bilinear_edge']} pixel(s): max err {fx['bilinear_interior_error']:.1e} "
        f"(at the border interpolate repeats the edge while the transposed conv sees zeros: "
        f"max err there {fx['bilinear_border_error']:.3g})"
    )
    return out


def _resize_conv(result: ExplainResult) -> list[str]:
    """Section 7: resize-conv as a transposed conv with zeros at the DC images."""
    k, s, fx = result.config.kernel, result.config.stride, result.fixed
    out = _section(
        "7. Resize-conv (nearest, then conv) is a transposed conv with zeros at DC images"
    )
    kr = fx["resize_weight"].shape[-1]
    out += side_by_side(
        [
            (f"conv kernel K ({k}x{k}, pad {fx['conv_padding']})", grid(fx["conv_weight"][0, 0])),
            (
                f"effective transposed kernel {kr}x{kr} = box * flip(K), pad "
                f"{fx['resize_padding']}",
                grid(fx["resize_weight"][0, 0]),
            ),
        ]
    )
    out.append(
        f"conv(nearest(x)) == conv_transpose2d(x, box * flip(K)): max err {fx['resize_error']:.1e}"
    )
    out.append(
        "On a flat input, output phase (a, b) gets the sum of the taps of that phase (phase gain)."
    )
    out.append(
        "Unequal phase gains = a pattern of period stride on flat regions: the checkerboard."
    )
    out.append("phase gains (channel 0 -> 0):")
    out += side_by_side(
        [
            ("transposed conv (section 2)", grid(fx["tconv_gains"][..., 0, 0])),
            ("resize-conv", grid(fx["resize_gains"][..., 0, 0])),
        ]
    )
    out.append("|H| at DC (0,0) and at the DC images (a/s, b/s) cycles/pixel (channel 0 -> 0):")
    out += side_by_side(
        [
            ("transposed conv", grid(fx["tconv_dc"][..., 0, 0].abs().round(decimals=6))),
            ("resize-conv", grid(fx["resize_dc"][..., 0, 0].abs().round(decimals=6))),
        ]
    )
    out += prose(
        f"Why: nearest stamps a {s}x{s} box, whose response is zero at every DC image; "
        "convolving with any K multiplies responses, so the zeros survive. A free transposed "
        "kernel has no such zeros unless training puts them there."
    )
    n_flat, lo = fx["flat_size"], fx["flat_offset"]
    out.append(
        f"Flat input (all ones, {n_flat}x{n_flat}), output channel 0, 6x6 window at ({lo}, {lo}):"
    )
    out += side_by_side(
        [
            ("transposed conv", grid(fx["tconv_flat"])),
            ("resize-conv", grid(fx["resize_flat"])),
        ]
    )
    return out


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The command's arguments."""
    ap = _cli.ArgumentParser(
        prog=prog,
        description="Walk through one transposed convolution with small integer tensors.",
    )
    ap.add_argument("--size", type=int, default=4, help="input height = width (1-8)")
    ap.add_argument("--kernel", type=int, default=3, help="kernel size (1-7)")
    ap.add_argument("--stride", type=int, default=2, help="stride = up-sampling factor (1-4)")
    ap.add_argument("--padding", type=int, default=1, help="padding (0-8)")
    ap.add_argument("--output-padding", type=int, default=0, help="output padding (0-3)")
    ap.add_argument("--channels", type=int, default=1, help="C_in = C_out (1-3)")
    ap.add_argument("--dilation", type=int, default=1, help="kernel dilation (1-3)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the integer tensors")
    return ap


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Command line entry point; returns the exit status (2 for bad arguments, one line)."""
    args = parse_args(build_parser(prog), argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        config = ExplainConfig(
            size=args.size,
            kernel=args.kernel,
            stride=args.stride,
            padding=args.padding,
            output_padding=args.output_padding,
            channels=args.channels,
            dilation=args.dilation,
            seed=args.seed,
        )
        print(format_report(run(config)))
        return 0

    return _cli.run(prog, body, user_errors=(ValueError, TypeError))


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
