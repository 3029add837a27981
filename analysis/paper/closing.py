"""Sections 5 and 6 of the paper: the limitations and how to reproduce (with provenance).

What does not live here: the numbers' wording (:mod:`analysis.paper.wording`).
"""

from __future__ import annotations

from analysis.paper.results import StudyResults
from analysis.paper.wording import NOT_RECORDED, known, num, table


def limitations(c: StudyResults) -> list[str]:
    """Section 5: model size, data, seeds, coverage, timing conditions, what is not measured."""
    recs = c.records
    params = [r["num_parameters"] for r in recs if r.get("num_parameters")]
    seeds = {
        t: sorted({r["seed"] for r in recs if r["task"] == t})
        for t in ("nuclei", "textures", "denoise")
    }
    sp = c.speed or {}
    depth = next((r["config"].get("depth") for r in recs if r.get("config")), "?")
    epochs = sorted({r["training"].get("epochs") for r in recs if r.get("training")} - {None})
    steps = sorted(
        {r["training"].get("steps_per_epoch") for r in recs if r.get("training")} - {None}
    )
    lines = [
        "## 5. Limitations",
        "",
        f"- Small models: {min(params) if params else '?'}-{max(params) if params else '?'} "
        f"parameters, depth {depth}, trained for "
        f"{'/'.join(map(str, epochs)) or '?'} epochs of {'/'.join(map(str, steps)) or '?'} "
        "steps on CPU. "
        "Larger, longer-trained U-Nets may rank differently.",
        "- One image family per task, small test sets (nuclei: one DSB2018 quadrant and slices "
        "of one volume; textures: synthetic; denoising: tiles of photographs held out from "
        "training), so intervals are wide "
        "and a difference inside them is not evidence of no effect.",
        f"- Seeds: nuclei {seeds['nuclei']}, textures {seeds['textures']}, denoise "
        f"{seeds['denoise']}; the single-seed tasks show image-to-image, not training, variation.",
        "- Coverage of this run: " + _coverage(c) + ". " + _coverage_note(c),
        f"- Timings are CPU wall times ({', '.join(map(str, sp.get('threads', [])))} thread(s), "
        f"input {tuple(sp.get('input_shape', []))}) on a shared 2-core machine whose load "
        "varied; rounds are interleaved and ratios taken within a round to cancel the load, but "
        "GPU ratios can differ (a transposed conv is one fused kernel there).",
        "- Consistency is measured for translations only (no rotations, scale, or intensity "
        "changes), and accuracy only as Dice / PSNR.",
        "",
    ]
    return lines


def _coverage(c: StudyResults) -> str:
    """Which images and seeds each piece of this run used (from the results)."""
    split = c.split_sizes()
    parts = []
    for piece, what in (
        ("crop", "crop shifts"),
        ("period", "period maps"),
        ("fractional", "sub-pixel shifts"),
    ):
        for t in c.tasks(piece):
            node = c.get("tasks", t, piece)
            seeds = sorted({s for e in node["variants"].values() for s in e["seeds"]})
            size = "x".join(map(str, node["frame_sizes"][0])) if node.get("frame_sizes") else "?"
            parts.append(
                f"{what} on {t}: {node['n_images']} of {split.get(t, '?')} test images "
                f"({size} px frames), seeds {seeds}"
            )
    layers = c.get("layers", default=None)
    if layers and layers.get("variants"):
        seeds = sorted({s for e in layers["variants"].values() for s in e["seeds"]})
        parts.append(
            f"per-level errors on {layers['task']}: {layers['n_images']} image(s), seeds {seeds}"
        )
    return "; ".join(parts) if parts else "n/a"


def _coverage_note(c: StudyResults) -> str:
    """Whether these are the full study's results (every test image) or a reduced run's."""
    split = c.split_sizes()
    every = all(
        c.get("tasks", t, "crop", "n_images") == split.get(t) for t in c.tasks("crop")
    ) and bool(c.tasks("crop"))
    if every:
        return (
            "These are the results of `python -m analysis.study --full`; the main job "
            "(`make demo`) uses fewer images and seeds to fit its time budget."
        )
    return "`python -m analysis.study --full` uses every test image and seed."


def reproduce(c: StudyResults) -> list[str]:
    """Section 6: the commands, the commits and times of the pieces, each piece's wall time.

    A provenance key the results lack is written "not recorded" (never "None").
    """
    timings = c.get("timings", default={})
    prov = c.get("provenance", default={})
    loads = c.get("load_average_1min", default={}) or {}
    rows = [
        [k, num(v, 1), " -> ".join(f"{x:.1f}" for x in loads.get(k) or []) or "n/a"]
        for k, v in timings.items()
        if v is not None
    ]
    total = sum(v for v in timings.values() if v is not None)
    pieces = c.get("pieces", default={}) or {}
    commits = (
        ", ".join(
            f"`{x}`" if x != NOT_RECORDED else x
            for x in sorted({known(p.get("git_commit")) for p in pieces.values()})
        )
        or NOT_RECORDED
    )
    stamps = sorted(p.get("time_utc") for p in pieces.values() if p.get("time_utc"))
    times = (
        NOT_RECORDED
        if not stamps
        else stamps[0]
        if stamps[0] == stamps[-1]
        else f"{stamps[0]} to {stamps[-1]}"
    )
    return [
        "## 6. Reproduce",
        "",
        "```sh",
        "python -m analysis.study          # results/study/* from the shipped checkpoints",
        "python figures/make_all.py        # every figure from the committed results",
        "python -m analysis.write_paper    # this page",
        "python -m analysis.train_all     # retrain every checkpoint (slow)",
        "```",
        "",
        f"Pieces computed at git commit(s) {commits} ({times}); summary written at "
        f"{_commit(prov.get('git_commit'))} ({known(prov.get('time_utc'))}). "
        f"Measured time of each piece of the study (s, sum {total:.0f} s), with the machine's "
        "1-minute load average at its start and end (2 cores; other jobs shared them):",
        "",
        *table(["piece", "seconds", "load average"], rows),
        "",
    ]


def _commit(commit: str | None) -> str:
    """A commit as code, or "not recorded"."""
    return NOT_RECORDED if commit is None else f"`{commit}`"
