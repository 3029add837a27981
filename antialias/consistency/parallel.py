"""``torchrun``: the process group, and gathering the per-image sums of every rank.

Images are sharded over ranks (``index % world == rank``); each rank fills the rows of its own
images and an all-reduce of the (otherwise zero) arrays gathers them. Every image is computed in
the same batches as in a single process, so the result is identical.

The process group is started with a stated timeout (``--dist-timeout``, not torch's 30-minute
default) for peers that never join; the gathering all-reduce runs on a second group without
that limit, since ranks may legitimately finish minutes apart.

What does not live here: what is summed (:mod:`~antialias.consistency.sums`).
"""

from __future__ import annotations

import datetime
import os

import numpy as np
import torch

from antialias.consistency.config import fail

__all__ = ["dist_info", "gather_sums", "start", "stop", "wanted"]

_REDUCE_GROUP: object | None = None
_STARTED = False  # whether start() created the group (stop() leaves others' groups alone)
#: The gathering all-reduce waits this long for the slowest rank (a day: no run here is longer).
REDUCE_TIMEOUT_S = 24 * 3600


def dist_info() -> tuple[int, int]:
    """``(world size, rank)`` of the current process group, ``(1, 0)`` without one."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size(), dist.get_rank()
    return 1, 0


def wanted() -> bool:
    """Whether this process was started by ``torchrun`` with more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.distributed.is_initialized()


def start(device: str, timeout_s: float) -> str:
    """Join the process group of ``torchrun``; return the device of this rank.

    Raises a one-line error when the peers do not all join within ``timeout_s`` seconds.
    """
    global _REDUCE_GROUP, _STARTED
    dist = torch.distributed
    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        dist.init_process_group(
            "nccl" if cuda else "gloo", timeout=datetime.timedelta(seconds=timeout_s)
        )
        _STARTED = True
        _REDUCE_GROUP = dist.new_group(timeout=datetime.timedelta(seconds=REDUCE_TIMEOUT_S))
    except (RuntimeError, ValueError, OSError) as err:  # DistStoreError is a RuntimeError
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        fail(
            f"the {world} ranks did not all join within --dist-timeout {timeout_s:g} s "
            f"(MASTER_ADDR={os.environ.get('MASTER_ADDR')}, "
            f"MASTER_PORT={os.environ.get('MASTER_PORT')}): {first[:200]}"
        )
    return device


def stop() -> None:
    """Leave the process group if :func:`start` created it."""
    global _REDUCE_GROUP, _STARTED
    if _STARTED and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    _REDUCE_GROUP, _STARTED = None, False


def gather_sums(sums: dict[str, np.ndarray], device: str) -> None:
    """All-reduce every array of ``sums`` in place (each row is non-zero on one rank only)."""
    dist = torch.distributed
    keys = sorted(sums)
    flat = torch.from_numpy(np.concatenate([sums[k].ravel() for k in keys]))
    if dist.get_backend() == "nccl":
        flat = flat.to(device)
    dist.all_reduce(flat, group=_REDUCE_GROUP)
    flat = flat.cpu().numpy()
    offset = 0
    for k in keys:
        size = sums[k].size
        sums[k] = flat[offset : offset + size].reshape(sums[k].shape).copy()
        offset += size
