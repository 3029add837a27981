"""Figures 1-3 from small synthetic result files: files appear, numbers come from the results,
and missing or malformed results give one clear line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import figures.fig1_upsampler_response as fig1  # noqa: E402
import figures.fig2_learned_kernels as fig2  # noqa: E402
import figures.fig3_downsampler_aliasing as fig3  # noqa: E402
from figures._spectral_common import ResultsError, load_results  # noqa: E402

# ----------------------------------------------------------------------------- synthetic results


def _write(folder: Path, stem: str, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(meta))
    np.savez(folder / f"{stem}.npz", **arrays)
    return folder


def spectra_results(folder: Path, *, maxpool_equals_avg: bool = True) -> Path:
    """A small stand-in for results/spectra: two up-samplers + ideal, a few down-samplers."""
    f1 = np.linspace(0, 0.5, 33)
    f2 = np.fft.fftshift(np.fft.fftfreq(8))
    fp = (2 * np.arange(8) + 1) / 32
    ups = {
        "nearest": {"taps": [1, 1], "imaging_energy_1d": 0.1817, "imaging_energy_2d": 0.4321},
        "bilinear": {"taps": [0.25, 0.75, 0.75, 0.25], "imaging_energy_1d": 0.03},
        "ideal": {"taps": None, "imaging_energy_1d": 0.0, "imaging_energy_2d": 0.0},
    }
    ups["bilinear"]["imaging_energy_2d"] = 0.06
    arrays = {"freqs_1d": f1, "freqs_2d": f2, "probe_freqs": fp}
    for name, power in (("nearest", 1), ("bilinear", 3), ("ideal", 50)):
        mag = 2 * np.abs(np.cos(np.pi * f1)) ** power
        arrays[f"up__{name}__mag1d"] = mag
        ax = 2 * np.abs(np.cos(np.pi * f2)) ** power
        arrays[f"up__{name}__mag2d"] = np.outer(ax, ax)
    down = {}
    box = np.cos(np.pi * fp) ** 2
    linear = {"strided_conv": 1, "avgpool": 2, "blurpool1": 1, "blurpool2": 2, "blurpool3": 3}
    for name, n in linear.items():
        share = 0.5 / n
        down[name] = {
            "aliasing_energy_1d": share,
            "aliasing_energy_2d": 1.5 * share,
            "aliasing_energy_empirical_1d": share,
            "aliasing_energy_with_distortion_1d": share,
        }
        arrays[f"down__{name}__mag1d"] = np.abs(np.cos(np.pi * f1)) ** (n - 1)
        arrays[f"down__{name}__transfer"] = np.cos(np.pi * fp) ** (2 * n - 2)
        arrays[f"down__{name}__distortion"] = np.zeros_like(fp)
    nonlinear = {"maxpool": 0.25, "maxblurpool1": 0.5 / 3, "maxblurpool2": 0.1}
    for name, share in nonlinear.items():
        down[name] = {
            "aliasing_energy_1d": None,
            "aliasing_energy_2d": None,
            "aliasing_energy_empirical_1d": share,
            "aliasing_energy_with_distortion_1d": 2 * share,
        }
        arrays[f"down__{name}__transfer"] = box if maxpool_equals_avg else 0.5 * box
        arrays[f"down__{name}__distortion"] = 0.2 * fp
    # effective up-sampling operators (figure 1 (c), (d)): one transposed, one resize-conv
    transposed = {
        "tconv2": {"checkerboard_index": 0.99, "imaging_energy_2d": 0.75},
        "nearest_conv": {"checkerboard_index": 0.0, "imaging_energy_2d": 0.32},
    }
    for name, power in (("tconv2", 0), ("nearest_conv", 2)):
        ax = np.abs(np.cos(np.pi * f2)) ** power
        arrays[f"tconv__{name}__spectral_norm"] = np.outer(ax, ax)
    meta = {
        "config": {"up": 2, "down": 2, "channels": 4, "seed": 0},
        "upsamplers": ups,
        "downsamplers": down,
        "transposed": transposed,
    }
    return _write(folder, "spectra", meta, arrays)


def learned_results(folder: Path) -> Path:
    """A small stand-in for results/learned_kernels: one transposed-conv model, one without."""
    f2 = np.fft.fftshift(np.fft.fftfreq(8))
    arrays: dict[str, np.ndarray] = {"freqs_2d": f2}
    layers = []
    for i, stride in enumerate((2.0, 1.0)):
        layers.append(
            {
                "name": f"ups.{i}",
                "stride": 2,
                "output_stride": stride,
                "checkerboard_index": 0.5 + i,
                "imaging_energy_2d": 0.6,
                "phase_gain_mean_spectral": 2.0,
            }
        )
        arrays[f"layer__tconv4__{i}__spectral_norm"] = 1.0 + np.outer(f2**2, f2**2)
        arrays[f"layer__tconv4__{i}__phase_gain_spectral"] = np.array([[2.0, 3.0], [1.0, 2.0]])
    constant = []
    for j, level in enumerate((0.0, 0.5)):
        constant.append({"level": level, "mean": -4.0, "pattern_rms": 0.0123 * (j + 1)})
        grid = np.indices((32, 32)).sum(axis=0) % 2
        arrays[f"const__tconv4__{j}"] = grid.astype(np.float32)
        arrays[f"const__bilinear__{j}"] = np.zeros((32, 32), np.float32)
    flat = [{"level": lv, "mean": -5.0, "pattern_rms": 0.0} for lv in (0.0, 0.5)]
    meta = {
        "models": {
            "tconv4": {
                "layers": layers,
                "constant": constant,
                "checkpoint": "checkpoints/nuclei/tconv4_s0.safetensors",
            },
            "bilinear": {
                "layers": [],
                "constant": flat,
                "checkpoint": "checkpoints/nuclei/bilinear_s0.safetensors",
            },
        }
    }
    return _write(folder, "learned_kernels", meta, arrays)


# ----------------------------------------------------------------------------- helpers

FIGURES = [
    (fig1, spectra_results, "spectra", "python -m analysis.spectra"),
    (fig2, learned_results, "learned_kernels", "python -m analysis.learned_kernels"),
    (fig3, spectra_results, "spectra", "python -m analysis.spectra"),
]
# an array each figure needs (damaged in the malformed-results test)
NEEDED = {
    "fig1_upsampler_response": "up__nearest__mag1d",
    "fig2_learned_kernels": "layer__tconv4__0__spectral_norm",
    "fig3_downsampler_aliasing": "down__avgpool__transfer",
}
IDS = ["fig1", "fig2", "fig3"]


def _texts(fig: plt.Figure) -> str:
    """Every piece of text drawn in a figure (titles, labels, annotations, tick labels)."""
    return "\n".join(t.get_text() for t in fig.findobj(plt.Text))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize(("module", "make", "stem", "command"), FIGURES, ids=IDS)
def test_figure_written_from_results(tmp_path: Path, module, make, stem, command) -> None:
    results = make(tmp_path / "results")
    out = tmp_path / "out"
    assert module.main(["--results", str(results), "--out", str(out)]) == 0
    png, pdf = out / f"{module.NAME}.png", out / f"{module.NAME}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and min(image.shape[:2]) > 300
    assert image[..., :3].std() > 0.05  # something was drawn
    assert sorted(p.name for p in out.iterdir()) == sorted([png.name, pdf.name])  # no temp files


@pytest.mark.parametrize(("module", "make", "stem", "command"), FIGURES, ids=IDS)
def test_missing_results_exit_2(tmp_path: Path, capsys, module, make, stem, command) -> None:
    out = tmp_path / "out"
    assert module.main(["--results", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing results file" in err and command in err, err
    assert not out.exists()


@pytest.mark.parametrize(("module", "make", "stem", "command"), FIGURES, ids=IDS)
@pytest.mark.parametrize("damage", ["json_key", "array", "nan", "not_json"])
def test_malformed_results_exit_2(
    tmp_path: Path, capsys, module, make, stem, command, damage
) -> None:
    results = make(tmp_path / "results")
    js, npz = results / f"{stem}.json", results / f"{stem}.npz"
    meta = json.loads(js.read_text())
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    first = NEEDED[module.NAME]
    if damage == "json_key":
        top = "models" if "models" in meta else "config"
        del meta[top]
        js.write_text(json.dumps(meta))
    elif damage == "array":
        del arrays[first]
        np.savez(npz, **arrays)
    elif damage == "nan":
        arrays[first] = np.full_like(arrays[first], np.nan)
        np.savez(npz, **arrays)
    else:
        js.write_text("{not json")
    out = tmp_path / "out"
    assert module.main(["--results", str(results), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and command in err, err
    assert not any(out.glob("*")) if out.exists() else True


def test_bad_arguments_exit_2(tmp_path: Path, capsys) -> None:
    assert fig1.main(["--bogus"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    file = tmp_path / "file"
    file.write_text("x")
    results = spectra_results(tmp_path / "results")
    assert fig3.main(["--results", str(results), "--out", str(file)]) == 2
    assert "expected --out to be a folder" in capsys.readouterr().err


def test_script_runs_standalone_without_traceback(tmp_path: Path) -> None:
    """`python figures/fig3_...py` from another folder: one error line, exit 2, no traceback."""
    script = REPO / "figures" / "fig3_downsampler_aliasing.py"
    run = subprocess.run(
        [sys.executable, str(script), "--results", str(tmp_path / "none"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1, run.stderr
    assert "python -m analysis.spectra" in run.stderr


def test_fig1_numbers_come_from_results(tmp_path: Path) -> None:
    res = load_results(spectra_results(tmp_path), "spectra", "cmd")
    text = _texts(fig1.draw(res))
    # (d): the effective operators' 2-D imaging energy and checkerboard index, from the file
    assert "75%, chk 0.99" in text and "32%, chk 0.00" in text
    assert "nearest + conv" in text and "transposed 2x2 (default)" in text
    res.meta["transposed"]["tconv2"]["imaging_energy_2d"] = 0.1234
    assert "12%, chk 0.99" in _texts(fig1.draw(res))
    # the blur-up is drawn only when the file analysed the taps the models use
    assert "blur-up" not in text


def test_fig1_names_a_blur_up_with_an_interpolators_taps_with_it(tmp_path: Path) -> None:
    """Binomial-4 at gain 2 has bilinear's taps: one curve, both names; binomial-5 its own."""
    res = load_results(spectra_results(tmp_path), "spectra", "cmd")
    f1 = res.arrays["freqs_1d"]
    for n, taps in ((4, [0.25, 0.75, 0.75, 0.25]), (5, [0.125, 0.5, 0.75, 0.5, 0.125])):
        res.meta["upsamplers"][f"blur_binomial{n}"] = {"taps": taps}
        res.arrays[f"up__blur_binomial{n}__mag1d"] = 2 * np.abs(np.cos(np.pi * f1)) ** (n - 1)
    fig = fig1.draw(res)
    text = _texts(fig)
    assert "bilinear = zeros + binomial-4 (blur-up)" in text
    assert "zeros + binomial-5 (blur-up)" in text
    panel_a = fig.axes[0]
    assert len(panel_a.get_lines()) == 4  # nearest, bilinear (= binomial-4), binomial-5, ideal


