"""A visual report of a shift-consistency result: one self-contained HTML page plus figures.

::

    antialias report RESULT.json [--out DIR]

reads a result of schema ``antialias.shift_consistency/1`` (the JSON written by
``antialias shift-consistency``) and writes, into ``DIR`` (default ``<RESULT stem>_report``
beside the JSON):

- ``report.html``: the page, self-contained (figures as data URIs, inline style, nothing
  fetched): the one-line verdict, a summary table, consistency vs shift, the period map, the
  per-level feature error (when the result has it), the learned kernels' polyphase gains and
  checkerboard index (when the result or its ``.safetensors`` checkpoint provides them; the
  page says when not), the configuration and the provenance. Volumes (3-D models) get the
  same page with a per-axis table and figure (shifts along z, y or x alone) and the central
  slices of their ``P x P x P`` period map in place of the ``P x P`` map;
- ``report_<figure>.png`` / ``.pdf`` for each figure drawn;
- ``report.json``: what the page was made from (schema ``antialias.report/1``, the result's
  path and SHA-256) and the digests of the other files. The set is written by
  :func:`antialias.files.write_result_set`: it appears whole or not at all.

A result of another schema, a missing or incomplete result set: one line on stderr, exit 2,
nothing written. Library use: :func:`write_report`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from antialias._cli import ArgumentParser, UsageError, run
from antialias.report._data import (
    SCHEMA,
    is_volume,
    kernels_of,
    load_result,
    model_label,
    verdict,
)

__all__ = ["REPORT_SCHEMA", "SCHEMA", "build_report", "main", "write_report"]

REPORT_SCHEMA = "antialias.report/1"
PROG = "antialias report"
NAME = "report"


def default_out_dir(json_path: str | Path) -> Path:
    """``<folder of the JSON>/<its stem>_report``."""
    path = Path(json_path)
    return path.with_name(f"{path.stem}_report")


def _sections(doc: dict[str, Any], json_path: Path):
    """Yield ``(key, heading, figure or None, note)`` for each part of the page."""
    from antialias.report import _figures as F
    from antialias.report import _volumes as V

    n = len(doc["results"])
    more = f" The first {F.MAX_PANELS} of {n} models are drawn." if n > F.MAX_PANELS else ""
    volumes = sum(is_volume(r) for r in doc["results"])
    yield (
        "consistency",
        "Consistency vs shift",
        F.consistency_figure(doc),
        "Label agreement (segmentation) or EQ-T PSNR (regression) between f(shift(x)) and "
        "shift(f(x)) at each shift, per region.",
    )
    if volumes:
        yield from _volume_sections(doc, V, F, more)
    if volumes < n:  # images (a result of volumes only has no P x P map)
        fig = F.period_map_figure(doc)
        yield (
            "period_map",
            "Period map",
            fig,
            (
                "Each cell pools the shifts with dy mod P and dx mod P (P = 2^levels); a U-Net "
                "that is equivariant to multiples of P is uniform here." + more
            )
            if fig is not None
            else "No period map in this result (fractional shifts have none).",
        )
    fig = F.per_level_figure(doc)
    yield (
        "per_level",
        "Per-level feature error",
        fig,
        "Relative RMS error of the feature maps at each level, pooled over the shifts that "
        "are multiples of the level's stride."
        if fig is not None
        else "Not recorded: the result was computed without --per-layer.",
    )
    kernels, missing = [], {}
    read = 0
    for rec in doc["results"]:
        layers, where = kernels_of(rec, json_path)
        kernels.append((model_label(rec), layers))
        if layers:
            read += 1
        else:  # one sentence per reason, naming its models
            missing.setdefault(where, []).append(model_label(rec))
    why = " ".join(f"{', '.join(names)}: {where}." for where, names in missing.items())
    fig = F.kernels_figure(kernels)
    if fig is None:
        note = "The result has no learned kernels to show. " + why
    else:
        note = (
            "Polyphase DC gains |G_r| of each learned up-sampler relative to their mean (flat "
            "= a constant input stays constant) and its checkerboard index CI = max|H(k/s)| / "
            f"|H(0)| (0 = no checkerboard), read for {read} of {n} models.{more} {why}"
        )
    yield "kernels", "Learned up-sampling kernels", fig, note


def _volume_sections(doc: dict[str, Any], V, F, more: str):
    """The parts only volumes have: per-axis curves, slices of the 3-D period map."""
    fig = V.per_axis_figure(doc, F.WIDTH_IN, F.MAX_PANELS)
    yield (
        "per_axis",
        "Consistency per axis (volumes)",
        fig,
        "The primary metric at shifts along one axis only (the other two zero), per axis (a "
        "circular model that down-samples only in-plane is exact at every integer shift along "
        "z); the per-axis table above gives the same in numbers." + more
        if fig is not None
        else "No shift of this result moves along one axis only, so nothing per axis to draw.",
    )
    fig = V.period_slices_figure(doc, F.WIDTH_IN, F.MAX_PANELS)
    yield (
        "period_slices",
        "Period map (volumes): central slices",
        fig,
        "The 3-D period map (each cell pools the shifts with the same dz, dy, dx mod P, "
        "P = 2^levels per axis), centred on the zero shift and cut through its centre: the "
        "planes dz = 0, dy = 0 and dx = 0 mod P. A U-Net equivariant to multiples of P is "
        "uniform here." + more
        if fig is not None
        else "No period map in this result (fractional shifts have none).",
    )


def build_report(json_path: str | Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The report in memory: ``(manifest, siblings)`` for :func:`antialias.files.write_result_set`.

    Raises:
        UsageError: the result is missing, of another schema, or an incomplete set.
    """
    from antialias import __version__
    from antialias.provenance import provenance
    from antialias.report import _figures as F
    from antialias.report._page import Figure, page

    path = Path(json_path)
    doc = load_result(path)
    siblings: dict[str, bytes] = {}
    sections = []
    for key, heading, fig, note in _sections(doc, path):
        shown = None
        if fig is not None:
            png, pdf = F.render(fig)
            siblings[f"_{key}.png"], siblings[f"_{key}.pdf"] = png, pdf
            shown = Figure(key, heading, heading, png, f"{NAME}_{key}.pdf")
        sections.append((heading, shown, note))
    line = verdict(doc)
    text = page(doc, source=str(path), verdict=line, sections=sections, version=__version__)
    siblings[".html"] = text.encode("utf-8")
    manifest = {
        "schema": REPORT_SCHEMA,
        "source": str(path),
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "source_schema": SCHEMA,
        "verdict": line,
        "provenance": provenance(),
        "figures": sorted(k[1:-4] for k in siblings if k.endswith(".png")),
    }
    return manifest, siblings


