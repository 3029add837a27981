"""Tests of antialias.tools.spectra, its clone script analysis/spectra.py and the demo entry
point: numbers vs closed forms, files, CLI."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # analysis/ is a top-level folder, not an installed package
    sys.path.insert(0, str(REPO))

from analysis import demo  # noqa: E402
from analysis import spectra as script  # noqa: E402
from antialias.tools import spectra  # noqa: E402


@pytest.fixture(scope="module")
def quick() -> spectra.SpectraResult:
    return spectra.run(spectra.SpectraConfig(**spectra.QUICK))


def test_run_does_no_io(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        spectra.run(spectra.SpectraConfig(**{**spectra.QUICK, "blur_sizes": (3,), "channels": 2}))
    finally:
        os.chdir(cwd)
    assert capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []


def test_upsamplers_against_closed_forms(quick: spectra.SpectraResult) -> None:
    ups = quick.summary["upsamplers"]
    assert list(ups) == [
        "nearest",
        "bilinear",
        "bicubic",
        "blur_binomial4",
        "blur_binomial5",
        "kaiser",
        "ideal",
    ]
    near, bil = ups["nearest"], ups["bilinear"]
    assert near["taps"] == [1.0, 1.0] and bil["taps"] == [0.25, 0.75, 0.75, 0.25]
    # the v1 blur-up (zeros + binomial-4 [1, 3, 3, 1] / 4 at gain 2) has bilinear's taps
    assert ups["blur_binomial4"]["taps"] == bil["taps"]
    assert (
        np.abs(
            quick.arrays["up__blur_binomial4__mag1d"] - quick.arrays["up__bilinear__mag1d"]
        ).max()
        < 1e-13
    )
    assert abs(near["imaging_energy_1d"] - (1 - 2 / math.pi) / 2) < 1e-12
    assert abs(near["imaging_energy_2d"] - (1 - (0.5 + 1 / math.pi) ** 2)) < 1e-12
    assert abs(near["cutoff_3db"] - 0.25) < 1e-12
    assert abs(bil["cutoff_3db"] - math.acos(2 ** (-1 / 6)) / math.pi) < 1e-12
    assert near["closed_form_max_abs_error"] < 1e-13 and bil["closed_form_max_abs_error"] < 1e-13
    f = quick.arrays["freqs_1d"]
    close = np.abs(quick.arrays["up__bilinear__mag1d"] - 2 * np.cos(np.pi * f) ** 3).max()
    assert close < 1e-13, f"max abs error {close:.3e}"
    # bicubic, measured from F.interpolate: Keys a = -0.75 sampled at +-1/4, +-3/4, +-5/4, +-7/4
    t = np.array([7, 5, 3, 1, 1, 3, 5, 7]) / 4
    a = -0.75
    keys = np.where(
        t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    )
    err = np.abs(np.array(ups["bicubic"]["taps"]) - keys).max()
    assert err < 1e-12, f"max abs error {err:.3e}"
    for name, entry in ups.items():
        assert abs(entry["dc_gain"] - 2.0) < 1e-12, name
        if entry["checkerboard_index_measured"] is not None:
            diff = abs(entry["checkerboard_index"] - entry["checkerboard_index_measured"])
            assert diff < 1e-12, f"{name}: max abs error {diff:.3e}"
        assert entry["checkerboard_index"] < 1e-12, name  # all fixed ones: symmetric even taps
        assert entry["linear"] and entry["shift_invariant"], name
    # Ordering the figure shows: more smoothing, less imaging.
    imaging = [ups[n]["imaging_energy_1d"] for n in ("nearest", "bilinear", "blur_binomial5")]
    assert imaging == sorted(imaging, reverse=True)
    assert (
        ups["kaiser"]["stopband_attenuation_db"] > 30 > ups["bilinear"]["stopband_attenuation_db"]
    )
    assert ups["ideal"]["stopband_attenuation_db"] is None
    n2 = quick.config.n_freqs_2d
    assert quick.arrays["up__nearest__mag2d"].shape == (n2, n2)


def test_downsamplers(quick: spectra.SpectraResult) -> None:
    downs = quick.summary["downsamplers"]
    assert downs["strided_conv"]["aliasing_energy_1d"] == 0.5
    assert abs(downs["strided_conv"]["aliasing_energy_2d"] - 0.75) < 1e-15
    assert abs(downs["strided_conv"]["aliasing_energy_empirical_1d"] - 0.5) < 1e-12
    for n in quick.config.blur_sizes:
        e = downs[f"blurpool{n}"]
        # the layer's measured transfer is |H|^2 of the binomial taps it claims to use
        assert e["transfer_vs_taps_max_abs_error"] < 1e-12, n
        # midpoint rule with 16 probe frequencies vs the exact integral
        assert abs(e["aliasing_energy_empirical_1d"] - e["aliasing_energy_1d"]) < 2e-3, n
        assert e["linear"] and e["shift_invariant"]
    assert not downs["maxpool"]["linear"] and downs["maxpool"]["shift_invariant"]
    assert (
        downs["maxpool"]["aliasing_energy_with_distortion_1d"]
        > downs["maxpool"]["aliasing_energy_empirical_1d"] + 0.05
    )
    big = [downs[f"blurpool{n}"]["aliasing_energy_2d"] for n in quick.config.blur_sizes]
    assert big == sorted(big, reverse=True)


def test_learned_upsamplers(quick: spectra.SpectraResult) -> None:
    tr = quick.summary["transposed"]
    for name, e in tr.items():
        diff = abs(e["checkerboard_index"] - e["checkerboard_index_measured"])
        assert diff < 1e-12, f"{name}: max abs error {diff:.3e}"
        assert e["shift_invariant"] and e["affine"], name
    for name in ("tconv2", "tconv3", "tconv4"):
        assert tr[name]["weight_vs_measured_max_abs_error"] == 0.0
        assert tr[name]["checkerboard_index"] > 0.05  # random init: sub-kernel sums differ
    fixed = ("tconv4_bilinear_init", "nearest_conv", "bilinear_conv", "pixelshuffle_icnr")
    others = ("blur4_conv", "blur5_conv", "bilinear_1x1", "subpixel_blur")
    for name in fixed + others:
        assert tr[name]["checkerboard_index"] < 1e-12, name
    # more smoothing, less imaging: binomial-5 < binomial-4; ICNR + 2x2 blur < ICNR alone
    assert tr["blur5_conv"]["imaging_energy_2d"] < tr["blur4_conv"]["imaging_energy_2d"]
    assert tr["subpixel_blur"]["imaging_energy_2d"] < tr["pixelshuffle_icnr"]["imaging_energy_2d"]
    # a 1x1 channel mix before bilinear changes no spatial response: bilinear's imaging
    # energy, that of the FCN bilinear-initialised 4x4 (the triangle on the channel diagonal)
    diff = abs(
        tr["bilinear_1x1"]["imaging_energy_2d"] - tr["tconv4_bilinear_init"]["imaging_energy_2d"]
    )
    assert diff < 1e-12, f"max abs error {diff:.3e}"
    assert quick.arrays["tconv__tconv4__spectral_norm"].shape == (16, 16)


def test_main_writes_json_and_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "spectra"
    assert script.main(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "nearest" in printed and "maxblurpool7" in printed and str(out) in printed
    assert sorted(p.name for p in out.iterdir()) == ["spectra.json", "spectra.npz"]
    doc = json.loads((out / "spectra.json").read_text(), parse_constant=_no_nan)
    assert doc["provenance"]["versions"]["torch"] and "git_commit" in doc["provenance"]
    assert doc["config"]["n_freqs_2d"] == spectra.QUICK["n_freqs_2d"]
    with np.load(out / "spectra.npz") as arrays:
        assert sorted(arrays.files) == doc["arrays"]
        assert arrays["freqs_1d"][-1] == 0.5


def _no_nan(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name}")


def test_main_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert script.main(["--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{script.PROG}: error:") and err.count("\n") == 1
    afile = tmp_path / "file"
    afile.write_text("x")
    assert script.main(["--quick", "--out", str(afile)]) == 2
    assert "expected --out to be a folder" in capsys.readouterr().err
    assert afile.read_text() == "x"


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="expected up to be an integer >= 2"):
        spectra.run(spectra.SpectraConfig(up=1))
    with pytest.raises(ValueError, match="even n_probe_freqs"):
        spectra.run(spectra.SpectraConfig(n_probe_freqs=5))
    with pytest.raises(TypeError, match="expected a SpectraConfig"):
        spectra.run({"up": 2})


def test_demo_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--quick", "--out", str(tmp_path)]) == 0
    # --out is the main job's whole output folder; the spectra go to results/spectra in it
    spectra_json = tmp_path.resolve() / "results" / "spectra" / "spectra.json"
    assert spectra_json.is_file() and str(spectra_json) in capsys.readouterr().out
    assert demo.main(["--bogus"]) == 2


def test_runs_as_a_script(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [sys.executable, "analysis/spectra.py", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "spectra.json").exists()


def test_installed_command_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # outside a clone: results/spectra under the current directory, nothing from the repo
    monkeypatch.chdir(tmp_path)
    assert spectra.main(["--quick"]) == 0
    assert "wrote results/spectra/spectra.json" in capsys.readouterr().out
    doc = json.loads((tmp_path / "results" / "spectra" / "spectra.json").read_text())
    assert doc["analysis"] == "spectra" and set(doc["files_sha256"]) == {".npz"}
    assert spectra.main(["--bogus"]) == 2
    assert capsys.readouterr().err.startswith(f"{spectra.PROG}: error:")


def _naive_landing_power(pool: str, p: int, q: int, phi: float) -> float:
    # pairs (x[2m], x[2m+1]) -> max or mean; DFT over whole periods of the output, in numpy
    g = min((2 * p) % q, q - (2 * p) % q)
    period = q // math.gcd(g, q)
    n = np.arange(2 * period * 3)
    x = np.cos(2 * np.pi * p / q * n + phi).reshape(-1, 2)
    y = x.max(axis=1) if pool == "max" else x.mean(axis=1)
    m = np.arange(y.size)
    comp = np.sum(y * np.exp(-2j * np.pi * g / q * m)) / y.size
    return float((2 * abs(comp)) ** 2)


@pytest.mark.parametrize("p,q", spectra.LANDING_FREQS)
def test_landing_power_matches_a_numpy_reference(p: int, q: int) -> None:
    import torch.nn as nn

    got = spectra.landing_power(nn.MaxPool2d(2), 2, p, q, n_phases=4)
    want = [_naive_landing_power("max", p, q, 2 * np.pi * i / 4) for i in range(4)]
    assert np.allclose(got, want, rtol=1e-9, atol=1e-12), np.abs(got - want).max()
    avg = spectra.landing_power(nn.AvgPool2d(2), 2, p, q, n_phases=4)
    assert np.allclose(avg, np.cos(np.pi * p / q) ** 2, rtol=1e-9)  # |H(f)|^2 of the box


def test_maxpool_equals_avgpool_only_at_dyadic_probes(quick: spectra.SpectraResult) -> None:
    probes = quick.summary["landing_power"]["probes"]
    assert {r["dyadic"] for r in probes} == {True, False}
    for r in probes:
        if r["dyadic"]:
            assert abs(r["ratio_min"] - 1) < 1e-9 and abs(r["ratio_max"] - 1) < 1e-9, r
        else:  # differs, and by the phase
            assert r["ratio_max"] - r["ratio_min"] > 0.5, r
    third = next(r for r in probes if r["fraction"] == "1/3")
    assert third["ratio_max"] == pytest.approx(4.0, rel=1e-6)
    assert third["ratio_min"] < 1e-9
    assert quick.arrays["landing__1_3__maxpool"].shape == (
        quick.summary["landing_power"]["phases"],
    )
