"""Tests of antialias.tools.learned_kernels (and analysis/learned_kernels.py): layer discovery,
the sub-pixel -> transposed rewrite,
measures vs closed forms and torch, constant-input patterns, files and command line."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analysis import learned_kernels as script  # noqa: E402
from antialias.checkpoint import save_checkpoint  # noqa: E402
from antialias.models import build_variant  # noqa: E402
from antialias.tools import learned_kernels as L  # noqa: E402

QUICK = L.LearnedKernelsConfig(**L.QUICK, constant_levels=(0.0, 0.5))


def _small(variant: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_variant(variant, 1, 2, depth=2, width=4).eval()


# ----------------------------------------------------------------------------- sub-pixel rewrite


@pytest.mark.parametrize(("s", "k", "p"), [(2, 3, 1), (2, 1, 0), (3, 3, 1), (2, 5, 2)])
def test_pixel_shuffle_equals_transposed_conv(s: int, k: int, p: int) -> None:
    """conv(padding p) + PixelShuffle(s) == crop of conv_transpose2d(x, rewritten weight)."""
    gen = torch.Generator().manual_seed(1)
    c_in, c_out, h = 3, 2, 7
    conv = nn.Conv2d(c_in, c_out * s * s, k, padding=p, bias=False, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(2, c_in, h, h + 1, generator=gen, dtype=torch.float64)
    expected = F.pixel_shuffle(conv(x), s)
    w = torch.from_numpy(L.pixel_shuffle_as_transposed(conv.weight, s))
    assert tuple(w.shape) == (c_in, c_out, s * k, s * k)
    z = F.conv_transpose2d(x, w, stride=s)
    off = s * (k - 1 - p)  # out[o] = z[o + s (K - 1 - p)]
    got = z[..., off : off + s * h, off : off + s * (h + 1)]
    err = (got - expected).abs().max().item()
    assert err < 1e-12, f"max abs error {err:.3e}"


def test_pixel_shuffle_rewrite_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="expected a square conv weight"):
        L.pixel_shuffle_as_transposed(np.zeros((6, 1, 3, 3)), 2)  # 6 not a multiple of 4
    with pytest.raises(ValueError, match="expected a square conv weight"):
        L.pixel_shuffle_as_transposed(np.zeros((4, 1, 3, 2)), 2)


# ----------------------------------------------------------------------------- discovery


def test_find_layers_in_a_user_model() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1),
        nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.PixelShuffle(2)),
        nn.ConvTranspose2d(2, 2, 3, stride=1, padding=1),  # stride 1: not an up-sampler
        nn.ConvTranspose2d(2, 2, 2, stride=2, groups=2),  # grouped: skipped
    )
    layers = L.find_upsampling_layers(model)
    assert [(la.name, la.kind, la.stride) for la in layers] == [
        ("1", "conv_transpose", 2),
        ("2.0", "pixel_shuffle", 2),
    ]
    assert layers[1].output_name == "2.1"
    assert np.array_equal(layers[0].weight, model[1].weight.detach().double().numpy())
    assert layers[1].weight.shape == (4, 2, 6, 6)


def test_find_layers_in_shipped_variants() -> None:
    tconv = L.find_upsampling_layers(_small("tconv3"))
    assert [(la.name, la.weight.shape[-1]) for la in tconv] == [
        ("ups.0.body", 3),
        ("ups.1.body", 3),
    ]
    shuffle = L.find_upsampling_layers(_small("pixelshuffle"))
    assert [la.kind for la in shuffle] == ["pixel_shuffle"] * 2
    assert L.find_upsampling_layers(_small("bilinear")) == []


def test_find_layers_in_monai_unet() -> None:
    from monai.networks.nets import UNet as MonaiUNet

    net = MonaiUNet(2, 1, 2, channels=(4, 8, 16), strides=(2, 2), num_res_units=0)
    layers = L.find_upsampling_layers(net)
    expected = [m for m in net.modules() if isinstance(m, nn.ConvTranspose2d) and m.stride[0] > 1]
    assert len(layers) == len(expected) == 2
    assert all(la.kind == "conv_transpose" for la in layers)


def test_find_layers_type_error() -> None:
    with pytest.raises(TypeError, match="expected a torch nn.Module"):
        L.find_upsampling_layers("model")


# ----------------------------------------------------------------------------- measures


def _layer_entry(module: nn.Module, config=QUICK):
    layer = L.find_upsampling_layers(nn.Sequential(module))[0]
    freqs = np.fft.fftshift(np.fft.fftfreq(config.n_freqs_2d))
    return L.layer_measures(layer, config, freqs)


def test_single_channel_2x2_kernel_against_closed_form() -> None:
    """Stride 2, kernel 2x2: each polyphase component is one tap, so a constant input gives the
    kernel tiled; the phase gains are |taps| and the checkerboard index is the DFT ratio."""
    tconv = nn.ConvTranspose2d(1, 1, 2, stride=2, bias=False)
    k = np.array([[1.0, 2.0], [3.0, -0.5]])
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(k)[None, None])
    entry, arrays = _layer_entry(tconv)
    assert np.allclose(arrays["phase_gain_spectral"], np.abs(k), atol=1e-12)
    dft = np.abs(np.fft.fft2(k))
    ci = max(dft[0, 1], dft[1, 0], dft[1, 1]) / dft[0, 0]
    assert abs(entry["checkerboard_index"] - ci) < 1e-12
    assert abs(entry["checkerboard_index_measured"] - ci) < 1e-9
    assert entry["phase_imbalance"] == pytest.approx(np.abs(k - k.mean()).max() / abs(k.mean()))
    assert np.allclose(arrays["tap_energy"], np.abs(k))
    assert entry["weight_vs_measured_max_abs_error"] < 1e-12
    assert entry["linear"] and entry["shift_invariant"]


def test_bilinear_init_has_no_checkerboard_and_default_init_has() -> None:
    from antialias.transposed import init_bilinear_

    torch.manual_seed(0)
    tconv = nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1, bias=False)
    with torch.no_grad():
        init_bilinear_(tconv.weight, 2)
    entry, arrays = _layer_entry(tconv)
    assert entry["checkerboard_index"] < 1e-12 and entry["phase_imbalance"] < 1e-12
    assert np.allclose(arrays["phase_gain_spectral"], arrays["phase_gain_spectral"][0, 0])
    random = nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1)
    entry, _ = _layer_entry(random)
    assert entry["checkerboard_index"] > 0.05
    assert abs(entry["checkerboard_index"] - entry["checkerboard_index_measured"]) < 1e-9
    assert entry["affine"] and not entry["linear"]  # the bias


def test_response_map_matches_torch_fft() -> None:
    """Single channel: the spectral-norm map is |FFT| of the kernel on the centred grid."""
    tconv = nn.ConvTranspose2d(1, 1, 3, stride=2, bias=False)
    entry, arrays = _layer_entry(tconv)
    n = QUICK.n_freqs_2d
    kernel = tconv.weight.detach().double()[0, 0]
    expected = torch.fft.fftshift(torch.fft.fft2(kernel, s=(n, n))).abs().numpy()
    err = np.abs(arrays["spectral_norm"] - expected).max()
    assert err < 1e-12, f"max abs error {err:.3e}"
    assert entry["dc_gain_spectral"] == pytest.approx(abs(kernel.sum().item()))


# ----------------------------------------------------------------------------- constant input


def test_constant_input_patterns() -> None:
    """Resize-conv decoders keep a flat input flat (to round-off); transposed convs do not."""
    config = L.LearnedKernelsConfig(
        constant_levels=(0.0, 0.5), constant_size=96, constant_margin=32
    )
    result = {}
    for variant in ("nearest", "tconv4"):
        model = _small(variant)
        layers = L.find_upsampling_layers(model)
        entries, arrays, strides = L.constant_measures(model, config, layers)
        result[variant] = entries
        for e in entries:  # the interior is free of border effects: exactly 4-periodic
            assert e["periodicity_error"] < 1e-9, (variant, e)
        assert arrays["0"].shape == (config.constant_crop, config.constant_crop)
        assert arrays["0__phase"].shape == (4, 4)
        if variant == "tconv4":
            assert [s["output_stride"] for s in strides] == [1.0, 2.0]
            assert [s["order"] for s in strides] == [1, 0]  # coarse layer runs first
    assert all(e["pattern_rms"] < 1e-9 for e in result["nearest"])
    assert all(e["pattern_rms"] > 1e-6 for e in result["tconv4"])


def test_run_on_user_models_without_io(tmp_path: Path, capsys) -> None:
    from monai.networks.nets import UNet as MonaiUNet

    torch.manual_seed(0)
    models = {
        "monai": MonaiUNet(2, 1, 2, channels=(4, 8), strides=(2,), num_res_units=0).eval(),
        "tconv2": (_small("tconv2"), {"variant": "tconv2", "seed": 3}),
    }
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = L.run(QUICK, models)
    finally:
        os.chdir(cwd)
    assert capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []
    summary = result.summary["models"]
    assert summary["tconv2"]["seed"] == 3 and len(summary["tconv2"]["layers"]) == 2
    assert summary["monai"]["period"] == QUICK.period and len(summary["monai"]["layers"]) == 1
    assert "layer__monai__0__spectral_norm" in result.arrays
    assert "const__tconv2__1" in result.arrays


@pytest.mark.parametrize(
    ("models", "error", "match"),
    [
        ({}, TypeError, "non-empty mapping"),
        ({"bad name": nn.Identity()}, ValueError, "letters, digits"),
        ({"x": "not a model"}, TypeError, "nn.Module"),
    ],
)
def test_run_rejects_bad_models(models, error, match) -> None:
    with pytest.raises(error, match=match):
        L.run(QUICK, models)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("seed", -1, ValueError),
        ("n_freqs_2d", 2.5, TypeError),
        ("constant_levels", (), TypeError),
        ("constant_levels", (float("nan"),), ValueError),
        ("variants", ("../x",), ValueError),
        ("constant_size", 10, ValueError),
    ],
)
def test_config_validation(field: str, value, error) -> None:
    config = L.LearnedKernelsConfig(**{field: value})
    with pytest.raises(error, match="expected"):
        config.validate()


# ----------------------------------------------------------------------------- files and CLI


@pytest.fixture()
def checkpoints(tmp_path: Path) -> Path:
    root = tmp_path / "ckpt"
    for variant in ("tconv2", "bilinear"):
        model = _small(variant)
        meta = {"task": "nuclei", "variant": variant, "seed": 0, "metrics": {"test": {"dice": 0.5}}}
        save_checkpoint(root / "nuclei" / f"{variant}_s0.safetensors", model, meta)
    return root


def test_main_writes_results_and_figure(checkpoints: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results"
    assert script.main(["--checkpoints", str(checkpoints), "--out", str(out), "--quick"]) == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out
    # bilinear has no learned up-sampler: one line on stderr says so
    assert captured.err.count("\n") == 1 and "model bilinear: found no up-sampling" in captured.err
    document = json.loads((out / "learned_kernels.json").read_text())
    assert list(document["models"]) == ["tconv2", "bilinear"]  # documented variant order
    assert document["provenance"]["versions"]["torch"] == torch.__version__
    assert document["models"]["tconv2"]["test_metrics"] == {"dice": 0.5}
    assert document["models"]["tconv2"]["checkpoint"].endswith("tconv2_s0.safetensors")
    with np.load(out / "learned_kernels.npz") as data:
        assert sorted(data.files) == document["arrays"]
    assert sorted(p.name for p in out.iterdir()) == ["learned_kernels.json", "learned_kernels.npz"]

    import figures.fig2_learned_kernels as fig2

    figs = tmp_path / "figs"
    assert fig2.main(["--results", str(out), "--out", str(figs)]) == 0
    assert (figs / "fig2_learned_kernels.png").stat().st_size > 10_000


def test_main_variants_subset(checkpoints: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = [
        "--checkpoints",
        str(checkpoints),
        "--out",
        str(out),
        "--quick",
        "--variants",
        "bilinear",
    ]
    assert L.main(args) == 0
    assert list(json.loads((out / "learned_kernels.json").read_text())["models"]) == ["bilinear"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--variants", "tconv4"], "missing checkpoints"),
        (["--seed", "7"], "no checkpoints"),
        (["--variants", " , "], "comma-separated"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_main_errors_exit_2(checkpoints: Path, tmp_path: Path, capsys, args, message) -> None:
    out = tmp_path / "r"
    assert L.main(["--checkpoints", str(checkpoints), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    if "checkpoints" in message:
        assert L.TRAIN_COMMAND in err
    assert not out.exists()


def test_installed_module_runs_outside_a_clone(tmp_path: Path) -> None:
    # the default folders are the current directory's, not the repository's
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "antialias.tools.learned_kernels", "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"{L.PROG}: error: no checkpoints checkpoints/nuclei/")
    assert list(tmp_path.iterdir()) == []  # nothing written


# ----------------------------------------------------------------------------- volumes


def _monai_3d(kind: str) -> nn.Module:
    from monai.networks.nets import BasicUNet
    from monai.networks.nets import UNet as MonaiUNet

    torch.manual_seed(0)
    if kind == "unet":
        return MonaiUNet(3, 1, 2, channels=(4, 8, 16), strides=(2, 2), num_res_units=0).eval()
    return BasicUNet(3, 1, 2, features=(4, 4, 8, 16, 32, 4)).eval()


@pytest.mark.parametrize("kind", ["unet", "basic"])
def test_monai_3d_deconvs_are_found_and_scored(kind: str) -> None:
    from antialias.spectral_nd import score_transposed_convs

    net = _monai_3d(kind)
    expected = [
        (n, m)
        for n, m in net.named_modules()
        if isinstance(m, nn.ConvTranspose3d) and m.stride[0] > 1
    ]
    layers = L.find_upsampling_layers(net)
    assert [la.name for la in layers] == [n for n, _ in expected] and len(layers) >= 2
    assert all(la.spatial_dims == 3 and la.weight.ndim == 5 for la in layers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = L.run(QUICK, {"m3d": net})
    # layers found: the only warning is that of the (2-D only) constant-input run
    assert [str(w.message) for w in caught] == result.summary["warnings"]
    entries = result.summary["models"]["m3d"]["layers"]
    scores = {s.name: s for s in score_transposed_convs(net)}
    for la, e in zip(layers, entries):
        assert e["spatial_dims"] == 3 and e["kernel_size"] == list(la.weight.shape[2:])
        assert e["checkerboard_index"] == pytest.approx(scores[la.name].checkerboard_index)
    i = len(layers) - 1
    gains = result.arrays[f"layer__m3d__{i}__phase_gain_frobenius"]
    assert gains.shape == (2, 2, 2)
    # a naive check of one phase: the Frobenius norm of the sum of taps w[:, :, 2j+r, ...]
    w = layers[i].weight
    naive = np.sqrt((w[:, :, 1::2, 0::2, 1::2].sum(axis=(2, 3, 4)) ** 2).sum())
    assert gains[1, 0, 1] == pytest.approx(naive, rel=1e-12)
    # the constant-input run is 2-D only: skipped, with one warning entry
    assert result.summary["models"]["m3d"]["constant"] == []
    assert len(result.summary["warnings"]) == 1 and "2-D only" in result.summary["warnings"][0]


def test_no_readable_upsampler_warns() -> None:
    models = {
        "trilinear": nn.Sequential(nn.Conv3d(1, 2, 3, padding=1), nn.Upsample(scale_factor=2)),
        "grouped": nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 2, 2, 2, groups=2)),
    }
    for name, model in models.items():
        assert L.find_upsampling_layers(model) == []
        with pytest.warns(UserWarning, match="found no up-sampling layer it can read"):
            result = L.run(QUICK, {name: model})
        notes = result.summary["models"][name]["warnings"]
        assert any("no up-sampling layer" in n for n in notes)
        assert notes[0] in result.summary["warnings"]
    assert "1 (ConvTranspose2d, groups 2)" in notes[0]


# --------------------------------------------------------------------- any model: --model


MONAI_2D = (
    '{"spatial_dims": 2, "in_channels": 1, "out_channels": 2, "channels": [4, 8], "strides": [2]}'
)


def test_command_reads_a_factory_with_weights_and_scores_its_deconv(tmp_path, capsys) -> None:
    """``--model monai...:UNet --weights`` finds MONAI's transposed conv and scores it."""
    monai_nets = pytest.importorskip("monai.networks.nets")
    from safetensors.torch import save_file

    from antialias.tools import learned_kernels as lk

    torch.manual_seed(0)
    net = monai_nets.UNet(**json.loads(MONAI_2D))
    weights = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    argv = ["--model", "monai.networks.nets:UNet", "--model-kwargs", MONAI_2D]
    argv += ["--weights", str(weights), "--quick", "--out", str(tmp_path / "o")]
    assert lk.main(argv) == 0
    doc = json.loads((tmp_path / "o" / "learned_kernels.json").read_text())
    (layers,) = [m["layers"] for m in doc["models"].values()]
    deconvs = [m for m in net.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(layers) == len(deconvs) >= 1
    assert all(e["checkerboard_index"] is not None for e in layers)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--weights", "w.safetensors"], "--weights together with --model"),
        (["--model", "no_such_module_xyz:f"], "cannot import module"),
        (["--model", "monai.networks.nets:UNet", "--model-kwargs", "[1]"], "JSON object"),
        (["--torchscript", "missing.pt"], "expected a TorchScript file"),
    ],
)
def test_command_refuses_bad_user_models_in_one_line(tmp_path, capsys, argv, words) -> None:
    from antialias.tools import learned_kernels as lk

    out = tmp_path / "o"
    assert lk.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()