def test_fig3_states_the_maxpool_identity_only_when_the_data_show_it(tmp_path: Path) -> None:
    equal = load_results(spectra_results(tmp_path / "a"), "spectra", "cmd")
    assert "landing power = avg-pool's" in _texts(fig3.draw(equal))
    differ = load_results(
        spectra_results(tmp_path / "b", maxpool_equals_avg=False), "spectra", "cmd"
    )
    text = _texts(fig3.draw(differ))
    assert "landing power vs avg-pool's" in text and "= avg-pool's" not in text


def test_fig3_twin_labels_follow_the_data(tmp_path: Path) -> None:
    res = load_results(spectra_results(tmp_path), "spectra", "cmd")
    text = _texts(fig3.draw(res))
    assert "1\nstrided" in text and "2\navg" in text
    res.meta["downsamplers"]["avgpool"]["aliasing_energy_1d"] = 0.9
    assert "2\navg" not in _texts(fig3.draw(res))


def test_fig2_numbers_come_from_results(tmp_path: Path) -> None:
    res = load_results(learned_results(tmp_path), "learned_kernels", "cmd")
    text = _texts(fig2.draw(res))
    assert "checkerboard\nindex 0.50" in text and "checkerboard\nindex 1.50" in text
    assert "CI " not in text  # "CI" would also read as "confidence interval"
    assert "checkpoints/nuclei/<design>_s{0}.safetensors" in text  # the checkpoints shown
    assert "rms 0.012" in text and "rms<1e-6" in text
    assert "1.50" in text and "0.50" in text  # phase gains 3/2 and 1/2 relative to the mean 2


