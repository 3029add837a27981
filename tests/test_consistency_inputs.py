"""antialias.consistency.inputs: image files read as what they hold, or refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from antialias.consistency.config import InputError
from antialias.consistency.inputs import read_image


def test_grey_alpha_png_is_two_channels(tmp_path: Path) -> None:
    grey = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    alpha = (255 - grey).astype(np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(np.stack([grey, alpha], -1), mode="LA").save(path)
    x = read_image(path, "dtype")
    # before: the (12, 10, 2) array was read as 12 channels of 10 x 2 pixels
    assert x.shape == (1, 2, 12, 10), x.shape
    assert torch.equal(x[0, 0], torch.from_numpy(grey / 255).float())
    assert torch.equal(x[0, 1], torch.from_numpy(alpha / 255).float())


def test_rgb_png_is_channels_first(tmp_path: Path) -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    x = read_image(tmp_path / "rgb.png", "none")
    assert x.shape == (1, 3, 9, 7)
    assert torch.equal(x[0], torch.from_numpy(rgb).permute(2, 0, 1).float())


def test_one_bit_png_is_zero_one(tmp_path: Path) -> None:
    bits = np.random.default_rng(1).random((8, 6)) > 0.5
    Image.fromarray(bits).convert("1").save(tmp_path / "bits.png")
    for normalize in ("dtype", "none"):
        x = read_image(tmp_path / "bits.png", normalize)
        assert x.shape == (1, 1, 8, 6)  # before: refused with a wrong-shape message
        assert torch.equal(x[0, 0], torch.from_numpy(bits).float())


def test_palette_png_is_read_as_colours(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[:2] = (200, 10, 30)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    x = read_image(tmp_path / "p.png", "none")
    assert x.shape == (1, 3, 4, 4)
    assert x[0, :, 0, 0].tolist() == [200.0, 10.0, 30.0] and x[0, :, 3, 3].tolist() == [0.0] * 3


def test_complex_image_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.ones((8, 8), dtype=np.complex64) * (1 + 2j))
    with pytest.raises(InputError, match=r"expected a real image in .*c\.npy.*complex"):
        read_image(tmp_path / "c.npy", "dtype")


def test_non_finite_pixels_are_refused_naming_the_file(tmp_path: Path) -> None:
    x = np.zeros((8, 8), dtype=np.float32)
    x[2, 3] = np.inf
    np.save(tmp_path / "inf.npy", x)
    with pytest.raises(ValueError, match=r"inf\.npy.*1 non-finite of 64"):
        read_image(tmp_path / "inf.npy", "none")


def test_channels_first_npy_is_kept_and_integers_scale_by_dtype(tmp_path: Path) -> None:
    arr = np.random.default_rng(2).integers(0, 2**16, (3, 5, 6), dtype=np.uint16)
    np.save(tmp_path / "chw.npy", arr)
    x = read_image(tmp_path / "chw.npy", "dtype")
    assert x.shape == (1, 3, 5, 6)
    assert torch.allclose(x[0], torch.from_numpy(arr / 65535.0).float(), atol=0, rtol=1e-7)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="numeric image"):
        read_image(tmp_path / "s.npy", "dtype")


def test_a_rank_reads_only_its_own_folder_images(tmp_path: Path, monkeypatch) -> None:
    from antialias.consistency import inputs
    from antialias.consistency.config import Config

    files = []
    for i in range(5):
        np.save(tmp_path / f"im{i}.npy", np.full((8, 8), float(i), dtype=np.float32))
        files.append(tmp_path / f"im{i}.npy")
    read = []
    real = inputs.read_image
    monkeypatch.setattr(
        inputs, "read_image", lambda p, n, *d: read.append(p.name) or real(p, n, *d)
    )
    images = inputs._read_own(files, Config(), "folder", world=2, rank=1)
    assert read == ["im1.npy", "im3.npy"]
    assert [None if x is None else float(x.max()) for x in images] == [None, 1.0, None, 3.0, None]
