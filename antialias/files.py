"""Result files: the one place that writes and reads JSON / CSV / NPZ, atomically.

A *result set* is several files that belong together, ``<name>.json`` plus siblings such as
``<name>.csv`` and ``<name>.npz``. :func:`write_result_set` makes the set appear whole or not at
all *for a reader*: every sibling is written under a temporary name and renamed into place
first, the JSON last, and the JSON records the SHA-256 of each sibling. :func:`read_result_set`
checks those digests, so a crash between two renames (a new CSV beside an old JSON) is reported
as an incomplete set instead of being read as a result. Temporary files of a killed writer
(``.<name>*.tmp``) are removed by the next write of the same set.

Files are created with the permissions the user's umask gives (``tempfile`` alone would make
them 0600).

What does not live here: what goes *into* a result (each analysis builds its own document) and
the safetensors checkpoints (:mod:`antialias.checkpoint`, which uses :func:`atomic_write_bytes`).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "IncompleteResultError",
    "atomic_write_bytes",
    "atomic_write_text",
    "csv_bytes",
    "json_bytes",
    "npz_bytes",
    "read_json",
    "read_result_set",
    "write_result_set",
]

_DIGESTS_KEY = "files_sha256"


class IncompleteResultError(ValueError):
    """A result set whose files do not belong together (a writer was interrupted)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    return Path(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_bytes(doc: Any) -> bytes:
    """``doc`` as indented JSON (``NaN``/``Infinity`` allowed, as Python writes them)."""
    return (json.dumps(doc, indent=1, allow_nan=True) + "\n").encode("utf-8")


def csv_bytes(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Rows as CSV; the columns are the union of the rows' keys in first-seen order."""
    rows = list(rows)
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buf.getvalue().encode("utf-8")


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Arrays as a compressed ``.npz`` (no pickles: object arrays are refused)."""
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"expected numeric arrays, got dtype object for {key!r}")
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def _clean_stale(out: Path, name: str, suffixes: Iterable[str]) -> None:
    # one glob per file of the set: ".{name}*" alone would also match "<name>0.json"'s
    # temporary file (seed 1 vs seed 10), i.e. another writer's file in flight
    for suffix in suffixes:
        for stale in out.glob(f".{glob.escape(name + suffix)}.*.tmp"):
            stale.unlink(missing_ok=True)


def write_result_set(
    out_dir: str | Path, name: str, doc: Mapping[str, Any], siblings: Mapping[str, bytes] = {}
) -> list[Path]:
    """Write ``<name>.json`` (from ``doc``) and its ``siblings`` as one set.

    Args:
        out_dir: the folder (created if missing).
        name: the stem; must be a plain, non-hidden file name.
        doc: the JSON document; a key ``files_sha256`` is added (suffix -> hex digest).
        siblings: suffix (``.csv``, ``_layers.csv``, ``.npz``, ...) -> file content.

    Returns:
        The paths written, JSON last.
    """
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"expected a plain, non-hidden result name, got {name!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clean_stale(out, name, [*siblings, ".json"])
    digests = {s: hashlib.sha256(c).hexdigest() for s, c in siblings.items()}
    body = json_bytes({**doc, _DIGESTS_KEY: digests})
    # Stage everything first: a failure (disk full) leaves the previous set untouched.
    staged: list[tuple[Path, Path]] = []
    try:
        for suffix, content in [*siblings.items(), (".json", body)]:
            final = out / f"{name}{suffix}"
            tmp = _temp_beside(final)
            staged.append((tmp, final))
            tmp.write_bytes(content)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    # The JSON is renamed last: it is the commit record of the set.
    for tmp, final in staged:
        os.replace(tmp, final)
    return [final for _, final in staged]


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a missing or malformed file is a ``ValueError`` naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"expected a result file, got a missing path {str(path)!r}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"expected a JSON result file, got {str(path)!r} ({err})") from None


def read_result_set(json_path: str | Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """Read a set written by :func:`write_result_set` and check that its files belong together.

    Returns:
        ``(doc, siblings)``: the JSON document (without the digests) and suffix -> path.

    Raises:
        IncompleteResultError: a sibling is missing or is not the file the JSON was written with.
    """
    json_path = Path(json_path)
    doc = read_json(json_path)
    if not isinstance(doc, dict):
        raise ValueError(f"expected a JSON object in {str(json_path)!r}")
    digests = doc.pop(_DIGESTS_KEY, {}) or {}
    stem = json_path.name[: -len(".json")] if json_path.name.endswith(".json") else json_path.stem
    siblings: dict[str, Path] = {}
    for suffix, digest in digests.items():
        path = json_path.with_name(stem + suffix)
        try:
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            raise IncompleteResultError(
                f"incomplete result set: {str(path)!r} is missing (written with {json_path.name})"
            ) from None
        if actual != digest:
            raise IncompleteResultError(
                f"incomplete result set: {str(path)!r} does not belong to {json_path.name} "
                "(an interrupted write; rerun the command)"
            )
        siblings[suffix] = path
    return doc, siblings
