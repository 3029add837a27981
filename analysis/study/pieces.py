"""The study's pieces: each computes one result from checkpoints and data, writing nothing.

The shift pieces are :func:`analysis.shift_consistency.run`, the speed piece
:func:`analysis.speed.run`; ``accuracy`` and ``example`` are computed here. :func:`run` picks
the pieces of a :class:`~analysis.study.config.StudyConfig` and times each.

What does not live here: summaries over seeds and images (:mod:`analysis.study.summary`) and
files (:mod:`analysis.study.files`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from analysis import shift_consistency as sc
from analysis.study.config import (
    PIECES,
    Ckpt,
    StudyConfig,
    StudyError,
    find_checkpoints,
    repo_relative,
)
from antialias import metrics as M

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
    result["config"]["checkpoints"] = [repo_relative(c.path) for c in ckpts]
    for rec in result["results"]:
        rec["source"] = repo_relative(rec["source"])
    return result


def _common(cfg: StudyConfig) -> dict[str, Any]:
    """Settings every shift piece shares."""
    return {
        "n_boot": cfg.n_boot,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "border": cfg.border,
    }


def _by_task(ckpts: list[Ckpt], task: str, seeds: tuple[int, ...] | None = None) -> list[Ckpt]:
    """The checkpoints of one task (and, if given, of those seeds)."""
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
                "source": repo_relative(c.path),
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
                "source": repo_relative(c.path),
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


Job = tuple[str, Callable[[], "dict[str, Any] | None"]]


def _shift_jobs(cfg: StudyConfig, ckpts: list[Ckpt], tasks: list[str], progress) -> list[Job]:
    """``crop``, ``period``, ``fractional`` and ``layers``: shift-consistency runs."""
    jobs: list[Job] = []

    def add(stem: str, piece: str, task: str, sel: list[Ckpt], **kw: Any) -> None:
        if sel:
            jobs.append((stem, lambda: _sc_run(piece, task, sel, progress, **kw)))

    common = _common(cfg)
    if "crop" in cfg.pieces:
        for task in tasks:
            add(f"crop_{task}", "crop", task, _by_task(ckpts, task), mode="crop",
                shifts="line", max_shift=cfg.crop_max_shift,
                max_images=cfg.crop_images.get(task), **common)  # fmt: skip
    if "period" in cfg.pieces:
        for task in cfg.period_tasks:
            add(f"period_{task}", "period", task, _by_task(ckpts, task, cfg.period_seeds),
                mode="circular", shifts="all", max_images=cfg.period_images,
                image_size=cfg.period_size.get(task), **common)  # fmt: skip
    if "fractional" in cfg.pieces:
        n = cfg.fractional_steps
        spec = ",".join(f"0:{k / n!r}" for k in range(n + 1))
        for task in cfg.fractional_tasks:
            add(f"fractional_{task}", "fractional", task, _by_task(ckpts, task),
                mode="fractional", shifts=spec, max_images=cfg.fractional_images,
                **common)  # fmt: skip
    if "layers" in cfg.pieces:
        add(f"layers_{cfg.layers_task}", "layers", cfg.layers_task,
            _by_task(ckpts, cfg.layers_task, cfg.layers_seeds), mode="crop", shifts="line",
            max_shift=cfg.layers_max_shift, max_images=cfg.layers_images, per_layer=True,
            **{**common, "border": cfg.layers_border})  # fmt: skip
    return jobs


def _jobs(cfg: StudyConfig, ckpts: list[Ckpt], progress: Progress | None) -> list[Job]:
    """Every requested piece as ``(file stem, compute)``, in the order they run."""
    tasks = [t for t in cfg.tasks if _by_task(ckpts, t)]
    jobs: list[Job] = []
    if "accuracy" in cfg.pieces:
        for task in tasks:  # one file per task, so that rerunning one task keeps the others
            sel = _by_task(ckpts, task)
            jobs.append((f"accuracy_{task}", lambda sel=sel: run_accuracy(sel, progress)))
    jobs += _shift_jobs(cfg, ckpts, tasks, progress)
    if "example" in cfg.pieces and _by_task(ckpts, cfg.example_task):
        jobs.append(("example", lambda: run_example(cfg, ckpts)))
    if "speed" in cfg.pieces:
        from analysis import speed

        jobs.append(("speed", lambda: speed.run(speed.SpeedConfig(**cfg.speed), progress=progress)))
    return jobs


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
    for stem, compute in _jobs(cfg, ckpts, progress):
        load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
        start = time.perf_counter()
        result = compute()
        if result is not None:
            result["load_average"] = [load, os.getloadavg()[0]]
            out[stem] = (result, time.perf_counter() - start)
        if stem == "example" and progress is not None and "example" in out:
            progress(f"example: {out['example'][1]:.1f} s")
    return out, missing
