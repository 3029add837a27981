"""analysis/shift_consistency.py: exact properties (float64), naive references, CLI, torchrun."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from analysis import shift_consistency as sc
from antialias.consistency.geometry import Geometry
from antialias.consistency.summary import key as metric_key
from antialias.consistency.sums import confusions, seg_labels
from antialias.exact import exact_psnr_db, is_exact_psnr, is_exact_relative
from antialias.layers import create_downsample
from antialias.models import VARIANTS, UNet, build_variant

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "analysis" / "shift_consistency.py"


@pytest.fixture(autouse=True)
def _one_thread():
    # These models and images are tiny: one thread is faster than two, and on a loaded
    # machine two threads waiting at OpenMP barriers make each small conv ~100x slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class Pointwise(nn.Module):
    """1x1 convs and a ReLU: commutes with every integer shift, bit for bit."""

    num_downsamplings = 2

    def __init__(self, out_channels: int = 2, linear: bool = False) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 6, 1)
        self.b = nn.Conv2d(6, out_channels, 1)
        self.act = nn.Identity() if linear else nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.act(self.a(x)))


class Decimator(nn.Module):
    """Plain stride-2 decimation then nearest up-sampling: the shift-variant baseline.

    Two logits ``[y, 0.5]`` (label: ``y > 0.5``), or ``y`` alone for regression.
    """

    num_downsamplings = 1

    def __init__(self, out_channels: int = 2) -> None:
        super().__init__()
        self.down = create_downsample("decimate", 1)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.interpolate(self.down(x), scale_factor=2.0, mode="nearest")
        return y if self.out_channels == 1 else torch.cat([torch.full_like(y, 0.5), y], 1)


def _images(folder: Path, n: int = 3, size: int = 16, channels: int = 0, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        shape = (size, size) if channels == 0 else (channels, size, size)
        np.save(folder / f"im{i}.npy", rng.random(shape).astype(np.float32))
    return folder


def _run(data: Path, model, **kw) -> dict:
    cfg = {"model": model, "data": str(data), "dtype": "float64", "n_boot": 50, "border": 2}
    cfg.update(kw)
    return sc.run(cfg)


def _values(result: dict, metric: str, region: str = "all") -> np.ndarray:
    name = metric_key(metric, region)
    return np.array([rec[name] for rec in result["results"][0]["shifts"]])


@pytest.mark.parametrize("mode,shifts", [("circular", "all"), ("crop", "all"), ("crop", "line")])
def test_pointwise_model_is_exactly_equivariant(tmp_path: Path, mode: str, shifts: str) -> None:
    data = _images(tmp_path / "im", size=24)
    seg = _run(data, lambda: Pointwise(2), mode=mode, shifts=shifts, max_shift=5)
    reg = _run(data, lambda: Pointwise(1), mode=mode, shifts=shifts, max_shift=5)
    n_shifts = 6 if shifts == "line" else 16
    for region in ("all", "interior"):
        agree = _values(seg, "agreement", region)
        assert agree.shape == (n_shifts,) and (agree == 1.0).all(), agree
        assert (_values(seg, "iou", region) == 1.0).all()
        assert np.isinf(_values(reg, "psnr", region)).all()
        assert (_values(reg, "mse", region) == 0.0).all()
    rec = seg["results"][0]
    assert rec["summary"]["agreement_lo"] == 1.0 == rec["summary"]["agreement_hi"]
    assert rec["period"] == 4 and np.asarray(rec["period_map"]["agreement"]).shape == (4, 4)


@pytest.mark.parametrize("method", ["lanczos", "fourier"])
def test_linear_pointwise_model_under_fractional_shifts(tmp_path: Path, method: str) -> None:
    data = _images(tmp_path / "im", size=24)
    reg = _run(
        data,
        lambda: Pointwise(1, linear=True),
        mode="fractional",
        shifts="0.5:0,0.25:-1.5,2:1",
        fractional_method=method,
    )
    psnr = _values(reg, "psnr")
    assert (psnr > 250).all(), psnr  # float64 rounding only
    assert reg["results"][0]["period_map"] is None


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_circular_unet_is_exactly_equivariant_at_multiples_of_the_period(
    tmp_path: Path, variant: str
) -> None:
    data = _images(tmp_path / "im", n=2, size=16)
    shifts = "4:0,0:4,4:8,12:12,0:0"

    def seg() -> UNet:
        return build_variant(variant, 1, 2, depth=2, width=4, pad_mode="circular")

    def reg() -> UNet:
        return build_variant(variant, 1, 1, depth=2, width=4, pad_mode="circular")

    s = _run(data, seg, shifts=shifts)
    r = _run(data, reg, shifts=shifts)
    for region in ("all", "interior", "border"):
        agree = _values(s, "agreement", region)
        assert (np.nan_to_num(agree, nan=1.0) == 1.0).all(), f"{variant} {region}: {agree}"
    # exact to rounding (BLAS kernels round by CPU and output position): PSNR >= 264.9 dB
    psnr = _values(r, "psnr")
    assert all(is_exact_psnr(p, torch.float64) for p in psnr), f"{variant}: {psnr}"
    if variant != "aps":  # APS is exact under every circular shift; the others are not
        # the tolerance still separates: off-period shifts miss it by > 100 dB (5 decades)
        off = _values(_run(data, reg, shifts="1:0,0:3,2:1"), "psnr")
        assert (off < exact_psnr_db(torch.float64) - 100).all(), f"{variant}: {off}"


def test_aps_unet_is_equivariant_under_every_circular_shift(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=2, size=16)

    def aps(out: int):
        return lambda: build_variant("aps", 1, out, depth=2, width=4)

    for shifts in ("all", "random:6"):
        s = _run(data, aps(2), shifts=shifts, max_shift=15, per_layer=True)
        r = _run(data, aps(1), shifts=shifts, max_shift=15)
        assert (_values(s, "agreement") == 1.0).all()
        psnr = _values(r, "psnr")
        assert all(is_exact_psnr(p, torch.float64) for p in psnr), psnr
        for rec in s["results"][0]["per_layer"]:
            assert is_exact_relative(rec["rel_error"], torch.float64), rec


def test_decimation_is_shift_variant_and_the_period_map_shows_where(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=3, size=16)
    s = _run(data, lambda: Decimator(2), shifts="all")
    r = _run(data, lambda: Decimator(1), shifts="all")
    pmap = np.asarray(s["results"][0]["period_map"]["agreement"])
    assert pmap.shape == (2, 2) and pmap[0, 0] == 1.0
    assert (pmap[[0, 1, 1], [1, 0, 1]] < 1.0).all(), pmap
    psnr_map = np.asarray(r["results"][0]["period_map"]["psnr"])
    assert np.isinf(psnr_map[0, 0]) and np.isfinite(psnr_map[[0, 1, 1], [1, 0, 1]]).all()
    summary = s["results"][0]["summary"]
    assert summary["agreement"] < 1.0 and summary["agreement_lo"] <= summary["agreement"]
    assert s["results"][0]["worst"]["agreement"]["value"] == pmap.min()
    # even shifts are exact for any multiple of the period, beyond the first period too
    even = _run(data, lambda: Decimator(1), shifts="2:0,4:6,-2:8")
    assert np.isinf(_values(even, "psnr")).all()


def _naive_circular(model: nn.Module, images: list[torch.Tensor], s: tuple[int, int]):
    """LPS mASSC and StyleGAN3 EQ-T PSNR, written out for one circular shift."""
    equal = total = 0.0
    sse = count = 0.0
    with torch.no_grad():
        for x in images:
            y0, ys = model(x), model(torch.roll(x, s, (-2, -1)))
            a, b = ys.argmax(1), torch.roll(y0.argmax(1), s, (-2, -1))
            equal += float((a == b).sum())
            total += a.numel()
            sse += float((torch.roll(y0, s, (-2, -1)) - ys).square().to(torch.float64).sum())
            count += ys.numel()
    return equal / total, 20 * math.log10(1.0) - 10 * math.log10(sse / count)


def test_metrics_match_a_naive_computation(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=3, size=16)
    images = [torch.from_numpy(np.load(p)).double()[None, None] for p in sorted(data.glob("*"))]

    def net() -> UNet:
        torch.manual_seed(3)
        model = UNet(1, 2, depth=2, width=4, down="decimate", up="nearest", norm="none")
        return model.double()

    res = _run(data, net, shifts="1:0,0:3,2:2", batch_size=2)
    model = net().eval()
    for rec in res["results"][0]["shifts"]:
        agree, psnr = _naive_circular(model, images, (rec["dy"], rec["dx"]))
        assert abs(rec["agreement"] - agree) < 1e-15, (rec["agreement"], agree)
        assert rec["n_compared"] == 3 * 16 * 16
    # logits as a 2-channel "regression" output: EQ-T PSNR of the logits
    reg = _run(data, net, shifts="1:0,0:3,2:2", kind="regression", batch_size=2)
    for rec in reg["results"][0]["shifts"]:
        _, psnr = _naive_circular(model, images, (rec["dy"], rec["dx"]))
        assert abs(rec["psnr"] - psnr) < 1e-11, (rec["psnr"], psnr)


def test_crop_mode_compares_the_overlap_of_two_windows(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=2, size=20)
    images = [torch.from_numpy(np.load(p)).double()[None, None] for p in sorted(data.glob("*"))]
    res = _run(data, lambda: Decimator(1), mode="crop", shifts="0:3,-2:1", border=0)
    model = Decimator(1)
    # span: dy in [-2, 0], dx in [0, 3] -> window 18 x 17 -> multiple of 2: 18 x 16, origin (0, 3)
    for rec in res["results"][0]["shifts"]:
        dy, dx = rec["dy"], rec["dx"]
        sse = n = 0.0
        for x in images:
            ref = model(x[..., 0:18, 3:19])
            win = model(x[..., 0 - dy : 18 - dy, 3 - dx : 19 - dx])
            for i in range(18):
                for j in range(16):
                    if 0 <= i - dy < 18 and 0 <= j - dx < 16:
                        sse += float((win[0, 0, i, j] - ref[0, 0, i - dy, j - dx]) ** 2)
                        n += 1
        assert rec["n_compared"] == n
        assert abs(rec["mse"] - sse / n) < 1e-14, (rec["mse"], sse / n)


def test_task_metrics_against_ground_truth() -> None:
    res = sc.run(
        {
            "model": lambda: Pointwise(2),
            "data": "nuclei",
            "max_images": 2,
            "image_size": 32,
            "shifts": "0:0,1:0",
            "dtype": "float64",
            "n_boot": 20,
            "border": 4,
        }
    )
    rec = res["results"][0]
    assert rec["kind"] == "segmentation" and rec["data"] == "nuclei:test"
    zero, one = rec["shifts"]
    for key in ("task_dice", "task_iou", "task_accuracy"):
        assert 0.0 <= zero[key] <= 1.0
        # a pointwise model's prediction of the rolled image is the rolled prediction
        assert zero[key] == one[key]


def test_cli_writes_json_csv_npz(tmp_path: Path, capsys) -> None:
    data = _images(tmp_path / "im", n=2, size=16)
    ckpt = tmp_path / "net.safetensors"
    from antialias.checkpoint import save_checkpoint

    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest")
    save_checkpoint(ckpt, net, {"task": "nuclei", "variant": "nearest", "seed": 0})
    out = tmp_path / "out"
    argv = [str(ckpt), "--data", str(data), "--out", str(out), "--n-boot", "20", "--per-layer"]
    assert sc.main(argv + ["--no-progress", "--border", "2"]) == 0
    printed = capsys.readouterr().out
    assert "agreement" in printed and "enc0" in printed
    doc = json.loads((out / "shift_consistency.json").read_text())
    assert doc["schema"] == sc.SCHEMA and "git_commit" in doc["provenance"]
    rec = doc["results"][0]
    assert rec["variant"] == "nearest" and rec["levels"] == 2 and len(rec["shifts"]) == 16
    lines = (out / "shift_consistency.csv").read_text().splitlines()
    assert len(lines) == 1 + 16 and lines[0].startswith("id,name,source,task,variant")
    assert (out / "shift_consistency_layers.csv").is_file()
    arrays = np.load(out / "shift_consistency.npz")
    assert arrays["c0__agreement"].shape == (4, 4)
    assert arrays["c0__sums__eq_confusion"].shape == (2, 16, 2, 2, 2)
    assert np.array_equal(arrays["c0__agreement"], np.asarray(rec["period_map"]["agreement"]))
    assert not list(out.glob(".*tmp"))


def _bad(tmp_path: Path, argv: list[str], capsys, match: str) -> None:
    out = tmp_path / "bad_out"
    code = sc.main(argv + ["--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and match in err, err
    assert not out.exists() or not any(out.iterdir())


def test_bad_input_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    from antialias.checkpoint import save_checkpoint

    data = _images(tmp_path / "im", n=1, size=16)
    small = _images(tmp_path / "small", n=1, size=3)
    rgb = _images(tmp_path / "rgb", n=1, size=16, channels=3)
    ckpt = tmp_path / "net.safetensors"
    net = UNet(1, 2, depth=2, width=4, down="maxpool", up="nearest")
    save_checkpoint(ckpt, net, {"task": "nuclei", "variant": "nearest", "seed": 0})
    truncated = tmp_path / "cut.safetensors"
    truncated.write_bytes(ckpt.read_bytes()[:200])
    wrong = tmp_path / "wrong.pt"
    state = net.state_dict()
    state["extra.weight"] = torch.zeros(1)
    del state["head.bias"]
    torch.save(state, wrong)
    factory = tmp_path / "user_models.py"
    factory.write_text(
        "from antialias.models import UNet\n"
        "def net():\n    return UNet(1, 2, depth=2, width=4, down='maxpool', up='nearest')\n"
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        _bad(tmp_path, [str(tmp_path / "none.safetensors")], capsys, "does not exist")
        _bad(tmp_path, [str(truncated), "--data", str(data)], capsys, "truncated or corrupt")
        _bad(
            tmp_path,
            ["--model", "user_models:net", "--weights", str(wrong), "--data", str(data)],
            capsys,
            "missing keys ['head.bias']; unexpected keys ['extra.weight']",
        )
        _bad(
            tmp_path,
            ["--model", "no_such_module:net", "--data", str(data)],
            capsys,
            "cannot import module 'no_such_module'",
        )
        _bad(
            tmp_path,
            ["--model", "user_models:nope", "--data", str(data)],
            capsys,
            "has no callable 'nope'",
        )
        _bad(tmp_path, [str(ckpt), "--data", str(small)], capsys, "at least the period 4")
        _bad(tmp_path, [str(ckpt), "--data", str(rgb)], capsys, "expects 1 input channels")
        _bad(
            tmp_path,
            [str(ckpt), "--data", str(data), "--mode", "diagonal"],
            capsys,
            "invalid choice: 'diagonal'",
        )
        _bad(
            tmp_path,
            [str(ckpt), "--data", str(data), "--mode", "crop", "--max-shift", "14"],
            capsys,
            "too small for crop shifts",
        )
        _bad(
            tmp_path,
            [str(ckpt), "--data", str(data), "--shifts", "1:x"],
            capsys,
            "expected --shifts all, line, random:N or a list",
        )
        _bad(
            tmp_path,
            [str(wrong), "--data", str(data)],
            capsys,
            "expected a .safetensors checkpoint or a TorchScript file",
        )
        _bad(tmp_path, ["--model", "user_models:net"], capsys, "has no task in its metadata")
    finally:
        os.chdir(cwd)


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_torchscript_model(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=2, size=16)
    path = tmp_path / "pointwise.pt"
    torch.jit.save(torch.jit.script(Pointwise(2).double()), str(path))
    res = sc.run(
        {
            "checkpoints": [str(path)],
            "data": str(data),
            "dtype": "float64",
            "levels": 2,
            "n_boot": 10,
        }
    )
    assert (_values(res, "agreement") == 1.0).all()
    with pytest.raises(ValueError, match="pass --levels"):
        sc.run({"checkpoints": [str(path)], "data": str(data)})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_rank_torchrun_equals_single_process(tmp_path: Path) -> None:
    data = _images(tmp_path / "im", n=3, size=16)
    common = [
        "--model",
        "user_net:net",
        "--data",
        str(data),
        "--dtype",
        "float64",
        "--n-boot",
        "30",
        "--shifts",
        "all",
        "--per-layer",
        "--threads",
        "1",
        "--border",
        "2",
        "--no-progress",
        "--quiet",
    ]
    (tmp_path / "user_net.py").write_text(
        "import torch\nfrom antialias.models import UNet\n"
        "def net():\n    torch.manual_seed(1)\n"
        "    m = UNet(1, 1, depth=2, width=4, down='decimate', up='nearest', residual=True)\n"
        # a fresh residual net is the identity (zero head): randomise the head so the
        # comparison is not trivially exact
        "    torch.nn.init.normal_(m.head.weight)\n"
        "    return m\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    single = subprocess.run(
        [sys.executable, str(SCRIPT), *common, "--out", str(tmp_path / "one")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert single.returncode == 0, single.stderr
    two = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            str(SCRIPT),
            *common,
            "--out",
            str(tmp_path / "two"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert two.returncode == 0, two.stderr[-2000:]
    one_doc = json.loads((tmp_path / "one" / "shift_consistency.json").read_text())
    two_doc = json.loads((tmp_path / "two" / "shift_consistency.json").read_text())
    assert one_doc["results"] == two_doc["results"]
    a = np.load(tmp_path / "one" / "shift_consistency.npz")
    b = np.load(tmp_path / "two" / "shift_consistency.npz")
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        assert np.array_equal(a[key], b[key], equal_nan=True), key
    assert math.isfinite(one_doc["results"][0]["summary"]["psnr"])  # not a trivial comparison


@pytest.mark.parametrize("mode", ["circular", "crop", "fractional"])
@pytest.mark.parametrize("scale", [1, 2])
def test_batched_geometry_matches_the_shift_operators(mode: str, scale: int) -> None:
    """Gathered inputs / moved references and separable masks == antialias.shifts per shift."""
    from antialias.metrics import band_masks
    from antialias.shifts import circular_shift, crop_shift, fractional_shift, integer_shift

    if mode == "fractional":
        shifts = [(0.0, 0.0), (0.5, -1.25), (2.0, 4.0), (-3.75, 0.5)]
    else:
        shifts = [(0.0, 0.0), (2.0, 0.0), (-4.0, 6.0), (6.0, -2.0)]
    if scale == 2 and mode == "fractional":
        shifts = [(0.0, 0.0), (2.0, 4.0), (-6.0, 2.0)]
    cfg = sc.Config(mode=mode, border=3)
    canvas = torch.randn(1, 2, 30, 28, dtype=torch.float64)
    geo = Geometry(cfg, (30, 28), 4, shifts, "test")
    h, w = geo.size[0] // scale, geo.size[1] // scale
    ref = torch.randn(1, 3, h, w, dtype=torch.float64)
    inner = band_masks(h, w, math.ceil(3 / scale))[0]
    masks = geo.masks(shifts, scale)
    moved = geo.move(ref, shifts, scale)
    inputs = geo.inputs(canvas, shifts) if scale == 1 else None
    for b, (dy, dx) in enumerate(shifts):
        sy, sx = dy / scale, dx / scale
        if mode == "circular":
            op = lambda t, sy=sy, sx=sx: circular_shift(t, int(sy), int(sx))  # noqa: E731
        elif mode == "crop":
            op = lambda t, sy=sy, sx=sx: integer_shift(t, int(sy), int(sx))  # noqa: E731
        else:
            op = lambda t, sy=sy, sx=sx: fractional_shift(t, sy, sx)  # noqa: E731
        want, m_out = op(ref)
        m_in = torch.ones_like(m_out) if mode == "crop" else m_out
        compared = m_in & m_out
        if mode == "fractional":  # interior of the reference: the kernel's whole support
            ny, nx = math.floor(sy), math.floor(sx)
            support = range(-2, 4)  # Lanczos-3 tap offsets j = -(a - 1) .. a
            moved_inner = inner.clone()
            for jy in support:
                for jx in support:
                    moved_inner &= integer_shift(inner.double(), ny + jy, nx + jx)[0] > 0.5
        else:
            moved_inner = op(inner.double())[0] > 0.5
        interior = compared & inner & moved_inner
        assert torch.equal(masks["compared"][b : b + 1], compared)
        assert torch.equal(masks["interior"][b : b + 1], interior)
        assert torch.equal(masks["task"][b : b + 1], m_in)
        assert torch.equal(masks["task_interior"][b : b + 1], m_in & inner)
        err = ((moved[b : b + 1] - want).abs() * compared).max().item()
        assert err == 0.0, f"moved reference max abs error {err}"
        if inputs is not None:
            if mode == "crop":
                x = crop_shift(canvas, int(dy), int(dx), geo.origin, geo.size)[0]
            else:
                x = op(geo.reference(canvas))[0]
            assert torch.equal(inputs[b : b + 1], x)


@pytest.mark.parametrize("k", [2, 3])
def test_fast_confusions_match_the_library(k: int) -> None:
    from antialias.metrics import confusion_sums

    a, b = torch.randint(0, k, (5, 9, 7)), torch.randint(0, k, (5, 9, 7))
    compared = torch.rand(5, 1, 9, 7) > 0.3
    interior = compared & (torch.rand(5, 1, 9, 7) > 0.5)
    fast = confusions(a, b, k, compared, interior)
    assert np.array_equal(fast[:, 0], confusion_sums(a, b, k, compared).numpy())
    assert np.array_equal(fast[:, 1], confusion_sums(a, b, k, interior).numpy())
    logits = torch.randn(4, 2, 5, 5)
    logits[0, 1] = logits[0, 0]  # ties go to class 0, as argmax
    assert torch.equal(seg_labels(logits), logits.argmax(1))
