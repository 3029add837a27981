"""Shift consistency of volumes: 3-D shifts, folders of TIFF/NPY/NIfTI volumes, bad input.

The exactness test builds a circular 3-D U-Net here (``nn.Conv3d(padding_mode="circular")``,
:class:`antialias.layers.nd.BlurPool3d` with circular padding, nearest up-sampling): such a
network is exactly equivariant to shifts that are multiples of ``2^L`` on every axis, and not to
the others; the analysis must say so, and a naive roll-and-compare written here must agree.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from antialias import exact
from antialias.consistency import cli, engine
from antialias.consistency.config import Config
from antialias.consistency.ndshift import fractional_shift_nd
from antialias.shifts import fractional_shift, lanczos_shift_taps

FACTORIES = '''
import torch
import torch.nn.functional as F
from torch import nn
from antialias.layers.nd import BlurPool3d


def _conv(cin, cout, dims):
    conv = nn.Conv3d if dims == 3 else nn.Conv2d
    return conv(cin, cout, 3, padding=1, padding_mode="circular")


class TinyUNet(nn.Module):
    """Two circular blur-pool levels, nearest up-sampling, skips; period 4 per axis."""

    num_downsamplings = 2

    def __init__(self, dims=3, cin=1, cout=1, width=3):
        super().__init__()
        torch.manual_seed(0)
        self.enc0 = nn.Sequential(_conv(cin, width, dims), nn.ReLU())
        self.down1 = BlurPool3d(width, 3, 2, pad_mode="circular") if dims == 3 else None
        self.enc1 = nn.Sequential(_conv(width, width, dims), nn.ReLU())
        self.down2 = BlurPool3d(width, 3, 2, pad_mode="circular") if dims == 3 else None
        self.mid = nn.Sequential(_conv(width, width, dims), nn.ReLU())
        self.dec1 = nn.Sequential(_conv(2 * width, width, dims), nn.ReLU())
        self.dec0 = nn.Sequential(_conv(2 * width, width, dims), nn.ReLU())
        self.head = _conv(width, cout, dims)

    def _down(self, layer, x):
        return layer(x) if layer is not None else F.avg_pool2d(x, 2)

    def forward(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(self._down(self.down1, e0))
        m = self.mid(self._down(self.down2, e1))
        d1 = self.dec1(torch.cat([F.interpolate(m, scale_factor=2.0), e1], 1))
        d0 = self.dec0(torch.cat([F.interpolate(d1, scale_factor=2.0), e0], 1))
        return self.head(d0)


def unet3d(cout=1):
    return TinyUNet(3, 1, cout)


def unet2d():
    return TinyUNet(2, 1, 2)
'''


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def world(tmp_path: Path, monkeypatch):
    """Folders of 16^3 volumes (NPY, TIFF, NIfTI) and a module of factories; cwd = tmp_path."""
    import nibabel
    import tifffile

    rng = np.random.default_rng(0)
    (tmp_path / "vol").mkdir()
    np.save(tmp_path / "vol" / "a.npy", rng.random((16, 16, 16)).astype(np.float32))
    tifffile.imwrite(tmp_path / "vol" / "b.tif", rng.integers(0, 255, (16, 16, 16), np.uint8))
    affine = np.eye(4)
    nii = nibabel.Nifti1Image(rng.random((16, 16, 16)).astype(np.float32), affine)
    nibabel.save(nii, str(tmp_path / "vol" / "c.nii.gz"))
    (tmp_path / "vol_models.py").write_text(FACTORIES)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "vol_models", raising=False)  # this test's copy
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _refused(world: Path, argv: list[str], capsys, match: str) -> None:
    out = world / "out"
    code = cli.main(["--n-boot", "10", *argv, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and match in err, err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


# -- the N-D sub-pixel shift -------------------------------------------------------------------


def test_nd_fractional_shift_is_the_2d_operator_on_images() -> None:
    x = torch.randn(2, 3, 17, 19, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for dy, dx in [(0.25, -1.5), (2.0, 0.0), (-3.75, 4.1)]:
        for method in ("lanczos", "fourier"):
            want = fractional_shift(x, dy, dx, method=method)[0]
            got = fractional_shift_nd(x, (dy, dx), method=method)
            assert exact.is_exact(got, want), (dy, dx, method, exact.max_relative_error(got, want))


def test_nd_fractional_shift_matches_a_naive_3d_sum() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(1, 1, 6, 5, 7, dtype=torch.float64, generator=g)
    shift, a = (0.3, -1.25, 2.5), 3
    want = x[0, 0].numpy()
    for axis, d in enumerate(shift):  # out[t] = sum_j x[t - n - j] L(j - f), zero outside
        n = math.floor(d)
        taps = lanczos_shift_taps(d - n, a)
        out = np.zeros_like(want)
        for t in range(want.shape[axis]):
            for k, tap in enumerate(taps):
                src = t - n - (k - (a - 1))
                if 0 <= src < want.shape[axis]:
                    index = [slice(None)] * 3
                    index[axis] = t
                    take = [slice(None)] * 3
                    take[axis] = src
                    out[tuple(index)] += tap * want[tuple(take)]
        want = out
    got = fractional_shift_nd(x, shift)[0, 0]
    assert exact.is_exact(got, torch.from_numpy(want))


# -- exactness of a circular 3-D U-Net ---------------------------------------------------------


def _naive_error(net, x: torch.Tensor, s: tuple[int, int, int]) -> float:
    """max relative error of f(roll(x, s)) against roll(f(x), s)."""
    with torch.no_grad():
        ref = torch.roll(net(x), s, (-3, -2, -1))
        got = net(torch.roll(x, s, (-3, -2, -1)))
    return exact.max_relative_error(got, ref)


def test_circular_3d_unet_is_exact_at_multiples_of_the_period_only(world) -> None:
    import vol_models

    shifts = [(4, 0, 8), (0, 4, 0), (8, 12, 4), (1, 0, 0), (0, 2, 0), (0, 0, 3), (2, 6, 1)]
    spec = ",".join(":".join(map(str, s)) for s in shifts)
    cfg = Config(
        model=vol_models.unet3d, data="vol", shifts=spec, dtype="float64", n_boot=20,
        kind="regression",
    )  # fmt: skip
    result = engine.run(cfg)
    (rec,) = result["results"]
    assert rec["spatial_dims"] == 3 and rec["period"] == 4 and rec["n_images"] == 3
    net = vol_models.unet3d().double().eval()
    x = torch.from_numpy(np.load("vol/a.npy")).double()[None, None]
    floor = exact.exact_psnr_db(torch.float64)
    for r, s in zip(rec["shifts"], shifts):
        assert (r["dz"], r["dy"], r["dx"]) == s
        multiple = all(v % 4 == 0 for v in s)
        naive = _naive_error(net, x, s)
        if multiple:  # exact to rounding, by the analysis and by the naive check
            assert r["psnr"] >= floor, (s, r["psnr"])
            assert exact.is_exact_relative(naive, torch.float64), (s, naive)
        else:
            assert r["psnr"] < floor - 20, (s, r["psnr"])
            assert naive > 1e3 * exact.exact_tolerance(torch.float64), (s, naive)


def test_all_is_the_whole_3d_period_or_a_stated_sample(world) -> None:
    import vol_models

    base = dict(model=vol_models.unet3d, data="vol/a.npy", n_boot=5, kind="regression")
    full = engine.run(Config(**base, shifts="all"))["results"][0]
    assert full["shift_set"]["sampling"] == "full period" and len(full["shifts"]) == 64
    assert {(r["dz"], r["dy"], r["dx"]) for r in full["shifts"]} == {
        (a, b, c) for a in range(4) for b in range(4) for c in range(4)
    }
    grid = np.asarray(full["period_map"]["psnr"], dtype=float)
    assert grid.shape == (4, 4, 4) and not np.isnan(grid).any()
    the_plan = engine.plan(Config(**base, shifts="all", shift_budget=10))
    assert any("sample of 10" in n for n in the_plan.notes), the_plan.notes
    sample = engine.execute(the_plan)["results"][0]
    assert sample["shift_set"]["sampling"] == "sample" and len(sample["shifts"]) == 10
    assert sample["shift_set"]["period_offsets"] == 64
    got = {(r["dz"], r["dy"], r["dx"]) for r in sample["shifts"]}
    assert len(got) == 10 and (0, 0, 0) in got
    # the sampled shifts' numbers are those of the full run (same shifts, same sums)
    by_shift = {(r["dz"], r["dy"], r["dx"]): r["mse"] for r in full["shifts"]}
    for r in sample["shifts"]:
        assert r["mse"] == pytest.approx(by_shift[(r["dz"], r["dy"], r["dx"])], rel=1e-12)


def test_axes_and_modes_of_volumes(world) -> None:
    import vol_models

    base = dict(model=vol_models.unet3d, data="vol/a.npy", n_boot=5, kind="regression")
    hw = engine.run(Config(**base, shifts="all", axes=["H", "W"]))["results"][0]
    assert len(hw["shifts"]) == 16 and all(r["dz"] == 0 for r in hw["shifts"])
    assert hw["shift_set"]["axes"] == ["y", "x"]
    crop = engine.run(Config(**base, mode="crop", shifts="line", max_shift=3, border=2))
    rec = crop["results"][0]
    assert [r["dx"] for r in rec["shifts"]] == [0, 1, 2, 3]
    # a crop shift of 3 on a 16-wide volume keeps a 12-wide frame: 12 x 16 x 16... compared on
    # the overlap, 12 - 3 columns of it
    assert rec["frame_sizes"] == [[16, 16, 12]]
    assert rec["shifts"][3]["n_compared"] == 16 * 16 * 9
    frac = engine.run(Config(**base, mode="fractional", shifts="0:0:0.5,0.25:0.5:0"))
    rec = frac["results"][0]
    assert rec["period_map"] is None and rec["shifts"][0]["dx"] == 0.5
    # the Lanczos mask: 2a - 1 = 5 voxels lost per axis (a = 3), every axis as in 2-D
    assert rec["shifts"][0]["n_compared"] == 11**3 == rec["shifts"][1]["n_compared"]


def test_per_level_attribution_in_3d_from_the_module_graph(world) -> None:
    import vol_models

    cfg = Config(
        model=vol_models.unet3d, data="vol/a.npy", n_boot=5, kind="regression",
        shifts="0:0:0,4:4:0,1:0:0", per_layer=True, dtype="float64",
    )  # fmt: skip
    rec = engine.run(cfg)["results"][0]
    strides = {e["level"]: e["stride"] for e in rec["per_layer_summary"]}
    assert strides["enc1"] == 2 and strides["mid"] == 4 and strides["head"] == 1
    errs = {(r["level"], r["dz"], r["dy"], r["dx"]): r["rel_error"] for r in rec["per_layer"]}
    assert errs[("mid", 4, 4, 0)] < 1e-12  # a multiple of every stride: exact
    assert errs[("head", 1, 0, 0)] > 1e-6  # not a multiple of the period
    assert ("mid", 1, 0, 0) not in errs  # not a multiple of its stride: not compared


# -- the command: BasicUNet, bad input -----------------------------------------------------------


def test_monai_basic_unet_3d_runs_from_the_command(world, capsys) -> None:
    # BasicUNet normalises per instance: its bottleneck (1/16) needs 2 voxels a side, 32^3
    Path("vol32").mkdir()
    rng = np.random.default_rng(2)
    for i in range(2):
        np.save(f"vol32/v{i}.npy", rng.random((32, 32, 32)).astype(np.float32))
    kwargs = {
        "spatial_dims": 3,
        "in_channels": 1,
        "out_channels": 2,
        "features": [4, 4, 8, 16, 32, 4],
    }
    argv = [
        "--model", "monai.networks.nets:BasicUNet", "--model-kwargs", json.dumps(kwargs),
        "--data", "vol32", "--shifts", "random:2", "--max-shift", "8",
        "--n-boot", "5", "--out", "out", "--no-progress", "--quiet", "--per-layer",
    ]  # fmt: skip
    assert cli.main(argv) == 0, capsys.readouterr().err
    # BasicUNet declares no num_downsamplings: 4, from the strides of its modules' outputs
    assert "--levels 4 found from its module graph" in capsys.readouterr().err
    doc = json.loads(Path("out/shift_consistency.json").read_text())
    (rec,) = doc["results"]
    assert rec["spatial_dims"] == 3 and rec["period"] == 16 and rec["kind"] == "segmentation"
    assert {"dz", "dy", "dx"} <= set(rec["shifts"][0]) and len(rec["shifts"]) == 2
    assert rec["levels"] == 4 and "spatial_dims" not in doc["config"]
    assert 0.0 <= rec["summary"]["agreement"] <= 1.0
    assert rec["per_layer_summary"], "levels found from MONAI's module graph"


def test_dry_run_of_volumes(world, capsys) -> None:
    argv = ["--model", "vol_models:unet3d", "--data", "vol", "--dry-run", "--out", "o"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "period 4;" in out and "3 image(s) 16x16x16" in out and "64 shifts" in out, out
    assert not Path("o").exists()


def test_mismatched_spatial_dims_is_refused(world, capsys) -> None:
    base = ["--model", "vol_models:unet3d", "--data", "vol"]
    _refused(world, [*base, "--spatial-dims", "2"], capsys, "mismatched spatial_dims")
    _refused(world, [*base, "--levels", "2,2"], capsys, "mismatched spatial_dims")
    # --report takes volumes (tests/test_report_volumes.py), refusing only with the others
    _refused(world, [*base, "--report", "--spatial-dims", "2"], capsys, "mismatched spatial_dims")


def test_a_2d_model_given_volumes_is_refused(world, capsys) -> None:
    _refused(world, ["--model", "vol_models:unet2d", "--data", "vol"], capsys, "2-D model")
    _refused(world, ["--model", "vol_models:unet2d", "--data", "vol/a.npy"], capsys, "channel")
    Path("im").mkdir()
    np.save("im/x.npy", np.zeros((16, 16), np.float32))
    _refused(world, ["--model", "vol_models:unet3d", "--data", "im"], capsys, "2-D image")
    _refused(world, ["--model", "vol_models:unet3d", "--data", "nuclei"], capsys, "2-D images")


def test_a_volume_smaller_than_the_period_is_refused(world, capsys) -> None:
    Path("small").mkdir()
    np.save("small/x.npy", np.zeros((3, 16, 16), np.float32))
    argv = ["--model", "vol_models:unet3d", "--data", "small"]
    _refused(world, argv, capsys, "at least the period 4x4x4 voxels, got 3x16x16")


def test_anisotropic_factors_that_do_not_divide_the_size_are_refused(world, capsys) -> None:
    Path("odd").mkdir()
    np.save("odd/x.npy", np.zeros((16, 10, 16), np.float32))
    argv = ["--model", "vol_models:unet3d", "--data", "odd", "--levels", "1,2,2"]
    _refused(world, argv, capsys, "multiples of the period 2x4x4")
    # the same volume, cropped to a multiple, runs
    code = cli.main([*argv[:4], "--image-size", "16,8,16", "--shifts", "1:0:0", "--n-boot", "5",
                     "--out", "ok", "--no-progress", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize("shape", [(16, 16), (16, 16, 1), (16, 16, 16, 2)])
def test_nifti_files_that_are_not_volumes_are_refused(world, capsys, shape) -> None:
    import nibabel

    Path("nii").mkdir()
    nibabel.save(nibabel.Nifti1Image(np.zeros(shape, np.float32), np.eye(4)), "nii/x.nii")
    argv = ["--model", "vol_models:unet3d", "--data", "nii"]
    _refused(world, argv, capsys, "not a volume")


def test_a_nifti_volume_with_one_channel_is_read(world) -> None:
    import nibabel

    from antialias.consistency.inputs import read_image

    arr = np.arange(16 * 8 * 4, dtype=np.int16).reshape(16, 8, 4, 1)
    nibabel.save(nibabel.Nifti1Image(arr, np.eye(4)), "one.nii.gz")
    x = read_image(Path("one.nii.gz"), "none", 3)
    assert x.shape == (1, 1, 16, 8, 4) and torch.equal(
        x[0, 0], torch.from_numpy(arr[..., 0]).float()
    )


def test_non_finite_voxels_are_refused(world, capsys) -> None:
    Path("nan").mkdir()
    x = np.zeros((16, 16, 16), np.float32)
    x[3, 4, 5] = np.inf
    np.save("nan/x.npy", x)
    argv = ["--model", "vol_models:unet3d", "--data", "nan"]
    _refused(world, argv, capsys, "expected finite voxels")


# -- memory ----------------------------------------------------------------------------------------

_PEAK = """
import resource, sys, numpy as np, torch
sys.path.insert(0, sys.argv[3])
torch.set_num_threads(1)
import vol_models
from antialias.consistency import engine
from antialias.consistency.config import Config
cfg = Config(model=vol_models.unet3d, data=sys.argv[1], shifts=sys.argv[2], batch_size=2,
             n_boot=2, kind="regression")
