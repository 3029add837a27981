"""The 3-D task study: train one small 3-D U-Net per main up path on the napari nuclei volume,
then score each on the test slab (Dice) and under crop shifts along z, y and x.

    nice -n 10 python analysis/volumes_study.py                 # train what is missing, analyse
    python analysis/volumes_study.py --train-only | --analyse-only
    python analysis/volumes_study.py --designs tconv2_3d --steps 20 \
        --results /tmp/r --checkpoints /tmp/c

Training (per design of :data:`antialias.models_nd.VOLUME_DESIGNS`, seeded, 1 thread):
Adam (lr :data:`SETTINGS` ``lr``, cosine to 0), cross-entropy on ``(16, 64, 64)`` patches of the
train slab (:func:`antialias.volumes.sample_patches`), the val slab's foreground Dice every
``eval_every`` steps; the best-on-val weights are saved. A run stops early when its CPU time
(``time.process_time``) passes ``cpu_budget_s`` (said in its record). A finished run (its
checkpoint and its ``train_<design>_s<seed>.json`` with the same settings) is skipped, so the
command resumes per design. Files: ``checkpoints/volumes/<design>_s<seed>.safetensors`` (+ the
``.json`` sidecar), ``results/volumes/train_<design>_s<seed>.{json,csv}`` (the learning curve).

Val and test slabs are predicted from their slab plus the 4 gap slices on each side (input
only, never trained on or scored; :func:`antialias.volumes.context_span`) and scored on the slab.

Analysis (``results/volumes/analysis.{json,csv}``): for each trained model, foreground Dice on
the test slab (whole and per slice), parameters and MACs of one ``(1, 1, 16, 64, 64)`` patch,
and the shift consistency of :func:`antialias.consistency.run` in ``crop`` mode on the test
slab, shifts 1..``2**depth`` along each of z, y, x: label agreement and Dice between the
prediction of the shifted window and the shifted prediction (segmentation), and the EQ-T PSNR
of the foreground probabilities (data range 1). Plus a no-learning baseline on the same slab
(3-D Gaussian + Otsu, sigma chosen on val from :data:`antialias.baselines.GRIDS`).

The test slab is ONE unit (one volume): every number is descriptive, not inferential.

Bad input (unknown design, non-positive steps, an unwritable folder): one line, exit 2, nothing
written.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from antialias import files
from antialias._cli import ArgumentParser, fail
from antialias._cli import run as run_cli
from antialias.models_nd import (
    VOLUME_DESIGNS,
    build_volume_design,
    count_macs_3d,
    count_parameters,
    load_volume_checkpoint,
    save_volume_checkpoint,
)
from antialias.volumes import (
    PATCH,
    SLABS,
    SOURCE,
    UNIT,
    VolumeSplit,
    context_span,
    load_volume_split,
    sample_patches,
)

PROG = "volumes_study"
ROOT = Path(__file__).resolve().parents[1]
SCHEMA_TRAIN = "antialias.volumes_train/1"
SCHEMA_ANALYSIS = "antialias.volumes_analysis/1"

SETTINGS: dict[str, Any] = {
    "depth": 2,
    "width": 8,
    "norm": "none",
    "pad_mode": "zeros",
    "steps": 1000,
    "batch_size": 2,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "eval_every": 50,
    "cpu_budget_s": 390.0,
    "patch": list(PATCH),
    "threads": 1,
}
"""Training settings shared by every design (declared before any run; recorded in each)."""


# --- training -------------------------------------------------------------------------------


def foreground_dice(pred: torch.Tensor, target: torch.Tensor) -> float:
    """``2 |P & T| / (|P| + |T|)`` of the foreground (label 1), from float64 counts; 1 if both
    are empty."""
    p, t = pred.bool(), target.bool()
    inter = float((p & t).sum(dtype=torch.float64))
    total = float(p.sum(dtype=torch.float64) + t.sum(dtype=torch.float64))
    return 1.0 if total == 0 else 2.0 * inter / total


@torch.no_grad()
def predict(model: nn.Module, split: VolumeSplit) -> torch.Tensor:
    """Label map ``(D, H, W)`` of a slab, predicted from its context (one forward pass, eval
    mode) and cropped to the slab."""
    model.eval()
    return split.crop(model(split.context[None, None]).argmax(1)[0])


def train_design(
    name: str, seed: int, settings: dict[str, Any], progress: bool = True
) -> tuple[nn.Module, dict[str, Any], list[dict[str, Any]]]:
    """Train design ``name``; no file writes.

    Returns:
        ``(best model, record, curve)``: the best-on-val model, the run's record (settings,
        best step, val Dice, CPU and wall seconds, stop reason) and one row per evaluation.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    s = settings
    model = build_volume_design(
        name, depth=s["depth"], width=s["width"], norm=s["norm"], pad_mode=s["pad_mode"]
    )
    train, val = load_volume_split("train"), load_volume_split("val")
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s["steps"])
    curve: list[dict[str, Any]] = []
    best = {"dice": -1.0, "step": 0, "state": None}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    stop = "steps"
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=s["steps"], desc=name, unit="step", file=sys.stderr, dynamic_ncols=True)
    losses: list[float] = []
    for step in range(1, s["steps"] + 1):
        model.train()
        x, y = sample_patches(train, s["batch_size"], rng, tuple(s["patch"]))
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
        over = time.process_time() - cpu0 > s["cpu_budget_s"]
        if step % s["eval_every"] == 0 or step == s["steps"] or over:
            dice = foreground_dice(predict(model, val), val.mask)
            curve.append(
                {
                    "step": step,
                    "train_loss": float(np.mean(losses)),
                    "val_dice": dice,
                    "cpu_s": time.process_time() - cpu0,
                }
            )
            losses = []
            if dice > best["dice"]:
                best = {"dice": dice, "step": step, "state": copy.deepcopy(model.state_dict())}
            if bar is not None:
                bar.set_postfix(val_dice=f"{dice:.3f}", best=f"{best['dice']:.3f}")
        if over:
            stop = "cpu_budget"
            break
    if bar is not None:
        bar.close()
    model.load_state_dict(best["state"])
    model.eval()
    record = {
        "design": name,
        "label": VOLUME_DESIGNS[name].label,
        "mirrors": VOLUME_DESIGNS[name].mirrors,
        "seed": seed,
        "settings": dict(settings),
        "best_step": best["step"],
        "best_val_dice": best["dice"],
        "last_step": curve[-1]["step"],
        "stop": stop,
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - wall0,
        "split": {k: list(v) for k, v in SLABS.items()},
        "context": {k: list(context_span(k)) for k in ("val", "test")},
        "data": SOURCE,
        "unit": UNIT,
    }
    return model, record, curve


