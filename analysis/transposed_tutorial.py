"""Generate docs/transposed_convolution.md: a tutorial whose every number and figure is computed.

Run::

    python analysis/transposed_tutorial.py          # or: python -m analysis.transposed_tutorial

Steps: :func:`run` computes everything (no I/O, no printing); :func:`save` writes
``results/transposed_tutorial/tutorial.json`` (scalars, tables, provenance) and
``tutorial.npz`` (arrays); the figure scripts ``figures/fig_transposed_*.py`` draw only from
those two files; :func:`render_markdown` writes the page from the same result. Nothing in the
page is typed by hand except prose.

What is computed (all float64, single thread, fixed seeds):

- shape arithmetic for the common U-Net settings, and an impossible request;
- the integer walkthrough of ``analysis/explain_transposed_conv.py`` (4x4 input, kernel 3,
  stride 2, padding 1, output padding 1);
- the three views (zero insertion, matrix, polyphase) against ``F.conv_transpose2d`` over a
  sweep, and the matrix's transpose against autograd;
- overlap counts (kernel 3 vs 4 at stride 2), phase gains, responses at the DC images;
- the checkerboard of each up-sampler at initialisation (default, bilinear, ICNR, resize-conv)
  on a flat input, over several seeds;
- how many kernels each family can express (ranks), and a least-squares fit of every family
  to real image detail (``skimage.data.camera``, 2x average-pooled, then up-sampled back).
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python analysis/transposed_tutorial.py`
    sys.path.insert(0, str(ROOT))

from analysis import explain_transposed_conv as E  # noqa: E402
from antialias import transposed as T  # noqa: E402

RESULTS = ROOT / "results" / "transposed_tutorial"
DOC = ROOT / "docs" / "transposed_convolution.md"
FIGURE_SCRIPTS = (
    "fig_transposed_walkthrough",
    "fig_transposed_views",
    "fig_transposed_overlap",
    "fig_transposed_spectrum",
)


@dataclass(frozen=True)
class TutorialConfig:
    """Settings of every computation in the tutorial."""

    seed: int = 0
    channels: int = 16  # channels of the layers whose initial checkerboard is measured
    trials: int = 10  # random initialisations per layer
    crop: int = 256  # camera crop (high resolution) for the least-squares fits
    border: int = 8  # output pixels ignored at each border in the fits


# ---------------------------------------------------------------------------------------------
# pieces
# ---------------------------------------------------------------------------------------------


def _shapes() -> dict:
    rows = []
    for n, k in itertools.product((16, 17), (2, 3, 4, 5)):
        try:
            p, op = T.transpose_padding_for(n, 2 * n, k, 2)
            out = T.conv_transpose_output_size(n, k, 2, p, op)
            rows.append({"size": n, "kernel": k, "padding": p, "output_padding": op, "out": out})
        except ValueError as err:  # pragma: no cover - every row above is reachable
            rows.append({"size": n, "kernel": k, "error": str(err)})
    try:
        T.transpose_padding_for(16, 40, 3, 2)
        impossible = "(solved)"
    except ValueError as err:
        impossible = str(err)
    # an odd encoder size: max-pool 2 maps 17 -> 8, a plain 2x up-sampler maps 8 -> 16
    pooled = T.conv_output_size(17, 2, 2)
    back = T.conv_transpose_output_size(pooled, 2, 2)
    back_op = T.transpose_padding_for(pooled, 17, 2, 2)
    return {
        "double": rows,
        "impossible_request": {"size_in": 16, "size_out": 40, "kernel": 3, "stride": 2},
        "impossible_message": impossible,
        "odd": {"size": 17, "pooled": pooled, "back": back, "fix": list(back_op)},
    }


#: the sweep of section 3: heights (widths are one more), kernels, strides, paddings,
#: dilations, (C_in, C_out, groups); every valid output padding is added
SWEEP = {
    "heights": (2, 3),
    "kernels": (1, 2, 3, 4, 5),
    "strides": (1, 2, 3),
    "paddings": (0, 1, 2),
    "dilations": (1, 2),
    "channels": ((1, 1, 1), (4, 2, 2)),
}


def _sweep(seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    errors = {"zero insertion": 0.0, "matrix": 0.0, "polyphase": 0.0}
    count = 0
    for n, k, s, p, d, (ci, co, g) in itertools.product(*SWEEP.values()):
        for op in range(max(s, d)):
            try:
                T.conv_transpose_output_size(n, k, s, p, op, d)
            except ValueError:
                continue
            x = torch.randn(2, ci, n, n + 1, generator=gen, dtype=torch.float64)
            w = torch.randn(ci, co // g, k, k, generator=gen, dtype=torch.float64)
            kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
            ref = F.conv_transpose2d(x, w, **kw)
            for name, fn in (
                ("zero insertion", T.conv_transpose_as_zero_insertion),
                ("matrix", T.conv_transpose_as_matrix),
                ("polyphase", T.conv_transpose_as_polyphase),
            ):
                err = float((fn(x, w, **kw).result - ref).abs().max())
                errors[name] = max(errors[name], err)
            count += 1
    # the matrix's transpose is the conv's gradient: autograd against M^T x
    x = torch.randn(1, 2, 4, 4, generator=gen, dtype=torch.float64)
    w = torch.randn(2, 3, 3, 3, generator=gen, dtype=torch.float64)
    view = T.conv_transpose_as_matrix(x, w, stride=2, padding=1, output_padding=1)
    z = torch.randn(view.result.shape, generator=gen, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad((F.conv2d(z, w, stride=2, padding=1) * x).sum(), z)
    return {
        "configs": count,
        "max_error": errors,
        "gradient_error": float((grad - view.result).abs().max()),
        "gradient_matrix_shape": list(view.matrix.shape),
    }


def _phase_spread(y: Tensor, stride: int, border: int) -> float:
    """Checkerboard of a layer's response to a flat input, relative to its mean level.

    ``sqrt(mean over channels and phases of (phase mean - channel mean)^2) /
    sqrt(mean over channels of channel mean^2)``, over the interior (``border`` pixels
    dropped). 0 = flat output; 1 = a pattern as large as the signal.
    """
    inner = y[0, :, border:-border, border:-border]
    c, h, w = inner.shape
    h, w = h - h % stride, w - w % stride
    phases = inner[:, :h, :w].reshape(c, h // stride, stride, w // stride, stride)
    means = phases.mean(dim=(1, 3))  # (C, s, s)
    level = means.mean(dim=(1, 2), keepdim=True)
    spread = (means - level).pow(2).mean().sqrt()
    return float(spread / level.pow(2).mean().sqrt())


def _init_layers(c: int) -> dict[str, nn.Module]:
    """The up-samplers compared at initialisation (bias off: a bias is flat anyway)."""
    t2 = nn.ConvTranspose2d(c, c, 2, stride=2, bias=False)
    t3 = nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1, bias=False)
    t4 = nn.ConvTranspose2d(c, c, 4, stride=2, padding=1, bias=False)
    t4b = nn.ConvTranspose2d(c, c, 4, stride=2, padding=1, bias=False)
    T.init_bilinear_(t4b.weight.data)
    ps = nn.Sequential(nn.Conv2d(c, 4 * c, 3, padding=1, bias=False), nn.PixelShuffle(2))
    ps_icnr = nn.Sequential(nn.Conv2d(c, 4 * c, 3, padding=1, bias=False), nn.PixelShuffle(2))
    T.init_icnr_(ps_icnr[0].weight.data, 2)
    near = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(c, c, 3, padding=1, bias=False))
    bil = nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(c, c, 3, padding=1, bias=False)
    )
    return {
        "transposed 2x2, default init": t2,
        "transposed 3x3, default init": t3,
        "transposed 4x4, default init": t4,
        "transposed 4x4, bilinear init": t4b,
        "pixel shuffle 3x3, default init": ps,
        "pixel shuffle 3x3, ICNR init": ps_icnr,
        "nearest + conv 3x3, default init": near,
        "bilinear + conv 3x3, default init": bil,
    }


def _init_study(cfg: TutorialConfig) -> dict:
    spreads: dict[str, list[float]] = {}
    flat = torch.ones(1, cfg.channels, 16, 16, dtype=torch.float64)
    for trial in range(cfg.trials):
        torch.manual_seed(cfg.seed + trial)
        for name, layer in _init_layers(cfg.channels).items():
            with torch.no_grad():
                y = layer.double()(flat)
            spreads.setdefault(name, []).append(_phase_spread(y, 2, 4))
    return {
        name: {"median": float(np.median(v)), "min": float(min(v)), "max": float(max(v))}
        for name, v in spreads.items()
    }


def _free_dims(k: int, s: int) -> int:
    """Dimension of the k x k transposed kernels whose s^2 phase gains are all equal."""
    basis = torch.eye(k * k, dtype=torch.float64).reshape(k * k, 1, 1, k, k)
    gains = torch.stack([T.phase_gains(b, s).flatten() for b in basis], dim=1)  # (s^2, k^2)
    diffs = gains[1:] - gains[:1]
    return k * k - int(torch.linalg.matrix_rank(diffs))


def _resize_rank(fixed: Tensor, fixed_padding: int, m: int) -> tuple[int, int]:
    """(rank, kernel size) of K -> compose_with_conv(fixed, K) for m x m convs K."""
    basis = torch.eye(m * m, dtype=torch.float64).reshape(m * m, 1, 1, m, m)
    kernels = [T.compose_with_conv(fixed, fixed_padding, b, (m - 1) // 2)[0] for b in basis]
    stacked = torch.stack([g.flatten() for g in kernels], dim=1)
    return int(torch.linalg.matrix_rank(stacked)), int(kernels[0].shape[-1])


def _unet_stage() -> dict:
    """Shapes through one U-Net decoder stage (bottleneck 512 x 32 x 32), on the meta device.

    Multiply-adds are per sample: a conv costs ``out pixels * C_out * C_in/groups * k^2``, a
    transposed conv ``in pixels * C_in * C_out/groups * k^2`` (computed polyphase-style, no
    product with an inserted zero).
    """
    meta = torch.device("meta")
    x = torch.empty(1, 512, 32, 32, device=meta)
    skip = torch.empty(1, 256, 64, 64, device=meta)

    def add(rows: list, step: str, module: nn.Module, inp: Tensor) -> Tensor:
        out = module(inp)
        weight = getattr(module, "weight", None)
        if isinstance(module, nn.ConvTranspose2d):
            macs = inp.shape[-2] * inp.shape[-1] * weight.numel()
        elif isinstance(module, nn.Conv2d):
            macs = out.shape[-2] * out.shape[-1] * weight.numel()
        else:
            macs = 0
        rows.append(
            {
                "step": step,
                "input": list(inp.shape),
                "output": list(out.shape),
                "weight": list(weight.shape) if weight is not None else None,
                "params": sum(p.numel() for p in module.parameters()),
                "macs": int(macs),
            }
        )
        return out

    up_steps = {
        "transposed 2x2, stride 2 (U-Net up-conv)": [
            (
                "ConvTranspose2d(512, 256, 2, stride=2)",
                nn.ConvTranspose2d(512, 256, 2, stride=2, device=meta),
            ),
        ],
        "nearest + conv 3x3 (resize-conv)": [
            ("Upsample(scale_factor=2, mode='nearest')", nn.Upsample(scale_factor=2)),
            ("Conv2d(512, 256, 3, padding=1)", nn.Conv2d(512, 256, 3, padding=1, device=meta)),
        ],
        "nearest only (the next conv does the learning)": [
            ("Upsample(scale_factor=2, mode='nearest')", nn.Upsample(scale_factor=2)),
        ],
    }
    variants = {}
    for name, steps in up_steps.items():
        rows: list = []
        y = x
        for step, module in steps:
            y = add(rows, step, module, y)
        cat = torch.cat([skip, y], dim=1)
        rows.append(
            {
                "step": "torch.cat([skip, up], dim=1)",
                "input": list(y.shape),
                "output": list(cat.shape),
                "weight": None,
                "params": 0,
                "macs": 0,
            }
        )
        c = cat.shape[1]
        conv1 = nn.Conv2d(c, 256, 3, padding=1, device=meta)
        y = add(rows, f"Conv2d({c}, 256, 3, padding=1) + ReLU", conv1, cat)
        conv2 = nn.Conv2d(256, 256, 3, padding=1, device=meta)
        add(rows, "Conv2d(256, 256, 3, padding=1) + ReLU", conv2, y)
        variants[name] = rows
    return {"bottleneck": list(x.shape), "skip": list(skip.shape), "variants": variants}


def _families() -> dict:
    near = T.nearest_weight(2, 1)
    bil = T.init_bilinear_(torch.empty(1, 1, 4, 4, dtype=torch.float64))
    rows = []
    for k in (2, 3, 4, 6):
        rows.append(
            {
                "family": f"transposed {k}x{k}",
                "params": k * k,
                "kernel": k,
                "free": _free_dims(k, 2),
                "macs_per_input_pixel": k * k,  # every tap is used once per input pixel
            }
        )
    for name, fixed, pad in (("nearest", near, 0), ("bilinear", bil, 1)):
        for m in (3, 5):
            rank, size = _resize_rank(fixed, pad, m)
            rows.append(
                {
                    "family": f"{name} + conv {m}x{m}",
                    "params": m * m,
                    "rank": rank,
                    "kernel": size,
                    "free": _free_dims(size, 2),
                    "macs_per_input_pixel": 4 * m * m,  # the conv runs on 2x2 output pixels
                }
            )
    return {"rows": rows}


def _resize_example(seed: int) -> dict:
    """A random resize-conv next to a random transposed conv of the same size (4x4)."""
    gen = torch.Generator().manual_seed(seed)
    conv = torch.randn(1, 1, 3, 3, generator=gen, dtype=torch.float64)
    tconv = torch.randn(1, 1, 4, 4, generator=gen, dtype=torch.float64)
    g, pad = T.compose_with_conv(T.nearest_weight(2, 1), 0, conv, 1)
    x = torch.randn(1, 1, 9, 9, generator=gen, dtype=torch.float64)
    err = float(
        (
            F.conv_transpose2d(x, g, stride=2, padding=pad)
            - F.conv2d(F.interpolate(x, scale_factor=2), conv, padding=1)
        )
        .abs()
        .max()
    )
    bil = T.init_bilinear_(torch.empty(1, 1, 4, 4, dtype=torch.float64))
    gb, padb = T.compose_with_conv(bil, 1, conv, 1)
    yb = F.conv_transpose2d(x, gb, stride=2, padding=padb)
    rb = F.conv2d(F.interpolate(x, scale_factor=2, mode="bilinear"), conv, padding=1)
    err_b = float((yb - rb)[..., 2:-2, 2:-2].abs().max())
    return {
        "conv": conv[0, 0],
        "resize_kernel": g[0, 0],
        "resize_padding": pad,
        "resize_error": err,
        "bilinear_resize_kernel": gb[0, 0],
        "bilinear_resize_error_interior": err_b,
        "tconv": tconv[0, 0],
        "resize_dc": T.dc_image_response(g, 2)[..., 0, 0].abs(),
        "bilinear_resize_dc": T.dc_image_response(gb, 2)[..., 0, 0].abs(),
        "tconv_dc": T.dc_image_response(tconv, 2)[..., 0, 0].abs(),
        "resize_gains": T.phase_gains(g, 2)[..., 0, 0],
        "tconv_gains": T.phase_gains(tconv, 2)[..., 0, 0],
    }


def _response_1d(kernel_2d: Tensor, freqs: Tensor) -> Tensor:
    """|H(f, 0)| of a 2-D kernel along the first axis, f in cycles/pixel (output rate)."""
    taps = kernel_2d.sum(dim=1)  # summing over the second axis = evaluating it at f = 0
    t = torch.arange(taps.numel(), dtype=torch.float64)
    return (taps[None, :] * torch.exp(-2j * math.pi * freqs[:, None] * t[None, :])).sum(1).abs()


def _spectra(example: dict) -> dict:
    freqs = torch.linspace(0, 0.5, 201, dtype=torch.float64)
    near = T.nearest_weight(2, 1)[0, 0]
    bil = T.init_bilinear_(torch.empty(1, 1, 4, 4, dtype=torch.float64))[0, 0]
    curves = {
        "nearest (box 2)": near,
        "bilinear [1,3,3,1]/4": bil,
        "nearest + random conv 3x3": example["resize_kernel"],
        "bilinear + random conv 3x3": example["bilinear_resize_kernel"],
        "random transposed 4x4": example["tconv"],
    }
    return {
        "freqs": freqs,
        "names": list(curves),
        "responses": torch.stack([_response_1d(k, freqs) for k in curves.values()]),
    }


def _fit_study(cfg: TutorialConfig) -> dict:
    """Least-squares fit of each up-sampling family to real image detail (one channel).

    Input: a ``crop x crop`` window of ``skimage.data.camera`` (in [0, 1]), 2x average-pooled;
    target: the window itself. Each family is linear in its parameters, so the best member is
    a least-squares solve over the responses to its basis kernels (interior pixels only).
    """
    from skimage import data as skdata

    img = torch.from_numpy(skdata.camera()).to(torch.float64) / 255.0
    h0 = (img.shape[0] - cfg.crop) // 2
    target = img[h0 : h0 + cfg.crop, h0 : h0 + cfg.crop][None, None]
    x = F.avg_pool2d(target, 2)
    n, b = x.shape[-1], cfg.border
    inner = (..., slice(b, -b), slice(b, -b))

    def tconv_basis(k: int) -> list[Tensor]:
        p, op = T.transpose_padding_for(n, 2 * n, k, 2)
        eye = torch.eye(k * k, dtype=torch.float64).reshape(k * k, 1, 1, k, k)
        return [F.conv_transpose2d(x, e, stride=2, padding=p, output_padding=op) for e in eye]

    def resize_basis(mode: str, m: int) -> list[Tensor]:
        up = F.interpolate(x, scale_factor=2, mode=mode)
        eye = torch.eye(m * m, dtype=torch.float64).reshape(m * m, 1, 1, m, m)
        return [F.conv2d(up, e, padding=(m - 1) // 2) for e in eye]

    families: dict[str, list[Tensor]] = {
        "nearest (fixed)": [F.interpolate(x, scale_factor=2, mode="nearest")],
        "bilinear (fixed)": [F.interpolate(x, scale_factor=2, mode="bilinear")],
        "bicubic (fixed)": [F.interpolate(x, scale_factor=2, mode="bicubic")],
        "nearest + conv 3x3": resize_basis("nearest", 3),
        "bilinear + conv 3x3": resize_basis("bilinear", 3),
        "nearest + conv 5x5": resize_basis("nearest", 5),
        "transposed 2x2": tconv_basis(2),
        "transposed 3x3": tconv_basis(3),
        "transposed 4x4": tconv_basis(4),
        "transposed 6x6": tconv_basis(6),
    }
    y = target[inner].flatten()
    rows = []
    for name, basis in families.items():
        a = torch.stack([r[inner].flatten() for r in basis], dim=1)
        fixed = name.endswith("(fixed)")
        theta = torch.ones(1, dtype=torch.float64) if fixed else torch.linalg.lstsq(a, y).solution
        resid = a @ theta - y
        rmse = float(resid.pow(2).mean().sqrt())
        row = {
            "family": name,
            "params": 0 if fixed else len(basis),
            "rmse": rmse,
            "psnr_db": float(-20 * math.log10(rmse)),
        }
        if name.startswith("transposed"):
            k = int(math.isqrt(len(basis)))
            dc = T.dc_image_response(theta.reshape(1, 1, k, k), 2)[..., 0, 0].abs()
            row["dc_image_ratio"] = float(dc.flatten()[1:].max() / dc[0, 0])
        rows.append(row)
    return {"rows": rows, "input": list(x.shape[-2:]), "target": list(target.shape[-2:])}


def _overlap() -> dict:
    p3, op3 = T.transpose_padding_for(6, 12, 3, 2)
    p4, op4 = T.transpose_padding_for(6, 12, 4, 2)
    return {
        "k3": T.overlap_counts(6, 3, 2, p3, op3),
        "k4": T.overlap_counts(6, 4, 2, p4, op4),
        "k3_padding": [p3, op3],
        "k4_padding": [p4, op4],
    }


# ---------------------------------------------------------------------------------------------
# run / save
# ---------------------------------------------------------------------------------------------


def run(config: TutorialConfig) -> dict:
    """Compute every number and array of the tutorial (no I/O, no printing)."""
    walk_cfg = E.ExplainConfig(size=4, kernel=3, stride=2, padding=1, output_padding=1)
    walk = E.run(walk_cfg)
    keys = [(0, 0, 0), (0, 1, 1), (0, 2, 3), (0, 7, 7)]
    example = _resize_example(config.seed)
    return {
        "config": asdict(config),
        "shapes": _shapes(),
        "walk": walk,
        "walk_lines": [line for key in keys for line in E.term_line(walk, key)],
        "walk_report": E.format_report(walk),
        "sweep": _sweep(config.seed),
        "overlap": _overlap(),
        "init": _init_study(config),
        "families": _families(),
        "unet": _unet_stage(),
        "example": example,
        "spectra": _spectra(example),
        "fit": _fit_study(config),
    }


def _arrays(result: dict) -> dict[str, np.ndarray]:
    walk: E.ExplainResult = result["walk"]
    zi, poly = walk.zero_insertion, walk.polyphase
    arrays = {
        "walk_x": walk.x[0, 0],
        "walk_weight": walk.weight[0, 0],
        "walk_stuffed": zi.stuffed[0, 0],
        "walk_padded": zi.padded[0, 0],
        "walk_flipped": zi.kernel[0, 0],
        "walk_output": walk.module_out[0, 0],
        "walk_matrix": walk.matrix.matrix,
        "walk_phase_kernels": poly.kernels[:, :, 0, 0],
        "walk_phases": poly.phases[0, 0],
        "walk_pad": torch.tensor(zi.pad),
        "overlap_k3": result["overlap"]["k3"],
        "overlap_k4": result["overlap"]["k4"],
        "spectra_freqs": result["spectra"]["freqs"],
        "spectra_responses": result["spectra"]["responses"],
    }
    for key in ("conv", "resize_kernel", "tconv", "resize_gains", "tconv_gains", "resize_dc"):
        arrays[f"example_{key}"] = result["example"][key]
    # flat-input outputs (interior, 2 border pixels dropped) of random positive 3x3 / 4x4
    # transposed convs and of nearest + a random positive 3x3 conv
    gen = torch.Generator().manual_seed(result["config"]["seed"])
    flat = torch.ones(1, 1, 8, 8, dtype=torch.float64)
    t3 = torch.rand(1, 1, 3, 3, generator=gen, dtype=torch.float64)
    t4 = torch.rand(1, 1, 4, 4, generator=gen, dtype=torch.float64)
    c3 = torch.rand(1, 1, 3, 3, generator=gen, dtype=torch.float64)
    g, pad = T.compose_with_conv(T.nearest_weight(2, 1), 0, c3, 1)
    inner = (0, 0, slice(2, -2), slice(2, -2))
    arrays["flat_k3"] = F.conv_transpose2d(flat, t3, stride=2, padding=1, output_padding=1)[inner]
    arrays["flat_k4"] = F.conv_transpose2d(flat, t4, stride=2, padding=1)[inner]
    arrays["flat_resize"] = F.conv_transpose2d(flat, g, stride=2, padding=pad)[inner]
    return {
        k: np.asarray(v.detach().numpy() if isinstance(v, Tensor) else v) for k, v in arrays.items()
    }


def _jsonable(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k not in ("walk", "walk_report", "spectra")}
    out["example"] = {
        k: (v.tolist() if isinstance(v, Tensor) else v) for k, v in result["example"].items()
    }
    out["overlap"] = {
        k: (v.tolist() if isinstance(v, Tensor) else v) for k, v in result["overlap"].items()
    }
    out["walk"] = {
        "config": asdict(result["walk"].config),
        "errors": result["walk"].errors,
        "size_out": result["walk"].size_out,
        "pad": list(result["walk"].zero_insertion.pad),
    }
    out["spectra_names"] = result["spectra"]["names"]
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(result: dict, directory: Path = RESULTS) -> tuple[Path, Path]:
    """Write ``tutorial.json`` (with provenance) and ``tutorial.npz``; returns their paths."""
    from antialias.provenance import provenance

    meta = _jsonable(result)
    meta["provenance"] = provenance()
    js = directory / "tutorial.json"
    _atomic_write(js, (json.dumps(meta, indent=1) + "\n").encode())
    npz = directory / "tutorial.npz"
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tutorial.", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, **_arrays(result))
        os.replace(tmp, npz)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return js, npz


# ---------------------------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------------------------


def _e(v: float) -> str:
    return f"{v:.1e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _code(lines: Sequence[str]) -> list[str]:
    return ["```", *lines, "```"]


def _grid(t: Tensor | list) -> list[str]:
    return E.grid(torch.as_tensor(t, dtype=torch.float64), indent="")


def _fig(name: str, alt: str) -> str:
    return f"![{alt}](../figures/{name}.png)"


def render_markdown(result: dict, meta: dict | None = None) -> str:
    """The tutorial page, every number taken from ``result`` (and ``meta``'s provenance)."""
    sh, walk, sw = result["shapes"], result["walk"], result["sweep"]
    ex, init, fams, fit = result["example"], result["init"], result["families"], result["fit"]
    wc = walk.config
    prov = (meta or {}).get("provenance", {})
    commit = prov.get("git_commit", "unknown")
    torch_version = prov.get("versions", {}).get("torch", "?")
    fit_rows = {r["family"]: r for r in fit["rows"]}
    fam_rows = {r["family"]: r for r in fams["rows"]}
    t4, nc3, bc3 = (
        fit_rows[k] for k in ("transposed 4x4", "nearest + conv 3x3", "bilinear + conv 3x3")
    )
    t6, nc5 = fit_rows["transposed 6x6"], fit_rows["nearest + conv 5x5"]
    bic = fit_rows["bicubic (fixed)"]
    tconvs = [r for r in fit["rows"] if r["family"].startswith("transposed")]
    small_tconvs = [r for r in tconvs if r["params"] <= fam_rows["transposed 4x4"]["params"]]
    bc3_beats_small = all(bc3["psnr_db"] > r["psnr_db"] for r in small_tconvs)
    gain4 = t4["psnr_db"] - nc3["psnr_db"]
    gain6 = t6["psnr_db"] - nc5["psnr_db"]
    extra4 = fam_rows["transposed 4x4"]["params"] - fam_rows["nearest + conv 3x3"]["rank"]
    checker_dims4 = fam_rows["transposed 4x4"]["params"] - fam_rows["transposed 4x4"]["free"]
    max_ratio = max(r["dc_image_ratio"] for r in tconvs)
    beats = "beats" if bc3_beats_small else "does not beat"
    stage_macs = {
        name: sum(r["macs"] for r in rows) for name, rows in result["unet"]["variants"].items()
    }
    tconv_stage, resize_stage, nearest_stage = (
        next(v for k, v in stage_macs.items() if k.startswith(prefix))
        for prefix in ("transposed", "nearest + conv", "nearest only")
    )
    default_spreads = [
        v["median"]
        for k, v in init.items()
        if "default" in k and (k.startswith("transposed") or k.startswith("pixel"))
    ]
    L: list[str] = []
    L += [
        "# Transposed convolution, computed: shapes, three equivalent views, initialisation",
        "",
        "<!-- generated by analysis/transposed_tutorial.py; do not edit by hand -->",
        "",
        f"Generated by `python analysis/transposed_tutorial.py` (git commit `{commit}`, torch "
        f"{torch_version}). Every number and figure on this page is computed by "
        "`antialias.transposed`, `analysis/explain_transposed_conv.py` and the figure scripts "
        "`figures/fig_transposed_*.py`"
        "; the raw values are in `results/transposed_tutorial/tutorial.{json,npz}`.",
        "",
        "The question this page answers (from a user): *how is the up-sampling half of a U-Net "
        'performed; what exactly does a transposed ("deconv") layer do, with shapes and '
        "initialisation; and why would anyone choose a fixed interpolation (nearest, bilinear) "
        "over a learned transposed convolution?*",
        "",
        "## The short answer",
        "",
        f"1. **A transposed convolution with stride `s` is an ordinary convolution over the input "
        f"with `s - 1` zeros inserted between samples**, padded by `dilation*(k-1) - padding` "
        f"(plus `output_padding` at the end), with the kernel flipped and its in/out channel axes "
        f"swapped. Checked against `F.conv_transpose2d` on {sw['configs']} argument combinations: "
        f"max error {_e(sw['max_error']['zero insertion'])}.",
        "2. **It is the transpose of a convolution's matrix**, i.e. exactly the gradient that "
        f"back-propagation sends through a strided conv (error vs autograd "
        f"{_e(sw['gradient_error'])}); it is *not* the conv's inverse.",
        f"3. **It is `s^2` small ordinary convolutions whose outputs are interleaved** (pixel "
        f"shuffle). If those `s^2` phase kernels sum to different values, a flat input comes out "
        f"as a periodic pattern: the checkerboard. At default initialisation the pattern is "
        f"{min(default_spreads):.2f}-{max(default_spreads):.2f}x the mean output level "
        f"(median over {result['config']['trials']} seeds, §5).",
        "4. **Nearest or bilinear up-sampling followed by a convolution is itself a learned "
        "transposed convolution**, whose kernel is forced to be `box * K` (or `triangle * K`). "
        "The box has zeros exactly where the checkerboard lives (the images of DC), so a "
        "resize-conv cannot checkerboard on flat regions, at initialisation or after training. "
        "That is why a fixed interpolation makes sense: the conv after it is the learned part.",
        f"5. **What it gives up, measured**: fitted to real image detail, nearest + 3x3 conv "
        f"({nc3['params']} parameters) reaches {nc3['psnr_db']:.2f} dB, a free 4x4 transposed "
        f"conv ({t4['params']} parameters, same 4x4 footprint) {t4['psnr_db']:.2f} dB "
        f"({gain4:+.4f} dB); bilinear + 3x3 conv ({bc3['params']} parameters, "
        f"{bc3['psnr_db']:.2f} dB) {beats} every transposed conv up to 4x4 (§6).",
        "",
    ]
    # 1. shapes
    L += [
        "## 1. Shapes",
        "",
        "For one spatial axis (PyTorch's conventions, tested against torch's own shapes):",
        "",
        *_code(
            [
                "conv:            H_out = floor((H + 2p - d(k-1) - 1) / s) + 1",
                "transposed conv: H_out = (H - 1) s - 2p + d(k-1) + output_padding + 1",
            ]
        ),
        "",
        "`padding` in a transposed conv *removes* rows (it undoes the padding of the conv it is "
        "the transpose of); `output_padding` adds rows at the bottom/right only, and must be "
        "smaller than `stride` or `dilation`. `transpose_padding_for(size_in, size_out, kernel, "
        "stride)` solves for them. Exactly doubling, stride 2:",
        "",
        *_table(
            ["input", "kernel", "padding", "output_padding", "output"],
            [
                [r["size"], r["kernel"], r["padding"], r["output_padding"], r["out"]]
                for r in sh["double"]
            ],
        ),
        "",
        f"An impossible request raises `ValueError` with the reason: `transpose_padding_for("
        f"{sh['impossible_request']['size_in']}, {sh['impossible_request']['size_out']}, "
        f"kernel={sh['impossible_request']['kernel']}, stride="
        f"{sh['impossible_request']['stride']})` says *{sh['impossible_message']}*.",
        "",
        f"Why `output_padding` exists: in the encoder a 2x2 max-pool maps {sh['odd']['size']} "
        f"rows to {sh['odd']['pooled']}, but it also maps {sh['odd']['size'] - 1} to "
        f"{sh['odd']['pooled']}; the decoder's 2x2 stride-2 transposed conv gives back "
        f"{sh['odd']['back']}. To get {sh['odd']['size']} for the skip connection you need "
        f"padding {sh['odd']['fix'][0]}, output_padding {sh['odd']['fix'][1]} (or crop/pad the "
        "skip, as the original U-Net cropped).",
        "",
        "Weights: `nn.ConvTranspose2d(C_in, C_out, k)` stores `(C_in, C_out/groups, k, k)`, the "
        "transpose of `nn.Conv2d`'s `(C_out, C_in/groups, k, k)`.",
        "",
        f"One decoder stage of a U-Net, shapes as torch computes them (bottleneck "
        f"`{tuple(result['unet']['bottleneck'])}`, skip connection "
        f"`{tuple(result['unet']['skip'])}`; multiply-adds per sample, the transposed conv "
        "counted without products with inserted zeros):",
        "",
    ]
    for name, rows in result["unet"]["variants"].items():
        total_p = sum(r["params"] for r in rows)
        total_m = sum(r["macs"] for r in rows)
        L += [f"*{name}* (total {total_p:,} parameters, {total_m / 1e9:.2f} G multiply-adds):", ""]
        L += _table(
            ["step", "output shape", "weight shape", "params", "multiply-adds"],
            [
                [
                    f"`{r['step']}`",
                    f"`{tuple(r['output'])}`",
                    f"`{tuple(r['weight'])}`" if r["weight"] else "-",
                    f"{r['params']:,}",
                    f"{r['macs'] / 1e6:,.0f} M" if r["macs"] else "-",
                ]
                for r in rows
            ],
        )
        L.append("")
    # 2. worked example
    zi = walk.zero_insertion
    top, bottom, _, _ = zi.pad
    L += [
        "## 2. A worked example with small integers",
        "",
        f"Input {wc.size}x{wc.size}, kernel {wc.kernel}, stride {wc.stride}, padding "
        f"{wc.padding}, output padding {wc.output_padding} (the full text, every output value "
        "included, is printed by `python analysis/explain_transposed_conv.py --size 4 --kernel 3"
        " --stride 2 --padding 1 --output-padding 1`). Output size: "
        f"`({wc.size}-1)*{wc.stride} - 2*{wc.padding} + ({wc.kernel}-1) + {wc.output_padding} + 1"
        f" = {walk.size_out}`.",
        "",
        "Input x, kernel w (as stored), and the flipped kernel that the equivalent ordinary "
        "conv slides:",
        "",
        *_code(
            E.side_by_side(
                [
                    ("x", _grid(walk.x[0, 0])),
                    ("w", _grid(walk.weight[0, 0])),
                    ("w flipped", _grid(zi.kernel[0, 0])),
                ]
            )
        ),
        "",
        f"Zero-stuffed ({wc.stride - 1} zero between samples) and padded ({top} before, {bottom}"
        f" after = `d(k-1) - p` plus `output_padding`):",
        "",
        *_code(
            E.side_by_side(
                [("zero-stuffed", _grid(zi.stuffed[0, 0])), ("padded", _grid(zi.padded[0, 0]))]
            )
        ),
        "",
        "Each output value is a sum of products of *real* input samples and kernel taps (the "
        "scatter form: input `x[i,j]` adds `x[i,j] * w[a,b]` to output `(s*i + a - p, "
        "s*j + b - p)`):",
        "",
        *_code(result["walk_lines"]),
        "",
        "The output, equal to `nn.ConvTranspose2d` with the same weight (max error "
        f"{_e(walk.errors['sums of products'])}):",
        "",
        *_code(_grid(walk.module_out[0, 0])),
        "",
        _fig("fig_transposed_walkthrough", "walkthrough"),
        "",
    ]
    # 3. views
    m = walk.matrix.matrix
    L += [
        "## 3. Three equivalent views",
        "",
        "| view | function | max error vs `F.conv_transpose2d` over "
        f"{sw['configs']} configurations |",
        "|---|---|---|",
        "| zero insertion + stride-1 conv | `conv_transpose_as_zero_insertion` | "
        f"{_e(sw['max_error']['zero insertion'])} |",
        f"| transpose of the conv's matrix | `conv_transpose_as_matrix` | "
        f"{_e(sw['max_error']['matrix'])} |",
        f"| `s^2` convs + pixel shuffle | `conv_transpose_as_polyphase` | "
        f"{_e(sw['max_error']['polyphase'])} |",
        "",
        f"The sweep: heights {list(SWEEP['heights'])} (widths one more), kernels "
        f"{list(SWEEP['kernels'])}, strides {list(SWEEP['strides'])}, paddings "
        f"{list(SWEEP['paddings'])}, dilations {list(SWEEP['dilations'])}, (C_in, C_out, groups) "
        f"in {[tuple(c) for c in SWEEP['channels']]}, every valid output padding; float64. "
        "`tests/test_transposed.py` runs a larger sweep at tolerance 1e-10.",
        "",
        f"**Matrix.** For the example, the stride-{wc.stride} conv with the same weight maps an "
        f"image of {walk.size_out}x{walk.size_out} to {wc.size}x{wc.size}: a {m.shape[0]}x"
        f"{m.shape[1]} matrix `M`. The transposed conv is `y = M^T x`: row `i` of `M` is the "
        "kernel stamp that input pixel `i` adds to the output. Because `M^T` is what "
        "back-propagation multiplies a conv's output gradient by, the transposed conv *is* the "
        f"conv's input gradient (a {sw['gradient_matrix_shape'][0]}x"
        f"{sw['gradient_matrix_shape'][1]} two-channel example: error vs autograd "
        f"{_e(sw['gradient_error'])}). It is not an inverse: `M^T M` is not the identity.",
        "",
        "**Polyphase.** Output row `o` belongs to phase `(o + padding) mod s`. All outputs of "
        "one phase use the same subset of taps (every `s`-th tap), so each phase is an ordinary "
        "conv of the *small* input; the `s^2` phase outputs are interleaved by pixel shuffle. "
        "No multiplication by an inserted zero ever happens, which is how the layer should be "
        "computed and why a transposed conv equals a conv with `s^2 C_out` channels followed by "
        "`PixelShuffle(s)` (a sub-pixel conv). The example's four phase kernels (conv form):",
        "",
        *_code(
            E.side_by_side(
                [
                    (f"phase ({a},{b})", _grid(walk.polyphase.kernels[a, b, 0, 0]))
                    for a in range(wc.stride)
                    for b in range(wc.stride)
                ]
            )
        ),
        "",
        _fig("fig_transposed_views", "matrix and polyphase views"),
        "",
    ]
    # 4. checkerboards
    ov = result["overlap"]
    k3 = ov["k3"]
    k4 = ov["k4"]
    k3_inner = sorted(set(k3[2:-2, 2:-2].flatten().tolist()))
    k4_inner = sorted(set(k4[1:-1, 1:-1].flatten().tolist()))
    dc_t, dc_r = ex["tconv_dc"], ex["resize_dc"]
    L += [
        "## 4. Where checkerboards come from",
        "",
        f"At stride 2 a 3x3 kernel reaches an output pixel from {k3_inner} input pixels "
        f"depending on its phase (interior values), a 4x4 kernel from {k4_inner}. That uneven "
        "overlap is the classic explanation (Odena et al. 2016). The precise condition is about "
        "sums: on a flat input, phase `(a, b)` outputs the sum of that phase's taps (its *phase "
        "gain*, `phase_gains`). Equal overlap is not enough: a random 4x4 kernel still has "
        "unequal phase gains. Equivalently, zero insertion copies the input's DC to the "
        "frequencies `(a/s, b/s)` cycles/pixel (the *images of DC*), and the kernel's response "
        "there (`dc_image_response`) is the checkerboard's amplitude.",
        "",
        "A random 4x4 transposed kernel versus nearest + a random 3x3 conv (which is a 4x4 "
        "transposed kernel, §6): phase gains and |H| at DC `(0,0)` and at the DC images "
        "`(0, 0.5)`, `(0.5, 0)`, `(0.5, 0.5)`:",
        "",
        *_code(
            E.side_by_side(
                [
                    ("transposed: phase gains", _grid(ex["tconv_gains"].round(decimals=3))),
                    ("|H| at DC, images", _grid(dc_t.round(decimals=3))),
                    ("resize-conv: phase gains", _grid(ex["resize_gains"].round(decimals=3))),
                    ("|H| at DC, images", _grid(dc_r.round(decimals=3))),
                ]
            )
        ),
        "",
        _fig("fig_transposed_overlap", "overlap counts and flat-input outputs"),
        "",
    ]
    # 5. init
    L += [
        "## 5. Initialisation, and why it matters",
        "",
        "- **Default (Kaiming-uniform) init** draws every tap independently, so the phase gains "
        "differ and the layer starts with a checkerboard that training must remove.",
        "- **Bilinear init (FCN, `init_bilinear_`)**: the separable triangle "
        "`1 - |t - (k-1)/2| / s` on the channel diagonal, zeros elsewhere. With `k = 2s - s%2`, "
        "stride `s`, padding `(k - s)//2` the layer *is* `F.interpolate(mode='bilinear', "
        "align_corners=False)` except in the outer `s//2` pixels (interpolation repeats the "
        "edge, the transposed conv sees zeros); `tests/test_transposed.py` checks this for "
        "several factors, and that the border really differs. It needs `C_in == C_out` "
        "(or depthwise).",
        "- **ICNR (Aitken et al. 2017, `init_icnr_`)** for a conv feeding `PixelShuffle(s)`: "
        "draw one sub-kernel `W0`, copy it to all `s^2` phases. Then, exactly (tested, borders "
        "included): `PixelShuffle(conv(x, W)) == nearest(conv(x, W0)) == conv(nearest(x), W0, "
        "dilation=s, padding=s*p)`. Note the dilation: it starts as *conv then nearest*, not as "
        "nearest then an ordinary conv.",
        "",
        f"Checkerboard at initialisation, measured on an all-ones input with "
        f"{result['config']['channels']} channels: the spread of the per-phase means relative "
        f"to the mean level (0 = flat), over {result['config']['trials']} seeds, no bias:",
        "",
        *_table(
            ["layer", "median", "min", "max"],
            [
                [k, f"{v['median']:.3f}", f"{v['min']:.3f}", f"{v['max']:.3f}"]
                for k, v in init.items()
            ],
        ),
        "",
        "Bilinear and ICNR initialisation start exactly flat, like the resize-convs; they differ "
        "from them in that training may move away from flat.",
        "",
    ]
    # 6. fixed interpolation + conv
    L += [
        "## 6. Why a fixed interpolation followed by a conv is a sound choice",
        "",
        "Nearest up-sampling is a transposed conv with a `s x s` box of ones (`nearest_weight`; "
        "exact, borders included). Composing a transposed conv with the conv after it gives "
        "one transposed conv (`compose_with_conv`): kernel `box * flip(K)`, padding "
        "`k - 1 - p`. For the random 3x3 `K` of §4 the composite equals "
        f"`conv(interpolate(x), K)` to {_e(ex['resize_error'])} (bilinear + conv: "
        f"{_e(ex['bilinear_resize_error_interior'])} away from the border). So the "
        "resize-conv is a learned transposed conv with a constrained kernel: the box's response "
        "is zero at every image of DC, and multiplying by `K`'s response keeps those zeros, "
        "whatever `K` is learned to be. Hence no checkerboard on flat regions, ever.",
        "",
        "How much freedom that costs, counted exactly (ranks of the linear maps; a "
        "'checkerboard-free' kernel has equal phase gains):",
        "",
        *_table(
            [
                "family",
                "learned params (rank)",
                "effective kernel",
                "checkerboard-free dims of that kernel size",
                "multiply-adds per input pixel",
            ],
            [
                [
                    r["family"],
                    r.get("rank", r["params"]),
                    f"{r['kernel']}x{r['kernel']} ({r['kernel'] ** 2} dims)",
                    r["free"],
                    r["macs_per_input_pixel"],
                ]
                for r in fams["rows"]
            ],
        ),
        "",
        f"Nearest + 3x3 conv spans {fam_rows['nearest + conv 3x3']['rank']} of the "
        f"{fam_rows['transposed 4x4']['free']} checkerboard-free directions of 4x4 kernels; "
        f"the other {fam_rows['transposed 4x4']['free'] - fam_rows['nearest + conv 3x3']['rank']}"
        f" (and the {checker_dims4} checkerboard directions) are what a free 4x4 transposed conv "
        "adds: more ways to place detail between input samples, phase by phase. In exchange the "
        "resize-conv runs its conv on the up-sampled grid: "
        f"{fam_rows['nearest + conv 3x3']['macs_per_input_pixel']} multiply-adds per input "
        f"pixel against {fam_rows['transposed 4x4']['macs_per_input_pixel']}.",
        "",
        f"Does that freedom buy anything on real images? Each family is linear in its "
        f"parameters, so its best member is a least-squares solve. Input: the centre "
        f"{fit['target'][0]}x{fit['target'][1]} of `skimage.data.camera`, 2x average-pooled to "
        f"{fit['input'][0]}x{fit['input'][1]}; target: the original; "
        f"{result['config']['border']} border pixels ignored; one channel, no nonlinearity, "
        "so this measures the up-sampling step alone, not a trained U-Net:",
        "",
        *_table(
            ["family", "learned params", "RMSE", "PSNR (dB)", "fitted |H(DC image)| / |H(DC)|"],
            [
                [
                    r["family"],
                    r["params"],
                    f"{r['rmse']:.5f}",
                    f"{r['psnr_db']:.2f}",
                    f"{r['dc_image_ratio']:.4f}"
                    if "dc_image_ratio" in r
                    else "0 (by design)"
                    if "conv" in r["family"]
                    else "-",
                ]
                for r in fit["rows"]
            ],
        ),
        "",
        f"The free 4x4 transposed conv gains {gain4:+.4f} dB over nearest + 3x3 conv with the "
        f"same 4x4 footprint and {extra4} more parameters; 6x6 over nearest + 5x5: "
        f"{gain6:+.4f} dB. The best free kernels are themselves nearly checkerboard-free: "
        f"their response at the DC images is at most {max_ratio:.4f} of their DC gain (last "
        f"column). Bilinear + 3x3 conv ({bc3['psnr_db']:.2f} dB) {beats} every transposed conv "
        f"up to 4x4, and {'beats' if bc3['psnr_db'] > bic['psnr_db'] else 'does not beat'} "
        f"fixed bicubic ({bic['psnr_db']:.2f} dB).",
        "",
        _fig("fig_transposed_spectrum", "frequency responses and fit quality"),
        "",
        "What a fixed interpolation gives up: (1) the phase-by-phase freedom counted above: a "
        "network that needs different sub-pixel filters per phase (e.g. a learned "
        "super-resolution prior) can express them with a transposed or sub-pixel conv and not "
        "with a resize-conv of the same size; (2) multiply-adds: a resize-conv runs its conv on "
        "the up-sampled grid, `s^2` times more pixels than the transposed conv's input (table "
        f"above and §1: {tconv_stage / 1e9:.2f} G for the U-Net stage with a 2x2 transposed "
        f"conv, {resize_stage / 1e9:.2f} G with nearest + 3x3 conv). The U-Net decoder already "
        "has convs after the up-sampling, so the cheapest sound option is the third one of §1: "
        f"plain interpolation and let the next conv learn ({nearest_stage / 1e9:.2f} G, "
        "checkerboard-free by the same argument, since that conv sees the interpolated "
        "features). Wall-clock time depends on the kernels torch picks and is not measured on "
        "this page.",
        "",
        "## 7. The question, answered",
        "",
        '*"Why would we choose a fixed interp method over a learned transposed conv2D filter? '
        'How can that make sense?"* Because the choice is not fixed versus learned. In a '
        "U-Net the interpolation is always followed by learned convolutions, and "
        "interpolation + conv **is** a transposed convolution (§6, exact to "
        f"{_e(ex['resize_error'])}), just one whose kernel is factored as "
        "`interpolation kernel * learned kernel`. The fixed factor does the one job the learned "
        "factor is bad at guaranteeing: it puts zeros at the images of DC, so the layer can "
        "never paint a checkerboard on a flat region (§4, §5), and it needs no special "
        "initialisation to start that way. The learned factor keeps everything else. On real "
        f"image detail the free 4x4 transposed conv's {extra4} extra parameters buy "
        f"{gain4:+.4f} dB over nearest + 3x3 conv, and bilinear + 3x3 conv {beats} every "
        'transposed conv up to 4x4 (§6). "More control" (the quoted blog post) is real '
        "but, on this measurement, tiny; checkerboards are its price, unless you initialise with "
        "`init_bilinear_` (transposed conv) or `init_icnr_` (pixel shuffle) and training keeps "
        "the phases balanced.",
        "",
        "The U-Net paper describes each decoder step as an up-sampling of the feature map "
        'followed by a 2x2 convolution ("up-convolution"). Both readings are transposed '
        "convolutions in the sense of this page: a 2x2 stride-2 transposed conv (no overlap: "
        "each output phase is a 1x1 conv, so its best fit above, "
        f"{fit_rows['transposed 2x2']['psnr_db']:.4f} dB, is within "
        f"{abs(fit_rows['transposed 2x2']['psnr_db'] - fit_rows['nearest (fixed)']['psnr_db']):.4f}"
        " dB of fixed nearest) or nearest followed by a 2x2 conv (a 3x3 transposed kernel "
        "`box * K`, checkerboard-free).",
        "",
        'About the answer quoted with the question: "transposed convolution is basically '
        'regular convolution with zeros inserted" is exact (plus the kernel flip, channel swap '
        'and padding `d(k-1) - p`, §2-3); "you don\'t lose anything with nearest" is true up to '
        "the phase freedom counted in §6 (and on the camera fits that freedom was worth "
        f'{gain4:+.4f} dB); "it will only make your CNN slower" is not settled by '
        "multiply-add counts (§1): the stage with a 2x2 transposed conv needs "
        f"{abs(resize_stage - tconv_stage) / 1e9:.2f} G "
        f"{'fewer' if tconv_stage < resize_stage else 'more'} than with nearest + 3x3 conv and "
        f"{abs(nearest_stage - tconv_stage) / 1e9:.2f} G "
        f"{'fewer' if tconv_stage < nearest_stage else 'more'} than with plain nearest and a "
        "wider next conv; wall-clock speed was not timed here.",
        "",
        "## Reproduce",
        "",
        *_code(
            [
                "python analysis/transposed_tutorial.py        # results, figures, this page",
                "python analysis/explain_transposed_conv.py --size 4 --kernel 3 --stride 2 "
                "--padding 1 --output-padding 1",
                ".venv/bin/pytest tests/test_transposed.py tests/test_explain_transposed_conv.py",
            ]
        ),
        "",
    ]
    return "\n".join(L)


def main(argv: Sequence[str] | None = None) -> int:
    """Compute, save results, draw the figures, write the page. Returns the exit status."""
    ap = E._Parser(description=__doc__.splitlines()[0])  # errors: one line, no usage block
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--no-figures", action="store_true", help="skip drawing the figures")
    try:
        args = ap.parse_args(argv)
    except E._UsageError as err:
        print(f"transposed_tutorial: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.trials < 1:
        print(
            f"transposed_tutorial: error: expected --trials >= 1, got {args.trials}",
            file=sys.stderr,
        )
        return 2
    torch.set_num_threads(1)
    result = run(TutorialConfig(seed=args.seed, trials=args.trials))
    js, _ = save(result)
    if not args.no_figures:
        for script in FIGURE_SCRIPTS:
            proc = subprocess.run(
                [sys.executable, str(ROOT / "figures" / f"{script}.py")],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                print(
                    f"transposed_tutorial: error: {script} failed: "
                    f"{proc.stderr.strip().splitlines()[-1:]}",
                    file=sys.stderr,
                )
                return 1
    meta = json.loads(js.read_text())
    _atomic_write(DOC, render_markdown(result, meta).encode())
    print(
        f"wrote {js.relative_to(ROOT)}, {DOC.relative_to(ROOT)}"
        f"{'' if args.no_figures else ', figures/fig_transposed_*.{png,pdf}'}"
        f" ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
