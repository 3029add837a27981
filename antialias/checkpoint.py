"""Safe checkpoint I/O: weights in safetensors, everything else as JSON metadata.

A checkpoint is data, never code. :func:`save_checkpoint` writes
``<stem>.safetensors`` whose header metadata holds, under the key ``"antialias"``, a JSON object
with the full model config, task, variant, seed, training settings, metrics and provenance
(versions, git commit, time); the same JSON is mirrored in ``<stem>.json`` for reading by eye.
:func:`load_checkpoint` rebuilds the model from the file alone. Plain state dicts from elsewhere
(``.pt``/``.pth``/``.bin``) go through ``torch.load(weights_only=True)`` only, so a pickle that
would run code fails with :class:`CheckpointError` instead of running.

Shipped layout: ``checkpoints/<task>/<variant>_s<seed>.safetensors`` (:func:`checkpoint_path`).

Every write goes to a temporary name in the same folder and is renamed into place, so an
interrupted save never leaves a half-written file under the final name.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

META_KEY = "antialias"
"""Key of the JSON metadata in the safetensors header."""
FORMAT = "antialias-checkpoint"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pt", ".pth", ".bin")


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not match its model (the message says why)."""


def checkpoint_path(root: str | Path, task: str, variant: str, seed: int) -> Path:
    """Path of a shipped checkpoint: ``<root>/<task>/<variant>_s<seed>.safetensors``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"expected seed a non-negative int, got {seed!r}")
    return Path(root) / task / f"{variant}_s{seed}.safetensors"


def _atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` (same folder: atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically (temporary name in the same folder, then rename)."""
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _plain_state(model: nn.Module) -> dict[str, Tensor]:
    # safetensors refuses shared or non-contiguous storage: give it independent copies.
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


def save_checkpoint(path: str | Path, model: nn.Module, meta: Mapping[str, Any]) -> Path:
    """Save weights (safetensors) and metadata (header + ``<stem>.json`` sidecar), atomically.

    Args:
        path: target ``.safetensors`` file.
        model: a model with a JSON-serialisable ``config`` (e.g. :class:`antialias.models.UNet`).
        meta: JSON-serialisable metadata: task, variant, seed, training settings, metrics...
            ``config`` (from ``model.config``), ``format`` and, unless given, ``provenance``
            are filled in.

    Returns:
        The path written.
    """
    from safetensors.torch import save_file

    from antialias.provenance import provenance

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"expected a path ending in .safetensors, got {str(path)!r}")
    if not isinstance(meta, Mapping):
        raise TypeError(f"expected meta a mapping, got {type(meta).__name__}")
    config = getattr(model, "config", None)
    if not isinstance(config, Mapping):
        raise TypeError(f"expected a model with a dict `config`, got {type(model).__name__}")
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **dict(meta)}
    full["config"] = dict(config)
    full.setdefault("provenance", provenance())
    try:
        text = json.dumps(full, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected JSON-serialisable metadata, got: {err}") from err
    state = _plain_state(model)
    _atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata={META_KEY: text}))
    atomic_write_text(path.with_suffix(".json"), text + "\n")
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint (safetensors header, else the ``<stem>.json`` sidecar)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                header = handle.metadata() or {}
        except Exception as err:  # safetensors raises its own error type for bad headers
            raise CheckpointError(
                f"{path}: not a readable safetensors file (truncated or corrupt): {err}"
            ) from err
        if META_KEY in header:
            return _parse_meta(header[META_KEY], f"{path} header")
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        return _parse_meta(sidecar.read_text(encoding="utf-8"), str(sidecar))
    raise CheckpointError(
        f"{path}: no '{META_KEY}' metadata in the header and no sidecar {sidecar.name}; "
        "expected a checkpoint written by save_checkpoint (use load_state_dict_safely for "
        "bare weights)"
    )


def _parse_meta(text: str, where: str) -> dict[str, Any]:
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{where}: metadata is not valid JSON: {err}") from err
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{where}: expected metadata with a 'config' object, got {meta!r}")
    return meta


def load_state_dict_safely(path: str | Path) -> dict[str, Tensor]:
    """Load a plain state dict without ever unpickling arbitrary objects.

    ``.safetensors`` files are read with safetensors; ``.pt``/``.pth``/``.bin`` files only with
    ``torch.load(weights_only=True)``, which refuses any global outside torch's allow-list (a
    crafted pickle that would run code raises :class:`CheckpointError`). A ``{"state_dict": ...}``
    or ``{"model": ...}`` wrapper is unwrapped.

    Returns:
        Mapping from parameter/buffer name to a CPU tensor.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as err:
            raise CheckpointError(
                f"{path}: not a readable safetensors file (truncated or corrupt): {err}"
            ) from err
    if path.suffix not in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"expected a .safetensors or {'/'.join(PICKLE_SUFFIXES)} file, got {path.name!r}"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: refused to unpickle (torch.load weights_only=True allows tensors and plain "
            f"containers only; this file holds something else, possibly code): {err}"
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{path}: not a readable torch file (truncated or corrupt): {err}"
        ) from err
    for key in ("state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()
    ):
        raise CheckpointError(f"{path}: expected a mapping str -> Tensor, got {type(obj).__name__}")
    return dict(obj)


def check_state_dict(model: nn.Module, state: Mapping[str, Tensor], where: str = "") -> None:
    """Raise :class:`CheckpointError` naming every missing, unexpected or mis-shaped key."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        f"{k}: model {tuple(expected[k].shape)} vs file {tuple(state[k].shape)}"
        for k in set(expected) & set(state)
        if tuple(expected[k].shape) != tuple(state[k].shape)
    )
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected}")
        if shapes:
            parts.append(f"shape mismatches {shapes}")
        prefix = f"{where}: " if where else ""
        raise CheckpointError(f"{prefix}weights do not match the model config: " + "; ".join(parts))


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model from a checkpoint file alone.

    Args:
        path: a ``.safetensors`` file written by :func:`save_checkpoint` (or a
            ``.pt``/``.pth`` state dict with a ``<stem>.json`` sidecar holding the config).
        map_location: device of the returned model.

    Returns:
        ``(model, meta)``: the model in eval mode, and the metadata dict (``config``, ``task``,
        ``variant``, ``seed``, ``training``, ``metrics``, ``provenance``, ...).
    """
    from antialias.models import UNet

    meta = read_metadata(path)
    try:
        model = UNet.from_config(meta["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path}: cannot build a UNet from its config: {err}") from err
    state = load_state_dict_safely(path)
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval(), meta
