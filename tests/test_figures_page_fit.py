"""Every figure fits a page: at most 7 in wide as saved, no text under 7 pt; family colours.

Each figure script is drawn from the committed results (``results/``) with the saver replaced
by :func:`figures.style.check_page_fit`, so the check sees exactly the figure that would be
written, at its saved (tight) size.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from antialias import variants
from figures import _main, style

FIGURES = Path(__file__).resolve().parents[1] / "figures"
RESULTS = FIGURES.parent / "results"
SCRIPTS = sorted(p.stem for p in FIGURES.glob("fig*.py"))


def test_page_fit_measures_width_and_fonts() -> None:
    style.apply_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("a title", fontsize=9)
    width, font = style.page_fit(fig)
    assert 2.0 < width <= 3.05 and font == pytest.approx(8.0)  # tick labels: 8 pt (style)
    style.check_page_fit(fig, "ok")
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    with pytest.raises(ValueError, match=r"expected figure small .* got .* and 5 pt"):
        style.check_page_fit(fig, "small")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 2))
    assert style.page_fit(fig)[0] > 7.0
    with pytest.raises(ValueError, match=r"<= 7 in wide .* got 7\.\d+ in"):
        style.check_page_fit(fig, "wide")
    plt.close(fig)


def test_one_colour_per_family_one_marker_per_encoder() -> None:
    for name, row in variants.DESIGNS.items():
        look = style.variant_style(name)
        assert look["color"] == style.FAMILY_COLOR[row.family], name
        assert look["marker"] == style.ENCODER_MARKER[row.encoder], name
    families = {r.family for r in variants.DESIGNS.values()}
    assert len({style.FAMILY_COLOR[f] for f in families}) == len(families)  # distinct hues
    # designs sharing family and encoder differ in line style (tconv2/3/4)
    dashes = {style.variant_style(n)["linestyle"] for n in ("tconv2", "tconv3", "tconv4")}
    assert len(dashes) == 3


@pytest.mark.parametrize("name", SCRIPTS)
def test_figure_fits_a_page(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[tuple[float, float]] = []

    def check(fig: plt.Figure, stem: str, directory: Path) -> list[Path]:
        seen.append(style.page_fit(fig))
        style.check_page_fit(fig, stem)
        plt.close(fig)
        return []

    monkeypatch.setattr(_main, "save_figure", check)
    module = importlib.import_module(f"figures.{name}")
    assert module.main(["--results-root", str(RESULTS), "--out", str(tmp_path)]) == 0
    assert len(seen) == 1, f"{name} drew no figure"
    width, font = seen[0]
    assert width <= style.PAGE_WIDTH_IN + 0.05 and font >= style.MIN_FONT_PT, seen[0]


def test_count_says_one_seed_and_three_seeds() -> None:
    assert [style.count(n, "seed") for n in (0, 1, 3)] == ["0 seeds", "1 seed", "3 seeds"]
