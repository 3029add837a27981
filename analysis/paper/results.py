"""The results the paper is written from: ``study.json`` and ``speed.json``, with named errors.

:class:`StudyResults` is the one object every section renderer reads; its accessors raise
:class:`PaperError` naming the missing key (and the command that makes it) instead of a
``KeyError``. Variant order and labels come from :mod:`antialias.variants`; what each design
is, in the paper's words, is :data:`DESIGN`.

What does not live here: wording (:mod:`analysis.paper.wording`) and the sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from antialias import variants
from antialias.files import read_result_set

__all__ = [
    "DESIGN",
    "FIXED",
    "LABEL",
    "STUDY_SCHEMA",
    "TCONV",
    "VARIANT_ORDER",
    "PaperError",
    "StudyResults",
    "read_json",
]

STUDY_SCHEMA = "antialias.study/1"
VARIANT_ORDER: tuple[str, ...] = variants.order()
LABEL: dict[str, str] = {name: variants.label(name) for name in VARIANT_ORDER}
DESIGN = {  # what each variant is in the setup table's words (down-sampling, up-sampling)
    "tconv2": ("max-pool 2", "transposed conv 2x2, stride 2 (original U-Net up-conv)"),
    "tconv3": ("max-pool 2", "transposed conv 3x3, stride 2 (uneven overlap)"),
    "tconv4": ("max-pool 2", "transposed conv 4x4, stride 2"),
    "nearest": ("max-pool 2", "nearest x2, then 3x3 conv"),
    "bilinear": ("max-pool 2", "bilinear x2, then 3x3 conv"),
    "pixelshuffle": ("max-pool 2", "conv + pixel shuffle, ICNR init"),
    "blurpool_tconv4": ("max-blur-pool", "transposed conv 4x4, stride 2"),
    "blurpool_bilinear": ("max-blur-pool", "bilinear x2, then 3x3 conv"),
    "blurpool_blur": ("max-blur-pool", "zeros + binomial low-pass (blur-up), then 3x3 conv"),
    "aps": ("APS (largest-norm polyphase)", "APS up (phase of the paired down), circular pad"),
}
TCONV = ("tconv2", "tconv3", "tconv4")
FIXED = ("nearest", "bilinear")
TASKS = ("nuclei", "textures", "denoise")


class PaperError(ValueError):
    """A results file is missing or lacks what the paper needs (the message says which)."""


class StudyResults:
    """Accessors over the loaded files with errors that name what is missing.

    Args:
        study: the ``study.json`` document (schema ``antialias.study/1``).
        speed: the ``speed.json`` document, or ``None`` when the speed piece was not run.
    """

    def __init__(self, study: dict, speed: dict | None) -> None:
        if not isinstance(study, dict) or study.get("schema") != STUDY_SCHEMA:
            raise PaperError(f"expected an {STUDY_SCHEMA} document (results/study/study.json)")
        self.study, self.speed = study, speed
        self.records = study.get("accuracy_records", [])

    def get(self, *path: str, default: Any = PaperError) -> Any:
        """``study[path[0]][path[1]]...``; a missing key is ``default`` or a PaperError."""
        node: Any = self.study
        for i, key in enumerate(path):
            if not isinstance(node, dict) or key not in node:
                if default is PaperError:
                    raise PaperError(
                        f"expected {'/'.join(path[: i + 1])} in study.json; run "
                        "`python -m analysis.study`"
                    )
                return default
            node = node[key]
        return node

    def tasks(self, piece: str) -> list[str]:
        """The tasks (in the study's order) that have results of ``piece``."""
        tasks = self.get("tasks")
        return [t for t in TASKS if piece in tasks.get(t, {})]

    def variants(self, task: str, piece: str) -> dict[str, Any]:
        """``variant -> entry`` of a piece, in the designs' order."""
        have = self.get("tasks", task, piece, "variants", default={})
        return {v: have[v] for v in VARIANT_ORDER if v in have}

    def paired(self, task: str, piece: str, a: str, b: str) -> dict[str, float] | None:
        """Paired difference ``a - b`` (``accuracy`` or ``crop`` consistency), or None."""
        node = self.get("tasks", task, piece, default={}) or {}
        table = node.get("paired") if piece == "accuracy" else node.get("paired_all")
        return ((table or {}).get(a) or {}).get(b)

    def max_shift(self, task: str | None = None) -> str:
        """The largest crop shift (px) of a task (or of the first task with crop results)."""
        for t in [task] if task else self.tasks("crop"):
            shifts = self.get("tasks", t, "crop", "shifts", default=None)
            if shifts:
                return f"{max(max(abs(a), abs(b)) for a, b in shifts):g}"
        return "?"

    def split_sizes(self) -> dict[str, int]:
        """Test images per task, from the accuracy records."""
        split: dict[str, int] = {}
        for r in self.records:
            split.setdefault(r["task"], r["n_images"])
        return split

    def speed_threads(self) -> int | None:
        """The first thread count of the speed runs (the one the main tables use)."""
        if not self.speed:
            return None
        threads = self.speed.get("config", {}).get("threads") or [None]
        return threads[0] if isinstance(threads, list) else threads

    def speed_recs(self, arch: str = "shipped", threads: int | None = None) -> dict[str, dict]:
        """``variant -> speed record`` of one architecture and thread count."""
        if not self.speed:
            return {}
        threads = self.speed_threads() if threads is None else threads
        return {
            r["variant"]: r
            for r in self.speed.get("results", [])
            if r.get("arch") == arch and r.get("threads") == threads
        }


def read_json(path: Path, command: str, required: bool = True) -> dict[str, Any] | None:
    """A results file, ``None`` if it is optional and missing; errors name ``command``.

    Read as a result set (:func:`antialias.files.read_result_set`): a JSON whose siblings were
    replaced by an interrupted run is refused rather than written up.
    """
    if not path.is_file():
        if required:
            raise PaperError(f"missing results file {path}; run `{command}` first")
        return None
    try:
        doc, _ = read_result_set(path)
    except (OSError, ValueError) as err:
        raise PaperError(f"cannot read {path} ({err}); rerun `{command}`") from err
    return doc