def _paths(results: Path, checkpoints: Path, name: str, seed: int) -> tuple[Path, Path]:
    return checkpoints / f"{name}_s{seed}.safetensors", results / f"train_{name}_s{seed}.json"


def finished(results: Path, checkpoints: Path, name: str, seed: int, settings: dict) -> bool:
    """Whether design ``name`` has a checkpoint and a training record with these settings."""
    ckpt, record = _paths(results, checkpoints, name, seed)
    if not (ckpt.is_file() and record.is_file()):
        return False
    try:
        doc, _ = files.read_result_set(record)
    except ValueError:
        return False
    return doc.get("record", {}).get("settings") == settings


def write_run(
    results: Path, checkpoints: Path, model: nn.Module, record: dict, curve: list[dict]
) -> None:
    """The checkpoint first, then the training record + curve (one result set)."""
    from antialias.provenance import provenance

    name, seed = record["design"], record["seed"]
    ckpt, _ = _paths(results, checkpoints, name, seed)
    meta = {
        "task": "volumes_nuclei",
        "variant": name,
        "seed": seed,
        "training": record["settings"],
        "metrics": {"best_val_dice": record["best_val_dice"], "best_step": record["best_step"]},
    }
    save_volume_checkpoint(ckpt, model, meta)
    doc = {
        "schema": SCHEMA_TRAIN,
        "record": record,
        "curve": curve,
        "checkpoint": ckpt.relative_to(ROOT).as_posix() if ckpt.is_relative_to(ROOT) else str(ckpt),
        "provenance": provenance(),
    }
    files.write_result_set(results, f"train_{name}_s{seed}", doc, {".csv": files.csv_bytes(curve)})


# --- analysis -------------------------------------------------------------------------------


def _shift_list(period: int) -> str:
    parts = []
    for axis in range(3):
        for d in range(1, period + 1):
            s = [0, 0, 0]
            s[axis] = d
            parts.append(":".join(map(str, s)))
    return ",".join(parts)


