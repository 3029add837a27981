"""Tests for antialias.tools.explain_transposed (script analysis/explain_transposed_conv.py):
numbers right, 100 columns, clean errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # analysis/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from antialias.tools import explain_transposed as E  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    # many tiny ops: thread hand-off costs more than it saves on a shared 2-core machine
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


CONFIGS = [
    E.ExplainConfig(),
    E.ExplainConfig(size=4, kernel=3, stride=2, padding=1, output_padding=1),
    E.ExplainConfig(size=3, kernel=4, stride=2, padding=1, channels=2, seed=3),
    E.ExplainConfig(size=3, kernel=3, stride=3, padding=2, output_padding=2, dilation=2),
    E.ExplainConfig(size=2, kernel=2, stride=1, padding=0, channels=3),
    E.ExplainConfig(size=3, kernel=2, stride=2, padding=0, dilation=3, output_padding=2),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_every_view_and_every_sum_matches_the_module(cfg: E.ExplainConfig) -> None:
    r = E.run(cfg)
    assert set(r.errors) == {"sums of products", "zero insertion", "matrix", "polyphase"}
    for name, err in r.errors.items():
        assert err <= 1e-10, f"{name}: max abs error {err:.3e}"
    # an independent naive scatter loop, written here, against the module output
    y = torch.zeros_like(r.module_out)
    s, d, p = cfg.stride, cfg.dilation, cfg.padding
    for ci in range(cfg.channels):
        for co in range(cfg.channels):
            for i in range(cfg.size):
                for j in range(cfg.size):
                    for a in range(cfg.kernel):
                        for b in range(cfg.kernel):
                            u, v = s * i + d * a - p, s * j + d * b - p
                            if 0 <= u < r.size_out and 0 <= v < r.size_out:
                                y[0, co, u, v] += r.x[0, ci, i, j] * r.weight[ci, co, a, b]
    err = (y - r.module_out).abs().max().item()
    assert err <= 1e-10, f"naive scatter: max abs error {err:.3e}"
    # each listed term is a real input sample times a weight, and they add up
    for (co, u, v), terms in r.terms.items():
        total = sum(t.x_value * t.w_value for t in terms)
        assert abs(total - float(r.module_out[0, co, u, v])) <= 1e-10
        for t in terms:
            assert t.x_value == float(r.x[(0, *t.x_index)])
            assert t.w_value == float(r.weight[t.w_index])


@pytest.mark.parametrize("cfg", [c for c in CONFIGS if c.stride > 1], ids=str)
def test_fixed_kernels_and_resize_conv(cfg: E.ExplainConfig) -> None:
    fx = E.run(cfg).fixed
    assert fx["nearest_error"] <= 1e-10
    assert fx["bilinear_interior_error"] <= 1e-10
    assert fx["bilinear_border_error"] > 1e-3  # the border really differs, as the text says
    assert fx["resize_error"] <= 1e-10
    dc = fx["resize_dc"]
    images = dc.clone()
    images[0, 0] = 0
    assert images.abs().max() <= 1e-10 and dc[0, 0].abs().min() > 0
    flat = fx["resize_flat"]
    assert (flat - flat[0, 0]).abs().max() <= 1e-10  # flat in, flat out
    # the transposed conv's flat output repeats its phase gains with period stride
    gains = fx["tconv_gains"][..., :, 0].sum(-1)  # all input channels are ones
    s = cfg.stride
    for a in range(s):
        for b in range(s):
            patch = fx["tconv_flat"][a::s, b::s]
            assert (patch - gains[a, b]).abs().max() <= 1e-10


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_report_fits_100_columns(cfg: E.ExplainConfig) -> None:
    text = E.format_report(E.run(cfg))
    widest = max(len(line) for line in text.splitlines())
    assert widest <= 100, widest
    for heading in ("1. Output size", "2. Zero insertion", "4. Matrix view", "5. Polyphase"):
        assert heading in text
    if cfg.stride > 1:
        assert "7. Resize-conv" in text


def test_report_prints_the_computed_numbers() -> None:
    cfg = E.ExplainConfig(size=4, kernel=3, stride=2, padding=1, output_padding=1)
    r = E.run(cfg)
    text = E.format_report(r)
    assert f"+ 1 + 1 = {r.size_out}" in text and r.size_out == 8
    y = F.conv_transpose2d(r.x, r.weight, stride=2, padding=1, output_padding=1)
    first = f"y[0,0] = x[0,0]w[1,1] = {int(r.x[0, 0, 0, 0])}*{int(r.weight[0, 0, 1, 1])} = "
    assert first + f"{int(y[0, 0, 0, 0])}" in text
    assert "exactly double (4 -> 8): padding=1, output_padding=1" in text


def test_main_prints_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert E.main(["--size", "3", "--kernel", "2", "--stride", "2", "--padding", "0"]) == 0
    out, err = capsys.readouterr()
    assert "Transposed convolution" in out and err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--size", "0"], "expected --size in [1, 8]"),
        (["--stride", "2", "--output-padding", "2"], "smaller than stride or dilation"),
        (["--size", "x"], "invalid int value"),
        (["--bogus"], "unrecognized arguments"),
        (["--size", "8", "--stride", "4", "--kernel", "7"], "at most 16x16"),
        (["--size", "1", "--kernel", "1", "--stride", "1", "--padding", "1"], "leave an output"),
    ],
)
def test_bad_arguments_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert E.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def test_module_and_script_entry_points() -> None:
    for cmd in (
        [sys.executable, "-m", "analysis.explain_transposed_conv", "--size", "2", "--kernel", "2"],
        [sys.executable, "analysis/explain_transposed_conv.py", "--size", "0"],
    ):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if "--size" in cmd and cmd[-1] == "0":
            assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        else:
            assert proc.returncode == 0, proc.stderr
            assert "max |polyphase - nn.ConvTranspose2d| = 0.0e+00" in proc.stdout


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_cropped_phase_rows_are_exactly_the_rows_missing_from_the_output(cfg):
    # naive reference: interleave the phases by hand and see which full rows the output keeps
    res = E.run(cfg)
    s, p = cfg.stride, cfg.padding
    phases = res.polyphase.phases  # (N, C, s, s, n, n)
    n = phases.shape[-1]
    for a in range(s):
        cut = E.cropped_phase_rows(a, s, p, n, res.size_out)
        for r in range(n):
            o = s * r + a - p
            if r in cut:
                assert not 0 <= o < res.size_out
            else:  # a kept phase row is, column by column, that output row
                kept = phases[0, 0, a, 0, r]
                cols = [s * q - p for q in range(n) if 0 <= s * q - p < res.size_out]
                got = res.module_out[0, 0, o, cols]
                want = kept[[q for q in range(n) if 0 <= s * q - p < res.size_out]]
                assert torch.allclose(got, want.to(got.dtype)), (got - want).abs().max()


def test_report_names_cropped_rows_and_bilinear_scale_is_a_division():
    text = E.format_report(E.run(E.ExplainConfig(size=4, kernel=3, stride=2, padding=1)))
    assert "phase row offset a=0: rows 0, 4 cropped, rows 1-3 kept" in text
    assert "taps = these /16" in text and ", x16" not in text
