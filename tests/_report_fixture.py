"""Tiny shift-consistency results for the report and wheel tests (seconds, not minutes).

The result is written by the real command: ``antialias.consistency.cli:main`` once the engine
lives there, else the script it is moving from (``analysis/shift_consistency.py``), with the
same documented flags. Models are seeded U-Nets of depth 2 (period 4) on 32 x 32 images.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from antialias.checkpoint import save_checkpoint
from antialias.models import UNet


def consistency_main() -> Callable[[list[str]], int]:
    """``main(argv) -> int`` of the shift-consistency command, wherever it lives today."""
    try:
        return importlib.import_module("antialias.consistency.cli").main
    except ModuleNotFoundError as err:
        if err.name not in ("antialias.consistency", "antialias.consistency.cli"):
            raise
    return importlib.import_module("analysis.shift_consistency").main


def write_images(folder: Path, n: int = 2, size: int = 32) -> Path:
    """``n`` smooth random ``size x size`` float32 ``.npy`` images (structure at all scales)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    for i in range(n):
        blobs = sum(
            np.exp(-((yy - rng.random()) ** 2 + (xx - rng.random()) ** 2) / 0.01) for _ in range(4)
        )
        image = 0.8 * blobs / blobs.max() + 0.2 * rng.random((size, size))
        np.save(folder / f"im{i}.npy", image.astype(np.float32))
    return folder


def write_checkpoints(folder: Path) -> list[Path]:
    """Two seeded 2-class U-Nets: learned 4x4 transposed up-sampling, and bilinear (none).

    Their labels vary over the image (about 60% and 15% foreground), so agreements are < 1.
    """
    paths = []
    for name, up, up_kwargs in (
        ("tconv4", "transposed", {"kernel_size": 4}),
        ("bilinear", "bilinear", {}),
    ):
        torch.manual_seed(0)
        net = UNet(1, 2, depth=2, width=4, up=up, up_kwargs=up_kwargs, norm="none").eval()
        with torch.no_grad():  # a fresh init is nearly constant: scale it so labels vary
            for p in net.parameters():
                p.mul_(3)
        paths.append(
            save_checkpoint(folder / f"{name}_s0.safetensors", net, {"variant": name, "seed": 0})
        )
    return paths


def segmentation_result(tmp: Path, name: str = "seg") -> Path:
    """A circular, every-offset, per-layer result of the two checkpoints; returns its JSON."""
    ckpts = write_checkpoints(tmp / "ckpt")
    images = write_images(tmp / "images")
    argv = [*map(str, ckpts), "--data", str(images), "--kind", "segmentation"]
    argv += ["--shifts", "all", "--per-layer", "--border", "4", "--n-boot", "20"]
    argv += ["--out", str(tmp / "res"), "--name", name, "--no-progress", "--quiet"]
    assert consistency_main()(argv) == 0
    return tmp / "res" / f"{name}.json"


def regression_result(tmp: Path, name: str = "reg") -> Path:
    """A fractional-shift result of a factory model (no period map, no per-level, no kernels)."""
    images = write_images(tmp / "images")
    kwargs = '{"in_channels": 1, "out_channels": 1, "depth": 2, "width": 4, "up": "bilinear"}'
    argv = ["--model", "antialias.models:UNet", "--model-kwargs", kwargs, "--levels", "2"]
    argv += ["--data", str(images), "--kind", "regression", "--mode", "fractional"]
    argv += ["--shifts", "0:0,0:0.5,0.25:0.75", "--border", "4", "--n-boot", "20"]
    argv += ["--out", str(tmp / "res"), "--name", name, "--no-progress", "--quiet"]
    assert consistency_main()(argv) == 0
    return tmp / "res" / f"{name}.json"


class InPlaneUNet3d(torch.nn.Module):
    """A circular 3-D U-Net that pools in-plane only (``(1, 2, 2)``, two levels).

    Every conv wraps, the blur-pools are circular, the up-sampling is nearest by ``(1, 2, 2)``:
    the network is exactly equivariant to every circular shift along z and to the in-plane
    shifts that are multiples of 4, and to no other in-plane shift.
    """

    def __init__(self, width: int = 3) -> None:
        super().__init__()
        from torch import nn

        from antialias.layers.nd import BlurPool3d

        torch.manual_seed(0)

        def conv(cin: int, cout: int) -> nn.Module:
            return nn.Conv3d(cin, cout, 3, padding=1, padding_mode="circular")

        self.enc0, self.enc1, self.mid = conv(1, width), conv(width, width), conv(width, width)
        self.down1 = BlurPool3d(width, 3, (1, 2, 2), "circular")
        self.down2 = BlurPool3d(width, 3, (1, 2, 2), "circular")
        self.up = nn.Upsample(scale_factor=(1.0, 2.0, 2.0))
        self.dec1, self.dec0 = conv(2 * width, width), conv(2 * width, width)
        self.head = conv(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e0 = torch.tanh(self.enc0(x))
        e1 = torch.tanh(self.enc1(self.down1(e0)))
        m = torch.tanh(self.mid(self.down2(e1)))
        d1 = torch.tanh(self.dec1(torch.cat([self.up(m), e1], 1)))
        return self.head(torch.tanh(self.dec0(torch.cat([self.up(d1), e0], 1))))


#: shifts of :func:`volume_result`: along each axis alone, and two diagonal ones
VOLUME_SHIFTS = "0:0:0,1:0:0,2:0:0,3:0:0,0:1:0,0:2:0,0:4:0,0:0:1,0:0:3,0:0:4,1:2:3,2:4:4"


def write_volumes(folder: Path, n: int = 2, size: tuple[int, int, int] = (6, 16, 16)) -> Path:
    """``n`` random float32 ``.npy`` volumes ``(D, H, W)``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        np.save(folder / f"vol{i}.npy", rng.random(size).astype(np.float32))
    return folder


def volume_result(tmp: Path, name: str = "vol", extra: list[str] | None = None) -> Path:
    """A circular float64 result of :class:`InPlaneUNet3d` on two volumes; returns its JSON."""
    volumes = write_volumes(tmp / "volumes")
    argv = ["--model", "tests._report_fixture:InPlaneUNet3d", "--levels", "1,2,2"]
    argv += ["--data", str(volumes), "--kind", "regression", "--dtype", "float64"]
    argv += ["--shifts", VOLUME_SHIFTS, "--n-boot", "20", *(extra or [])]
    argv += ["--out", str(tmp / "res"), "--name", name, "--no-progress", "--quiet"]
    assert consistency_main()(argv) == 0
    return tmp / "res" / f"{name}.json"
