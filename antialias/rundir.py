"""The run directory of :mod:`antialias.train`: its resume record, derived files and checks.

One idea: what a run directory holds and how it changes, so that a crash at any moment leaves
a directory that ``--resume`` continues correctly.

- ``state.safetensors`` is the commit record: current and best weights, Adam moments and the
  sampler's RNG state as tensors, and the JSON record (epoch counter, best score, plateau wait,
  history of every epoch, the final metadata once complete) in its header under
  :data:`STATE_KEY`. One file renamed into place: the epoch it describes either happened or not.
- ``model.safetensors``/``model.json``, ``log.jsonl`` and ``curves.csv`` are derived from the
  record and rewritten from it (after each commit, and on resume).
- :func:`prepare_out` checks a directory before a run writes anything in it.

What does not live here: the training loop and its settings (:mod:`antialias.train`), the
checkpoint format (:mod:`antialias.checkpoint`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from antialias.checkpoint import (
    CheckpointError,
    check_state_dict,
    load_state_dict_safely,
    safetensors_bytes,
    save_checkpoint,
)
from antialias.files import atomic_write_bytes, csv_bytes
from antialias.models import UNet, count_parameters

__all__ = [
    "RUN_FILES",
    "STATE_KEY",
    "RunError",
    "check_info",
    "check_writable",
    "clean_stale",
    "clear",
    "load_state",
    "prepare_out",
    "read_state_info",
    "run_meta",
    "state_bytes",
    "with_weights",
    "write_best",
    "write_curves",
]

RUN_FILES = ("model.safetensors", "model.json", "state.safetensors", "log.jsonl", "curves.csv")
"""Files of a run directory (``--overwrite`` deletes these and nothing else)."""
_LEGACY_FILES = ("state.json",)  # the resume record of format 1 (a second file: not atomic)
STATE_KEY = "antialias-train-state"
"""Key of the resume record (JSON) in the header of ``state.safetensors``."""
STATE_FORMAT_VERSION = 2


class RunError(ValueError):
    """A run directory cannot be used as asked (exists, incomplete, corrupt, another run's)."""


def state_bytes(
    model: nn.Module,
    best: Mapping[str, Tensor],
    opt: torch.optim.Optimizer,
    gen: torch.Generator,
    info: Mapping[str, Any],
) -> bytes:
    """Bytes of ``state.safetensors``: tensors, and ``info`` as JSON (no NaN/inf) in the header."""
    tensors = {f"model.{k}": v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v.contiguous().clone() for k, v in best.items()})
    sd = opt.state_dict()
    for idx, state in sd["state"].items():
        for name, value in state.items():
            tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().clone()
    tensors["rng.data"] = gen.get_state().clone()
    record = {**info, "format_version": STATE_FORMAT_VERSION, "param_groups": sd["param_groups"]}
    text = json.dumps(record, sort_keys=True, allow_nan=False)
    return safetensors_bytes(tensors, {STATE_KEY: text})


def read_state_info(out: str | Path) -> dict[str, Any]:
    """The resume record of a run directory (epoch, best, history, ``complete``...).

    Raises:
        RunError: no state, or a state that is corrupt or of another format (one line).
    """
    path = Path(out) / "state.safetensors"
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            text = (handle.metadata() or {}).get(STATE_KEY)
    except Exception as err:  # safetensors' own error types for truncated/corrupt files
        raise RunError(f"cannot resume: {path} is not a readable state file: {_one(err)}") from err
    if text is None:
        raise RunError(f"cannot resume: {path} has no resume record; pass --overwrite")
    try:
        info = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunError(f"cannot resume: the resume record of {path} is not JSON: {err}") from err
    if not isinstance(info, dict) or info.get("format_version") != STATE_FORMAT_VERSION:
        raise RunError(
            f"cannot resume: {path} is not a format-{STATE_FORMAT_VERSION} state; "
            "pass --overwrite to start again"
        )
    return info


def _one(err: object) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _epoch_record_ok(record: object, epoch: int) -> bool:
    """One history entry as :func:`antialias.train` writes it (what the curves read)."""
    return (
        isinstance(record, dict)
        and record.get("epoch") == epoch
        and all(_number(record.get(k)) for k in ("train_loss", "val_score", "lr", "seconds"))
        and isinstance(record.get("val"), dict)
        and all(_number(v) for v in record["val"].values())
        and isinstance(record.get("best"), bool)
    )


def check_info(info: Mapping[str, Any], epochs: int, path: Path) -> None:
    """Refuse a resume record whose fields are missing, mistyped or contradict each other."""
    epoch, best_epoch, history = info.get("epoch"), info.get("best_epoch"), info.get("history")
    ok = (
        isinstance(epoch, int)
        and 0 <= epoch <= epochs
        and isinstance(best_epoch, int)
        and 0 <= best_epoch <= epoch
        and (best_epoch > 0 or epoch == 0)
        and isinstance(history, list)
        and len(history) == epoch
        and all(_epoch_record_ok(r, i + 1) for i, r in enumerate(history))
        and (_number(info.get("best_score")) or (epoch == 0 and info.get("best_score") is None))
        and isinstance(info.get("wait"), int)
        and 0 <= info["wait"] <= epoch
        and _number(info.get("seconds"))
        and isinstance(info.get("complete"), bool)
        and (not info["complete"] or isinstance(info.get("final_meta"), dict))
    )
    if not ok:
        raise RunError(
            f"cannot resume: the resume record of {path} is inconsistent; pass --overwrite"
        )


