"""The tutorial page's U-Net up-step section and the statements that depend on the input family
or on a random baseline (every number read from the result of :mod:`analysis.tutorial.compute`).

What does not live here: the other sections (:mod:`analysis.tutorial.page`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["baseline_sentence", "beats_phrase", "init_lines", "refit_lines", "unet_section"]


def _grid(t: object) -> list[str]:
    rows = torch.as_tensor(t).tolist()
    width = max(len(f"{v:g}") for row in rows for v in row)
    return [" ".join(f"{v:g}".rjust(width) for v in row) for row in rows]


def _side(blocks: Sequence[tuple[str, list[str]]], gap: int = 4) -> list[str]:
    widths = [max(len(title), *(len(x) for x in lines)) for title, lines in blocks]
    height = max(len(lines) for _, lines in blocks)
    out = ["".join(t.ljust(w + gap) for (t, _), w in zip(blocks, widths)).rstrip()]
    for i in range(height):
        cells = [(lines[i] if i < len(lines) else "") for _, lines in blocks]
        out.append("".join(c.ljust(w + gap) for c, w in zip(cells, widths)).rstrip())
    return out


def unet_section(result: dict) -> list[str]:
    """Section 0: ``ConvTranspose2d(C, C/2, 2, stride=2)``, the skip and the two 3x3 convs."""
    u = result["unet_layer"]
    lay, h, sh, d = u["layer"], u["hand"], u["shuffle"], u["default_init"]
    c, n = lay["c"], lay["size"]
    p = lay["params"]
    x, w = torch.as_tensor(h["x"]), torch.as_tensor(h["weight"])
    terms = " + ".join(f"{a}*{b if b >= 0 else f'({b})'}" for a, b in h["h1_00_terms"])
    h1_00 = torch.as_tensor(h["h1"])[0, 0, 0, 0]
    L = [
        "## 0. The layer a U-Net actually uses: `ConvTranspose2d(C, C/2, kernel_size=2, stride=2)`",
        "",
        f"After the bottleneck (here `C = {c}` channels at {n}x{n}) each decoder step is:",
        "",
        "| step | shape | parameters |",
        "|---|---|---|",
        f"| bottleneck `x` | `(N, {c}, {n}, {n})` | - |",
        f"| `ConvTranspose2d({c}, {c // 2}, 2, stride=2)`, weight `{tuple(lay['weight_shape'])}`"
        f" | `(N, {c // 2}, {2 * n}, {2 * n})` | {c}*{c // 2}*2*2 + {c // 2} = {p['up']:,} |",
        f"| `torch.cat([skip, up], dim=1)` (skip `(N, {c // 2}, {2 * n}, {2 * n})`) | "
        f"`(N, {c}, {2 * n}, {2 * n})` | 0 |",
        f"| `Conv2d({c}, {c // 2}, 3, padding=1)` + ReLU | `(N, {c // 2}, {2 * n}, {2 * n})` | "
        f"{p['conv1']:,} |",
        f"| `Conv2d({c // 2}, {c // 2}, 3, padding=1)` + ReLU | "
        f"`(N, {c // 2}, {2 * n}, {2 * n})` | {p['conv2']:,} |",
        "",
        "Output size `(H - 1)*2 - 0 + (2 - 1) + 1 = 2H`: with kernel = stride = 2 the stamps "
        "of neighbouring input pixels never overlap, so each input pixel writes its own 2x2 "
        "output block: `y[:, 2i + a, 2j + b] = sum_c x[c, i, j] * w[c, :, a, b]`. That is four "
        "1x1 convs (one per output phase `(a, b)`) interleaved, i.e. **one 1x1 conv to "
        f"`4 * C/2 = {4 * (c // 2)}` channels followed by `PixelShuffle(2)`**, weight "
        f"`W1[c*4 + a*2 + b, i] = w[i, c, a, b]` of shape `{tuple(lay['weight_1x1_shape'])}`; "
        f"checked at `C = {sh['c']}`: max relative error {sh['max_relative_error']:.1e}.",
        "",
        "A 2-channel example small enough to check by hand (`C = 2`, so `C/2 = 1`; biases 0):",
        "",
        "```",
        *_side(
            [
                ("x channel 0", _grid(x[0, 0])),
                ("x channel 1", _grid(x[0, 1])),
                ("w[0, 0]", _grid(w[0, 0])),
                ("w[1, 0]", _grid(w[1, 0])),
                ("up = ConvTranspose2d(2, 1, 2, 2)(x)", _grid(torch.as_tensor(h["up"])[0, 0])),
            ]
        ),
        "```",
        "",
        f"Top-left block: `x[0,0,0]*w[0,0] + x[1,0,0]*w[1,0] = {x[0, 0, 0, 0]:g}*w[0,0] + "
        f"{x[0, 1, 0, 0]:g}*w[1,0]`; every block the same way (error of that hand rule: "
        f"{h['by_hand_error']:.1e}; of the 1x1 conv + pixel shuffle: {h['shuffle_error']:.1e}). "
        "Then the skip (1 channel) is concatenated in front, giving `(1, 2, 4, 4)`, and the "
        "two 3x3 convs (zero padding 1) run on it:",
        "",
        "```",
        *_side(
            [
                ("skip", _grid(torch.as_tensor(h["skip"])[0, 0])),
                ("k1[0, 0] (on skip)", _grid(torch.as_tensor(h["k1"])[0, 0])),
                ("k1[0, 1] (on up)", _grid(torch.as_tensor(h["k1"])[0, 1])),
                ("h1 = ReLU(conv)", _grid(torch.as_tensor(h["h1"])[0, 0])),
                ("k2", _grid(torch.as_tensor(h["k2"])[0, 0])),
                ("h2 = ReLU(conv(h1))", _grid(torch.as_tensor(h["h2"])[0, 0])),
            ]
        ),
        "```",
        "",
        f"`h1[0, 0] = ReLU({terms}) = {h1_00:g}` (only the lower-right 2x2 taps of each kernel "
        "meet the image at the corner; the others see the zero padding).",
        "",
        f"Initialisation of this layer (PyTorch default, tested): the bound is "
        f"`1/sqrt(C_out * k * k)`, not `1/sqrt(C_in * k * k)` (§5), so on unit-variance input "
        f"the up-conv's output has standard deviation `sqrt(C_in / (3 C_out k^2))` = "
        f"{d['unet_output_std_formula']:.3f} (measured {d['unet_output_std']:.3f} at "
        "`C_in = 512`).",
        "",
        "The rest of this page is the general case: any kernel, stride and padding (§1-3), "
        "kernels that overlap (3x3, 4x4 at stride 2) and the checkerboards they make (§4).",
        "",
    ]
    return L


def baseline_sentence(result: dict, spreads: Sequence[float]) -> str:
    """The checkerboard-at-initialisation statement, with the random-phase baseline."""
    b = result["unet_layer"]["baseline"]
    return (
        f"At default initialisation its index is {min(spreads):.2f}-{max(spreads):.2f} (medians "
        f"over {result['config']['trials']} seeds, §5), which is what {b['stride'] ** 2} "
        f"independent zero-mean phase gains give: `sqrt(s^2 - 1)` = "
        f"{b['sqrt_phases_minus_1']:.2f} in expectation, median {b['median']:.2f} "
        f"(5-95%: {b['q05']:.2f}-{b['q95']:.2f}) over {b['draws']:,} random draws. It says the "
        "phases start independent, not that one layer is worse than another"
    )


def init_lines(result: dict) -> list[str]:
    """§5 bullets: PyTorch's default init (fan-in from the second axis), FCN's bilinear init
    for ``C_in = 2 C_out``, ICNR for the U-Net form."""
    u = result["unet_layer"]
    d, bh, ic = u["default_init"], u["bilinear_halving"], u["icnr"]
    return [
        "- **PyTorch's default**: `ConvTranspose2d.reset_parameters` calls "
        "`kaiming_uniform_(weight, a=sqrt(5))`, i.e. uniform in `+-gain*sqrt(3/fan_in)` with "
        "`gain = sqrt(2/(1+a^2)) = sqrt(1/3)`: `+-1/sqrt(fan_in)` (the bias too). "
        "`_calculate_fan_in_and_fan_out` takes `fan_in = weight.size(1) * k * k`, written for "
        "`Conv2d`'s `(C_out, C_in, k, k)`; a transposed weight is `(C_in, C_out/groups, k, k)`, "
        f"so its 'fan-in' is `C_out * k * k`. For `ConvTranspose2d({d['c_in']}, {d['c_out']}, "
        f"{d['k']})`: fan_in = {d['fan_in']}, bound {d['bound']:.4f} (not "
        f"{d['bound_if_fan_in_were_c_in']:.4f}); torch's draw equals the formula's draw with "
        f"the same seed (max difference {d['weight_error']:.1e}).",
        "- **Default init draws every tap independently**, so the phase gains differ and the "
        "layer starts with a checkerboard that training must remove (table below).",
        "- **Bilinear init (FCN, `init_bilinear_`)**: the separable triangle "
        "`1 - |t - (k-1)/2| / s` on the channel diagonal, zeros elsewhere. With `k = 2s - s%2`, "
        "stride `s`, padding `(k - s)//2` the layer *is* `F.interpolate(mode='bilinear', "
        "align_corners=False)` except in the outer `s//2` pixels (interpolation repeats the "
        "edge, the transposed conv sees zeros; `tests/test_transposed.py`). It needs "
        "`C_in == C_out`; the U-Net up-conv has `C_in = 2 C_out`. Putting the triangle, halved, "
        f"at `w[i, i mod C_out]` makes output `c` the bilinear up-sampling of the mean of inputs "
        f"`c` and `c + C_out` (checked, `C_in = {bh['c_in']}`, `C_out = {bh['c_out']}`: max "
        f"interior error {bh['interior_error']:.1e}; flat-input checkerboard "
        f"{bh['flat_spread']:.1e}).",
        "- **ICNR (Aitken et al. 2017, `init_icnr_`)** for a conv feeding `PixelShuffle(s)`: "
        "draw one sub-kernel `W0`, copy it to all `s^2` phases. Then, exactly (tested, borders "
        "included): `PixelShuffle(conv(x, W)) == nearest(conv(x, W0)) == conv(nearest(x), W0, "
        "dilation=s, padding=s*p)`: it starts as *conv then nearest*. For the U-Net up-conv "
        "(1x1 conv + pixel shuffle, §0) that is nearest after a 1x1 conv (checked: max error "
        f"{ic['error']:.1e}).",
    ]


def refit_lines(result: dict) -> list[str]:
    """§6: the refit on every input family, and which way the claim goes for each."""
    flags = [f["bilinear_3x3_beats_tconv_up_to_4x4"] for f in result["fit_by_input"].values()]
    lead = (
        "The ranking depends on how the low-resolution input was made."
        if len(set(flags)) > 1
        else "The ranking is the same on every input family tried."
    )
    L = [
        f"{lead} The same fits on each input family (best PSNR in dB; 'beats' = bilinear + 3x3 "
        "conv above every transposed conv of at most 16 parameters):",
        "",
        "| input | bilinear + conv 3x3 | nearest + conv 3x3 | transposed 3x3 | transposed 4x4 "
        "| bilinear + 3x3 beats tconv <= 4x4 |",
        "|---|---|---|---|---|---|",
    ]
    for name, fit in result["fit_by_input"].items():
        rows = {r["family"]: r["psnr_db"] for r in fit["rows"]}
        L.append(
            f"| {name} | {rows['bilinear + conv 3x3']:.2f} | {rows['nearest + conv 3x3']:.2f} | "
            f"{rows['transposed 3x3']:.2f} | {rows['transposed 4x4']:.2f} | "
            f"{'yes' if fit['bilinear_3x3_beats_tconv_up_to_4x4'] else 'no'} |"
        )
    L.append("")
    reversed_on = [
        n for n, f in result["fit_by_input"].items() if not f["bilinear_3x3_beats_tconv_up_to_4x4"]
    ]
    if any(n.startswith("decimated") for n in reversed_on):
        L += [
            "Why the decimated input reverses it: its samples sit at the top-left of each 2x2 "
            "block, not at the centre that bilinear (`align_corners=False`) assumes; a free "
            "transposed conv can learn that offset, a fixed bilinear factor followed by a "
            "centred 3x3 conv only partly.",
            "",
        ]
    return L


def beats_phrase(result: dict) -> str:
    """'beats every transposed conv up to 4x4 on inputs A and B but not on C', from the fits."""
    by = result["fit_by_input"]
    yes = [n for n, f in by.items() if f["bilinear_3x3_beats_tconv_up_to_4x4"]]
    no = [n for n, f in by.items() if not f["bilinear_3x3_beats_tconv_up_to_4x4"]]
    if not no:
        return "beats every transposed conv up to 4x4 on every input family tried"
    if not yes:
        return "does not beat every transposed conv up to 4x4 on any input family tried"
    return (
        f"beats every transposed conv up to 4x4 on the {' and '.join(yes)} input, but not on "
        f"the {' and '.join(no)} input"
    )
