"""Safe checkpoint I/O: weights in safetensors, everything else as JSON metadata.

A checkpoint is data, never code. :func:`save_checkpoint` writes
``<stem>.safetensors`` whose header metadata holds, under the key ``"antialias"``, a JSON object
with the full model config, task, variant, seed, training settings, metrics and provenance
(versions, git commit, time); the same JSON is mirrored in ``<stem>.json`` for reading by eye.
:func:`load_checkpoint` rebuilds the model from the file alone. Plain state dicts from elsewhere
(``.pt``/``.pth``/``.bin``) go through ``torch.load(weights_only=True)`` only, so a pickle that
would run code fails with :class:`CheckpointError` instead of running.

A file is checked before anything it describes is allocated: the model is first built with
shapes only (parameters on the ``meta`` device), its tensor names, shapes and kinds are compared
with the safetensors *header*, and only then are the weights read and the real model built. So a
1 KB file whose config claims a giant network is refused in milliseconds. Weights must be
floating point where the model has floating point (no ``int32``/``bool`` weights) and finite.

Shipped layout: ``checkpoints/<task>/<variant>_s<seed>.safetensors`` (:func:`checkpoint_path`).

Files are written through :func:`antialias.files.atomic_write_bytes` (temporary name in the same
folder, then rename; permissions from the umask), so an interrupted save never leaves a
half-written file under the final name.

What does not live here: training runs and their resume state (:mod:`antialias.train`), result
files (:mod:`antialias.files`).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from antialias.files import atomic_write_bytes

META_KEY = "antialias"
"""Key of the JSON metadata in the safetensors header."""
FORMAT = "antialias-checkpoint"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pt", ".pth", ".bin")
MAX_DEPTH = 32
"""Largest U-Net depth a checkpoint config may claim (the channel count ``width * 2**depth``
of anything deeper cannot be allocated; checked before the config is built)."""

# safetensors' dtype names -> torch's (messages name torch's); kinds compare what a tensor *is*
_DTYPE_NAMES = {
    "F16": "float16",
    "BF16": "bfloat16",
    "F32": "float32",
    "F64": "float64",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "I8": "int8",
    "I16": "int16",
    "I32": "int32",
    "I64": "int64",
    "U8": "uint8",
    "U16": "uint16",
    "U32": "uint32",
    "U64": "uint64",
    "BOOL": "bool",
    "C64": "complex64",
    "C128": "complex128",
}


def _kind_of_name(name: str) -> str:
    if name.startswith(("float", "bfloat")):
        return "float"
    if name.startswith("complex"):
        return "complex"
    return "bool" if name == "bool" else "int"


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not match its model (the message says why)."""


def checkpoint_path(root: str | Path, task: str, variant: str, seed: int) -> Path:
    """Path of a shipped checkpoint: ``<root>/<task>/<variant>_s<seed>.safetensors``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"expected seed a non-negative int, got {seed!r}")
    return Path(root) / task / f"{variant}_s{seed}.safetensors"


def _short(err: object, limit: int = 200) -> str:
    """An error text on one line, cut to ``limit`` characters (never a whole metadata dump)."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f", ... (+{len(names) - limit} more)" if len(names) > limit else ""
    return f"[{shown}{more}]"


def _plain_state(model: nn.Module) -> dict[str, Tensor]:
    # safetensors refuses shared or non-contiguous storage: give it independent copies.
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}


def safetensors_bytes(tensors: Mapping[str, Tensor], metadata: Mapping[str, str]) -> bytes:
    """``tensors`` (contiguous, unshared) and string ``metadata`` as ``.safetensors`` bytes."""
    from safetensors.torch import save

    return save(dict(tensors), metadata=dict(metadata))


def save_checkpoint(path: str | Path, model: nn.Module, meta: Mapping[str, Any]) -> Path:
    """Save weights (safetensors) and metadata (header + ``<stem>.json`` sidecar), atomically.

    The weights file is renamed into place first, the sidecar second. The header is the
    authority (:func:`read_metadata` prefers it), so a crash between the two renames leaves a
    consistent checkpoint beside a stale sidecar.

    Args:
        path: target ``.safetensors`` file.
        model: a model with a JSON-serialisable ``config`` (e.g. :class:`antialias.models.UNet`).
        meta: JSON-serialisable metadata: task, variant, seed, training settings, metrics...
            ``config`` (from ``model.config``), ``format`` and, unless given, ``provenance``
            are filled in.

    Returns:
        The path written.

    Raises:
        CheckpointError: non-finite weights (a checkpoint :func:`load_checkpoint` would refuse
            is never written).
    """
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
        raise TypeError(f"expected JSON-serialisable metadata, got: {_short(err)}") from err
    state = _plain_state(model)
    check_finite_weights(state, str(path))
    atomic_write_bytes(path, safetensors_bytes(state, {META_KEY: text}))
    atomic_write_bytes(path.with_suffix(".json"), (text + "\n").encode("utf-8"))
    return path


