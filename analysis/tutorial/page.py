"""The page of the transposed-convolution tutorial: one renderer per section, numbers read.

:func:`render_markdown` turns the result of :func:`analysis.tutorial.compute.run` (and the
provenance of its saved JSON) into ``docs/transposed_convolution.md``. Nothing here computes a
measurement; the derived comparisons shared by several sections are made once in
:func:`_facts`.

What does not live here: the computations and files (:mod:`analysis.tutorial.compute`).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import torch
from torch import Tensor

from analysis.tutorial import page_unet as PU
from analysis.tutorial.compute import SWEEP
from antialias.tools import explain_transposed as E


def _e(v: float) -> str:
    """A small error in the page's format (``4.4e-15``)."""
    return f"{v:.1e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table as lines."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _code(lines: Sequence[str]) -> list[str]:
    """A fenced code block as lines."""
    return ["```", *lines, "```"]


def _grid(t: Tensor | list) -> list[str]:
    """A 2-D tensor as a right-aligned grid of numbers (as the walkthrough prints it)."""
    return E.grid(torch.as_tensor(t, dtype=torch.float64), indent="")


def _fig(name: str, alt: str) -> str:
    """A Markdown image of ``figures/<name>.png``."""
    return f"![{alt}](../figures/{name}.png)"


def render_markdown(result: dict, meta: dict | None = None) -> str:
    """The tutorial page, every number taken from ``result`` (and ``meta``'s provenance).

    One renderer per section; each reads ``result`` and the shared values of :func:`_facts`.
    """
    f = _facts(result, meta)
    sections = (
        _short_answer,
        _unet,
        _shapes,
        _worked_example,
        _views,
        _checkerboards,
        _initialisation,
        _fixed_interpolation,
        _fits,
        _answer,
        _reproduce,
    )
    return "\n".join(line for section in sections for line in section(result, f))


def _facts(result: dict, meta: dict | None) -> SimpleNamespace:
    """The values several sections share, derived once from ``result`` and ``meta``."""
    sh, walk, sw = result["shapes"], result["walk"], result["sweep"]
    ex, init, fams, fit = result["example"], result["init"], result["families"], result["fit"]
    wc = walk.config
    prov = (meta or {}).get("provenance", {})
    commit = f"`{prov['git_commit']}`" if prov.get("git_commit") else "not recorded"
    torch_version = (prov.get("versions") or {}).get("torch") or "not recorded"
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
    return SimpleNamespace(
        wc=wc,
        prov=prov,
        commit=commit,
        torch_version=torch_version,
        fit_rows=fit_rows,
        fam_rows=fam_rows,
        bic=bic,
        tconvs=tconvs,
        small_tconvs=small_tconvs,
        bc3_beats_small=bc3_beats_small,
        gain4=gain4,
        gain6=gain6,
        extra4=extra4,
        checker_dims4=checker_dims4,
        max_ratio=max_ratio,
        beats=beats,
        stage_macs=stage_macs,
        default_spreads=default_spreads,
        sh=sh,
        walk=walk,
        sw=sw,
        ex=ex,
        init=init,
        fams=fams,
        fit=fit,
        t4=t4,
        nc3=nc3,
        bc3=bc3,
        t6=t6,
        nc5=nc5,
        tconv_stage=tconv_stage,
        resize_stage=resize_stage,
        nearest_stage=nearest_stage,
    )


def _short_answer(result: dict, f: SimpleNamespace) -> list[str]:
    """Title, provenance line, the question and the short answer."""
    commit, torch_version, gain4, default_spreads, sw, t4, nc3, bc3 = (
        f.commit,
        f.torch_version,
        f.gain4,
        f.default_spreads,
        f.sw,
        f.t4,
        f.nc3,
        f.bc3,
    )
    L: list[str] = []
    L += [
        "# Transposed convolution, computed: shapes, three equivalent views, initialisation",
        "",
        "<!-- generated by analysis/transposed_tutorial.py; do not edit by hand -->",
        "",
        f"Generated by `python analysis/transposed_tutorial.py` (git commit {commit}, torch "
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
        f"as a periodic pattern: the checkerboard (index = spread of the phase means / their "
        f"level). {PU.baseline_sentence(result, default_spreads)}.",
        "4. **Nearest or bilinear up-sampling followed by a convolution is itself a learned "
        "transposed convolution**, whose kernel is forced to be `box * K` (or `triangle * K`). "
        "The box has zeros exactly where the checkerboard lives (the images of DC), so a "
        "resize-conv cannot checkerboard on flat regions, at initialisation or after training. "
        "That is why a fixed interpolation makes sense: the conv after it is the learned part.",
        f"5. **What it gives up, measured**: fitted to real image detail, nearest + 3x3 conv "
        f"({nc3['params']} parameters) reaches {nc3['psnr_db']:.2f} dB, a free 4x4 transposed "
        f"conv ({t4['params']} parameters, same 4x4 footprint) {t4['psnr_db']:.2f} dB "
        f"({gain4:+.4f} dB); bilinear + 3x3 conv ({bc3['params']} parameters) "
        f"{PU.beats_phrase(result)} (§6).",
        "",
    ]
    return L


