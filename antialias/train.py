"""Train one U-Net variant on one task: ``python -m antialias.train`` (also ``antialias-train``).

Example::

    python -m antialias.train --task nuclei --variant bilinear --seed 0 --out runs/nuclei_bl_s0
    python -m antialias.train --task nuclei --variant bilinear --out runs/conv \\
        --max-epochs 200 --patience 15 --min-delta 0.001      # train to a validation plateau

What a run does: seeds everything from ``--seed``; draws random crops (random flips/rotations,
fresh noise for ``denoise``) from the task's train split; Adam with linear warm-up and a cosine
decay over the epoch budget; validation on the full val images after every epoch; the
best-on-validation weights are kept; at the end the best model is evaluated on val and test and
saved with its metrics and learning curve.

When to stop: with ``patience`` unset (the default, how the shipped checkpoints were trained)
exactly ``epochs`` epochs. With ``patience=P`` training stops at the first epoch that is ``P``
epochs after the last improvement of the validation score by more than ``min_delta``, or at
the budget of ``epochs`` epochs, whichever comes first; the stop reason (``plateau`` or
``budget``) is recorded. Either way the weights kept are those of the best epoch.

The run directory (``--out``) holds:

- ``state.safetensors``: the run's one commit record, rewritten atomically after every epoch:
  current and best weights, Adam moments, data-sampler RNG state, and (in its header) the
  epoch counter, best score and the learning curve. ``--resume`` continues *exactly* after the
  last committed epoch (bit-identical on CPU with the same thread count); a crash at any point
  loses at most the epoch in progress and never trains an epoch twice.
- ``model.safetensors`` / ``model.json``: best-on-val model (:func:`antialias.checkpoint.
  save_checkpoint` format; ``load_checkpoint`` rebuilds it); final test metrics, learning
  curve and stop reason once complete.
- ``log.jsonl`` (one JSON line per epoch) and ``curves.csv`` (epoch, train loss, val metrics,
  learning rate, seconds): the learning curve, rewritten from the state after every epoch.

The last three are derived from the state and rewritten from it on ``--resume``. An existing run
directory is refused unless ``--resume`` (continue it) or ``--overwrite`` (delete the files
above and start again). Bad arguments print one line on stderr, exit code 2, and write nothing.

Determinism: on CPU, the same seed, settings and thread count give bit-identical weights.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from antialias._checks import check_float, check_int
from antialias._cli import ArgumentParser, run
from antialias.checkpoint import (
    CheckpointError,
    check_finite_weights,
    read_metadata,
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
from antialias.files import atomic_write_bytes
from antialias.models import VARIANTS, UNet, build_variant
from antialias.rundir import (
    RUN_FILES,
    RunError,
    check_info,
    check_writable,
    clean_stale,
    clear,
    load_state,
    prepare_out,
    read_state_info,
    run_meta,
    state_bytes,
    with_weights,
    write_best,
    write_curves,
)

__all__ = [
    "QUICK",
    "RUN_FILES",
    "TASK_SETTINGS",
    "RunError",
    "TrainSettings",
    "evaluate",
    "learning_rate",
    "loss_fn",
    "main",
    "model_for_task",
    "plateau_update",
    "read_state_info",
    "score_of",
    "settings_for",
    "settings_from",
    "stop_reason",
    "train",
]

MAX_SEED = 2**63 - 1
MAX_BATCH_PIXELS = 2**24
"""Largest ``batch_size * crop**2`` accepted (16.7 M pixels: several GiB of activations at the
shipped width; larger is a typo, not a plan)."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything that decides a training run besides task, variant and seed.

    Attributes:
        epochs: number of epochs (``patience`` unset), or the maximum budget of epochs.
        steps_per_epoch: optimiser steps per epoch.
        batch_size: crops per step.
        crop: side of the square training crops (pixels).
        lr: peak learning rate of Adam.
        warmup_steps: linear warm-up steps before the cosine decay (to ``lr / 50`` at the end
            of the budget).
        weight_decay: Adam (L2) weight decay.
        threads: ``torch.set_num_threads`` for the run (results are bit-reproducible for a
            fixed thread count).
        eval_size: side of the centred crop of val/test images used for evaluation (``0``:
            whole images).
        eval_images: evaluate on the first ``eval_images`` val/test images only (``0``: all).
        patience: stop after this many epochs without an improvement of the validation score
            by more than ``min_delta`` (``None``: train all ``epochs``).
        min_delta: smallest increase of the validation score (Dice, or PSNR in dB) that counts
            as an improvement, both for the plateau and for which epoch's weights are kept.
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
    patience: int | None = None
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1, 100_000)
        check_int("steps_per_epoch", self.steps_per_epoch, 1, 10**7)
        check_int("batch_size", self.batch_size, 1, 65_536)
        check_int("crop", self.crop, 1, 65_536)
        if self.batch_size * self.crop**2 > MAX_BATCH_PIXELS:
            raise ValueError(
                f"expected batch_size * crop**2 to be <= {MAX_BATCH_PIXELS} pixels, got "
                f"{self.batch_size} x {self.crop}^2 = {self.batch_size * self.crop**2}"
            )
        lr = check_float("lr", self.lr)
        if lr <= 0:
            raise ValueError(f"expected lr to be a finite real number > 0, got {self.lr!r}")
        check_int("warmup_steps", self.warmup_steps, 0, 10**9)
        check_float("weight_decay", self.weight_decay, 0.0)
        check_int("threads", self.threads, 1, 256)
        check_int("eval_size", self.eval_size, 0, 65_536)
        check_int("eval_images", self.eval_images, 0, 10**9)
        if self.patience is not None:
            check_int("patience", self.patience, 1, 100_000)
        check_float("min_delta", self.min_delta, 0.0)


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


