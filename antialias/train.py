"""Train one U-Net variant on one task: ``python -m antialias.train`` (also ``antialias-train``).

Example::

    python -m antialias.train --task nuclei --variant bilinear --seed 0 --out runs/nuclei_bl_s0

What a run does: seeds everything from ``--seed``; draws random crops (random flips/rotations,
fresh noise for ``denoise``) from the task's train split; Adam with linear warm-up and a cosine
decay; validation on the full val images after every epoch; the best-on-validation weights are
kept; at the end the best model is evaluated on val and test and saved with its metrics.

The run directory (``--out``) holds, all written atomically (temporary name, then rename):

- ``model.safetensors`` / ``model.json``: best-on-val model (:func:`antialias.checkpoint.
  save_checkpoint` format; ``load_checkpoint`` rebuilds it); final test metrics once complete.
- ``state.safetensors`` / ``state.json``: everything needed to resume after the last finished
  epoch (weights, Adam moments, data-sampler RNG state), so ``--resume`` continues *exactly*
  where an interrupted run stopped (bit-identical on CPU with the same thread count).
- ``log.jsonl``: one JSON line per epoch (loss, learning rate, validation metrics, seconds).

An existing run directory is refused unless ``--resume`` (continue it) or ``--overwrite``
(delete the files above and start again). Bad arguments print one line on stderr, exit code 2.

Determinism: on CPU, the same seed, settings and thread count give bit-identical weights.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias.checkpoint import (
    CheckpointError,
    atomic_write_text,
    check_state_dict,
    load_state_dict_safely,
    save_checkpoint,
)
from antialias.data import (
    TASKS,
    DataMissingError,
    TaskSplit,
    load_split,
    sample_batch,
    source_group,
)
from antialias.models import VARIANTS, UNet, build_variant, count_parameters

RUN_FILES = ("model.safetensors", "model.json", "state.safetensors", "state.json", "log.jsonl")


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides a training run besides task, variant and seed.

    Attributes:
        epochs: number of epochs (validation after each).
        steps_per_epoch: optimiser steps per epoch.
        batch_size: crops per step.
        crop: side of the square training crops (pixels).
        lr: peak learning rate of Adam.
        warmup_steps: linear warm-up steps before the cosine decay (to ``lr / 50``).
        weight_decay: Adam (L2) weight decay.
        threads: ``torch.set_num_threads`` for the run (results are bit-reproducible for a
            fixed thread count).
        eval_size: side of the centred crop of val/test images used for evaluation (``0``:
            whole images).
        eval_images: evaluate on the first ``eval_images`` val/test images only (``0``: all).
    """

    epochs: int = 6
    steps_per_epoch: int = 60
    batch_size: int = 8
    crop: int = 64
    lr: float = 3e-3
    warmup_steps: int = 25
    weight_decay: float = 0.0
    threads: int = 1
    eval_size: int = 0
    eval_images: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", int):
                minimum = 0 if f.name in ("eval_size", "eval_images", "warmup_steps") else 1
                if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                    raise ValueError(f"expected {f.name} an int >= {minimum}, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"expected {f.name} a non-negative number, got {value!r}")
        if self.lr <= 0:
            raise ValueError(f"expected lr > 0, got {self.lr!r}")


QUICK = TrainSettings(
    epochs=2,
    steps_per_epoch=2,
    batch_size=2,
    crop=32,
    warmup_steps=1,
    eval_size=64,
    eval_images=2,
)
"""Settings of ``--quick``: a few seconds, for tests and smoke checks (not a trained model)."""


TASK_SETTINGS: dict[str, TrainSettings] = {
    "nuclei": TrainSettings(),
    "textures": TrainSettings(),
    "denoise": TrainSettings(),
}
"""Default (shipped) settings of each task (today the same for all three)."""


def settings_for(task: str) -> TrainSettings:
    """The shipped training settings of ``task`` (:data:`TASK_SETTINGS`)."""
    if task not in TASK_SETTINGS:
        raise ValueError(f"expected task to be one of {list(TASK_SETTINGS)}, got {task!r}")
    return TASK_SETTINGS[task]


class RunError(ValueError):
    """A run directory cannot be used as asked (exists, incomplete, or from another run)."""


def model_for_task(task: str, variant: str, **overrides: Any) -> UNet:
    """The variant's shipped architecture with the task's head (2 logits, or 1 residual map)."""
    if task not in TASKS:
        raise ValueError(f"expected task to be one of {list(TASKS)}, got {task!r}")
    if task == "denoise":
        return build_variant(variant, 1, 1, residual=True, **overrides)
    return build_variant(variant, 1, 2, **overrides)


def learning_rate(step: int, total: int, settings: TrainSettings) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then cosine decay to ``lr / 50``."""
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    span = max(total - settings.warmup_steps, 1)
    t = min((step - settings.warmup_steps) / span, 1.0)
    floor = settings.lr / 50
    return floor + 0.5 * (settings.lr - floor) * (1 + math.cos(math.pi * t))


def loss_fn(output: Tensor, target: Tensor, kind: str) -> Tensor:
    """Cross-entropy + soft Dice of the foreground (segmentation) or MSE (regression)."""
    if kind == "regression":
        return F.mse_loss(output, target)
    ce = F.cross_entropy(output, target)
    prob = output.softmax(1)[:, 1]
    fg = (target == 1).to(prob.dtype)
    dice = (2 * (prob * fg).sum() + 1) / (prob.sum() + fg.sum() + 1)
    return ce + (1 - dice)


def _eval_view(split: TaskSplit, settings: TrainSettings) -> TaskSplit:
    n = settings.eval_images or len(split)
    s = settings.eval_size
    images, targets = split.images[:n], split.targets[:n]
    if s:
        h, w = images.shape[-2:]
        r, c = (h - s) // 2, (w - s) // 2
        images = images[..., r : r + s, c : c + s]
        targets = targets[..., r : r + s, c : c + s]
    return replace(split, images=images, targets=targets, sources=split.sources[:n])


@torch.no_grad()
def evaluate(model: nn.Module, split: TaskSplit, batch_size: int = 4) -> dict[str, float]:
    """Metrics of ``model`` on a split (float64 sums over all pixels).

    Segmentation: ``dice`` and ``iou`` of the foreground pooled over all images, ``accuracy``,
    and ``dice/<source>`` per data source. Regression: mean per-image ``psnr`` of the output,
    ``psnr_input`` of the noisy input and their difference ``psnr_gain`` (dB, ``data_range``).
    """
    was_training = model.training
    model.eval()
    outs = [model(split.images[i : i + batch_size]) for i in range(0, len(split), batch_size)]
    model.train(was_training)
    out = torch.cat(outs)
    if split.kind == "regression":

        def psnr(a: Tensor) -> Tensor:
            mse = ((a.double() - split.targets.double()) ** 2).mean(dim=(1, 2, 3))
            return 10 * torch.log10(split.data_range**2 / mse)

        p_out, p_in = psnr(out), psnr(split.images)
        return {
            "psnr": float(p_out.mean()),
            "psnr_input": float(p_in.mean()),
            "psnr_gain": float((p_out - p_in).mean()),
            "mse": float(((out.double() - split.targets.double()) ** 2).mean()),
        }
    pred = out.argmax(1) == 1
    true = split.targets == 1

    def dice_of(p: Tensor, t: Tensor) -> float:
        inter = (p & t).sum(dtype=torch.float64)
        total = p.sum(dtype=torch.float64) + t.sum(dtype=torch.float64)
        return float(2 * inter / total) if total > 0 else 1.0

    inter = (pred & true).sum(dtype=torch.float64)
    union = (pred | true).sum(dtype=torch.float64)
    metrics = {
        "dice": dice_of(pred, true),
        "iou": float(inter / union) if union > 0 else 1.0,
        "accuracy": float((pred == true).double().mean()),
    }
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(split.sources):
        groups.setdefault(source_group(source), []).append(i)
    if len(groups) > 1:
        for name, idx in sorted(groups.items()):
            metrics[f"dice/{name}"] = dice_of(pred[idx], true[idx])
    return metrics


def score_of(metrics: dict[str, float], kind: str) -> float:
    """The model-selection score (higher is better): Dice or PSNR."""
    return metrics["psnr"] if kind == "regression" else metrics["dice"]


# --- resumable state: tensors in safetensors, the rest in JSON (never pickle) -----------------


def _save_state(
    out: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator, info: dict
) -> None:
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    sd = opt.state_dict()
    for idx, state in sd["state"].items():
        for name, value in state.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().clone()
    tensors["rng.data"] = gen.get_state().clone()
    info = {**info, "param_groups": sd["param_groups"]}
    text = json.dumps(info, indent=1, sort_keys=True)
    from antialias.checkpoint import _atomic_write

    _atomic_write(out / "state.safetensors", lambda tmp: save_file(tensors, str(tmp)))
    atomic_write_text(out / "state.json", text + "\n")


def _load_state(
    out: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator
) -> dict:
    info = json.loads((out / "state.json").read_text(encoding="utf-8"))
    tensors = load_state_dict_safely(out / "state.safetensors")
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    check_state_dict(model, model_state, str(out / "state.safetensors"))
    model.load_state_dict(model_state)
    opt_state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            opt_state.setdefault(int(idx), {})[name] = value
    opt.load_state_dict({"state": opt_state, "param_groups": info["param_groups"]})
    gen.set_state(tensors["rng.data"])
    return info


def _truncate_log(path: Path, epochs: int) -> None:
    """Keep the log lines of the epochs the saved state has seen (drop any after a crash)."""
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if len(lines) > epochs:
            atomic_write_text(path, "".join(lines[:epochs]))


def _identity(task: str, variant: str, seed: int, settings: TrainSettings, config: dict) -> dict:
    return {
        "task": task,
        "variant": variant,
        "seed": seed,
        "training": asdict(settings),
        "config": config,
    }


def _prepare_out(out: Path, resume: bool, overwrite: bool) -> bool:
    """Check the run directory; returns True when there is a run to resume."""
    if resume and overwrite:
        raise RunError("expected at most one of --resume and --overwrite, got both")
    if out.exists() and not out.is_dir():
        raise RunError(f"expected --out to be a directory, got the file {str(out)!r}")
    present = [name for name in RUN_FILES if (out / name).exists()]
    if not present:
        if out.exists() and any(out.iterdir()) and not (resume or overwrite):
            raise RunError(
                f"run directory {str(out)!r} is not empty; choose a new --out or pass --overwrite"
            )
        return False
    if overwrite:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        return False
    if not resume:
        raise RunError(
            f"run directory {str(out)!r} already holds a run ({', '.join(present)}); pass "
            "--resume to continue it or --overwrite to start again"
        )
    if not (out / "state.json").exists():  # stopped before its first epoch ended: start over
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        return False
    return True


def train(
    task: str,
    variant: str,
    seed: int,
    out: str | Path,
    settings: TrainSettings | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    stop_after_epochs: int | None = None,
    model_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train (or resume) one run; returns the metadata saved with the final model.

    Args:
        task: one of :data:`antialias.data.TASKS`.
        variant: one of :data:`antialias.models.VARIANTS`.
        seed: seed of the weights' initialisation and of the crop sampler.
        out: run directory (see the module docstring).
        settings: training settings (default: the task's, :func:`settings_for`).
        resume: continue the run found in ``out``.
        overwrite: delete the run found in ``out`` and start again.
        progress: show a tqdm bar per epoch.
        stop_after_epochs: stop after this many epochs *in this call* (simulates an
            interruption; the run is then incomplete and can be resumed).
        model_overrides: :class:`UNet` arguments replacing the shipped architecture's.

    Raises:
        ValueError: unknown task/variant, bad settings, or a run directory that cannot be used
            (:class:`RunError`); :class:`antialias.data.DataMissingError` when data is missing.
    """
    if task not in TASKS:
        raise ValueError(f"expected task to be one of {list(TASKS)}, got {task!r}")
    if variant not in VARIANTS:
        raise ValueError(f"expected variant to be one of {list(VARIANTS)}, got {variant!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"expected seed a non-negative int, got {seed!r}")
    settings = settings or settings_for(task)
    out = Path(out)
    has_state = _prepare_out(out, resume, overwrite)

    threads_before = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(seed)
    try:
        model = model_for_task(task, variant, **(model_overrides or {}))
        return _run(
            task, variant, seed, out, settings, model, has_state, progress, stop_after_epochs
        )
    finally:
        torch.set_num_threads(threads_before)


def _run(
    task: str,
    variant: str,
    seed: int,
    out: Path,
    settings: TrainSettings,
    model: UNet,
    has_state: bool,
    progress: bool,
    stop_after_epochs: int | None,
) -> dict[str, Any]:
    from tqdm import tqdm

    train_split = load_split(task, "train")
    val = _eval_view(load_split(task, "val"), settings)
    kind = train_split.kind
    identity = _identity(task, variant, seed, settings, model.config)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    total = settings.epochs * settings.steps_per_epoch
    info: dict[str, Any] = {
        **identity,
        "epoch": 0,
        "best_score": -math.inf,
        "best_epoch": 0,
        "seconds": 0.0,
        "complete": False,
    }
    if has_state:
        try:
            info = _load_state(out, model, opt, gen)
        except (CheckpointError, KeyError, json.JSONDecodeError) as err:
            raise RunError(f"cannot resume from {str(out)!r}: {err}") from err
        mismatch = [k for k in identity if info.get(k) != identity[k]]
        if mismatch:
            raise RunError(
                f"cannot resume {str(out)!r}: it was started with different {mismatch}; "
                "pass --overwrite to start again"
            )
        if info.get("complete"):
            return json.loads((out / "model.json").read_text(encoding="utf-8"))
        _truncate_log(out / "log.jsonl", info["epoch"])
    out.mkdir(parents=True, exist_ok=True)

    model.train()
    epochs_this_call = 0
    while info["epoch"] < settings.epochs:
        if stop_after_epochs is not None and epochs_this_call >= stop_after_epochs:
            return {**info, "interrupted": True}
        epoch = info["epoch"] + 1
        start = time.perf_counter()
        losses = []
        bar = tqdm(
            range(settings.steps_per_epoch),
            desc=f"{task}/{variant}/s{seed} epoch {epoch}/{settings.epochs}",
            disable=not progress,
            leave=False,
        )
        for i in bar:
            step = info["epoch"] * settings.steps_per_epoch + i
            for group in opt.param_groups:
                group["lr"] = learning_rate(step, total, settings)
            x, y = sample_batch(train_split, settings.batch_size, settings.crop, gen)
            loss = loss_fn(model(x), y, kind)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        val_metrics = evaluate(model, val)
        score = score_of(val_metrics, kind)
        seconds = time.perf_counter() - start
        improved = score > info["best_score"]
        info.update(epoch=epoch, seconds=info["seconds"] + seconds)
        if improved:
            info.update(best_score=score, best_epoch=epoch)
            save_checkpoint(
                out / "model.safetensors", model, _meta(info, model, {"val": val_metrics})
            )
        record = {
            "epoch": epoch,
            "train_loss": sum(losses) / len(losses),
            "lr": opt.param_groups[0]["lr"],
            "val": val_metrics,
            "best": improved,
            "seconds": round(seconds, 3),
        }
        with open(out / "log.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(record, sort_keys=True) + "\n")
        _save_state(out, model, opt, gen, info)
        name = "psnr" if kind == "regression" else "dice"
        print(
            f"{task}/{variant}/s{seed} epoch {epoch}/{settings.epochs} "
            f"loss {record['train_loss']:.4f} val {name} {val_metrics[name]:.4f}"
            f"{' *' if improved else ''} ({seconds:.1f} s)",
            flush=True,
        )
        epochs_this_call += 1

    # Final: best-on-val weights, evaluated on val and test, saved with their metrics.
    from antialias.checkpoint import load_checkpoint

    best, _ = load_checkpoint(out / "model.safetensors")
    test = _eval_view(load_split(task, "test"), settings)
    metrics = {"val": evaluate(best, val), "test": evaluate(best, test)}
    info["complete"] = True
    meta = _meta(info, best, metrics)
    meta["data"] = {"train": list(train_split.sources), "val": list(val.sources)}
    meta["data"]["test"] = list(test.sources)
    save_checkpoint(out / "model.safetensors", best, meta)
    _save_state(out, model, opt, gen, info)
    return json.loads((out / "model.json").read_text(encoding="utf-8"))


def _meta(info: dict, model: nn.Module, metrics: dict) -> dict[str, Any]:
    return {
        "task": info["task"],
        "variant": info["variant"],
        "seed": info["seed"],
        "kind": "regression" if info["task"] == "denoise" else "segmentation",
        "training": {
            **info["training"],
            "best_epoch": info["best_epoch"],
            "epochs_done": info["epoch"],
            "train_seconds": round(info["seconds"], 2),
            "complete": info["complete"],
        },
        "num_parameters": count_parameters(model),
        "metrics": metrics,
    }


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m antialias.train``."""
    defaults = TrainSettings()
    p = _Parser(
        prog="python -m antialias.train",
        description="Train one U-Net variant on one task (see antialias/train.py).",
    )
    p.add_argument("--task", required=True, help=f"one of {', '.join(TASKS)}")
    p.add_argument("--variant", required=True, help=f"one of {', '.join(VARIANTS)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run (for tests)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    for f in fields(TrainSettings):
        p.add_argument(
            "--" + f.name.replace("_", "-"),
            type=type(getattr(defaults, f.name)),
            default=None,
            help=f"default {getattr(defaults, f.name)} (denoise "
            f"{getattr(TASK_SETTINGS['denoise'], f.name)}, --quick {getattr(QUICK, f.name)})",
        )
    return p


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (2 on bad input, one line on stderr)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    try:
        base = QUICK if args.quick else settings_for(args.task)
        overrides = {
            f.name: getattr(args, f.name)
            for f in fields(TrainSettings)
            if getattr(args, f.name) is not None
        }
        settings = replace(base, **overrides)
        meta = train(
            args.task,
            args.variant,
            args.seed,
            args.out,
            settings,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ValueError, DataMissingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"test": meta["metrics"]["test"]}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