def test_command_reads_a_scripted_archive_like_its_python_model(tmp_path) -> None:
    """A ``torch.jit.script`` archive scores like the Python model; a traced one is refused."""
    monai_nets = pytest.importorskip("monai.networks.nets")
    from antialias.tools import learned_kernels as lk

    torch.manual_seed(0)
    net = monai_nets.UNet(**json.loads(MONAI_2D)).eval()
    scripted, traced = tmp_path / "scripted.pt", tmp_path / "traced.pt"
    torch.jit.save(torch.jit.script(net), str(scripted))
    torch.jit.save(torch.jit.trace(net, torch.zeros(1, 1, 16, 16)), str(traced))
    assert lk.main(["--torchscript", str(scripted), "--quick", "--out", str(tmp_path / "s")]) == 0
    doc = json.loads((tmp_path / "s" / "learned_kernels.json").read_text())
    (layers,) = [m["layers"] for m in doc["models"].values()]
    expected = lk.run(lk.LearnedKernelsConfig(**lk.QUICK), {"python": net})
    (reference,) = [m["layers"] for m in expected.summary["models"].values()]
    assert [e["name"] for e in layers] == [e["name"] for e in reference]
    for got, want in zip(layers, reference):
        assert got["checkerboard_index"] == pytest.approx(want["checkerboard_index"], rel=1e-9)
    assert lk.main(["--torchscript", str(traced), "--out", str(tmp_path / "t")]) == 2
    assert not (tmp_path / "t").exists()