def settings_from(training: Mapping[str, Any]) -> TrainSettings:
    """The :class:`TrainSettings` recorded in a checkpoint's ``training`` block.

    Fields missing from older checkpoints take their defaults (``patience=None``,
    ``min_delta=0``: how those were trained); extra keys (``best_epoch``, ``curve``...) are
    ignored.
    """
    names = {f.name for f in fields(TrainSettings)}
    return TrainSettings(**{k: v for k, v in training.items() if k in names})


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


# --- when to stop --------------------------------------------------------------------------


def plateau_update(
    best_score: float, wait: int, score: float, min_delta: float
) -> tuple[bool, float, int]:
    """One epoch of the plateau rule: ``(improved, best_score, epochs_without_improvement)``.

    An epoch improves when ``score > best_score + min_delta`` (Keras' ``EarlyStopping``
    convention); the best score then moves to ``score`` and the wait restarts at 0.

    >>> plateau_update(0.5, 2, 0.52, 0.01)
    (True, 0.52, 0)
    >>> plateau_update(0.5, 2, 0.505, 0.01)
    (False, 0.5, 3)
    """
    if score > best_score + min_delta:
        return True, score, 0
    return False, best_score, wait + 1


def stop_reason(epoch: int, wait: int, settings: TrainSettings) -> str | None:
    """Why training stops after ``epoch`` epochs (``"plateau"``/``"budget"``), or ``None``.

    A plateau is reported before the budget when both hold at the same epoch.
    """
    if settings.patience is not None and wait >= settings.patience:
        return "plateau"
    if epoch >= settings.epochs:
        return "budget"
    return None


def _check_sizes(settings: TrainSettings, model: UNet, splits: Mapping[str, TaskSplit]) -> None:
    """Crop and evaluation sizes against the images and the network's period."""
    period = model.period
    side = min(min(s.images.shape[-2:]) for s in splits.values())
    train_side = min(splits["train"].images.shape[-2:])
    if not period <= settings.crop <= train_side:
        raise ValueError(
            f"expected crop to be an integer in [{period}, {train_side}] (the network's period "
            f"2**depth, the training images' side), got {settings.crop}"
        )
    if settings.eval_size and not period <= settings.eval_size <= side:
        raise ValueError(
            f"expected eval_size to be 0 or an integer in [{period}, {side}] (the network's "
            f"period, the val/test images' side), got {settings.eval_size}"
        )