def shift_consistency(ckpt: Path, config: dict, slab: Path, period: int) -> dict[str, Any]:
    """Crop shifts of the test slab along z, y, x through :func:`antialias.consistency.run`:
    label agreement / Dice (segmentation) and EQ-T PSNR of the foreground probability."""
    from antialias.consistency import Config, run

    rows: dict[tuple[int, int, int], dict[str, Any]] = {}
    for factory, kind in (("UNet3d", "segmentation"), ("UNet3dProbability", "regression")):
        cfg = Config(
            model=f"antialias.models_nd:{factory}",
            model_kwargs=config,
            weights=str(ckpt),
            data=str(slab),
            mode="crop",
            shifts=_shift_list(period),
            normalize="none",
            kind=kind,
            border=period,
            n_boot=1,  # one volume: no resampling unit to bootstrap over
            batch_size=4,
            spatial_dims=3,
        )
        result = run(cfg)["results"][0]
        for rec in result["shifts"]:
            key = (rec["dz"], rec["dy"], rec["dx"])
            row = rows.setdefault(key, {"dz": key[0], "dy": key[1], "dx": key[2]})
            for metric in ("agreement", "dice", "psnr"):
                if metric in rec:
                    row[metric] = rec[metric]
                    row[f"{metric}_interior"] = rec.get(f"{metric}_interior")
            row["n_voxels"] = rec.get("n_compared")
        frame = result["frame_sizes"]
    return {"frame_sizes": frame, "shifts": [rows[k] for k in sorted(rows) if any(k)]}


def gaussian_otsu_3d(image: np.ndarray, sigma: float) -> np.ndarray:
    """Foreground = 3-D Gaussian-smoothed slab above its own Otsu threshold."""
    from skimage.filters import gaussian, threshold_otsu

    smooth = gaussian(image.astype(np.float64), sigma) if sigma > 0 else image.astype(np.float64)
    return smooth > threshold_otsu(smooth)


def baseline() -> dict[str, Any]:
    """3-D Gaussian + Otsu, sigma chosen on the val slab (grid of :mod:`antialias.baselines`)."""
    from antialias.baselines import GRIDS

    val, test = load_volume_split("val"), load_volume_split("test")

    def segment(split: VolumeSplit, sigma: float) -> torch.Tensor:
        # the same input as the U-Nets: the slab's context, scored on the slab
        return split.crop(torch.from_numpy(gaussian_otsu_3d(split.context.numpy(), sigma)))

    scores = {s: foreground_dice(segment(val, s), val.mask) for s in GRIDS["gaussian_otsu"]}
    sigma = max(scores, key=lambda s: (scores[s], -s))
    pred = segment(test, sigma)
    return {
        "method": "gaussian_otsu_3d",
        "sigma": sigma,
        "val_dice": {f"{s:g}": d for s, d in scores.items()},  # sigma -> val Dice
        "val_dice_chosen": scores[sigma],
        "test_dice": foreground_dice(pred, test.mask),
        "test_dice_per_slice": [foreground_dice(p, t) for p, t in zip(pred, test.mask)],
    }


def analyse(results: Path, checkpoints: Path, names: list[str], seed: int) -> dict[str, Any]:
    """Score every trained design on the test slab; no file writes except a temporary slab."""
    test = load_volume_split("test")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        slab = Path(tmp) / "test_slab.npy"
        np.save(slab, test.image.numpy())
        for name in names:
            ckpt, record_path = _paths(results, checkpoints, name, seed)
            if not ckpt.is_file():
                fail(f"no checkpoint {ckpt} for design {name!r}: train it first")
            model, meta = load_volume_checkpoint(ckpt)
            pred = predict(model, test)
            train_doc, _ = files.read_result_set(record_path)
            period = model.period
            row = {
                "design": name,
                "label": VOLUME_DESIGNS[name].label,
                "mirrors": VOLUME_DESIGNS[name].mirrors,
                "checkpoint": ckpt.relative_to(ROOT).as_posix()
                if ckpt.is_relative_to(ROOT)
                else str(ckpt),
                "seed": seed,
                "parameters": count_parameters(model),
                "macs_patch": count_macs_3d(model, (1, 1, *PATCH))["total"],
                "period": period,
                "test_dice": foreground_dice(pred, test.mask),
                "test_dice_per_slice": [foreground_dice(p, t) for p, t in zip(pred, test.mask)],
                "best_val_dice": train_doc["record"]["best_val_dice"],
                "best_step": train_doc["record"]["best_step"],
                "train_cpu_s": train_doc["record"]["cpu_s"],
                "train_wall_s": train_doc["record"]["wall_s"],
                "shift": shift_consistency(ckpt, model.config, slab, period),
            }
            rows.append(row)
    return {
        "rows": rows,
        "baseline": baseline(),
        "test_slab": list(SLABS["test"]),
        "context": {k: list(context_span(k)) for k in ("val", "test")},
        "test_foreground": test.foreground,
        "test_foreground_per_slice": [float(m.double().mean()) for m in test.mask],
    }


def _csv_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in doc["rows"]:
        for s in row["shift"]["shifts"]:
            out.append({"design": row["design"], "test_dice": row["test_dice"], **s})
    return out