def load_state(
    out: Path, model: nn.Module, opt: torch.optim.Optimizer, gen: torch.Generator
) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Restore model, optimiser and sampler from ``state.safetensors``; ``(info, best)``."""
    path = out / "state.safetensors"
    info = read_state_info(out)
    try:
        tensors = load_state_dict_safely(path)
        current = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
        check_state_dict(model, current, f"{path} (current weights)")
        if best or info.get("best_epoch"):
            check_state_dict(model, best, f"{path} (best weights)")
        model.load_state_dict(current)
        opt_state: dict[int, dict[str, Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                opt_state.setdefault(int(idx), {})[name] = value
        opt.load_state_dict({"state": opt_state, "param_groups": info["param_groups"]})
        gen.set_state(tensors["rng.data"])
    except CheckpointError as err:
        raise RunError(f"cannot resume: {err}") from err
    except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as err:
        raise RunError(f"cannot resume: {path} does not hold a usable state: {_one(err)}") from err
    return info, best


# --- derived outputs: the learning curve and the best model --------------------------------


def _curve(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compact per-epoch curve for the checkpoint metadata."""
    keys = ("epoch", "train_loss", "val_score", "lr", "seconds")
    return [{k: r[k] for k in keys} for r in history]


def _curve_csv(history: list[dict[str, Any]]) -> bytes:
    rows, total = [], 0.0
    for r in history:
        total += r["seconds"]
        row = {"epoch": r["epoch"], "train_loss": r["train_loss"], "val_score": r["val_score"]}
        row.update({f"val_{k}": v for k, v in r["val"].items()})
        row.update(lr=r["lr"], seconds=r["seconds"], total_seconds=round(total, 3))
        row["best"] = int(r["best"])
        rows.append(row)
    return csv_bytes(rows)


def write_curves(out: Path, history: list[dict[str, Any]]) -> None:
    """``log.jsonl`` (one line per epoch) and ``curves.csv`` from the history, each atomic."""
    log = "".join(json.dumps(r, sort_keys=True) + "\n" for r in history)
    atomic_write_bytes(out / "log.jsonl", log.encode("utf-8"))
    atomic_write_bytes(out / "curves.csv", _curve_csv(history))


def with_weights(config: Mapping[str, Any], state: Mapping[str, Tensor]) -> UNet:
    """A :class:`UNet` from ``config`` holding ``state`` (the global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):  # building draws initial weights we discard
        net = UNet.from_config(dict(config))
    net.load_state_dict(dict(state))
    return net.eval()


def run_meta(info: Mapping[str, Any], model: nn.Module, metrics: dict) -> dict[str, Any]:
    """The checkpoint metadata of a run: identity, settings, best epoch, stop reason, curve."""
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
            "stop_reason": info.get("stop_reason"),
            "curve": _curve(info["history"]),
        },
        "num_parameters": count_parameters(model),
        "metrics": metrics,
    }


def write_best(out: Path, info: Mapping[str, Any], best: Mapping[str, Tensor]) -> None:
    """``model.safetensors`` of a run in progress: the best weights so far, their val metrics."""
    net = with_weights(info["config"], best)
    record = info["history"][info["best_epoch"] - 1]
    save_checkpoint(out / "model.safetensors", net, run_meta(info, net, {"val": record["val"]}))


# --- the run directory -----------------------------------------------------------------------


def check_writable(out: str | Path, flag: str = "--out") -> None:
    """Refuse a ``flag`` path that cannot become a writable directory, without creating it.

    Nothing is created: the nearest existing ancestor must be a directory in which a probe
    file can be made (and is removed at once).
    """
    if isinstance(out, str) and not out.strip():  # Path("") would silently mean "."
        raise RunError(f"expected {flag} to be a directory path, got {out!r}")
    out = Path(out)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        what = flag if probe == out else f"{flag} {str(out)!r}: its parent"
        raise RunError(f"expected {what} to be a directory, got the file {str(probe)!r}")
    try:  # the only reliable test (permissions, read-only mounts, root): try to write
        fd, tmp = tempfile.mkstemp(prefix=".antialias-probe.", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise RunError(f"cannot write {flag} {str(out)!r}: {err.strerror or err}") from err


def prepare_out(out: Path, resume: bool, overwrite: bool) -> str:
    """Check the run directory (writes nothing); ``"new"``, ``"resume"`` or ``"restart"``."""
    if resume and overwrite:
        raise RunError("expected at most one of --resume and --overwrite, got both")
    check_writable(out)
    names = RUN_FILES + _LEGACY_FILES
    present = [name for name in names if (out / name).exists()]
    if not present:
        if out.exists() and any(out.iterdir()) and not (resume or overwrite):
            raise RunError(
                f"run directory {str(out)!r} is not empty; choose a new --out or pass --overwrite"
            )
        return "new"
    if overwrite:
        return "restart"
    if not resume:
        raise RunError(
            f"run directory {str(out)!r} already holds a run ({', '.join(present)}); pass "
            "--resume to continue it or --overwrite to start again"
        )
    if not (out / "state.safetensors").exists():
        if (out / "state.json").exists():
            raise RunError(
                f"cannot resume {str(out)!r}: its state is of an older format (state.json); "
                "pass --overwrite to start again"
            )
        return "restart"  # stopped before its first epoch was committed: start over
    return "resume"


def clear(out: Path) -> None:
    """Delete the files of a run (and of the older format) from ``out``, nothing else."""
    for name in RUN_FILES + _LEGACY_FILES:
        (out / name).unlink(missing_ok=True)
    clean_stale(out)


def clean_stale(out: Path) -> None:
    """Remove temporary files a killed writer left in ``out`` (``.<run file>.*.tmp``)."""
    for name in RUN_FILES:
        for stale in out.glob(f".{name}.*.tmp"):
            stale.unlink(missing_ok=True)