def _identity(task: str, variant: str, seed: int, settings: TrainSettings, config: dict) -> dict:
    """What a resumed run must share with the one that started (as JSON reads it back)."""
    identity = {
        "task": task,
        "variant": variant,
        "seed": seed,
        "training": asdict(settings),
        "config": config,
    }
    return json.loads(json.dumps(identity))  # tuples in a config come back as lists


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
        ValueError: unknown task/variant, bad settings, sizes that do not fit the data, a run
            directory that cannot be used or a corrupt resume state (:class:`RunError`), or a
            run that diverged; :class:`antialias.data.DataMissingError` when data is missing.
            Every check runs before anything is written.
    """
    if task not in TASKS:
        raise ValueError(f"expected task to be one of {list(TASKS)}, got {task!r}")
    if variant not in VARIANTS:
        raise ValueError(f"expected variant to be one of {list(VARIANTS)}, got {variant!r}")
    check_int("seed", seed, 0, MAX_SEED)
    settings = settings or settings_for(task)
    if not isinstance(settings, TrainSettings):
        raise TypeError(f"expected settings a TrainSettings, got {type(settings).__name__}")
    check_writable(out)  # before Path(): an empty string must not become "."
    out = Path(out)
    mode = prepare_out(out, resume, overwrite)

    threads_before = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(seed)
    try:
        model = model_for_task(task, variant, **(model_overrides or {}))
        splits = {name: load_split(task, name) for name in ("train", "val", "test")}
        _check_sizes(settings, model, splits)
        return _run(
            task, variant, seed, out, settings, model, splits, mode, progress, stop_after_epochs
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
    splits: Mapping[str, TaskSplit],
    mode: str,
    progress: bool,
    stop_after_epochs: int | None,
) -> dict[str, Any]:
    identity = _identity(task, variant, seed, settings, model.config)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    info: dict[str, Any] = {
        **identity,
        "epoch": 0,
        "best_score": -math.inf,
        "best_epoch": 0,
        "wait": 0,
        "seconds": 0.0,
        "complete": False,
        "stop_reason": None,
        "history": [],
    }
    best: dict[str, Tensor] = {}
    if mode == "resume":  # every check before anything in the directory changes
        info, best = load_state(out, model, opt, gen)
        mismatch = [k for k in identity if info.get(k) != identity[k]]
        if mismatch:
            raise RunError(
                f"cannot resume {str(out)!r}: it was started with different {mismatch}; "
                "pass --overwrite to start again"
            )
        check_info(info, settings.epochs, out / "state.safetensors")
        if info["best_score"] is None:  # JSON has no -inf: an epoch-0 state stores null
            info["best_score"] = -math.inf
    if mode == "restart":
        clear(out)
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)  # a writer killed mid-write (SIGKILL) leaves its temporary file

    def commit(record: Mapping[str, Any]) -> None:
        # after this rename the epoch counts; before it, the epoch never happened
        body = state_bytes(model, best, opt, gen, _json_info(record))
        atomic_write_bytes(out / "state.safetensors", body)

    if mode == "resume":  # the derived files may lag the state by one commit: rewrite them
        write_curves(out, info["history"])
        if info["complete"]:
            return _finish(out, info, best, splits, settings, commit)
        if best:
            write_best(out, info, best)

    epochs_this_call = 0
    while stop_reason(info["epoch"], info["wait"], settings) is None:
        if stop_after_epochs is not None and epochs_this_call >= stop_after_epochs:
            return {**info, "interrupted": True}
        improved = _epoch(model, opt, gen, info, splits, settings, progress)
        if improved:
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        info["stop_reason"] = stop_reason(info["epoch"], info["wait"], settings)
        commit(info)
        write_curves(out, info["history"])
        if improved:
            write_best(out, info, best)
        epochs_this_call += 1
    return _finish(out, info, best, splits, settings, commit)


def _json_info(info: Mapping[str, Any]) -> dict[str, Any]:
    score = info["best_score"]
    return {**info, "best_score": None if math.isinf(score) else score}


def _epoch(
    model: UNet,
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    info: dict[str, Any],
    splits: Mapping[str, TaskSplit],
    settings: TrainSettings,
    progress: bool,
) -> bool:
    """Train one epoch, validate, update ``info`` (counters, history); True if it improved."""
    from tqdm import tqdm

    train_split, kind = splits["train"], splits["train"].kind
    val = _eval_view(splits["val"], settings)
    epoch = info["epoch"] + 1
    total = settings.epochs * settings.steps_per_epoch
    name = f"{info['task']}/{info['variant']}/s{info['seed']}"
    start = time.perf_counter()
    losses = []
    model.train()
    bar = tqdm(
        range(settings.steps_per_epoch),
        desc=f"{name} epoch {epoch}/{settings.epochs}",
        disable=not progress,
        leave=False,
    )
    for i in bar:
        step = info["epoch"] * settings.steps_per_epoch + i
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, total, settings)
        x, y = sample_batch(train_split, settings.batch_size, settings.crop, gen)
        loss = loss_fn(model(x), y, kind)
        if not torch.isfinite(loss):
            raise RunError(
                f"training diverged: {name} loss {loss.item()} at epoch {epoch} step {i + 1} "
                f"(lr {opt.param_groups[0]['lr']:.3g}); lower --lr"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    try:  # an infinite gradient in the last step leaves NaN weights behind a finite loss
        check_finite_weights(model.state_dict(), f"{name} after epoch {epoch}")
    except CheckpointError as err:
        raise RunError(f"training diverged: {err}; lower --lr") from err
    val_metrics = evaluate(model, val)
    score = score_of(val_metrics, kind)
    if not math.isfinite(score):
        raise RunError(f"training diverged: {name} validation score {score} at epoch {epoch}")
    seconds = time.perf_counter() - start
    improved, best_score, wait = plateau_update(
        info["best_score"], info["wait"], score, settings.min_delta
    )
    info.update(epoch=epoch, seconds=info["seconds"] + seconds, wait=wait, best_score=best_score)
    if improved:
        info["best_epoch"] = epoch
    info["history"] = [
        *info["history"],
        {
            "epoch": epoch,
            "train_loss": sum(losses) / len(losses),
            "lr": opt.param_groups[0]["lr"],
            "val": val_metrics,
            "val_score": score,
            "best": improved,
            "seconds": round(seconds, 3),
        },
    ]
    metric = "psnr" if kind == "regression" else "dice"
    print(
        f"{name} epoch {epoch}/{settings.epochs} loss {info['history'][-1]['train_loss']:.4f} "
        f"val {metric} {val_metrics[metric]:.4f}{' *' if improved else ''} ({seconds:.1f} s)",
        flush=True,
    )
    return improved


def _finish(
    out: Path,
    info: dict[str, Any],
    best: Mapping[str, Tensor],
    splits: Mapping[str, TaskSplit],
    settings: TrainSettings,
    commit: Any,
) -> dict[str, Any]:
    """Evaluate the best weights on val and test; commit the final record; write the model."""
    from antialias.provenance import provenance

    net = with_weights(info["config"], best)
    final = info.get("final_meta")
    if final is None:  # first time here: compute, then commit before publishing
        val = _eval_view(splits["val"], settings)
        test = _eval_view(splits["test"], settings)
        info = {**info, "complete": True}
        final = run_meta(info, net, {"val": evaluate(net, val), "test": evaluate(net, test)})
        final["data"] = {
            "train": list(splits["train"].sources),
            "val": list(val.sources),
            "test": list(test.sources),
        }
        final["provenance"] = provenance()
        info["final_meta"] = final
        commit(info)
    save_checkpoint(out / "model.safetensors", net, final)
    return read_metadata(out / "model.safetensors")


# --- command line ------------------------------------------------------------------------------

PROG = "python -m antialias.train"


def int_or_none(text: str) -> int | None:
    if text.lower() == "none":
        return None
    return int(text)


_HELP = {
    "epochs": "epochs to train; with --patience the maximum budget; ",
    "patience": "stop this many epochs after the last improvement of the validation score "
    "('none': train all --epochs); ",
    "min_delta": "smallest rise of the validation score (Dice, or PSNR in dB) that counts as "
    "an improvement; ",
}


def build_parser() -> ArgumentParser:
    """The command line of ``python -m antialias.train``."""
    defaults = TrainSettings()
    p = ArgumentParser(
        prog=PROG,
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
        flags = ["--" + f.name.replace("_", "-")]
        if f.name == "epochs":
            flags.append("--max-epochs")  # the same number: the budget when --patience is set
        default = getattr(defaults, f.name)
        kind = int_or_none if f.name == "patience" else type(default)
        p.add_argument(
            *flags,
            dest=f.name,
            type=kind,
            default=None,
            help=_HELP.get(f.name, "") + f"default {default} (denoise "
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

    def body() -> int:
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
        print(json.dumps({"test": meta["metrics"]["test"]}, sort_keys=True))
        return 0

    # OSError: a disk or permission problem while writing --out, reported with its file name
    return run(PROG, body, user_errors=(ValueError, TypeError, DataMissingError, OSError))


if __name__ == "__main__":
    sys.exit(main())
