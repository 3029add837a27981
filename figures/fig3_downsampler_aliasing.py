"""Figure 3: aliasing of the x2 down-samplers: strided conv, avg-pool, blur-pool, max-pool.

Reads ``results/spectra/spectra.{json,npz}`` (``python -m analysis.spectra``) and writes
``fig3_downsampler_aliasing.{png,pdf}``:

(a) power transfer ``|H(f)|^2`` of the linear down-samplers (lines: analytic from the taps;
    markers: measured with cosine probes), alias band ``f > 1/(2 down)`` shaded;
(b) max-pool and max-blur-pool: the power that lands where a cosine of frequency ``f`` should
    land (markers) lies exactly on avg-pool's / blur-pool's ``|H|^2`` (because
    ``max(a, b) = (a + b)/2 + |a - b|/2``), and what max adds is harmonic distortion
    (filled curves) at other frequencies;
(c) aliasing energy vs blur length ``n`` (share of ``|H|^2`` beyond the new Nyquist; 1-D analytic
    and probed, 2-D analytic; for the nonlinear ones probed at the landing frequency, and with
    the harmonic distortion counted as well).

Frequencies in input cycles/pixel (Nyquist 0.5). Every number comes from the results file.

Usage: ``python figures/fig3_downsampler_aliasing.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._spectral_common import Results, load_results  # noqa: E402
from figures.style import PALETTE  # noqa: E402

NAME = "fig3_downsampler_aliasing"
COMMAND = "python -m analysis.spectra"

# The blur-pool lengths drawn as curves in (a) and the max-blur-pool drawn in (b): display
# choices (3 is the shipped max-blur-pool); only those present in the results are drawn.
SHOWN_BLUR = (3, 5, 7)
SHOWN_MAXBLUR = 3
# Agreement below which two probed values are called equal in an annotation.
EQUAL_RTOL = 1e-3

C_STRIDED, C_AVG, C_BLUR, C_MAX = "#000000", PALETTE[0], PALETTE[3], PALETTE[7]
BLUR_SHADES = {3: PALETTE[2], 5: PALETTE[3], 7: PALETTE[4]}


def _sizes(res: Results, prefix: str) -> list[int]:
    down = res.get("downsamplers")
    if not isinstance(down, dict):
        raise res._fail("expected 'downsamplers' to be a JSON object")
    return sorted(int(m.group(1)) for k in down if (m := re.fullmatch(prefix + r"(\d+)", k)))


def _share(res: Results, name: str, key: str) -> float | None:
    return res.number("downsamplers", name, key, allow_none=True)


def draw(res: Results) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    down = int(res.number("config", "down"))
    edge = 1.0 / (2 * down)
    f1 = res.array("freqs_1d", ndim=1)
    fp = res.array("probe_freqs", ndim=1)
    for name in ("maxpool", "strided_conv", "avgpool"):
        res.get("downsamplers", name)
    blur, maxblur = _sizes(res, "blurpool"), _sizes(res, "maxblurpool")
    if not blur:
        raise res._fail("expected blur-pool entries 'blurpool<n>' under 'downsamplers'")

    def transfer(name: str) -> np.ndarray:
        return res.array(f"down__{name}__transfer", shape=fp.shape)

    def distortion(name: str) -> np.ndarray:
        return res.array(f"down__{name}__distortion", shape=fp.shape)

    def power(name: str) -> np.ndarray:
        return res.array(f"down__{name}__mag1d", shape=f1.shape) ** 2

    fig = plt.figure(figsize=(7.2, 6.6))
    grid = fig.add_gridspec(2, 1, height_ratios=[1, 1.05], hspace=0.75)
    top = grid[0].subgridspec(1, 2, wspace=0.28)
    ax_a, ax_b = fig.add_subplot(top[0]), fig.add_subplot(top[1])
    ax_c = fig.add_subplot(grid[1].subgridspec(1, 2, width_ratios=[1.25, 1])[0])
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.2), "fontsize": 7, "ncol": 2}
    every = max(1, fp.size // 16)  # probe markers: a readable subset, evenly spaced
    probe = {"linestyle": "none", "markersize": 3.5, "markerfacecolor": "none"}

    # (a) linear down-samplers: analytic |H|^2 and probed transfer
    curves = [("strided_conv", "strided conv (no filter)", C_STRIDED, "o")]
    curves.append(("avgpool", "avg-pool 2x2", C_AVG, "s"))
    curves += [
        (f"blurpool{n}", f"blur-pool, binomial-{n}", BLUR_SHADES.get(n, C_BLUR), "D")
        for n in SHOWN_BLUR
        if n in blur
    ]
    for name, label, color, marker in curves:
        ax_a.plot(f1, power(name), color=color, label=label)
        ax_a.plot(fp[::every], transfer(name)[::every], marker=marker, color=color, **probe)
    ax_a.set_title("(a) linear down-samplers\n|H(f)|² (lines), probed (markers)")
    ax_a.legend(handlelength=1.8, columnspacing=1.0, **below)

    # (b) the nonlinear ones: landing-frequency transfer = the linear twin; distortion added
    pairs = [("maxpool", "avgpool", "max-pool 2", "avg-pool", C_MAX, C_AVG)]
    if SHOWN_MAXBLUR in maxblur and SHOWN_MAXBLUR + 1 in blur:
        n = SHOWN_MAXBLUR
        pairs.append(
            (f"maxblurpool{n}", f"blurpool{n + 1}", f"max-blur-pool {n}", f"blur-pool {n + 1}")
            + (PALETTE[6], BLUR_SHADES.get(n + 1, C_BLUR))
        )
    for i, (nl, lin, nl_label, lin_label, color, lin_color) in enumerate(pairs):
        ax_b.plot(f1, power(lin), color=lin_color, label=f"{lin_label}: |H|²", zorder=2)
        ax_b.plot(
            fp[i::every],
            transfer(nl)[i::every],
            marker="o^"[i % 2],
            color=color,
            label=f"{nl_label}: at landing f",
            **probe,
        )
        ax_b.fill_between(
            fp,
            distortion(nl),
            color=color,
            alpha=0.25 if i == 0 else 0.18,
            linewidth=0.8,
            edgecolor=color,
            hatch=None if i == 0 else "///",
            label=f"{nl_label}: harmonics",
        )
    # The identity is stated only as far as the probed numbers show it: the dense probes are
    # dyadic frequencies ((2j+1)/256), where max-pool's landing power equals avg-pool's; at
    # non-dyadic probes (results' landing_power) it depends on the phase: drawn as ranges.
    gap = float(np.abs(transfer("maxpool") - transfer("avgpool")).max())
    relation = "=" if gap <= EQUAL_RTOL else "vs"
    odd = _non_dyadic_probes(res)
    for k, probe_row in enumerate(odd):
        f = probe_row["f"]
        ax_b.vlines(f, probe_row["lo"], probe_row["hi"], color=C_MAX, linewidth=2.2, zorder=4)
        ax_b.plot(f, probe_row["avg"], marker="_", markersize=9, color=C_AVG, zorder=5)
        ax_b.annotate(
            probe_row["fraction"],
            (f, probe_row["hi"]),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=7,
            color=C_MAX,
        )
        if k == 0:
            label = "max-pool, non-dyadic f:\nrange over phases"
            ax_b.plot([], [], color=C_MAX, linewidth=2.2, label=label)
    where = " at dyadic f only" if odd and relation == "=" else ""
    ax_b.set_title(f"(b) max-pool: landing power {relation} avg-pool's{where},\nplus harmonics")
    ax_b.text(
        0.02,
        0.09,
        f"max |max-pool - avg-pool|\nat dyadic landing f: {gap:.1e}",
        transform=ax_b.transAxes,
        fontsize=7,
        color="#333333",
    )
    ax_b.legend(handlelength=1.8, columnspacing=1.0, **below)

    top_b = max([1.0] + [float(r["hi"]) for r in odd]) * 1.12  # a phase can exceed 1
    for ax, top in ((ax_a, 1.08), (ax_b, top_b)):
        ax.axvspan(edge, 0.5, color="#DDDDDD", alpha=0.6, linewidth=0, zorder=0)
        ax.set_xlim(0, 0.5)
        ax.set_ylim(0, top)
        ax.set_xlabel("f (input cycles/pixel)")
        ax.text(edge + 0.01, 0.95, "aliased band", fontsize=7, color="#444444", va="top")
    ax_a.set_ylabel("output power / input power")

    # (c) aliasing energy vs blur length
    n_blur = np.array(blur)
    a1 = [_share(res, f"blurpool{n}", "aliasing_energy_1d") for n in blur]
    a2 = [_share(res, f"blurpool{n}", "aliasing_energy_2d") for n in blur]
    e1 = [_share(res, f"blurpool{n}", "aliasing_energy_empirical_1d") for n in blur]
    pct = lambda v: np.array([np.nan if x is None else 100 * x for x in v])  # noqa: E731
    ax_c.plot(n_blur, pct(a2), color=C_BLUR, linestyle="--", label="blur-pool, 2-D analytic")
    ax_c.plot(n_blur, pct(a1), color=C_BLUR, label="blur-pool, 1-D analytic")
    ax_c.plot(n_blur, pct(e1), color=C_BLUR, marker="o", label="blur-pool, 1-D probed", **probe)
    if maxblur:
        n_mb = np.array(maxblur)
        land = [_share(res, f"maxblurpool{n}", "aliasing_energy_empirical_1d") for n in maxblur]
        full = [
            _share(res, f"maxblurpool{n}", "aliasing_energy_with_distortion_1d") for n in maxblur
        ]
        ax_c.plot(n_mb, pct(full), color=PALETTE[6], marker="^", label="max-blur-pool, + harmonics")
        ax_c.plot(
            n_mb,
            pct(land),
            color=PALETTE[6],
            marker="v",
            linestyle=":",
            label="max-blur-pool, at landing f",
        )
    for key, style, text in (
        ("aliasing_energy_with_distortion_1d", "-", "max-pool, + harmonics"),
        ("aliasing_energy_empirical_1d", ":", "max-pool, at landing f"),
    ):
        value = _share(res, "maxpool", key)
        if value is not None:
            ax_c.axhline(100 * value, color=C_MAX, linestyle=style, linewidth=1.0, label=text)
    ax_c.set_yscale("log")
    ax_c.set_xticks(n_blur, _tick_labels(res, blur))
    ax_c.set_xlabel("blur length n (binomial taps)")
    ax_c.set_ylabel("aliasing energy (% of output power)")
    ax_c.set_title("(c) aliasing energy vs filter length")
    ax_c.legend(loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=7.5, handlelength=2.4)
    ax_c.text(
        1.06,
        0.0,
        f"aliasing energy: share of the output power that\ncomes from inputs above "
        f"f = {edge:g} (folded back).\n'at landing f': a cosine's power where it should\n"
        "land; '+ harmonics': also the power max-pool\ncreates at other frequencies.",
        transform=ax_c.transAxes,
        fontsize=7,
        va="bottom",
        color="#333333",
    )
    note = _maxblur_note(res, blur, maxblur)
    if note:
        ax_c.text(0.03, 0.03, note, transform=ax_c.transAxes, fontsize=7, color="#333333")
    return fig


def _non_dyadic_probes(res: Results) -> list[dict[str, float | str]]:
    """Max-pool's landing power at the non-dyadic probes: min / max over phases, avg-pool's."""
    landing = res.meta.get("landing_power")
    if not isinstance(landing, dict):
        return []  # results written before the non-dyadic probes existed
    rows: list[dict[str, float | str]] = []
    for probe in landing.get("probes", []):
        if probe.get("dyadic", True):
            continue
        values = [probe.get(k) for k in ("f", "maxpool_power_min", "maxpool_power_max")]
        values.append(probe.get("avgpool_power"))
        if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in values):
            raise res._fail("expected finite numbers in 'landing_power/probes'")
        f, lo, hi, avg = (float(v) for v in values)
        fraction = str(probe.get("fraction", f"{f:.3g}"))
        rows.append({"f": f, "fraction": fraction, "lo": lo, "hi": hi, "avg": avg})
    return rows


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= EQUAL_RTOL * max(abs(b), 1e-12)


def _tick_labels(res: Results, blur: list[int]) -> list[str]:
    """``n``, plus the down-sampler that blur-pool ``n`` equals when the results show it."""
    twins = {1: ("strided_conv", "strided"), 2: ("avgpool", "avg")}
    labels = []
    for n in blur:
        label = str(n)
        if n in twins:
            other, name = twins[n]
            key = "aliasing_energy_1d"
            if _same(_share(res, f"blurpool{n}", key), _share(res, other, key)):
                label += f"\n{name}"
        labels.append(label)
    return labels


def _maxblur_note(res: Results, blur: list[int], maxblur: list[int]) -> str:
    """State "max-blur-pool n = blur-pool n+1 at the landing frequency" only if the data agree."""
    key = "aliasing_energy_empirical_1d"
    pairs = [(n, n + 1) for n in maxblur if n + 1 in blur]
    if pairs and all(
        _same(_share(res, f"maxblurpool{a}", key), _share(res, f"blurpool{b}", key))
        for a, b in pairs
    ):
        return "at landing f: max-blur-pool n\n= blur-pool n+1 (dotted)"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring); returns the exit status."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="spectra",
        load=lambda folder: load_results(folder, "spectra", COMMAND),
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