def _safetensors_header(
    path: Path,
) -> tuple[dict[str, str], dict[str, tuple[tuple[int, ...], str]]]:
    """``(metadata, {name: (shape, dtype name)})`` from the header alone (no tensor is read)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {}
            for key in handle.keys():
                view = handle.get_slice(key)
                tensors[key] = (tuple(int(n) for n in view.get_shape()), str(view.get_dtype()))
    except Exception as err:  # safetensors raises its own error types for bad headers
        raise CheckpointError(
            f"{path}: not a readable safetensors file (truncated or corrupt): {_short(err)}"
        ) from err
    return metadata, tensors


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint (safetensors header, else the ``<stem>.json`` sidecar)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        header, _ = _safetensors_header(path)
        if META_KEY in header:
            return _parse_meta(header[META_KEY], f"{path} header")
    sidecar = path.with_suffix(".json")
    if sidecar.is_file():
        try:
            text = sidecar.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise CheckpointError(f"{sidecar}: cannot read the metadata: {_short(err)}") from err
        return _parse_meta(text, str(sidecar))
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
    if not isinstance(meta, dict):
        raise CheckpointError(
            f"{where}: expected the metadata to be a JSON object, got {type(meta).__name__}"
        )
    if not isinstance(meta.get("config"), dict):
        got = type(meta["config"]).__name__ if "config" in meta else "no 'config' key"
        raise CheckpointError(f"{where}: expected metadata with a 'config' object, got {got}")
    return meta


def load_state_dict_safely(path: str | Path) -> dict[str, Tensor]:
    """Load a plain state dict without ever unpickling arbitrary objects.

    ``.safetensors`` files are read with safetensors; ``.pt``/``.pth``/``.bin`` files only with
    ``torch.load(weights_only=True)``, which refuses any global outside torch's allow-list (a
    crafted pickle that would run code raises :class:`CheckpointError`). A ``{"state_dict": ...}``
    or ``{"model": ...}`` wrapper is unwrapped. Nothing is checked against a model here (see
    :func:`check_state_dict`).

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
                f"{path}: not a readable safetensors file (truncated or corrupt): {_short(err)}"
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
            f"containers only; this file holds something else, possibly code): {_short(err)}"
        ) from err
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(
            f"{path}: not a readable torch file (truncated or corrupt): {_short(err)}"
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


def _kind(dtype: torch.dtype) -> str:
    if dtype.is_complex:
        return "complex"
    if dtype.is_floating_point:
        return "float"
    return "bool" if dtype == torch.bool else "int"


def _entries(state: Mapping[str, Tensor]) -> dict[str, tuple[tuple[int, ...], str, str]]:
    return {
        k: (tuple(v.shape), _kind(v.dtype), str(v.dtype).removeprefix("torch."))
        for k, v in state.items()
    }


def _check_entries(
    expected: Mapping[str, tuple[tuple[int, ...], str, str]],
    found: Mapping[str, tuple[tuple[int, ...], str, str]],
    where: str,
) -> None:
    """Compare names, shapes and kinds (float/int/bool) of the model's tensors and the file's."""
    # model order (forward order: the first mismatch is the informative one), then file order
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    common = [k for k in expected if k in found]
    shapes = [
        f"{k}: model {expected[k][0]} vs file {found[k][0]}"
        for k in common
        if expected[k][0] != found[k][0]
    ]
    kinds = [
        f"{k}: model {expected[k][2]} vs file {found[k][2]}"
        for k in common
        if expected[k][1] != found[k][1]
    ]
    parts = []
    if missing:
        parts.append(f"missing keys {_names(missing)}")
    if unexpected:
        parts.append(f"unexpected keys {_names(unexpected)}")
    if shapes:
        parts.append(f"shape mismatches {_names(shapes, 3)}")
    if kinds:  # int32/bool "weights" would be cast silently by load_state_dict
        parts.append(f"wrong dtypes (expected the model's kind) {_names(kinds, 3)}")
    if parts:
        prefix = f"{where}: " if where else ""
        raise CheckpointError(f"{prefix}weights do not match the model config: " + "; ".join(parts))


def check_finite_weights(state: Mapping[str, Tensor], where: str = "") -> None:
    """Raise :class:`CheckpointError` if a floating-point tensor holds NaN or infinity.

    A NaN weight makes every output NaN, and ``argmax`` of NaN is 0 everywhere: the model would
    then look perfectly shift-equivariant.
    """
    bad = []
    for key, value in state.items():
        if value.is_floating_point() or value.is_complex():
            n = int((~torch.isfinite(value)).sum())
            if n:
                bad.append(f"{key} ({n} of {value.numel()})")
    if bad:
        prefix = f"{where}: " if where else ""
        raise CheckpointError(
            f"{prefix}expected finite weights, got non-finite values in {_names(bad, 3)}"
        )


def check_state_dict(model: nn.Module, state: Mapping[str, Tensor], where: str = "") -> None:
    """Raise :class:`CheckpointError` on missing, unexpected, mis-shaped, mis-typed or
    non-finite entries of ``state`` for ``model`` (the message names a few of each)."""
    _check_entries(_entries(model.state_dict()), _entries(state), where)
    check_finite_weights(state, where)


_FACTORIES = {
    torch.empty,
    torch.empty_strided,
    torch.zeros,
    torch.ones,
    torch.full,
    torch.rand,
    torch.randn,
}


class _ShapesOnly(TorchFunctionMode):
    """Tensor factories without an explicit device make ``meta`` tensors (shape, no storage).

    ``torch.device("meta")`` would also turn small computed tensors (filter taps whose sum a
    layer reads with ``float()``) into meta tensors and fail; parameters and buffers are made
    by these factories, so sending only them to ``meta`` is what keeps the build allocation-free.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = dict(kwargs or {})
        if func in _FACTORIES and kwargs.get("device") is None:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def _expected_entries(config: Mapping[str, Any], where: str) -> dict[str, tuple]:
    """Names, shapes and kinds of the tensors of ``UNet.from_config(config)``, allocation-free."""
    from antialias.models import UNet

    depth = config.get("depth")
    if isinstance(depth, int) and not isinstance(depth, bool) and depth > MAX_DEPTH:
        raise CheckpointError(
            f"{where}: expected config depth to be an integer <= {MAX_DEPTH}, got {depth}"
        )
    try:
        with _ShapesOnly():
            skeleton = UNet.from_config(dict(config))
        return _entries(skeleton.state_dict())
    except CheckpointError:
        raise
    except Exception as err:  # the config is untrusted data: any failure is "cannot build"
        raise CheckpointError(
            f"{where}: cannot build a UNet from its config: {_short(err)}"
        ) from err


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model from a checkpoint file alone.

    Order (nothing large is allocated before the file is known to match its config): read the
    metadata; build the model with shapes only; compare with the safetensors header (names,
    shapes, float/int kinds); read the weights and check them finite; build the real model.

    Args:
        path: a ``.safetensors`` file written by :func:`save_checkpoint` (or a
            ``.pt``/``.pth`` state dict with a ``<stem>.json`` sidecar holding the config).
        map_location: device of the returned model.

    Returns:
        ``(model, meta)``: the model in eval mode, and the metadata dict (``config``, ``task``,
        ``variant``, ``seed``, ``training``, ``metrics``, ``provenance``, ...).

    Raises:
        CheckpointError: a one-line reason naming the file.
    """
    from antialias.models import UNet

    path = Path(path)
    meta = read_metadata(path)
    expected = _expected_entries(meta["config"], str(path))
    if path.suffix == ".safetensors":
        _, header = _safetensors_header(path)
        found = {}
        for key, (shape, dtype) in header.items():
            name = _DTYPE_NAMES.get(dtype, dtype)
            found[key] = (shape, _kind_of_name(name), name)
        _check_entries(expected, found, str(path))
    state = load_state_dict_safely(path)
    _check_entries(expected, _entries(state), str(path))
    check_finite_weights(state, str(path))
    try:
        model = UNet.from_config(meta["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise CheckpointError(
            f"{path}: cannot build a UNet from its config: {_short(err)}"
        ) from err
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval(), meta
