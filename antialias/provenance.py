"""Provenance stamped into every checkpoint and result file: what decides a float result.

:func:`provenance` records the versions of the stack, the git commit of the checkout that was
run, the UTC time and the platform, and what decides the *rounding* of a float result (issue
10: the same code and checkpoints give different last bits on another CPU):

- ``cpu``: the CPU model, the ISA extensions MKL, oneDNN and ATen dispatch on (AVX2, AVX-512,
  AMX, NEON/SVE, ...) and ATen's chosen capability;
- ``numerics``: the BLAS/LAPACK and MKL versions, oneDNN's version and whether it is used,
  OpenMP, torch's intra-/inter-op thread counts, and the environment variables that pick a
  code path (``MKL_CBWR``, ``MKL_ENABLE_INSTRUCTIONS``, ``ONEDNN_MAX_CPU_ISA``,
  ``ATEN_CPU_CAPABILITY``) or a thread count (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``).

The git commit is that of the checkout actually run, the repository of the current working
directory (or of a path passed in), not of wherever the ``antialias`` package happens to be
imported from (an editable install elsewhere would otherwise stamp the wrong commit).

What does not live here: the comparison of two such records, and "exact to rounding"
(:mod:`antialias.exact`).
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["cpu_info", "git_commit", "git_state", "numerics_info", "provenance"]

#: ISA extensions that select BLAS / oneDNN / ATen kernels (and so the rounding of a result).
ISA_FLAGS: tuple[str, ...] = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512dq",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "neon",
    "asimd",
    "sve",
    "sve2",
)

#: Environment variables that pick a numerical code path or a thread count.
NUMERIC_ENV: tuple[str, ...] = (
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "ATEN_CPU_CAPABILITY",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(path: str | Path | None = None) -> tuple[str | None, bool | None]:
    """``(commit, dirty)`` of the git checkout holding ``path`` (default: the working directory).

    ``dirty`` is whether tracked files differ from the commit (untracked files aside). Both are
    ``None`` outside a git checkout (or without git).
    """
    cwd = Path(path) if path is not None else Path.cwd()
    if cwd.is_file():
        cwd = cwd.parent
    if not cwd.is_dir():
        return None, None
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return commit.strip(), (bool(status.strip()) if status is not None else None)


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the checkout holding ``path`` (default: the working directory).

    A ``-dirty`` suffix marks uncommitted changes, so a result is never attributed to a commit
    that did not produce it. ``None`` outside git.
    """
    commit, dirty = git_state(path)
    if commit is None:
        return None
    return commit + ("-dirty" if dirty else "")


def _cpuinfo() -> dict[str, str]:
    """The first processor's block of ``/proc/cpuinfo`` (Linux; ``{}`` elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def cpu_info() -> dict[str, Any]:
    """CPU model, the ISA extensions that select kernels, and ATen's chosen capability."""
    info = _cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    model = info.get("model name") or info.get("Model") or platform.processor() or None
    try:
        import torch

        capability = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError, RuntimeError):
        capability = None
    return {
        "model": model,
        "machine": platform.machine(),
        "logical_cores": os.cpu_count(),
        # None when the OS does not list flags (not Linux): unknown, not "no extensions"
        "isa": [f for f in ISA_FLAGS if f in flags] if flags else None,
        "aten_capability": capability,
    }


def _config_line(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text, flags=re.MULTILINE)
    return match.group(1).strip() if match else None


def numerics_info() -> dict[str, Any]:
    """BLAS / MKL / oneDNN versions, threads and the environment that picks a code path."""
    import torch

    try:
        config = torch.__config__.show()
    except RuntimeError:
        config = ""
    return {
        "blas": _config_line(config, r"BLAS_INFO=([^,\s]+)"),
        "lapack": _config_line(config, r"LAPACK_INFO=([^,\s]+)"),
        "mkl": torch.backends.mkl.is_available(),
        "mkl_version": _config_line(config, r"Math Kernel Library Version ([^\n]+?)(?: for |$)"),
        "onednn_version": _config_line(config, r"MKL-DNN (v[0-9][^\s]*)"),
        "onednn_available": torch.backends.mkldnn.is_available(),
        "onednn_enabled": bool(torch.backends.mkldnn.enabled),
        "openmp": _config_line(config, r"^\s*- (OpenMP [^\n]+)$"),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "env": {name: os.environ.get(name) for name in NUMERIC_ENV},
    }


def provenance(repo: str | Path | None = None) -> dict[str, object]:
    """Versions, git commit of the checkout run, time, platform, CPU and numerics (JSON-ready).

    Args:
        repo: a path inside the checkout whose commit to record (default: the working
            directory, the checkout the command was run in).
    """
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
    commit, dirty = git_state(repo)
    return {
        "versions": versions,
        "git_commit": None if commit is None else commit + ("-dirty" if dirty else ""),
        "git_dirty": dirty,
        "time_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": cpu_info(),
        "numerics": numerics_info(),
    }
