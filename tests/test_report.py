"""antialias.report: the page, its figures' data, bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from antialias.files import read_json, read_result_set, write_result_set
from antialias.report import _figures as F
from antialias.report import main, write_report
from antialias.report._data import kernels_of, load_result, verdict
from tests._report_fixture import regression_result, segmentation_result

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report")
    return {"seg": segmentation_result(tmp), "reg": regression_result(tmp)}


@pytest.fixture(scope="module")
def seg_report(results, tmp_path_factory) -> Path:
    return write_report(results["seg"], tmp_path_factory.mktemp("out") / "seg")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ----------------------------------------------------------------------------- the page


def test_report_is_a_complete_self_contained_set(seg_report: Path, results) -> None:
    out = seg_report.parent
    manifest, siblings = read_result_set(out / "report.json")  # digests of every file checked
    assert manifest["schema"] == "antialias.report/1"
    assert set(manifest["figures"]) == {"consistency", "period_map", "per_level", "kernels"}
    src = results["seg"].read_bytes()
    assert manifest["source_sha256"] == hashlib.sha256(src).hexdigest()
    for key in manifest["figures"]:
        assert siblings[f"_{key}.pdf"].read_bytes().startswith(b"%PDF")
    text = seg_report.read_text(encoding="utf-8")
    # Self-contained: no URL of any scheme a browser would fetch, no external style or script.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text, re.I)
    assert "<link" not in text and "<script" not in text
    sources = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(sources) == len(manifest["figures"])
    embedded = set()
    for src_attr in sources:
        assert src_attr.startswith("data:image/png;base64,")
        embedded.add(base64.b64decode(src_attr.split(",", 1)[1]))
    on_disk = {siblings[f"_{k}.png"].read_bytes() for k in manifest["figures"]}
    assert embedded == on_disk and all(b.startswith(PNG_MAGIC) for b in embedded)


def test_page_states_verdict_summary_config_and_provenance(seg_report: Path, results) -> None:
    doc = read_json(results["seg"])
    text = seg_report.read_text(encoding="utf-8")
    line = verdict(doc)
    assert f'id="verdict">{line}<' in text.replace("&#x27;", "'")
    by_value = sorted(doc["results"], key=lambda r: r["summary"]["agreement"])
    assert by_value[0]["summary"]["agreement"] < by_value[-1]["summary"]["agreement"]
    # The verdict names the most and the least consistent model, with their numbers.
    assert line.index(by_value[-1]["name"]) < line.index(by_value[0]["name"])
    for rec in doc["results"]:
        s = rec["summary"]
        cell = f"{s['agreement']:.4f} [{s['agreement_lo']:.4f}, {s['agreement_hi']:.4f}]"
        assert f"<td>{cell}</td>" in text, cell
        w = rec["worst"]["agreement"]
        assert f"{w['value']:.4f} at ({w['dy']}, {w['dx']})" in text
    assert doc["provenance"]["time_utc"] in text
    assert "read for 1 of 2 models" in text
    assert "bilinear_s0: its model has no learned up-sampler" in text
    assert "<td>per_layer</td><td><pre>true</pre>" in text
    assert f"<td>shifts</td><td><pre>{doc['config']['shifts']}</pre>" in text


def test_verdict_for_one_model_has_its_ci_and_worst_shift(results) -> None:
    doc = read_json(results["seg"])
    doc["results"] = doc["results"][:1]
    rec = doc["results"][0]
    s, w = rec["summary"], rec["worst"]["agreement"]
    line = verdict(doc)
    assert f"{s['agreement']:.4f} [{s['agreement_lo']:.4f}, {s['agreement_hi']:.4f}]" in line
    assert f"({w['dy']}, {w['dx']}): {w['value']:.4f}" in line
    assert f"{s['n_shifts']} non-zero circular shifts" in line


def test_consistency_figure_draws_the_result_values(results) -> None:
    doc = read_json(results["seg"])
    fig = F.consistency_figure(doc)
    axes = fig.axes[:3]
    for i, rec in enumerate(doc["results"]):
        shifts = rec["shifts"]
        x = np.hypot([s["dy"] for s in shifts], [s["dx"] for s in shifts])  # both axes vary
        order = np.argsort(x, kind="stable")
        for ax, suffix in zip(axes, ("", "_interior", "_border")):
            line = ax.get_lines()[i]
            y = np.asarray([shifts[j]["agreement" + suffix] for j in order], dtype=float)
            np.testing.assert_allclose(line.get_xdata(), x[order], rtol=0, atol=0)
            np.testing.assert_allclose(line.get_ydata(), y, rtol=0, atol=0, equal_nan=True)
    F.plt.close(fig)


def test_period_map_figure_shows_each_cell(results) -> None:
    doc = read_json(results["seg"])
    fig = F.period_map_figure(doc)
    for ax, rec in zip(fig.axes, doc["results"]):
        shown = ax.images[0].get_array()
        grid = rec["period_map"]["agreement"]
        assert shown.shape == (rec["period"], rec["period"])
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v is None:
                    assert shown.mask[i, j]
                else:
                    assert not np.ma.getmaskarray(shown)[i, j] and shown[i, j] == v
    F.plt.close(fig)


def test_per_level_figure_draws_rel_errors(results) -> None:
    doc = read_json(results["seg"])
    fig = F.per_level_figure(doc)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2 * len(doc["results"])
    for i, rec in enumerate(doc["results"]):
        for k, key in enumerate(("rel_error", "rel_error_interior")):
            want = [math.nan if e[key] is None else e[key] for e in rec["per_layer_summary"]]
            np.testing.assert_array_equal(lines[2 * i + k].get_ydata(), np.asarray(want))
    F.plt.close(fig)


def _naive_kernel_measures(weight: np.ndarray, s: int) -> tuple[np.ndarray, float]:
    """Polyphase DC gain norms and the checkerboard index, from the definitions."""
    gains = np.zeros((s, s))
    for ry in range(s):
        for rx in range(s):
            g = weight[:, :, ry::s, rx::s].sum(axis=(-2, -1))  # (C_in, C_out)
            gains[ry, rx] = np.linalg.norm(g, 2)
    ky, kx = np.mgrid[: weight.shape[2], : weight.shape[3]]

    def response(fy: float, fx: float) -> float:
        phase = np.exp(-2j * np.pi * (fy * ky + fx * kx))
        return np.linalg.norm((weight * phase).sum(axis=(-2, -1)), 2)

    images = [(a / s, b / s) for a in range(s) for b in range(s) if (a, b) != (0, 0)]
    return gains, max(response(*f) for f in images) / response(0.0, 0.0)


def test_kernels_come_from_the_checkpoint_and_match_a_naive_reference(results) -> None:
    from antialias.checkpoint import load_checkpoint

    doc = read_json(results["seg"])
    tconv, bilinear = doc["results"]
    layers, where = kernels_of(tconv, results["seg"])
    assert "checkpoint" in where and layers
    net, _ = load_checkpoint(tconv["source"])
    modules = dict(net.named_modules())
    for layer in layers:
        w = modules[layer.name].weight.detach().double().numpy()
        gains, index = _naive_kernel_measures(w, layer.stride)
        np.testing.assert_allclose(layer.phase_gain, gains, rtol=1e-12, atol=0)
        assert math.isclose(layer.checkerboard_index, index, rel_tol=1e-12)
    none, why = kernels_of(bilinear, results["seg"])
    assert none == [] and "no learned up-sampler" in why


def test_kernels_carried_by_the_result_are_drawn(results, tmp_path) -> None:
    doc = read_json(results["seg"])
    doc.pop("files_sha256", None)  # a new file: not the set the digests were written for
    rec = doc["results"][1]  # bilinear: its checkpoint has no learned up-sampler
    gain = [[1.0, 3.0], [1.0, 1.0]]
    rec["kernels"] = [{"name": "up.0", "stride": 2, "phase_gain": gain, "checkerboard_index": 0.5}]
    rec["source"] = "elsewhere.safetensors"
    doc["results"] = [rec]
    path = tmp_path / "k.json"
    path.write_text(json.dumps(doc))
    (layer,), where = kernels_of(rec, path)
    assert where == "from the result file" and layer.checkerboard_index == 0.5
    fig = F.kernels_figure([("m", [layer])])
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(shown, np.asarray(gain) / 1.5, rtol=1e-15)  # relative to mean
    assert "CI 0.5" in fig.axes[0].get_title()
    F.plt.close(fig)
    text = write_report(path, tmp_path / "out").read_text(encoding="utf-8")
    assert 'id="fig-kernels"' in text and "read for 1 of 1 models" in text


def test_result_without_period_map_levels_or_kernels_says_so(results, tmp_path) -> None:
    page = write_report(results["reg"], tmp_path / "reg")
    text = page.read_text(encoding="utf-8")
    manifest = read_json(tmp_path / "reg" / "report.json")
    assert manifest["figures"] == ["consistency"]
    assert "No period map in this result" in text
    assert "Not recorded: the result was computed without --per-layer." in text
    assert "The result has no learned kernels to show." in text
    assert text.count("<img ") == 1
    assert "EQ-T PSNR" in verdict(read_json(results["reg"]))


def test_result_set_with_digests_is_read_and_checked(results, tmp_path) -> None:
    doc = read_json(results["seg"])
    doc.pop("files_sha256", None)
    write_result_set(tmp_path / "set", "seg", doc, {".csv": b"a,b\n1,2\n"})
    assert load_result(tmp_path / "set" / "seg.json")["results"] == doc["results"]
    page = write_report(tmp_path / "set" / "seg.json")  # default folder beside the JSON
    assert page == tmp_path / "set" / "seg_report" / "report.html" and page.is_file()


# ----------------------------------------------------------------------------- bad input


def _one_line_exit_2(capsys, argv: list[str], needle: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("antialias report: error: "), err
    assert needle in err and "Traceback" not in err


def test_other_schema_is_refused_and_nothing_written(results, tmp_path, capsys) -> None:
    doc = read_json(results["seg"])
    doc.pop("files_sha256", None)
    doc["schema"] = "antialias.shift_consistency/2"
    bad = tmp_path / "v2.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out"
    _one_line_exit_2(capsys, [str(bad), "--out", str(out)], "'antialias.shift_consistency/2'")
    assert not out.exists() and not (tmp_path / "v2_report").exists()
    doc["files_sha256"] = {".csv": "0" * 64}  # the schema is named first, not the set
    bad.write_text(json.dumps(doc))
    _one_line_exit_2(capsys, [str(bad), "--out", str(out)], "'antialias.shift_consistency/2'")
    other = tmp_path / "kernels.json"
    other.write_text(json.dumps({"analysis": "learned_kernels"}))
    _one_line_exit_2(capsys, [str(other), "--out", str(out)], "got None")
    assert not out.exists()


def test_incomplete_set_missing_file_and_bad_out_are_one_line(results, tmp_path, capsys):
    doc = read_json(results["seg"])
    doc.pop("files_sha256", None)
    write_result_set(tmp_path / "set", "seg", doc, {".csv": b"a,b\n1,2\n"})
    (tmp_path / "set" / "seg.csv").write_bytes(b"a,b\n1,3\n")  # a newer sibling
    out = tmp_path / "out"
    _one_line_exit_2(capsys, [str(tmp_path / "set" / "seg.json"), "--out", str(out)], "incomplete")
    _one_line_exit_2(capsys, [str(tmp_path / "nope.json"), "--out", str(out)], "missing path")
    _one_line_exit_2(capsys, [str(tmp_path), "--out", str(out)], "got the folder")
    (tmp_path / "afile").write_text("x")
    _one_line_exit_2(capsys, [str(results["seg"]), "--out", str(tmp_path / "afile")], "folder")
    assert not out.exists()
    assert main([]) == 2 and capsys.readouterr().err.count("\n") == 1


def test_failure_while_drawing_leaves_no_partial_files(results, tmp_path, monkeypatch):
    calls = []

    def render(fig):
        calls.append(fig)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(fig)

    real = F.render
    monkeypatch.setattr(F, "render", render)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(results["seg"], tmp_path / "out")
    assert _files(tmp_path / "out") == []
