"""Shared figure style: one colour, marker and label per variant, and atomic PNG + PDF saving.

One colour per design family and one marker per encoder, both read from the one table of
designs (:mod:`antialias.variants`), so a new design of a known family is drawn without a change
here. Every figure fits a page: at most :data:`PAGE_WIDTH_IN` wide as saved, no text under
:data:`MIN_FONT_PT` (:func:`check_page_fit`, asserted by the tests for every figure script).

Saving is byte-reproducible: the same results (and the same matplotlib) give the same PNG and
PDF bytes. Matplotlib stamps a PDF with its creation date (or ``SOURCE_DATE_EPOCH`` when set,
which would still differ between users); :data:`SAVE_METADATA` removes the date and fixes every
other stamp, whatever the environment, and ``svg.hashsalt`` fixes the ids of an SVG.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from antialias import variants  # noqa: E402
from antialias.files import atomic_write_bytes  # noqa: E402

FIGURES_DIR = Path(__file__).resolve().parent
RESULTS_DIR = FIGURES_DIR.parent / "results"
STYLE_FILE = FIGURES_DIR / "antialias.mplstyle"

#: Display order and labels of the U-Net variants: the one table, antialias.variants.
VARIANT_ORDER: tuple[str, ...] = variants.order()
VARIANT_LABEL: dict[str, str] = {name: variants.label(name) for name in VARIANT_ORDER}

#: One colour per design family (:attr:`antialias.variants.Design.family`): Paul Tol's
#: "vibrant" palette, colour-blind safe. A design's colour comes from its family, never from a
#: per-design list, so a new design of a known family needs no change here.
FAMILY_COLOR: dict[str, str] = {
    "transposed": "#CC3311",
    "resize_conv": "#0077BB",
    "pixel_shuffle": "#009988",
    "blur": "#EE7733",
    "aps": "#000000",
    "interp_1x1": "#EE3377",
    "interp_only": "#33BBEE",
}
FAMILY_LABEL: dict[str, str] = {
    "transposed": "transposed conv",
    "resize_conv": "resize + conv",
    "pixel_shuffle": "pixel shuffle",
    "blur": "zeros + blur",
    "aps": "APS",
    "interp_1x1": "1x1 conv + interpolation",
    "interp_only": "interpolation only",
}
#: One marker per encoder (:attr:`antialias.variants.Design.encoder`); anti-aliased encoders
#: are drawn hollow, so "blur-pool" reads the same in every figure.
ENCODER_MARKER: dict[str, str] = {"maxpool": "o", "maxblurpool": "s", "aps": "*"}
ENCODER_LABEL: dict[str, str] = {
    "maxpool": "max-pool encoder",
    "maxblurpool": "max-blur-pool encoder",
    "aps": "APS encoder",
}
HOLLOW_ENCODERS: frozenset[str] = frozenset({"maxblurpool"})
#: Line styles telling the designs of one family and encoder apart (in table order).
_DASHES: tuple[str, ...] = ("-", "--", ":", "-.")
#: Text never smaller than this (pt) at the saved size, which is never wider than PAGE_WIDTH_IN.
MIN_FONT_PT = 7.0
PAGE_WIDTH_IN = 7.0


def count(n: int, noun: str) -> str:
    """``"1 seed"``, ``"3 seeds"``: a number with its noun, singular or plural (``+s``).

    >>> count(1, "seed"), count(3, "image"), count(0, "zero")
    ('1 seed', '3 images', '0 zeros')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def family(name: str) -> str:
    """The family of design ``name`` (``"other"`` for a name the table does not know)."""
    row = variants.DESIGNS.get(name)
    return row.family if row else "other"


def encoder(name: str) -> str:
    """The encoder of design ``name`` (``"other"`` for a name the table does not know)."""
    row = variants.DESIGNS.get(name)
    return row.encoder if row else "other"


def _rank_in_group(name: str) -> int:
    """Position of ``name`` among the designs sharing its family and encoder (table order)."""
    group = [n for n in VARIANT_ORDER if (family(n), encoder(n)) == (family(name), encoder(name))]
    return group.index(name) if name in group else 0


VARIANT_COLOR: dict[str, str] = {n: FAMILY_COLOR.get(family(n), "#777777") for n in VARIANT_ORDER}
VARIANT_MARKER: dict[str, str] = {n: ENCODER_MARKER.get(encoder(n), "o") for n in VARIANT_ORDER}

#: Colours for non-variant curves (up-/down-sampler families in the spectral figures).
PALETTE: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)


def variant_style(name: str) -> dict[str, object]:
    """Keyword arguments for ``plot``/``errorbar`` that draw design ``name`` consistently.

    Colour: its family; marker: its encoder (hollow for an anti-aliased encoder); line style:
    its place among the designs of the same family and encoder.
    """
    color = FAMILY_COLOR.get(family(name), "#777777")
    return {
        "color": color,
        "marker": ENCODER_MARKER.get(encoder(name), "o"),
        "markerfacecolor": "white" if encoder(name) in HOLLOW_ENCODERS else color,
        "markeredgecolor": color,
        "linestyle": _DASHES[_rank_in_group(name) % len(_DASHES)],
        "label": VARIANT_LABEL.get(name, name),
    }


def page_fit(fig: plt.Figure) -> tuple[float, float]:
    """``(width in inches, smallest font in pt)`` of ``fig`` as :func:`save_figure` saves it.

    The width is that of the tight bounding box (``savefig.bbox: tight`` crops to it, and a
    legend outside the axes widens it); fonts are those of every visible, non-empty text,
    tick labels included.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bbox = fig.get_tightbbox(renderer)
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(matplotlib.text.Text)
        if t.get_visible() and t.get_text().strip() and t.get_window_extent(renderer).width > 0
    ]
    return float(bbox.width), float(min(sizes)) if sizes else MIN_FONT_PT


def check_page_fit(fig: plt.Figure, name: str) -> None:
    """``ValueError`` when ``fig`` would be wider than a page or print text under 7 pt."""
    width, font = page_fit(fig)
    if width > PAGE_WIDTH_IN + 0.05 or font < MIN_FONT_PT:
        raise ValueError(
            f"expected figure {name} to be <= {PAGE_WIDTH_IN:g} in wide with text >= "
            f"{MIN_FONT_PT:g} pt, got {width:.2f} in and {font:g} pt"
        )


#: Metadata for ``savefig`` per format: fixed stamps, no date (byte-reproducible files).
SAVE_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": "antialias figures (matplotlib)"},
    "pdf": {
        "Creator": "antialias figures (matplotlib)",
        "Producer": "matplotlib",
        "CreationDate": None,
        "ModDate": None,
    },
    "svg": {"Creator": "antialias figures (matplotlib)", "Date": None},
}


def apply_style() -> None:
    """Activate the shared matplotlib style (and fixed SVG ids, for byte-reproducible files)."""
    plt.style.use(str(STYLE_FILE))
    matplotlib.rcParams["svg.hashsalt"] = "antialias"


def save_figure(fig: plt.Figure, name: str, directory: str | Path = FIGURES_DIR) -> list[Path]:
    """Write ``<name>.png`` and ``<name>.pdf``, each atomically (:mod:`antialias.files`).

    Rendered in memory first, so a failing draw leaves no file; permissions follow the umask.
    The files carry no date (:data:`SAVE_METADATA`): redrawing the same results gives the same
    bytes, so an unchanged figure never shows up as a change in git.

    Returns:
        The written paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, metadata=SAVE_METADATA[ext])
        written.append(atomic_write_bytes(directory / f"{name}.{ext}", buf.getvalue()))
    plt.close(fig)
    return written
