"""What the transposed-convolution tutorial computes, and its result files.

:func:`run` computes everything (no I/O, no printing); :func:`save` writes
``results/transposed_tutorial/tutorial.json`` (scalars, tables, provenance) and
``tutorial.npz`` (arrays) as one result set; the figure scripts ``figures/fig_transposed_*.py``
draw only from those two files; :mod:`analysis.tutorial.page` writes the page from the same
result.

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
  to real image detail (``skimage.data.camera`` reduced 2x, then up-sampled back), for each
  way of making the input in :data:`INPUTS`;
- the U-Net up-step itself and the initialisation facts (:mod:`analysis.tutorial.unet_layer`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from analysis.tutorial import unet_layer as U
from antialias import transposed as T
from antialias.files import npz_bytes, write_result_set
from antialias.tools import explain_transposed as E

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "transposed_tutorial"


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
    """Output sizes of the common U-Net settings, and an impossible request."""
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
    """The three views against ``F.conv_transpose2d`` over :data:`SWEEP`, and autograd."""
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
    """Checkerboard index of a flat-input response (:func:`analysis.tutorial.unet_layer.
    phase_spread`): 0 = flat output; 1 = a pattern as large as the signal."""
    return U.phase_spread(y, stride, border)


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
    """The flat-input checkerboard of each up-sampler at initialisation, per seed."""
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
    """How many kernels each up-sampler family can express (ranks, free directions)."""
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
    """1-D responses of the example's kernels (for the spectrum figure)."""
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


INPUTS = {  # how the low-resolution input of the fits is made from the target
    "average-pooled 2x2": lambda t: F.avg_pool2d(t, 2),
    "decimated (every 2nd pixel)": lambda t: t[..., ::2, ::2],
    "triangle-filtered, decimated": lambda t: F.interpolate(
        t, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False
    ),
}
"""Input families of the refit: the claim "bilinear + 3x3 beats every transposed conv up to
4x4" is stated per family, because it depends on how the input was made."""


def _fit_study(cfg: TutorialConfig, make_input: str = "average-pooled 2x2") -> dict:
    """Least-squares fit of each up-sampling family to real image detail (one channel).

    Input: a ``crop x crop`` window of ``skimage.data.camera`` (in [0, 1]), reduced 2x by
    ``INPUTS[make_input]``; target: the window itself. Each family is linear in its
    parameters, so the best member is a least-squares solve over the responses to its basis
    kernels (interior pixels only).
    """
    from skimage import data as skdata

    img = torch.from_numpy(skdata.camera()).to(torch.float64) / 255.0
    h0 = (img.shape[0] - cfg.crop) // 2
    target = img[h0 : h0 + cfg.crop, h0 : h0 + cfg.crop][None, None]
    x = INPUTS[make_input](target).contiguous()
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
    return {
        "rows": rows,
        "input": list(x.shape[-2:]),
        "target": list(target.shape[-2:]),
        "make_input": make_input,
        "bilinear_3x3_beats_tconv_up_to_4x4": _beats(rows, "bilinear + conv 3x3", 16),
    }


def _beats(rows: list[dict], name: str, max_params: int) -> bool:
    """Whether family ``name`` has a higher PSNR than every transposed conv of at most
    ``max_params`` parameters."""
    best = {r["family"]: r["psnr_db"] for r in rows}[name]
    return all(
        best > r["psnr_db"]
        for r in rows
        if r["family"].startswith("transposed") and r["params"] <= max_params
    )


def _overlap() -> dict:
    """How many kernel taps reach each output pixel, kernel 3 vs 4 at stride 2."""
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
        "fit_by_input": {name: _fit_study(config, name) for name in INPUTS},
        "unet_layer": U.compute(config.seed),
    }


def _arrays(result: dict) -> dict[str, np.ndarray]:
    """The arrays of ``tutorial.npz`` (what the figure scripts draw)."""
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
    """The JSON part of a result (tensors as lists, the walkthrough as its numbers)."""
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
    out["unet_layer"] = _lists(result["unet_layer"])
    return out


def _lists(node: object) -> object:
    """``node`` with every tensor as (nested) lists."""
    if isinstance(node, Tensor):
        return node.tolist()
    if isinstance(node, dict):
        return {k: _lists(v) for k, v in node.items()}
    return node


def save(result: dict, directory: Path = RESULTS) -> tuple[Path, Path]:
    """Write ``tutorial.json`` (with provenance) and ``tutorial.npz`` as one result set."""
    from antialias.provenance import provenance

    meta = _jsonable(result)
    meta["provenance"] = provenance()
    npz, js = write_result_set(directory, "tutorial", meta, {".npz": npz_bytes(_arrays(result))})
    return js, npz
