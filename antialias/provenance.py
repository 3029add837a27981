"""Provenance stamped into every checkpoint and result file: versions, git commit, time."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path


def git_commit(path: str | Path | None = None) -> str | None:
    """Return the current git commit of the repository holding ``path`` (``None`` outside git).

    A ``-dirty`` suffix marks uncommitted changes, so a result is never attributed to a commit
    that did not produce it.
    """
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        suffix = "-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else ""
        return commit.stdout.strip() + suffix
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict[str, object]:
    """Versions of the stack, git commit and UTC time, as a JSON-serialisable dict."""
    import numpy
    import torch

    from antialias import __version__

    versions = {"antialias": __version__, "python": platform.python_version()}
    versions["torch"] = torch.__version__
    versions["numpy"] = numpy.__version__
    for name in ("scipy", "kornia", "safetensors", "skimage"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "unknown")
        except ImportError:
            pass
    return {
        "versions": versions,
        "git_commit": git_commit(),
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
    }