def _unet(result: dict, f: SimpleNamespace) -> list[str]:
    """§0: the 2x2 stride-2 up-conv of a U-Net, the skip and the two convs
    (:func:`analysis.tutorial.page_unet.unet_section`)."""
    return PU.unet_section(result)


def _shapes(result: dict, f: SimpleNamespace) -> list[str]:
    """§1: the shape formulas and the common U-Net settings."""
    sh = f.sh
    L: list[str] = []
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
    return L


def _worked_example(result: dict, f: SimpleNamespace) -> list[str]:
    """§2: the integer walkthrough (4x4 input, kernel 3, stride 2)."""
    wc, walk = f.wc, f.walk
    L: list[str] = []
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
    return L


def _views(result: dict, f: SimpleNamespace) -> list[str]:
    """§3: zero insertion, matrix and polyphase views, checked."""
    wc, walk, sw = f.wc, f.walk, f.sw
    L: list[str] = []
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
    return L


def _checkerboards(result: dict, f: SimpleNamespace) -> list[str]:
    """§4: overlap counts, phase gains and responses at the DC images."""
    ex = f.ex
    L: list[str] = []
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
    return L


def _initialisation(result: dict, f: SimpleNamespace) -> list[str]:
    """§5: the checkerboard of each up-sampler at initialisation."""
    init = f.init
    L: list[str] = []
    L += [
        "## 5. Initialisation, and why it matters",
        "",
        *PU.init_lines(result),
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
        f"{PU.baseline_sentence(result, f.default_spreads)}. Bilinear and ICNR initialisation "
        "start exactly flat, like the resize-convs; they differ from them in that training may "
        "move away from flat.",
        "",
    ]
    return L


def _fixed_interpolation(result: dict, f: SimpleNamespace) -> list[str]:
    """§6, first half: resize-conv as a constrained transposed conv (ranks)."""
    fam_rows, checker_dims4, ex, fams = f.fam_rows, f.checker_dims4, f.ex, f.fams
    L: list[str] = []
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
    ]
    return L


def _fits(result: dict, f: SimpleNamespace) -> list[str]:
    """§6, second half: least-squares fits of every family to real image detail."""
    (
        bic,
        gain4,
        gain6,
        extra4,
        max_ratio,
        beats,
        fit,
        bc3,
        tconv_stage,
        resize_stage,
        nearest_stage,
    ) = (
        f.bic,
        f.gain4,
        f.gain6,
        f.extra4,
        f.max_ratio,
        f.beats,
        f.fit,
        f.bc3,
        f.tconv_stage,
        f.resize_stage,
        f.nearest_stage,
    )
    L: list[str] = []
    L += [
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
        f"column). On this average-pooled input bilinear + 3x3 conv ({bc3['psnr_db']:.2f} dB) "
        f"{beats} every transposed conv up to 4x4, and "
        f"{'beats' if bc3['psnr_db'] > bic['psnr_db'] else 'does not beat'} "
        f"fixed bicubic ({bic['psnr_db']:.2f} dB).",
        "",
        *PU.refit_lines(result),
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
    ]
    return L


def _answer(result: dict, f: SimpleNamespace) -> list[str]:
    """§7: the user's question, answered from the numbers above."""
    fit_rows, gain4, extra4, ex, tconv_stage, resize_stage, nearest_stage = (
        f.fit_rows,
        f.gain4,
        f.extra4,
        f.ex,
        f.tconv_stage,
        f.resize_stage,
        f.nearest_stage,
    )
    L: list[str] = []
    L += [
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
        f"{gain4:+.4f} dB over nearest + 3x3 conv, and bilinear + 3x3 conv "
        f'{PU.beats_phrase(result)} (§6). "More control" (the quoted blog post) is real '
        "but, on these measurements, small; checkerboards are its price, unless you "
        "initialise with `init_bilinear_` (transposed conv) or `init_icnr_` (pixel shuffle) "
        "and training keeps the phases balanced.",
        "",
        "The U-Net paper describes each decoder step as an up-sampling of the feature map "
        'followed by a 2x2 convolution ("up-convolution"), the layer of §0. Both readings are '
        "transposed convolutions in the sense of this page: a 2x2 stride-2 transposed conv "
        "(no overlap: each output phase is a 1x1 conv, so its best fit above, "
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
        "wider next conv; wall-clock speed is not timed here (the verdict table of "
        "[the paper](paper.md) has it).",
        "",
    ]
    return L


def _reproduce(result: dict, f: SimpleNamespace) -> list[str]:
    """The commands that rebuild the page."""
    L: list[str] = []
    L += [
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
    return L
