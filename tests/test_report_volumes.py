"""antialias.report on volumes: per-axis results, central slices of the period map, 3-D kernels.

The result comes from the real command on :class:`tests._report_fixture.InPlaneUNet3d`, a
circular network that pools in-plane only: by construction it is exact at every shift along z
and at in-plane multiples of 4, and at no other in-plane shift. The per-axis table must say
exactly that; the figures must show the result's own numbers (read back from the artists);
the 3-D kernel gains are checked against loops written here.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from antialias.files import read_json, read_result_set
from antialias.report import _figures as F
from antialias.report import _volumes as V
from antialias.report import write_report
from antialias.report._data import _from_weight, kernels_of, summary_rows, verdict
from tests._report_fixture import segmentation_result, volume_result


@pytest.fixture(scope="module")
def vol(tmp_path_factory) -> Path:
    return volume_result(tmp_path_factory.mktemp("vol"))


@pytest.fixture(scope="module")
def vol_page(vol: Path, tmp_path_factory) -> Path:
    return write_report(vol, tmp_path_factory.mktemp("out") / "vol")


def _by_shift(rec: dict) -> dict[tuple, dict]:
    return {(e["dz"], e["dy"], e["dx"]): e for e in rec["shifts"]}


# ----------------------------------------------------------------------------- the page


def test_volume_report_is_a_complete_set_with_the_volume_parts(vol_page: Path) -> None:
    manifest, _ = read_result_set(vol_page.parent / "report.json")
    # no P x P map for a result of volumes only; no per-level (not asked), no kernels (factory)
    assert set(manifest["figures"]) == {"consistency", "per_axis", "period_slices"}
    text = vol_page.read_text(encoding="utf-8")
    assert text.count("<img ") == 3 and "Period map (volumes): central slices" in text
    assert "<h2>Period map</h2>" not in text


def test_per_axis_table_says_where_the_model_is_exact(vol: Path, vol_page: Path) -> None:
    doc = read_json(vol)
    rows = {r["axis"]: r for r in V.axis_rows(doc)}
    # along z: every shift (1, 2, 3) exact; in-plane: only the shift by 4 (a multiple of 2^2)
    assert rows["z"]["shifts"] == "3" and rows["z"]["exact"] == "3 of 3"
    assert rows["y"]["shifts"] == "3" and rows["y"]["exact"] == "1 of 3"
    assert rows["x"]["shifts"] == "3" and rows["x"]["exact"] == "1 of 3"
    by = _by_shift(doc["results"][0])
    y_values = [by[(0, d, 0)]["psnr"] for d in (1, 2, 4)]
    assert rows["y"]["median"] == f"{sorted(y_values)[1]:.2f} dB"
    worst = min((by[(0, d, 0)]["psnr"], d) for d in (1, 2, 4))
    assert rows["y"]["worst"] == f"{worst[0]:.2f} dB at dy={worst[1]}"
    text = vol_page.read_text(encoding="utf-8")
    assert "<h2>Per axis (volumes)</h2>" in text and "<td>3 of 3</td>" in text


def test_summary_and_verdict_name_the_three_axes(vol: Path, vol_page: Path) -> None:
    doc = read_json(vol)
    (rec,) = doc["results"]
    w = rec["worst"]["psnr"]
    (row,) = summary_rows(doc)
    assert row["worst"] == f"{w['value']:.2f} dB at ({w['dz']}, {w['dy']}, {w['dx']})"
    assert f"worst shift (dz, dy, dx) ({w['dz']}, {w['dy']}, {w['dx']})" in verdict(doc)
    text = vol_page.read_text(encoding="utf-8")
    assert "<th>worst shift (dz, dy, dx)</th>" in text


def test_per_axis_figure_draws_the_shifts_along_each_axis(vol: Path) -> None:
    doc = read_json(vol)
    by = _by_shift(doc["results"][0])
    fig = V.per_axis_figure(doc, F.WIDTH_IN, F.MAX_PANELS)
    for ax, axis in zip(fig.axes[:3], range(3)):
        (line,) = ax.get_lines()
        want_x = sorted(k[axis] for k in by if k[axis] and sum(map(abs, k)) == abs(k[axis]))
        np.testing.assert_array_equal(line.get_xdata(), want_x)
        keys = [tuple(d if i == axis else 0 for i in range(3)) for d in want_x]
        want_y = [by[k]["psnr"] for k in keys]
        want_y = [math.nan if math.isinf(v) else v for v in want_y]  # exact: stated, not drawn
        np.testing.assert_array_equal(line.get_ydata(), want_y)
    assert "3 exact values" in fig._suptitle.get_text()
    F.plt.close(fig)


def test_period_slices_are_the_planes_through_the_zero_shift(vol: Path) -> None:
    doc = read_json(vol)
    (rec,) = doc["results"]
    grid = rec["period_map"]["psnr"]  # nested lists (P_z, P_y, P_x), None: no shift there
    fig = V.period_slices_figure(doc, F.WIDTH_IN, F.MAX_PANELS)
    planes = [
        [[grid[0][i][j] for j in range(4)] for i in range(4)],  # dz = 0: (dy, dx)
        [[grid[i][0][j] for j in range(4)] for i in range(2)],  # dy = 0: (dz, dx)
        [[grid[i][j][0] for j in range(4)] for i in range(2)],  # dx = 0: (dz, dy)
    ]
    finite = [v for p in planes for r in p for v in r if v is not None and math.isfinite(v)]
    top = max(finite)
    for ax, plane in zip(fig.axes[:3], planes):
        shown = ax.images[0].get_array()
        assert shown.shape == (len(plane), len(plane[0]))
        for (i, j), v in np.ndenumerate(np.asarray(plane, dtype=object)):
            if v is None:
                assert np.ma.getmaskarray(shown)[i, j]
            else:
                assert shown[i, j] == (top if math.isinf(v) else v), (i, j, v)
    # the exact cells along z (dz = 1, no in-plane shift) say so
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert "exact" in texts
    F.plt.close(fig)


def test_mixed_images_and_volumes_get_both_maps_and_named_shifts(vol: Path, tmp_path) -> None:
    seg = read_json(segmentation_result(tmp_path / "seg"))
    doc = read_json(vol)
    doc.pop("files_sha256", None)
    doc["results"] = seg["results"][:1] + doc["results"]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(doc, allow_nan=True))
    page = write_report(path, tmp_path / "out")
    manifest = read_json(page.parent / "report.json")
    assert {"period_map", "period_slices", "per_axis"} <= set(manifest["figures"])
    image_row, volume_row = summary_rows(doc)
    assert re.search(r" at dy=-?\d+, dx=-?\d+$", image_row["worst"]), image_row["worst"]
    assert re.search(r" at dz=\d+, dy=\d+, dx=\d+$", volume_row["worst"]), volume_row["worst"]
    assert "<th>worst shift</th>" in page.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- 3-D kernels


def _naive_gains(w: np.ndarray, s: tuple[int, int, int]) -> np.ndarray:
    """Operator norm of G_r = sum_j w[:, :, s j + r] per output phase r (loops)."""
    out = np.zeros(s)
    for r in np.ndindex(*s):
        g = np.zeros(w.shape[:2])
        for k in np.ndindex(*w.shape[2:]):
            if all(ki % si == ri for ki, si, ri in zip(k, s, r)):
                g += w[(slice(None), slice(None), *k)]
        out[r] = np.linalg.norm(g, 2)
    return out


@pytest.mark.parametrize("stride", [(2, 2, 2), (1, 2, 2)])
def test_3d_transposed_kernels_match_a_naive_reference(stride: tuple) -> None:
    w = np.random.default_rng(2).standard_normal((3, 2, 3, 4, 4))
    layer = _from_weight("up", stride, w)
    np.testing.assert_allclose(layer.phase_gain, _naive_gains(w, stride), rtol=1e-12)
    flat = _from_weight("up", 2, np.ones((1, 1, 2, 2, 2)))  # nearest: equal gains, no board
    assert flat.checkerboard_index == 0.0 and np.all(flat.phase_gain == 1.0)


def test_3d_kernels_carried_by_a_result_are_drawn(vol: Path, tmp_path) -> None:
    doc = read_json(vol)
    doc.pop("files_sha256", None)
    gain = [[[1.0, 2.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 3.0]]]
    (rec,) = doc["results"]
    rec["kernels"] = [
        {"name": "up", "stride": [2, 2, 2], "phase_gain": gain, "checkerboard_index": 0.25}
    ]
    path = tmp_path / "k.json"
    path.write_text(json.dumps(doc, allow_nan=True))
    (layer,), where = kernels_of(rec, path)
    assert layer.stride == (2, 2, 2) and where == "from the result file"
    fig = F.kernels_figure([("m", [layer])])
    shown = fig.axes[0].images[0].get_array()
    g = np.asarray(gain) / np.mean(gain)
    np.testing.assert_allclose(shown, np.concatenate([g[0], g[1]], axis=1), rtol=1e-15)
    F.plt.close(fig)
    text = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="fig-kernels"' in text and "read for 1 of 1 models" in text


def test_kernels_of_a_3d_model_are_found_by_the_finder() -> None:
    """The report's finder (tools.learned_kernels) reads 3-D transposed convs."""
    from antialias.report._data import _find_layers

    net = torch.nn.Sequential(torch.nn.ConvTranspose3d(2, 2, (1, 2, 2), stride=(1, 2, 2)))
    ((name, stride, weight),) = _find_layers(net)
    layer = _from_weight(name, stride, weight)
    assert layer.phase_gain.shape == (1, 2, 2)


# ----------------------------------------------------------------------------- the command


def test_shift_consistency_report_flag_takes_volumes(tmp_path, capsys) -> None:
    path = volume_result(tmp_path, extra=["--report"])
    page = path.parent / f"{path.stem}_report" / "report.html"
    assert page.is_file(), capsys.readouterr().err
    assert "Per axis (volumes)" in page.read_text(encoding="utf-8")
