"""The study: every number behind figures 4-9 and the paper, computed from the shipped checkpoints.

Run from the repository root (both work)::

    python -m analysis.study [--checkpoints checkpoints] [--out results/study] [--full]
        [--pieces accuracy,crop,period,fractional,layers,example,speed] [--threads 2]
        [--require-all] [--tasks ...] [--variants ...] [--seeds ...]
    python analysis/study.py --summarise-only      # rebuild study.json from the piece files

Pieces (each writes its own files under ``--out``, atomically, with config and provenance;
the analyses themselves are :func:`analysis.shift_consistency.run` and
:func:`analysis.speed.run`, nothing is re-implemented here):

==============  =================================================================  ===========
piece           what (default budget; ``--full`` in brackets)                       files
==============  =================================================================  ===========
``accuracy``    test Dice (segmentation) / mean PSNR (denoise) of every checkpoint  accuracy_*.*
                on every test image, from per-image sums; the checkpoint's own
                metadata (test metrics, training seconds, parameters) beside it
``crop``        realistic shifts: windows cut at offsets ``(0, 0..16)`` px          crop_<task>.*
                (``--shifts line``) from the first test image (nuclei: 3 seeds) or
                the first 2 (textures, denoise)
                of every checkpoint [every test image]
``period``      circular shifts over every offset of the ``8 x 8`` period, one      period_<task>.*
                full 256x256 image, seed-0 nuclei checkpoints
                [every task and seed, 2 full-size images each]
``fractional``  denoise: EQ-T PSNR for sub-pixel shifts ``(0, k/4)``, k = 0..4,     fractional_*.*
                Lanczos-3, first 2 test images [k/8, every image; also nuclei,
                label agreement]
``layers``      per-level relative feature error (encoder, bottleneck, decoder)    layers_<task>.*
                under crop shifts (0, 0..8), interior >= 48 px from the edges,
                nuclei seed 0, 1 image [every seed, 3 images]
``example``     one nuclei test image and its 1-px shift through a transposed-conv  example.*
                U-Net and an antialiased one: the probability maps and the pixels
                whose label changes
``speed``       :mod:`analysis.speed`: forward and forward+backward time of every   speed.*
                variant, ratios to ``bilinear`` measured in the same run; 1 thread
                [1 and 2 threads, and a wide U-Net (depth 4, width 32)]
==============  =================================================================  ===========

After the pieces, :func:`summarise` reads every piece file present under ``--out`` and writes
``study.json`` (+ ``study.npz``, ``study.csv``): per task and variant, each quantity per seed, its
mean and standard deviation over seeds, and a 95% confidence interval from a two-level bootstrap
(resample seeds, then test images, the same image draws for every seed; percentile interval).
With one seed the interval is the bootstrap over images alone. ``study.json`` also holds the
measured wall time of every piece (``timings``), the machine's 1-minute load average at its
start and end (``load_average_1min``) and the checkpoints that were missing.
Figures 4-9 and ``docs/paper.md`` read only these files.

Importable: :func:`run` ``(config, progress) -> {piece: result}`` (reads checkpoints and data,
writes nothing), :func:`piece_files`, :func:`summarise` (``out_dir -> (doc, arrays)``, reads
files, writes nothing), :func:`main` ``(argv) -> int`` (exit 2 with one line on stderr for bad
input or missing checkpoints).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import shift_consistency as sc  # noqa: E402
from antialias import metrics as M  # noqa: E402
from antialias.models import VARIANTS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "results" / "study"
DEFAULT_CHECKPOINTS = REPO / "checkpoints"
SCHEMA = "antialias.study/1"
PIECES: tuple[str, ...] = ("accuracy", "crop", "period", "fractional", "layers", "example", "speed")
TASKS: tuple[str, ...] = ("nuclei", "textures", "denoise")
PROG = "study"


class StudyError(ValueError):
    """Bad input to the study (missing checkpoints, unknown names); the message says which."""


@dataclass
class StudyConfig:
    """What the study computes. Shifts in pixels; ``None`` image counts mean every test image.

    Attributes:
        checkpoints: folder holding ``<task>/<variant>_s<seed>.safetensors``.
        tasks, variants, seeds: which checkpoints to use (``seeds=None``: every seed found).
        pieces: which pieces to compute.
        require_all: fail if any of the expected checkpoints (10 variants; nuclei seeds 0-2,
            textures and denoise seed 0) is missing, instead of skipping it.
        crop_images: test images per task for the crop shifts.
        crop_max_shift: crop shifts ``(0, 0..S)``.
        period_tasks, period_seeds, period_images, period_size: circular period maps on those
            tasks / seeds (``None``: all), first images, centre crop per task (``None``: the
            full image; nuclei needs it, its label changes are rare).
        fractional_tasks, fractional_steps, fractional_images: sub-pixel shifts
            ``(0, k / steps)`` for ``k = 0..steps``.
        layers_task, layers_seeds, layers_images, layers_max_shift, layers_border: per-level
            feature errors for crop shifts ``(0, 1..S)``; the interior excludes ``border`` px
            (wider than elsewhere: the zero padding reaches far into the coarse levels).
        example_task, example_image, example_variants, example_seed, example_shift,
            example_window: the visual example (``example_window`` px square shown).
        speed: keyword arguments of :class:`analysis.speed.SpeedConfig`.
        n_boot: bootstrap resamples; seed: seed of the bootstrap.
        batch_size: shifted copies per forward pass.
        border: border band (px) excluded from the ``interior`` region.
    """

    checkpoints: str = str(DEFAULT_CHECKPOINTS)
    tasks: tuple[str, ...] = TASKS
    variants: tuple[str, ...] = tuple(VARIANTS)
    seeds: tuple[int, ...] | None = None
    pieces: tuple[str, ...] = PIECES
    require_all: bool = False
    crop_images: dict[str, int | None] = field(
        default_factory=lambda: {"nuclei": 1, "textures": 2, "denoise": 2}
    )
    crop_max_shift: int = 16
    period_tasks: tuple[str, ...] = ("nuclei",)
    period_seeds: tuple[int, ...] | None = (0,)
    period_images: int | None = 1
    period_size: dict[str, int | None] = field(
        default_factory=lambda: {"nuclei": None, "textures": 128, "denoise": 128}
    )
    fractional_tasks: tuple[str, ...] = ("denoise",)
    fractional_steps: int = 4
    fractional_images: int | None = 2
    layers_task: str = "nuclei"
    layers_seeds: tuple[int, ...] | None = (0,)
    layers_images: int | None = 1
    layers_max_shift: int = 8
    layers_border: int = 48
    example_task: str = "nuclei"
    example_image: int = 0
    example_variants: tuple[str, str] = ("tconv2", "blurpool_blur")
    example_seed: int = 0
    example_shift: tuple[int, int] = (0, 1)
    example_window: int = 96
    speed: dict[str, Any] = field(default_factory=lambda: {"threads": (1,)})
    n_boot: int = 1000
    seed: int = 0
    batch_size: int = 16
    border: int = 16


def full_config(**overrides: Any) -> StudyConfig:
    """The complete (slow) version: every test image, every seed, full-size period maps."""
    cfg = StudyConfig(
        crop_images={t: None for t in TASKS},
        period_tasks=TASKS,
        period_seeds=None,
        period_images=2,
        period_size={t: None for t in TASKS},
        fractional_tasks=("denoise", "nuclei"),
        fractional_steps=8,
        fractional_images=None,
        layers_seeds=None,
        layers_images=3,
        speed={"threads": (1, 2), "archs": ("shipped", "wide"), "repeats": 11},
    )
    return replace(cfg, **overrides)


EXPECTED_SEEDS: dict[str, tuple[int, ...]] = {
    "nuclei": (0, 1, 2),
    "textures": (0,),
    "denoise": (0,),
}


# ----------------------------------------------------------------------------------------------
# checkpoints


@dataclass(frozen=True)
class Ckpt:
    task: str
    variant: str
    seed: int
    path: Path


def find_checkpoints(cfg: StudyConfig) -> tuple[list[Ckpt], list[str]]:
    """The checkpoints the config asks for that exist, and the expected ones that do not.

    Order: task (config order), then variant (:data:`VARIANTS` order), then seed.
    """
    root = Path(cfg.checkpoints)
    if not root.is_dir():
        raise StudyError(f"expected a checkpoint folder, got {str(root)!r} (not a directory)")
    for name, values, valid in (("task", cfg.tasks, TASKS), ("variant", cfg.variants, VARIANTS)):
        bad = [v for v in values if v not in valid]
        if bad:
            raise StudyError(f"expected {name}s among {list(valid)}, got {bad}")
    found, missing = [], []
    for task in cfg.tasks:
        folder = root / task
        for variant in VARIANTS:
            if variant not in cfg.variants:
                continue
            seeds = set()
            if folder.is_dir():
                for p in folder.glob(f"{variant}_s*.safetensors"):
                    tail = p.stem[len(variant) + 2 :]
                    if p.stem.startswith(f"{variant}_s") and tail.isdigit():
                        seeds.add(int(tail))
            expected = set(EXPECTED_SEEDS[task])
            if cfg.seeds is not None:
                seeds &= set(cfg.seeds)
                expected &= set(cfg.seeds)
            missing += [f"{task}/{variant}_s{s}" for s in sorted(expected - seeds)]
            found += [
                Ckpt(task, variant, s, folder / f"{variant}_s{s}.safetensors")
                for s in sorted(seeds)
            ]
    if cfg.require_all and missing:
        raise StudyError(
            f"expected every shipped checkpoint, {len(missing)} missing (first: {missing[0]}); "
            "train them (python -m analysis.train_all) or drop --require-all"
        )
    if not found:
        raise StudyError(
            f"expected checkpoints under {str(root)!r}, found none for {list(cfg.tasks)}"
        )
    return found, missing


# ----------------------------------------------------------------------------------------------
# pieces (no file I/O besides reading checkpoints and data)

Progress = Callable[[str], None]


def _sc_run(
    piece: str, task: str, ckpts: list[Ckpt], progress: Progress | None, **kw: Any
) -> dict[str, Any]:
    """:func:`analysis.shift_consistency.run` over ``ckpts``, with one progress line per model."""
    start = time.perf_counter()
    count = {"models": 0}

    def tick(name: str, done: int, total: int) -> None:
        if done == total:
            count["models"] += 1
            if progress is not None:
                progress(
                    f"{piece} {task}: [{count['models']:>2}/{len(ckpts)}] {name} "
                    f"({total} image{'s' if total != 1 else ''}, "
                    f"{time.perf_counter() - start:.1f} s)"
                )

    result = sc.run(sc.Config(checkpoints=[str(c.path) for c in ckpts], **kw), progress=tick)
    # repository-relative paths in the files we commit (the run itself needs real paths)
    result["config"]["checkpoints"] = [_rel(c.path) for c in ckpts]
    for rec in result["results"]:
        rec["source"] = _rel(rec["source"])
    return result


def _common(cfg: StudyConfig) -> dict[str, Any]:
    return {
        "n_boot": cfg.n_boot,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "border": cfg.border,
    }


def _by_task(ckpts: list[Ckpt], task: str, seeds: tuple[int, ...] | None = None) -> list[Ckpt]:
    return [c for c in ckpts if c.task == task and (seeds is None or c.seed in seeds)]


def run_accuracy(ckpts: list[Ckpt], progress: Progress | None = None) -> dict[str, Any]:
    """Per-image task sums of every checkpoint on its full test split, plus its metadata.

    Segmentation: confusion matrices ``(N, 2, 2)`` of (prediction, target) -> pooled Dice.
    Regression: per-image ``[PSNR (dB), 1]`` -> mean PSNR over images (as the training code's
    test metric), and ``[sse, n]`` of the noisy input.
    """
    from antialias.checkpoint import load_checkpoint
    from antialias.data import load_split

    records, arrays = [], {}
    splits: dict[str, Any] = {}
    start = time.perf_counter()
    for i, c in enumerate(ckpts):
        if c.task not in splits:
            splits[c.task] = load_split(c.task, "test")
        split = splits[c.task]
        model, meta = load_checkpoint(c.path)
        with torch.inference_mode():
            out = torch.cat([model(split.images[j : j + 4]) for j in range(0, len(split), 4)])
        rid = f"a{i}"
        if split.kind == "segmentation":
            k = max(int(out.shape[1]), 2)
            labels = out.argmax(1) if out.shape[1] > 1 else (out[:, 0] > 0).long()
            sums = M.confusion_sums(labels, split.targets, k).numpy()
            value = float(M.dice(M.overlap_from_confusion(sums.sum(0))))
            metric = "dice"
        else:
            se = ((out.double() - split.targets.double()) ** 2).flatten(1).mean(1)
            per_image = 10 * torch.log10(split.data_range**2 / se)
            sums = np.stack([per_image.numpy(), np.ones(len(split))], axis=1)
            value = float(per_image.mean())
            metric = "psnr"
        arrays[f"{rid}__sums"] = sums
        test_meta = (meta.get("metrics") or {}).get("test") or {}
        training = meta.get("training") or {}
        records.append(
            {
                "id": rid,
                "task": c.task,
                "variant": c.variant,
                "seed": c.seed,
                "source": _rel(c.path),
                "kind": split.kind,
                "metric": metric,
                "value": value,
                "metadata_value": test_meta.get(metric),
                "metadata_metrics": test_meta,
                "n_images": len(split),
                "image_size": list(split.images.shape[-2:]),
                "num_parameters": meta.get("num_parameters"),
                "train_seconds": training.get("train_seconds"),
                "train_threads": training.get("threads"),
                "best_epoch": training.get("best_epoch"),
                "training": training,
                "config": meta.get("config"),
                "n_train_images": len((meta.get("data") or {}).get("train") or []) or None,
                "n_val_images": len((meta.get("data") or {}).get("val") or []) or None,
            }
        )
        if progress is not None:
            progress(
                f"accuracy: [{i + 1:>2}/{len(ckpts)}] {c.task}/{c.variant}_s{c.seed} "
                f"{metric} {value:.4f} ({time.perf_counter() - start:.1f} s)"
            )
    return {"schema": "antialias.study.accuracy/1", "results": records, "arrays": arrays}


def run_example(cfg: StudyConfig, ckpts: list[Ckpt]) -> dict[str, Any]:
    """One test image, its ``example_shift`` crop shift, and two variants' predictions.

    Everything is stored in the reference window's frame: the prediction of the shifted
    window is moved back by ``-shift`` (integer, no interpolation), so ``changed`` marks the
    pixels whose label differs between ``f(x)`` and the shifted-back ``f(shift(x))``.
    """
    from antialias.checkpoint import load_checkpoint
    from antialias.data import load_split
    from antialias.shifts import crop_shift, crop_window, integer_shift

    split = load_split(cfg.example_task, "test")
    if not 0 <= cfg.example_image < len(split):
        raise StudyError(f"expected example_image in [0, {len(split)}), got {cfg.example_image}")
    canvas = split.images[cfg.example_image : cfg.example_image + 1]
    target = split.targets[cfg.example_image : cfg.example_image + 1][:, None].float()
    dy, dx = cfg.example_shift
    by_name = {(c.variant, c.seed): c for c in ckpts if c.task == cfg.example_task}
    chosen = []
    for v in cfg.example_variants:
        if (v, cfg.example_seed) not in by_name:
            raise StudyError(
                f"expected checkpoint {cfg.example_task}/{v}_s{cfg.example_seed} for the example"
            )
        chosen.append(by_name[(v, cfg.example_seed)])
    records, arrays = [], {}
    origin = size = None
    for c in chosen:
        model, meta = load_checkpoint(c.path)
        period = int(model.period)
        origin, size = crop_window(tuple(canvas.shape[-2:]), [(dy, dx)], multiple=period)
        ref_in, _ = crop_shift(canvas, 0, 0, origin, size)
        shift_in, _ = crop_shift(canvas, dy, dx, origin, size)
        with torch.inference_mode():
            out = model(torch.cat([ref_in, shift_in]))
        prob = out.softmax(1)[:, 1:2]
        back, valid = integer_shift(prob[1:2], -dy, -dx)
        labels_ref = prob[0:1] > 0.5
        labels_back = back > 0.5
        changed = (labels_ref != labels_back) & valid
        key = c.variant
        arrays[f"{key}__prob_ref"] = prob[0, 0].numpy().astype(np.float32)
        arrays[f"{key}__prob_shift_back"] = back[0, 0].numpy().astype(np.float32)
        arrays[f"{key}__changed"] = changed[0, 0].numpy()
        arrays["valid"] = valid[0, 0].numpy()
        n_valid = int(valid.sum())
        records.append(
            {
                "variant": c.variant,
                "seed": c.seed,
                "source": _rel(c.path),
                "n_changed": int(changed.sum()),
                "n_compared": n_valid,
                "changed_fraction": float(changed.sum()) / max(n_valid, 1),
                "max_abs_prob_change": float(((prob[0:1] - back).abs() * valid).max()),
            }
        )
    assert origin is not None and size is not None
    ref_image, _ = crop_shift(canvas, 0, 0, origin, size)
    ref_target, _ = crop_shift(target, 0, 0, origin, size)
    arrays["image"] = ref_image[0, 0].numpy().astype(np.float32)
    arrays["target"] = ref_target[0, 0].numpy().astype(np.uint8)
    # the shown window: where the two variants' label changes are densest (a box sum)
    win = min(cfg.example_window, *size)
    total = sum(arrays[f"{c.variant}__changed"].astype(np.float64) for c in chosen)
    box = _box_sum(total, win)
    y0, x0 = np.unravel_index(int(np.argmax(box)), box.shape)
    return {
        "schema": "antialias.study.example/1",
        "task": cfg.example_task,
        "image_index": cfg.example_image,
        "image_source": split.sources[cfg.example_image],
        "shift": [dy, dx],
        "origin": list(origin),
        "size": list(size),
        "window": [int(y0), int(x0), win, win],
        "results": records,
        "arrays": arrays,
    }


def _box_sum(a: np.ndarray, k: int) -> np.ndarray:
    """Sum over every ``k x k`` window (top-left indexed): ``(H - k + 1, W - k + 1)``."""
    c = np.pad(a, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


def run(
    config: StudyConfig, progress: Progress | None = None
) -> tuple[dict[str, tuple[dict[str, Any], float]], list[str]]:
    """Compute the requested pieces; no file writes, no printing (``progress`` gets lines).

    Returns:
        ``({file stem: (result, seconds)}, missing checkpoints)``. Results of the shift pieces
        are :func:`analysis.shift_consistency.run` results.
    """
    cfg = config
    bad = [p for p in cfg.pieces if p not in PIECES]
    if bad:
        raise StudyError(f"expected pieces among {list(PIECES)}, got {bad}")
    ckpts, missing = find_checkpoints(cfg)
    out: dict[str, tuple[dict[str, Any], float]] = {}
    tasks = [t for t in cfg.tasks if _by_task(ckpts, t)]

    def timed(stem: str, fn: Callable[[], dict[str, Any] | None]) -> None:
        load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
        start = time.perf_counter()
        result = fn()
        if result is not None:
            result["load_average"] = [load, os.getloadavg()[0]]
            out[stem] = (result, time.perf_counter() - start)

    if "accuracy" in cfg.pieces:
        for task in tasks:  # one file per task, so that rerunning one task keeps the others
            timed(
                f"accuracy_{task}", lambda task=task: run_accuracy(_by_task(ckpts, task), progress)
            )
    if "crop" in cfg.pieces:
        for task in tasks:
            timed(
                f"crop_{task}",
                lambda task=task: _sc_run(
                    "crop",
                    task,
                    _by_task(ckpts, task),
                    progress,
                    mode="crop",
                    shifts="line",
                    max_shift=cfg.crop_max_shift,
                    max_images=cfg.crop_images.get(task),
                    **_common(cfg),
                ),
            )
    if "period" in cfg.pieces:
        for task in cfg.period_tasks:
            sel = _by_task(ckpts, task, cfg.period_seeds)
            if sel:
                timed(
                    f"period_{task}",
                    lambda task=task, sel=sel: _sc_run(
                        "period",
                        task,
                        sel,
                        progress,
                        mode="circular",
                        shifts="all",
                        max_images=cfg.period_images,
                        image_size=cfg.period_size.get(task),
                        **_common(cfg),
                    ),
                )
    if "fractional" in cfg.pieces:
        n = cfg.fractional_steps
        spec = ",".join(f"0:{k / n!r}" for k in range(n + 1))
        for task in cfg.fractional_tasks:
            sel = _by_task(ckpts, task)
            if sel:
                timed(
                    f"fractional_{task}",
                    lambda task=task, sel=sel: _sc_run(
                        "fractional",
                        task,
                        sel,
                        progress,
                        mode="fractional",
                        shifts=spec,
                        max_images=cfg.fractional_images,
                        **_common(cfg),
                    ),
                )
    if "layers" in cfg.pieces:
        sel = _by_task(ckpts, cfg.layers_task, cfg.layers_seeds)
        if sel:
            timed(
                f"layers_{cfg.layers_task}",
                lambda: _sc_run(
                    "layers",
                    cfg.layers_task,
                    sel,
                    progress,
                    mode="crop",
                    shifts="line",
                    max_shift=cfg.layers_max_shift,
                    max_images=cfg.layers_images,
                    per_layer=True,
                    **{**_common(cfg), "border": cfg.layers_border},
                ),
            )
    if "example" in cfg.pieces and _by_task(ckpts, cfg.example_task):
        timed("example", lambda: run_example(cfg, ckpts))
        if progress is not None and "example" in out:
            progress(f"example: {out['example'][1]:.1f} s")
    if "speed" in cfg.pieces:
        from analysis import speed

        timed("speed", lambda: speed.run(speed.SpeedConfig(**cfg.speed), progress=progress))
    return out, missing


# ----------------------------------------------------------------------------------------------
# files


def _rel(path: Path | str) -> str:
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(path)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else _csv_cell(row.get(k))) for k in columns})
    return buf.getvalue()


def _csv_cell(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, (dict, list)) else v


def _json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, allow_nan=True) + "\n").encode()


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _config_doc(config: StudyConfig) -> dict[str, Any]:
    doc = asdict(config)
    doc["checkpoints"] = _rel(config.checkpoints)
    return doc


def piece_files(
    stem: str, result: dict[str, Any], seconds: float, config: StudyConfig, prov: dict[str, Any]
) -> dict[str, bytes]:
    """The files of one piece: suffix -> content (shift pieces use shift_consistency's writer).

    The piece's wall time and the study config are stamped into the provenance under
    ``study`` so that :func:`summarise` can report them.
    """
    stamp = {
        **prov,
        "study": {
            "piece": stem,
            "seconds": seconds,
            "load_average_1min": result.get("load_average"),
            "config": _config_doc(config),
        },
    }
    if result.get("schema") == sc.SCHEMA:
        return sc.result_files(result, stamp)
    if stem == "speed":
        from analysis import speed

        return speed.result_files(result, stamp)
    doc = {k: v for k, v in result.items() if k != "arrays"}
    doc["provenance"] = stamp
    files = {".json": _json(doc)}
    rows = [r for r in doc.get("results", []) if isinstance(r, dict)]
    if rows:
        files[".csv"] = _csv_text(rows).encode()
    files[".npz"] = _npz(result.get("arrays", {}))
    return files


# ----------------------------------------------------------------------------------------------
# summary: seeds x images bootstrap


def seed_image_stats(
    sums: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, np.ndarray]:
    """Per-seed values, their mean and std over seeds, and a two-level bootstrap interval.

    Each resample draws seeds with replacement and, independently, test images with
    replacement (the same image draws for every seed: the seeds were tested on the same
    images), applies ``statistic`` to each drawn seed's summed image sums and averages over
    the drawn seeds. The interval is the percentile interval of those means, with the order
    statistics of :func:`antialias.metrics.bootstrap_ci` (no interpolation, so infinite PSNRs
    stay infinite); with one seed it equals that function's interval.

    Args:
        sums: per seed, per image sums; the trailing axes are what ``statistic`` reduces.
        statistic: summed sums ``(..., *sum_shape)`` -> values ``(...)`` (keeps leading axes).
        n_boot: resamples.
        seed: seed of the resampling.
        level: coverage.

    Returns:
        ``{"per_seed": (S, ...), "mean", "std" (NaN for one seed), "lo", "hi"}``.

    Shape:
        - sums: ``(S, N, ...)``
    """
    sums = np.asarray(sums, dtype=np.float64)
    if sums.ndim < 2:
        raise ValueError(f"expected sums of shape (seeds, images, ...), got {sums.shape}")
    n_s, n = sums.shape[:2]
    per_seed = np.asarray(statistic(sums.sum(1)), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mean = per_seed.mean(0)
        std = per_seed.std(0, ddof=1) if n_s > 1 else np.full_like(mean, np.nan)
    img = M.bootstrap_counts(n, n_boot, seed)  # (B, N)
    seeds = M.bootstrap_counts(n_s, n_boot, seed + 1) / n_s  # (B, S) weights
    resampled = np.tensordot(img, sums, axes=([1], [1]))  # (B, S, ...)
    values = np.asarray(statistic(resampled), dtype=np.float64)  # (B, S, out...)
    w = seeds.reshape(seeds.shape + (1,) * (values.ndim - 2))
    with np.errstate(invalid="ignore"):
        boot = np.where(w > 0, w * values, 0.0).sum(1)
    # the order statistics of antialias.metrics.bootstrap_ci (identical for one seed)
    boot = np.sort(boot, axis=0)
    i_lo = int(np.floor((1.0 - level) / 2.0 * n_boot))
    i_hi = min(int(np.ceil((1.0 + level) / 2.0 * n_boot)) - 1, n_boot - 1)
    return {"per_seed": per_seed, "mean": mean, "std": std, "lo": boot[i_lo], "hi": boot[i_hi]}


def paired_diff_stats(
    a: np.ndarray,
    b: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Difference of two variants' seed-mean statistics, with an interval paired over images.

    Both variants were tested on the same images, so each resample draws the images once for
    both (which cancels the image-to-image spread shared by the two); seeds are drawn
    independently per variant (different trainings). Same order statistics as
    :func:`seed_image_stats`.

    Shape:
        - a: ``(S_a, N, ...)``, b: ``(S_b, N, ...)``; the statistic must return scalars.

    Returns:
        ``{"diff", "lo", "hi"}``: mean over seeds of ``a`` minus that of ``b``, and the interval.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"expected the same images for both, got {a.shape} and {b.shape}")
    img = M.bootstrap_counts(a.shape[1], n_boot, seed)

    def boot(x: np.ndarray, s: int) -> tuple[float, np.ndarray]:
        w = M.bootstrap_counts(x.shape[0], n_boot, s) / x.shape[0]
        vals = np.asarray(statistic(np.tensordot(img, x, axes=([1], [1]))), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            means = np.where(w > 0, w * vals, 0.0).sum(1)
        return float(np.asarray(statistic(x.sum(1)), dtype=np.float64).mean()), means

    pa, ba = boot(a, seed + 1)
    pb, bb = boot(b, seed + 2)
    with np.errstate(invalid="ignore"):
        d = np.sort(ba - bb)
        diff = pa - pb
    i_lo = int(np.floor((1.0 - level) / 2.0 * n_boot))
    i_hi = min(int(np.ceil((1.0 + level) / 2.0 * n_boot)) - 1, n_boot - 1)
    return {"diff": float(diff), "lo": float(d[i_lo]), "hi": float(d[i_hi])}


def _paired_table(
    sums: dict[str, np.ndarray], statistic: Callable, n_boot: int, seed: int
) -> dict[str, dict[str, dict[str, float]]]:
    """``table[a][b]``: :func:`paired_diff_stats` of every ordered pair of variants."""
    return {
        a: {b: paired_diff_stats(sums[a], sums[b], statistic, n_boot, seed) for b in sums if b != a}
        for a in sums
    }


def _agreement(c: np.ndarray) -> np.ndarray:
    return M.agreement(M.agreement_from_confusion(c))


def _dice(c: np.ndarray) -> np.ndarray:
    return M.dice(M.overlap_from_confusion(c))


def _psnr(s: np.ndarray) -> np.ndarray:
    return M.psnr(s, 1.0)


def _mean_ratio(s: np.ndarray) -> np.ndarray:
    return M.mse(s)  # sum / count: the mean of per-image values stored as [value, 1]


def _scalar(stats: dict[str, np.ndarray], index: Any = ()) -> dict[str, Any]:
    def f(v: Any) -> float:
        return float(np.asarray(v)[index])

    return {
        "per_seed": [f(v) for v in stats["per_seed"]],
        "mean": f(stats["mean"]),
        "std": f(stats["std"]),
        "lo": f(stats["lo"]),
        "hi": f(stats["hi"]),
    }


def _load_piece(out: Path, stem: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    js, npz = out / f"{stem}.json", out / f"{stem}.npz"
    if not js.is_file():
        return None
    doc = json.loads(js.read_text())
    arrays: dict[str, np.ndarray] = {}
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    return doc, arrays


def _groups(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Variant -> its records sorted by seed, variants in :data:`VARIANTS` order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for v in VARIANTS:
        recs = sorted((r for r in records if r.get("variant") == v), key=lambda r: r["seed"])
        if recs:
            out[v] = recs
    return out


def _stack(arrays: dict[str, np.ndarray], recs: list[dict[str, Any]], field_: str) -> np.ndarray:
    """Per-seed per-image sums ``(S, N, ...)``; seeds tested on different image counts fail."""
    parts = [arrays[f"{r['id']}__sums__{field_}"] for r in recs]
    shapes = {p.shape for p in parts}
    if len(shapes) != 1:
        raise StudyError(f"expected the same images for every seed, got shapes {sorted(shapes)}")
    return np.stack(parts)


def _on_period(shift: np.ndarray, period: int) -> bool:
    return all(float(d) % period == 0 for d in shift)


def _shift_summary(
    doc: dict[str, Any], arrays: dict[str, np.ndarray], n_boot: int, seed: int, prefix: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Per variant: curves over shifts and pooled values, mean/std over seeds and CIs."""
    out: dict[str, Any] = {"variants": {}}
    arr: dict[str, np.ndarray] = {}
    recs = doc["results"]
    if not recs:
        return out, arr
    kind = recs[0]["kind"]
    field_ = "eq_confusion" if kind == "segmentation" else "eq_se"
    stat = _agreement if kind == "segmentation" else _psnr
    out.update(
        {
            "kind": kind,
            "metric": "agreement" if kind == "segmentation" else "psnr",
            "mode": recs[0]["mode"],
            "n_images": recs[0]["n_images"],
            "frame_sizes": recs[0]["frame_sizes"],
            "period": recs[0]["period"],
        }
    )
    shifts = np.asarray(arrays[f"{recs[0]['id']}__shifts"], dtype=np.float64)
    out["shifts"] = shifts.tolist()
    arr[f"{prefix}__shifts"] = shifts
    nonzero = [i for i, s in enumerate(shifts.tolist()) if s != [0.0, 0.0]]
    pooled_sums: dict[str, np.ndarray] = {}
    for v, vr in _groups(recs).items():
        sums = _stack(arrays, vr, field_)  # (S, N, n_shifts, 2 regions, ...)
        pooled_sums[v] = sums[:, :, nonzero, 0].sum(2)
        entry: dict[str, Any] = {
            "seeds": [r["seed"] for r in vr],
            "sources": [r["source"] for r in vr],
        }
        for r, region in enumerate(("all", "interior")):
            curve = seed_image_stats(sums[:, :, :, r], stat, n_boot, seed)
            for key in ("mean", "lo", "hi", "std", "per_seed"):
                arr[f"{prefix}__{v}__{region}__{key}"] = np.asarray(curve[key])
            pooled = seed_image_stats(sums[:, :, nonzero, r].sum(2), stat, n_boot, seed)
            entry[f"pooled_{region}"] = _scalar(pooled)
            # shifts that are multiples of the period (no sampling effect) vs the rest
            on = [i for i in nonzero if _on_period(shifts[i], out["period"])]
            off = [i for i in nonzero if i not in on]
            if out["mode"] != "fractional" and on and off:
                for name, idx in (("on_period", on), ("off_period", off)):
                    st = seed_image_stats(sums[:, :, idx, r].sum(2), stat, n_boot, seed)
                    entry[f"{name}_{region}"] = _scalar(st)
            for i, s in enumerate(shifts.tolist()):
                if s == [0.0, 1.0]:
                    entry[f"shift1_{region}"] = _scalar(curve, i)
        if out["mode"] == "circular":
            period = vr[0]["period"]
            residues = [int(dy) % period * period + int(dx) % period for dy, dx in shifts.tolist()]
            maps = []
            for region, r in (("all", 0), ("interior", 1)):
                grid = np.zeros((sums.shape[0], period * period, *sums.shape[4:]))
                for i, res in enumerate(residues):
                    grid[:, res] += sums[:, :, i, r].sum(1)
                vals = np.asarray(stat(grid), dtype=np.float64).reshape(-1, period, period)
                arr[f"{prefix}__{v}__map_{region}"] = vals.mean(0)
                maps.append(region)
            entry["maps"] = maps
        out["variants"][v] = entry
    if pooled_sums and nonzero:
        out["paired_all"] = _paired_table(pooled_sums, stat, n_boot, seed)
    return out, arr


def _layer_summary(
    doc: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Relative RMS feature error per level and shift class (largest power of 2 dividing it).

    Pooled over images, seeds and the non-zero shifts of each class; interior and all pixels.
    """
    recs = doc["results"]
    out: dict[str, Any] = {"variants": {}}
    arr: dict[str, np.ndarray] = {}
    if not recs or not recs[0].get("per_layer_summary"):
        return out, arr
    levels = [e["level"] for e in recs[0]["per_layer_summary"]]
    strides = [e["stride"] for e in recs[0]["per_layer_summary"]]
    shifts = np.asarray(arrays[f"{recs[0]['id']}__shifts"], dtype=np.float64)
    period = recs[0]["period"]
    classes = [2**j for j in range(int(math.log2(period)) + 1)]  # 1, 2, 4, ..., period

    def cls(s: tuple[float, float]) -> int | None:
        g = math.gcd(int(abs(s[0])), int(abs(s[1])))
        if g == 0:
            return None
        return min(g & -g, period)  # largest power of two dividing both, capped at the period

    members = {c: [i for i, s in enumerate(shifts.tolist()) if cls(tuple(s)) == c] for c in classes}
    out.update(
        {
            "levels": levels,
            "strides": strides,
            "shift_classes": classes,
            "class_shifts": {str(c): [shifts[i].tolist() for i in members[c]] for c in classes},
            "n_images": recs[0]["n_images"],
            "border": recs[0]["border"],
        }
    )
    for v, vr in _groups(recs).items():
        layer = np.stack([arrays[f"{r['id']}__sums__layer"] for r in vr])  # (S,N,sh,2,Lv,3)
        total = layer.sum((0, 1))  # (sh, 2, Lv, 3)
        grids: dict[str, list[list[float]]] = {}  # region -> (level, shift class), NaN: n/a
        for r, region in enumerate(("all", "interior")):
            grid = np.full((len(levels), len(classes)), np.nan)
            for j, c in enumerate(classes):
                if not members[c]:
                    continue
                pooled = total[members[c], r].sum(0)  # (Lv, 3)
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(pooled[:, 2] > 0, np.sqrt(pooled[:, 0] / pooled[:, 1]), np.nan)
                grid[:, j] = rel
            arr[f"{prefix}__{v}__{region}"] = grid
            grids[region] = [[float(x) for x in row] for row in grid]
        out["variants"][v] = {"seeds": [r["seed"] for r in vr], **grids}
    return out, arr


def summarise(out_dir: str | Path, n_boot: int = 1000, seed: int = 0) -> tuple[dict, dict]:
    """Read every piece file under ``out_dir``; return ``(study.json doc, study.npz arrays)``.

    Raises:
        StudyError: no piece file at all under ``out_dir``.
    """
    out = Path(out_dir)
    doc: dict[str, Any] = {"schema": SCHEMA, "timings": {}, "pieces": {}, "tasks": {}}
    arrays: dict[str, np.ndarray] = {}
    stems = sorted(p.stem for p in out.glob("*.json") if p.stem not in ("study",))
    if not stems:
        raise StudyError(f"expected piece files under {str(out)!r}; run python -m analysis.study")
    for stem in stems:
        loaded = _load_piece(out, stem)
        if loaded is None:
            continue
        pdoc, parr = loaded
        study = (pdoc.get("provenance") or {}).get("study") or {}
        doc["timings"][stem] = study.get("seconds")
        doc.setdefault("load_average_1min", {})[stem] = study.get("load_average_1min")
        doc["pieces"][stem] = {
            "file": f"{stem}.json",
            "time_utc": (pdoc.get("provenance") or {}).get("time_utc"),
            "git_commit": (pdoc.get("provenance") or {}).get("git_commit"),
        }
        piece, _, task = stem.partition("_")
        if piece == "accuracy":
            _accuracy_summary(pdoc, parr, doc, arrays, n_boot, seed)
            doc.setdefault("accuracy_records", []).extend(pdoc["results"])
        elif piece in ("crop", "period", "fractional") and pdoc.get("schema") == sc.SCHEMA:
            s, a = _shift_summary(pdoc, parr, n_boot, seed, stem)
            doc["tasks"].setdefault(task, {})[piece] = s
            arrays.update(a)
        elif piece == "layers" and pdoc.get("schema") == sc.SCHEMA:
            s, a = _layer_summary(pdoc, parr, stem)
            doc["layers"] = {"task": task, **s}
            arrays.update(a)
        elif stem == "example":
            doc["example"] = {k: v for k, v in pdoc.items() if k not in ("provenance",)}
            arrays.update({f"example__{k}": v for k, v in parr.items()})
        elif stem == "speed":
            doc["speed"] = {k: v for k, v in pdoc.items() if k not in ("provenance",)}
    return doc, arrays


def _accuracy_summary(pdoc, parr, doc, arrays, n_boot: int, seed: int) -> None:
    recs = pdoc["results"]
    for task in TASKS:
        trecs = [r for r in recs if r["task"] == task]
        if not trecs:
            continue
        kind = trecs[0]["kind"]
        metric = trecs[0]["metric"]
        stat = _dice if kind == "segmentation" else _mean_ratio
        tdoc = doc["tasks"].setdefault(task, {})
        acc: dict[str, Any] = {"kind": kind, "metric": metric, "variants": {}}
        all_sums: dict[str, np.ndarray] = {}
        for v, vr in _groups(trecs).items():
            sums = np.stack([parr[f"{r['id']}__sums"] for r in vr])
            all_sums[v] = sums
            stats = seed_image_stats(sums, stat, n_boot, seed)
            entry = _scalar(stats)
            entry["seeds"] = [r["seed"] for r in vr]
            entry["metadata_per_seed"] = [r["metadata_value"] for r in vr]
            meta = [r["metadata_value"] for r in vr if r["metadata_value"] is not None]
            entry["max_abs_diff_vs_metadata"] = (
                max(abs(a - b) for a, b in zip(entry["per_seed"], meta)) if meta else None
            )
            entry["num_parameters"] = vr[0]["num_parameters"]
            secs = [r["train_seconds"] for r in vr if r["train_seconds"] is not None]
            entry["train_seconds"] = {
                "per_seed": secs,
                "mean": float(np.mean(secs)) if secs else None,
                "std": float(np.std(secs, ddof=1)) if len(secs) > 1 else None,
            }
            if kind == "regression":
                inp = [r["metadata_metrics"].get("psnr_input") for r in vr]
                entry["metadata_psnr_input"] = inp[0]
            acc["variants"][v] = entry
        acc["paired"] = _paired_table(all_sums, stat, n_boot, seed)
        tdoc["accuracy"] = acc


def study_csv(doc: dict[str, Any]) -> str:
    """One row per (task, variant): accuracy and pooled crop consistency, mean/std/CI."""
    rows = []
    for task, tdoc in doc["tasks"].items():
        for v in VARIANTS:
            row: dict[str, Any] = {"task": task, "variant": v}
            acc = tdoc.get("accuracy", {}).get("variants", {}).get(v)
            if acc:
                m = tdoc["accuracy"]["metric"]
                row.update({"seeds": len(acc["seeds"]), f"test_{m}": acc["mean"]})
                row.update({f"test_{m}_std": acc["std"], f"test_{m}_lo": acc["lo"]})
                row.update({f"test_{m}_hi": acc["hi"]})
            crop = tdoc.get("crop", {}).get("variants", {}).get(v)
            if crop:
                m = tdoc["crop"]["metric"]
                for region in ("all", "interior"):
                    p = crop[f"pooled_{region}"]
                    row.update(
                        {f"crop_{m}_{region}": p["mean"], f"crop_{m}_{region}_std": p["std"]}
                    )
                    row.update({f"crop_{m}_{region}_lo": p["lo"], f"crop_{m}_{region}_hi": p["hi"]})
            if len(row) > 2:
                rows.append(row)
    return _csv_text(rows)


def write_summary(
    out_dir: str | Path,
    config: StudyConfig,
    missing: list[str] | None,
    summarise_only: bool = False,
) -> list[Path]:
    """:func:`summarise` ``out_dir`` and write ``study.json``, ``study.npz``, ``study.csv``.

    With ``summarise_only`` the pieces were computed earlier: ``config`` then only sets the
    bootstrap, and each piece's own config stays in its provenance (``study.config``).
    """
    from antialias.provenance import provenance

    doc, arrays = summarise(out_dir, config.n_boot, config.seed)
    doc["config"] = (
        {"summarise_only": True, "n_boot": config.n_boot, "seed": config.seed}
        if summarise_only
        else _config_doc(config)
    )
    doc["provenance"] = provenance()
    if missing is not None:
        doc["missing_checkpoints"] = missing
    files = {".json": _json(doc), ".npz": _npz(arrays), ".csv": study_csv(doc).encode()}
    return sc.write_files(files, out_dir, "study")


# ----------------------------------------------------------------------------------------------
# command line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2
        self.exit(2, f"{PROG}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Shift-equivariance study of the shipped U-Nets.")
    p.add_argument("--checkpoints", default=str(DEFAULT_CHECKPOINTS), help="checkpoint folder")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="results folder")
    p.add_argument("--full", action="store_true", help="every image/seed (slow)")
    p.add_argument("--pieces", default=",".join(PIECES), help="comma-separated pieces")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--seeds", help="comma-separated seeds (default: every seed found)")
    p.add_argument("--require-all", action="store_true", help="fail on a missing checkpoint")
    p.add_argument("--summarise-only", action="store_true", help="only rebuild study.json")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _split(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    """The :class:`StudyConfig` of parsed command-line arguments."""
    seeds = None
    if args.seeds:
        try:
            seeds = tuple(int(s) for s in _split(args.seeds))
        except ValueError:
            raise StudyError(f"expected --seeds like 0,1,2, got {args.seeds!r}") from None
    if args.n_boot < 1:
        raise StudyError(f"expected --n-boot >= 1, got {args.n_boot}")
    kw = {
        "checkpoints": args.checkpoints,
        "tasks": _split(args.tasks),
        "variants": _split(args.variants),
        "seeds": seeds,
        "pieces": _split(args.pieces),
        "require_all": args.require_all,
        "n_boot": args.n_boot,
    }
    return full_config(**kw) if args.full else StudyConfig(**kw)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 for bad input)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    try:
        if args.threads < 1:
            raise StudyError(f"expected --threads >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
        cfg = config_from_args(args)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise StudyError(f"expected --out to be a folder, got the file {out}")
        start = time.perf_counter()
        say = (
            None
            if args.quiet
            else (
                lambda line: print(
                    f"[{time.perf_counter() - start:6.1f} s] {line}", file=sys.stderr, flush=True
                )
            )
        )
        missing = None
        if not args.summarise_only:
            from antialias.provenance import provenance

            results, missing = run(cfg, progress=say)
            if missing and say is not None:
                say(
                    f"missing checkpoints ({len(missing)}): {', '.join(missing[:6])}"
                    + (" ..." if len(missing) > 6 else "")
                )
            prov = provenance()
            for stem, (result, seconds) in results.items():
                sc.write_files(piece_files(stem, result, seconds, cfg, prov), out, stem)
        paths = write_summary(out, cfg, missing, summarise_only=args.summarise_only)
        timings = json.loads(paths[0].read_text())["timings"]
        print(
            "pieces (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if v is not None)
        )
        print(
            f"wrote {out}/ ({', '.join(p.name for p in paths)} + piece files) in "
            f"{time.perf_counter() - start:.1f} s"
        )
    except (StudyError, ValueError, TypeError, OSError) as err:
        text = str(err).strip().splitlines()
        print(f"{PROG}: error: {text[0] if text else type(err).__name__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
