"""Tests of antialias.data: split layout, disjointness, labels, determinism, missing data."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from antialias import data
from antialias.data import (
    NOISE_SIGMA,
    SPLITS,
    TASKS,
    DataMissingError,
    TaskSplit,
    load_split,
    make_textures,
    sample_batch,
)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("split", SPLITS)
def test_split_shapes_dtypes_and_ranges(task: str, split: str) -> None:
    s = load_split(task, split)
    assert isinstance(s, TaskSplit) and s.task == task and s.split == split
    n = len(s)
    assert n >= 1 and len(s.sources) == n
    assert s.images.dtype == torch.float32 and s.images.shape[:2] == (n, 1)
    assert s.data_range == 1.0
    if split == "test":  # shift analyses crop windows out of test images
        assert min(s.images.shape[-2:]) >= 128
    if task == "denoise":
        assert s.kind == "regression"
        assert s.targets.dtype == torch.float32 and s.targets.shape == s.images.shape
        assert 0.0 <= float(s.targets.min()) and float(s.targets.max()) <= 1.0
    else:
        assert s.kind == "segmentation"
        assert s.targets.dtype == torch.int64 and s.targets.shape == (n, *s.images.shape[-2:])
        assert set(torch.unique(s.targets).tolist()) == {0, 1}
        fg = float(s.targets.float().mean())
        assert 0.05 < fg < 0.7, f"foreground fraction {fg}"


@pytest.mark.parametrize("task", list(TASKS))
def test_loading_is_deterministic(task: str) -> None:
    a, b = load_split(task, "test"), load_split(task, "test")
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)


def _regions(sources: tuple[str, ...], prefix: str) -> list[tuple[int, int, int, int]]:
    out = []
    for s in sources:
        m = re.fullmatch(prefix + r"\[(\d+):(\d+),(\d+):(\d+)\]", s)
        if m:
            out.append(tuple(int(v) for v in m.groups()))
    return out


def test_nuclei_splits_never_share_pixels_or_adjacent_slices() -> None:
    splits = {name: load_split("nuclei", name) for name in SPLITS}
    # DSB2018 regions: pixel masks of the three splits are disjoint
    covered = {}
    for name, s in splits.items():
        mask = np.zeros((512, 512), bool)
        regions = _regions(s.sources, "dsb2018")
        assert regions, f"{name} has no DSB2018 region"
        for r0, r1, c0, c1 in regions:
            mask[r0:r1, c0:c1] = True
        covered[name] = mask
    assert not (covered["train"] & covered["test"]).any()
    assert not (covered["train"] & covered["val"]).any()
    assert not (covered["val"] & covered["test"]).any()
    # volume slices: disjoint, and no test/val slice next to a train slice
    slices = {
        name: {int(m) for m in re.findall(r"napari_nuclei\[(\d+)\]", " ".join(s.sources))}
        for name, s in splits.items()
    }
    for held_out in ("val", "test"):
        for z in slices[held_out]:
            assert not {z - 1, z, z + 1} & slices["train"], (held_out, z)
    assert not slices["val"] & slices["test"]


def test_nuclei_images_match_the_files() -> None:
    import tifffile

    files = data.data_files()
    img = tifffile.imread(files["dsb_image"]).astype(np.float64)
    mask = tifffile.imread(files["dsb_mask"]) > 0
    s = load_split("nuclei", "test")
    i = s.sources.index("dsb2018[256:512,256:512]")
    lo, hi = np.percentile(img, [1, 99.8])
    expected = (img[256:, 256:] - lo) / (hi - lo)
    err = np.abs(s.images[i, 0].numpy() - expected).max()
    assert err < 1e-5, f"max abs error {err}"
    assert np.array_equal(s.targets[i].numpy() == 1, mask[256:, 256:])


def test_missing_data_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = data.importlib.util.find_spec
    monkeypatch.setattr(
        data.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "stardist" else real(name, *a),
    )
    data._nuclei_arrays.cache_clear()
    try:
        with pytest.raises(DataMissingError, match="make venv") as info:
            load_split("nuclei", "train")
        assert "stardist" in str(info.value) and "--no-deps" in str(info.value)
    finally:
        data._nuclei_arrays.cache_clear()


@pytest.mark.parametrize(("task", "split"), [("cells", "train"), ("nuclei", "training")])
def test_unknown_task_or_split_lists_valid_ones(task: str, split: str) -> None:
    with pytest.raises(ValueError, match=r"expected .* in \[.*\], got"):
        load_split(task, split)


def _coded_textures() -> tuple[np.ndarray, np.ndarray]:
    """Textures whose grey level encodes (texture, row, col): decodes where pixels came from."""
    r, c = np.mgrid[:512, :512]
    code = (r * 512 + c).astype(np.float32)
    return code, code + 512 * 512


@pytest.mark.parametrize("region", SPLITS)
def test_textures_labels_exact_and_regions_disjoint(
    monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    monkeypatch.setattr(data, "_texture_pair", _coded_textures)
    images, masks = make_textures(3, seed=5, region=region, size=96)
    code = images.astype(np.int64)
    from_grass = code < 512 * 512
    assert np.array_equal(from_grass, masks == 1), "label must say which texture filled a pixel"
    rows, cols = (code % (512 * 512)) // 512, code % 512
    if region == "train":
        assert rows.max() < 256
    else:
        assert rows.min() >= 256
        assert (cols.min() >= 256) if region == "test" else (cols.max() < 256)


def test_textures_reproducible_and_without_grey_level_cue() -> None:
    a = make_textures(2, seed=7, region="train", size=128)
    b = make_textures(2, seed=7, region="train", size=128)
    c = make_textures(2, seed=8, region="train", size=128)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    s = load_split("textures", "train")
    fg = s.images[:, 0][s.targets == 1].mean()
    bg = s.images[:, 0][s.targets == 0].mean()
    assert abs(float(fg - bg)) < 0.05, "classes must not differ in mean grey level"


def test_denoise_noise_level_and_photo_split() -> None:
    splits = {name: load_split("denoise", name) for name in SPLITS}
    for s in splits.values():
        std = float((s.images - s.targets).std())
        assert abs(std - NOISE_SIGMA) < 0.005, std
        assert s.noise_sigma == NOISE_SIGMA
    photos = {n: {src.split("[")[0] for src in s.sources} for n, s in splits.items()}
    assert not photos["train"] & photos["test"] and not photos["train"] & photos["val"]
    assert not photos["val"] & photos["test"]
    with pytest.raises(ValueError, match="expected a regression split"):
        _ = load_split("nuclei", "val").clean


def _toy_split(kind: str = "segmentation") -> TaskSplit:
    # image i is the constant i; two sources: one image of "a", three of "b"
    images = torch.arange(4, dtype=torch.float32).view(4, 1, 1, 1).expand(4, 1, 16, 16).clone()
    targets = torch.zeros(4, 16, 16, dtype=torch.int64)
    if kind == "regression":
        targets = images.clone()
    return TaskSplit(
        "toy", "train", kind, images, targets, 1.0, ("a[0]", "b[0]", "b[1]", "b[2]"), 0.5
    )


def test_sample_batch_balances_sources_and_is_seeded() -> None:
    split = _toy_split()
    x, y = sample_batch(split, 400, 8, torch.Generator().manual_seed(0))
    assert x.shape == (400, 1, 8, 8) and y.shape == (400, 8, 8)
    frac_a = float((x[:, 0, 0, 0] == 0).double().mean())
    assert 0.4 < frac_a < 0.6, f"source 'a' drawn {frac_a:.2f} of the time, expected ~0.5"
    x2, _ = sample_batch(split, 400, 8, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)


def test_sample_batch_regression_draws_fresh_noise() -> None:
    split = _toy_split("regression")
    gen = torch.Generator().manual_seed(1)
    x1, y1 = sample_batch(split, 64, 8, gen)
    noise = x1 - y1
    assert abs(float(noise.std()) - 0.5) < 0.05
    with pytest.raises(ValueError, match="expected crop"):
        sample_batch(split, 1, 17, gen)


# --- study-v2 tasks: independent test units -------------------------------------------------


@pytest.mark.parametrize("task", list(data.STUDY_TASKS))
def test_study_tasks_load_with_their_unit_of_independence(task: str) -> None:
    splits = {name: load_split(task, name) for name in SPLITS}
    for s in splits.values():
        assert s.unit == data.UNITS[task] and s.images.shape[-2:] == (256, 256)
        assert len(set(s.sources)) == len(s.sources)
    assert set(data.TASKS) == {"nuclei", "textures", "denoise"}, "the shipped set is unchanged"
    assert set(data.UNITS) == set(data.ALL_TASKS) == set(data.TASK_KINDS)
    assert all(data.TASK_KINDS[task] == s.kind for s in splits.values())


def test_nuclei_sim_has_20_plus_independent_test_images_from_disjoint_seeds() -> None:
    seeds = {}
    for name in SPLITS:
        s = load_split("nuclei_sim", name)
        seeds[name] = {int(re.fullmatch(r"nuclei_sim\[seed (\d+)\]", x)[1]) for x in s.sources}
        assert s.kind == "segmentation" and set(torch.unique(s.targets).tolist()) == {0, 1}
    assert len(seeds["test"]) >= 20
    assert not (seeds["train"] & seeds["test"]) and not (seeds["train"] & seeds["val"])
    assert not (seeds["val"] & seeds["test"])
    from antialias.synthetic import simulate_nuclei

    test = load_split("nuclei_sim", "test")
    first = min(seeds["test"])
    assert np.array_equal(test.images[0, 0].numpy(), simulate_nuclei(first).image)


def test_denoise_photos_test_units_are_distinct_held_out_photographs() -> None:
    photos = {
        name: [
            source_photo
            for source_photo in (
                x.split("[")[0] for x in load_split("denoise_photos", name).sources
            )
        ]
        for name in SPLITS
    }
    assert len(photos["test"]) == len(set(photos["test"])) >= 20  # one crop per photograph
    assert len(photos["val"]) == len(set(photos["val"]))
    assert not set(photos["train"]) & set(photos["test"])
    assert not set(photos["train"]) & set(photos["val"])
    assert not set(photos["val"]) & set(photos["test"])
    test = load_split("denoise_photos", "test")
    noise = (test.images - test.targets).double()
    assert abs(float(noise.std()) - NOISE_SIGMA) < 0.003
    # noise of different test images is independent (one seed per image)
    a, b = noise[0].ravel(), noise[1].ravel()
    assert abs(float(torch.corrcoef(torch.stack([a, b]))[0, 1])) < 0.02


def _thumbnail(crop: np.ndarray) -> np.ndarray:
    """8x8 block means of a 256x256 crop, centred and scaled to unit norm (for correlations)."""
    t = crop.astype(np.float64).reshape(8, 32, 8, 32).mean(axis=(1, 3)).ravel()
    return (t - t.mean()) / np.linalg.norm(t - t.mean())


def test_denoise_photos_test_crops_are_not_copies_of_each_other_or_of_training() -> None:
    test = load_split("denoise_photos", "test")
    assert len(test) >= 20 and tuple(test.targets.shape[1:]) == (1, 256, 256)
    clean = test.targets[:, 0].double().numpy()
    assert clean.min() >= 0.0 and clean.max() <= 1.0 and clean.std(axis=(1, 2)).min() > 0.02
    thumbs = np.stack([_thumbnail(c) for c in clean])
    pairs = thumbs @ thumbs.T
    np.fill_diagonal(pairs, 0.0)
    assert pairs.max() < 0.99, f"max thumbnail correlation between test crops {pairs.max():.4f}"
    for i in range(len(clean)):  # not equal to float tolerance either
        for j in range(i):
            assert not np.allclose(clean[i], clean[j], atol=1e-3)
    seen = []  # every tile and the centre crop of every train/val photograph, same scale
    for split in ("train", "val"):
        for name in data._PHOTO_SPLITS[split]:
            photo = data._photo(name)
            seen += [crop for _, _, crop in data._tiles(photo) + [data._centre_crop(photo)]]
    corr = thumbs @ np.stack([_thumbnail(c) for c in seen]).T
    assert corr.max() < 0.99, f"max thumbnail correlation test vs train/val {corr.max():.4f}"
    assert not any(np.allclose(c, s, atol=1e-3) for c in clean for s in seen)
    # the check can fail: PyWavelets' camera.npz is scikit-image's camera (not used for that)
    pywt_camera = np.load(data._package_dir("pywt") / "data" / "camera.npz")["data"] / 255.0
    i = [s.split("[")[0] for s in test.sources].index("camera")
    assert float(_thumbnail(data._centre_crop(pywt_camera)[2]) @ thumbs[i]) > 0.99


def test_denoise_photos_keeps_its_first_nine_test_images_and_their_noise() -> None:
    test = load_split("denoise_photos", "test")
    first = (  # the study-v2 test split before issue 12's photographs were appended
        "camera",
        "coins",
        "moon",
        "hubble_deep_field",
        "retina",
        "stereo_motorcycle",
        "cell",
        "matplotlib:grace_hopper",
        "sklearn:china",
    )
    assert data._PHOTO_SPLITS["test"][:9] == first
    for i, name in enumerate(first):  # noise of image i is seeded by i: appending keeps it
        _, _, crop = data._centre_crop(data._photo(name))
        rng = np.random.default_rng([data._NOISE_SEEDS["test"], i])
        noisy = crop.astype(np.float32) + rng.normal(0.0, NOISE_SIGMA, crop.shape).astype(
            np.float32
        )
        assert test.sources[i].startswith(name + "[")
        assert np.array_equal(test.images[i, 0].numpy(), noisy)


def test_missing_photo_package_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = data.importlib.util.find_spec
    monkeypatch.setattr(
        data.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "plenoptic" else real(name, *a),
    )
    with pytest.raises(DataMissingError, match="make venv") as info:
        load_split("denoise_photos", "test")
    assert "plenoptic" in str(info.value) and "--no-deps" in str(info.value)