engine.run(cfg)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_peak_memory_does_not_grow_with_the_number_of_shifts(world) -> None:
    import subprocess

    np.save("big.npy", np.random.default_rng(0).random((32, 48, 48)).astype(np.float32))
    peaks = {}
    for n in (4, 48):
        run = subprocess.run(
            [sys.executable, "-c", _PEAK, "big.npy", f"random:{n}", str(world)],
            capture_output=True, text=True, check=True,
            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
        peaks[n] = int(run.stdout.split()[-1]) * 1024  # ru_maxrss: KiB on Linux
    # holding every shifted copy at once would add 44 copies x (input + 3-channel features)
    copy = 32 * 48 * 48 * 4 * (1 + 3 * 5)
    assert peaks[48] - peaks[4] < 0.25 * 44 * copy, peaks


# -- the 3-D operators against naive ones; torchrun ---------------------------------------------


def test_3d_geometry_matches_naive_shifts() -> None:
    from antialias.consistency.geometry import Geometry

    g = torch.Generator().manual_seed(3)
    canvas = torch.randn(1, 2, 12, 10, 14, generator=g)
    shifts = [(0.0, 0.0, 0.0), (1.0, -2.0, 3.0), (-4.0, 0.0, 2.0)]
    circ = Geometry(Config(mode="circular", border=2), (12, 8, 12), 4, shifts, "x")
    frame = canvas[..., :12, :8, :12]
    got = circ.inputs(frame.contiguous(), shifts)
    for b, s in enumerate(shifts):
        want = torch.roll(frame, tuple(int(v) for v in s), (-3, -2, -1))[0]
        assert torch.equal(got[b], want)
        assert torch.equal(circ.move(frame, [s])[0], want)
    crop = Geometry(Config(mode="crop", border=2), (12, 10, 14), 2, shifts, "x")
    # per axis: origin = the largest shift, size = (canvas - shift span) rounded down to 2
    assert crop.origin == (1, 0, 3) and crop.size == (6, 8, 10)
    got = crop.inputs(canvas, shifts)
    masks = crop.masks(shifts)
    for b, s in enumerate(shifts):
        o = [crop.origin[a] - int(s[a]) for a in range(3)]
        want = canvas[0, :, o[0] : o[0] + 6, o[1] : o[1] + 8, o[2] : o[2] + 10]
        assert torch.equal(got[b], want)
        # compared: voxels t with t - s inside the reference frame, on every axis
        grids = torch.meshgrid(*[torch.arange(n) for n in crop.size], indexing="ij")
        inside = torch.ones(crop.size, dtype=torch.bool)
        for a in range(3):
            inside &= (grids[a] - s[a] >= 0) & (grids[a] - s[a] < crop.size[a])
        assert torch.equal(masks["compared"][b, 0], inside)


def test_two_rank_torchrun_equals_single_process_on_volumes(world) -> None:
    import os
    import socket
    import subprocess

    script = Path(__file__).resolve().parents[1] / "analysis" / "shift_consistency.py"
    common = ["--model", "vol_models:unet3d", "--data", "vol", "--dtype", "float64",
              "--n-boot", "20", "--shifts", "random:6", "--max-shift", "6", "--per-layer",
              "--threads", "1", "--border", "2", "--no-progress", "--quiet"]  # fmt: skip
    assert cli.main([*common, "--out", "one"]) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(port), str(script), *common,
         "--out", "two"],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr[-2000:]
    one_doc = json.loads(Path("one/shift_consistency.json").read_text())
    two_doc = json.loads(Path("two/shift_consistency.json").read_text())
    assert one_doc["results"] == two_doc["results"] and one_doc["results"][0]["n_images"] == 3
    a, b = np.load("one/shift_consistency.npz"), np.load("two/shift_consistency.npz")
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        assert np.array_equal(a[key], b[key], equal_nan=True), key