def markdown_table(doc: dict[str, Any]) -> str:
    """The results table of docs/volumes.md from an analysis document (a test checks that the
    doc holds exactly this text for the committed results)."""
    lines = [
        "| design | mirrors | parameters | MACs / 16x64x64 patch | best val Dice (step) | "
        "test Dice | worst crop-shift agreement (z / y / x) | min EQ-T PSNR, dB (z / y / x) | "
        "train CPU s (wall s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in doc["rows"]:
        worst, low = [], []
        for _, key in (("z", "dz"), ("y", "dy"), ("x", "dx")):
            on = [s for s in row["shift"]["shifts"] if s[key]]
            worst.append(f"{min(s['agreement'] for s in on):.5f}")
            low.append(f"{min(s['psnr'] for s in on):.1f}")
        lines.append(
            f"| `{row['design']}` ({row['label']}) | {row['mirrors']} | {row['parameters']:,} | "
            f"{row['macs_patch'] / 1e6:.0f} M | {row['best_val_dice']:.4f} ({row['best_step']}) | "
            f"{row['test_dice']:.4f} | {' / '.join(worst)} | {' / '.join(low)} | "
            f"{row['train_cpu_s']:.0f} ({row['train_wall_s']:.0f}) |"
        )
    base = doc["baseline"]
    lines.append(
        f"| Gaussian + Otsu (3-D, sigma {base['sigma']:g} chosen on val) | no learning | 0 | - | "
        f"{base['val_dice_chosen']:.4f} | "
        f"{base['test_dice']:.4f} | - | - | - |"
    )
    return "\n".join(lines) + "\n"


# --- command --------------------------------------------------------------------------------


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--designs", default=",".join(VOLUME_DESIGNS), help="comma-separated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=SETTINGS["steps"])
    p.add_argument("--results", default=str(ROOT / "results" / "volumes"))
    p.add_argument("--checkpoints", default=str(ROOT / "checkpoints" / "volumes"))
    group = p.add_mutually_exclusive_group()
    group.add_argument("--train-only", action="store_true")
    group.add_argument("--analyse-only", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p


def _writable(folder: Path, flag: str) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        fail(f"expected {flag} to be a folder, got {str(folder)!r} (a file is in the way)")
    import os

    if not os.access(probe, os.W_OK):
        fail(f"expected a writable {flag}, got {str(folder)!r}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def body() -> int:
        names = [n.strip() for n in args.designs.split(",") if n.strip()]
        unknown = [n for n in names if n not in VOLUME_DESIGNS]
        if not names or unknown:
            fail(f"expected --designs among {list(VOLUME_DESIGNS)}, got {args.designs!r}")
        if args.steps < 1 or args.steps > 1_000_000:
            fail(f"expected --steps in [1, 1000000], got {args.steps}")
        if args.seed < 0:
            fail(f"expected --seed >= 0, got {args.seed}")
        results, checkpoints = Path(args.results), Path(args.checkpoints)
        _writable(results, "--results")
        _writable(checkpoints, "--checkpoints")
        settings = {**SETTINGS, "steps": args.steps}
        settings["eval_every"] = min(settings["eval_every"], args.steps)
        torch.set_num_threads(settings["threads"])
        if not args.analyse_only:
            for name in names:
                if finished(results, checkpoints, name, args.seed, settings):
                    print(f"{name}: finished run found, skipped", file=sys.stderr)
                    continue
                model, record, curve = train_design(name, args.seed, settings, not args.no_progress)
                write_run(results, checkpoints, model, record, curve)
                print(
                    f"{name}: best val Dice {record['best_val_dice']:.4f} at step "
                    f"{record['best_step']}, {record['cpu_s']:.0f} s CPU, "
                    f"{record['wall_s']:.0f} s wall",
                    file=sys.stderr,
                )
        if args.train_only:
            return 0
        from antialias.provenance import provenance

        doc = analyse(results, checkpoints, names, args.seed)
        doc = {
            "schema": SCHEMA_ANALYSIS,
            "data": SOURCE,
            "unit": UNIT,
            "split": {k: list(v) for k, v in SLABS.items()},
            **doc,
            "provenance": provenance(),
        }
        files.write_result_set(results, "analysis", doc, {".csv": files.csv_bytes(_csv_rows(doc))})
        for row in doc["rows"]:
            worst = min(s["agreement"] for s in row["shift"]["shifts"])
            print(
                f"{row['design']:>28}: test Dice {row['test_dice']:.4f}, worst crop-shift "
                f"agreement {worst:.5f}, {row['parameters']} parameters"
            )
        print(f"{'gaussian_otsu_3d':>28}: test Dice {doc['baseline']['test_dice']:.4f}")
        return 0

    return run_cli(PROG, body)


if __name__ == "__main__":
    sys.exit(main())
