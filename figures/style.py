"""Shared figure style: one colour, marker and label per variant, and atomic PNG + PDF saving.

Colours are Paul Tol's "muted" qualitative palette (colour-blind safe) plus black; variants of
one family share a hue family and differ in marker, and antialiased variants are dashed, so a
figure stays readable in grey-scale too.

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

VARIANT_COLOR: dict[str, str] = {
    "tconv2": "#882255",
    "tconv3": "#CC6677",
    "tconv4": "#AA4499",
    "nearest": "#332288",
    "bilinear": "#88CCEE",
    "pixelshuffle": "#DDCC77",
    "blurpool_tconv4": "#AA4499",
    "blurpool_bilinear": "#44AA99",
    "blurpool_blur": "#117733",
    "aps": "#000000",
}

VARIANT_MARKER: dict[str, str] = {
    "tconv2": "v",
    "tconv3": "^",
    "tconv4": "s",
    "nearest": "o",
    "bilinear": "D",
    "pixelshuffle": "P",
    "blurpool_tconv4": "s",
    "blurpool_bilinear": "D",
    "blurpool_blur": "X",
    "aps": "*",
}

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
    """Keyword arguments for ``plot``/``errorbar`` that draw variant ``name`` consistently."""
    return {
        "color": VARIANT_COLOR.get(name, "#777777"),
        "marker": VARIANT_MARKER.get(name, "o"),
        "linestyle": "--" if name.startswith("blurpool") else "-",
        "label": VARIANT_LABEL.get(name, name),
    }


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
