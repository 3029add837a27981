"""The study's files: one result set per piece and the summary set, through antialias.files.

Each set appears whole or not at all (:func:`antialias.files.write_result_set`: the JSON last,
with the SHA-256 of its siblings). Shift pieces keep the files of
:mod:`analysis.shift_consistency`, the speed piece those of :mod:`analysis.speed`.

What does not live here: what the pieces compute (:mod:`analysis.study.pieces`) and what the
summary holds (:mod:`analysis.study.summary`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis import shift_consistency as sc
from analysis.speed import csv_cell
from analysis.study.config import StudyConfig, config_doc
from analysis.study.summary import study_csv, summarise
from antialias.files import csv_bytes, npz_bytes, write_result_set

ResultSet = tuple[dict[str, Any], dict[str, bytes]]


def piece_set(
    stem: str, result: dict[str, Any], seconds: float, config: StudyConfig, prov: dict[str, Any]
) -> ResultSet:
    """The files of one piece: ``(JSON document, {suffix: content})``.

    The piece's wall time and the study config are stamped into the provenance under
    ``study`` so that :func:`~analysis.study.summary.summarise` can report them.
    """
    stamp = {
        **prov,
        "study": {
            "piece": stem,
            "seconds": seconds,
            "load_average_1min": result.get("load_average"),
            "config": config_doc(config),
        },
    }
    if result.get("schema") == sc.SCHEMA:
        files = dict(sc.result_files(result, stamp))
        # shift_consistency renders its own JSON; the set's writer re-renders the same document
        return json.loads(files.pop(".json")), files
    if stem == "speed":
        from analysis import speed

        return speed.result_set(result, stamp)
    doc = {k: v for k, v in result.items() if k != "arrays"}
    doc["provenance"] = stamp
    files: dict[str, bytes] = {}
    rows = [r for r in doc.get("results", []) if isinstance(r, dict)]
    if rows:
        files[".csv"] = csv_bytes([{k: csv_cell(v) for k, v in r.items()} for r in rows])
    files[".npz"] = npz_bytes(result.get("arrays", {}))
    return doc, files


def write_pieces(
    out_dir: str | Path,
    results: dict[str, tuple[dict[str, Any], float]],
    config: StudyConfig,
    prov: dict[str, Any],
) -> list[Path]:
    """Write every piece of :func:`~analysis.study.pieces.run` as its own result set."""
    paths: list[Path] = []
    for stem, (result, seconds) in results.items():
        paths += write_result_set(out_dir, stem, *piece_set(stem, result, seconds, config, prov))
    return paths


def write_summary(
    out_dir: str | Path,
    config: StudyConfig,
    missing: list[str] | None,
    summarise_only: bool = False,
) -> list[Path]:
    """:func:`summarise` ``out_dir`` and write ``study.json``, ``study.npz``, ``study.csv``.

    With ``summarise_only`` the pieces were computed earlier: ``config`` then only sets the
    bootstrap, and each piece's own config stays in its provenance (``study.config``).

    Returns:
        The paths written, ``study.json`` first (as before result sets: callers read it).
    """
    from antialias.provenance import provenance

    doc, arrays = summarise(out_dir, config.n_boot, config.seed)
    doc["config"] = (
        {"summarise_only": True, "n_boot": config.n_boot, "seed": config.seed}
        if summarise_only
        else config_doc(config)
    )
    doc["provenance"] = provenance()
    if missing is not None:
        doc["missing_checkpoints"] = missing
    siblings = {".npz": npz_bytes(arrays), ".csv": study_csv(doc).encode()}
    paths = write_result_set(out_dir, "study", doc, siblings)
    return [paths[-1], *paths[:-1]]