def write_report(json_path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write the report of a shift-consistency result; returns the HTML page's path.

    Args:
        json_path: the result's ``.json``.
        out_dir: the folder (created); default ``<stem>_report`` beside the JSON.

    Raises:
        UsageError: the result is missing, of another schema, or an incomplete set (nothing
            is written).
    """
    manifest, siblings = build_report(json_path)
    out = Path(out_dir) if out_dir is not None else default_out_dir(json_path)
    from antialias.files import write_result_set

    write_result_set(out, NAME, manifest, siblings)
    return out / f"{NAME}.html"


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description="HTML report of a shift-consistency result.")
    p.add_argument("result", metavar="RESULT.json", help="a shift-consistency result file")
    p.add_argument("--out", help="output folder (default: <RESULT stem>_report beside it)")
    p.add_argument("--quiet", action="store_true", help="do not print the page's path")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input, one line)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, already printed)
        return int(stop.code or 0)

    def body() -> int:
        out = Path(args.out) if args.out else None
        if out is not None and out.exists() and not out.is_dir():
            raise UsageError(f"expected --out to be a folder, got the file {str(out)!r}")
        html = write_report(args.result, out)
        if not args.quiet:
            print(f"wrote {html}")
        return 0

    return run(PROG, body, user_errors=(OSError,))


if __name__ == "__main__":
    import sys

    sys.exit(main())