def test_load_results_rejects_non_object_json(tmp_path: Path) -> None:
    results = spectra_results(tmp_path)
    (results / "spectra.json").write_text("[1, 2]")
    with pytest.raises(ResultsError, match="expected a JSON object"):
        load_results(results, "spectra", "cmd")


def test_same_results_give_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    """Byte-reproducible figures: no date in the PDF, fixed stamps, whatever SOURCE_DATE_EPOCH."""
    results = spectra_results(tmp_path / "results")
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert fig1.main(["--results", str(results), "--out", str(first)]) == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")  # matplotlib's date source, if any
    assert fig1.main(["--results", str(results), "--out", str(second)]) == 0
    for ext in ("png", "pdf"):
        a = (first / f"{fig1.NAME}.{ext}").read_bytes()
        b = (second / f"{fig1.NAME}.{ext}").read_bytes()
        assert a == b, f"{ext}: {len(a)} and {len(b)} bytes differ"
    pdf = (first / f"{fig1.NAME}.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf
    assert b"antialias figures" in pdf


def test_fig_transposed_spectrum_fits_are_differences_to_transposed_2x2() -> None:
    """One marker per (family, input family); x = PSNR - transposed 2x2's on that input."""
    import figures.fig_transposed_spectrum as spec
    from figures._transposed_common import load

    arrays, meta = load(REPO / "results" / "transposed_tutorial")
    fig = spec.draw(arrays, meta)
    bx = fig.axes[1]
    xs = sorted(
        round(float(x), 9)
        for line in bx.get_lines()
        if line.get_marker() not in ("None", "", None)
        for x in line.get_xdata()
    )
    expected = []
    for fit in meta["fit_by_input"].values():
        psnr = {r["family"]: r["psnr_db"] for r in fit["rows"]}
        ref = psnr[spec.REFERENCE]
        expected += [round(v - ref, 9) for f, v in psnr.items() if f != spec.REFERENCE]
    plt.close(fig)
    # the vertical line at 0 has no marker; the reference's own (zero) row is not drawn
    assert xs == sorted(expected)
