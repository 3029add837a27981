"""Export of every layer and model: ``torch.jit.trace``, ``torch.export`` with dynamic height and
width (``Dim``), and ONNX (``onnx`` + ``onnxruntime``), each equal to eager within 1e-5 at the
traced size *and at another size* (a trace that baked the traced size in is wrong there).

Every case passes: :mod:`antialias.resample` runs its export-safe path (``impl="pad"``: the
whole tensor extended by ``pad_mode``, one depthwise conv, crops by constants) whenever it is
traced, exported or compiled, the layers' padding is Python ints fixed at construction (their
``UpFirDn2dPlan``), and ``aps_up2d`` selects with one-hot masks instead of an index
assignment. :func:`antialias.export.export_onnx` (tested at the end) is the checked helper.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from antialias.layers import convert, create_downsample, create_upsample
from antialias.models import UNet
from antialias.variants import DESIGNS, unet_kwargs

TOL = {"rtol": 1e-5, "atol": 1e-5}
TRACED = (32, 32)
LAYER_OTHER = (45, 38)  # odd and even, neither a multiple of the traced size
MODEL_OTHER = (48, 40)  # U-Nets of depth 3 need multiples of 8 (MONAI's)

DOWN = ("maxpool", "avgpool", "decimate", "blurpool", "maxblurpool", "conv", "convblurpool", "aps")
UP = ("nearest", "bilinear", "bicubic", "blur", "transposed", "transposed_blur", "pixel_shuffle")


def _layer(kind: str, name: str) -> nn.Module:
    torch.manual_seed(0)
    if kind == "down":
        return create_downsample(name, 4).eval()
    return create_upsample(name, 4, 4).eval()


def _unet(variant: str) -> nn.Module:
    torch.manual_seed(0)
    kwargs = {**unet_kwargs(variant), "depth": 3, "width": 4}
    return UNet(1, 2, **kwargs).eval()


def _monai_converted() -> nn.Module:
    monai = pytest.importorskip("monai")
    torch.manual_seed(0)
    net = monai.networks.nets.UNet(
        spatial_dims=2, in_channels=1, out_channels=2, channels=(4, 8, 16), strides=(2, 2, 2)
    )
    converted, report = convert(net)
    assert report.changed, "convert() changed nothing in MONAI's UNet"
    return converted.eval()


def _inputs(channels: int, other: tuple[int, int]) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return [torch.randn(1, channels, *size, generator=gen) for size in (TRACED, other)]


def _layer_dims(multiple: int = 1) -> dict[int, object]:
    from torch.export import Dim

    if multiple == 1:
        return {2: Dim("H", min=16, max=512), 3: Dim("W", min=16, max=512)}
    return {2: multiple * Dim("h", min=8, max=256), 3: multiple * Dim("w", min=8, max=256)}


def _model_dims() -> dict[int, object]:
    # A U-Net of depth 3 is defined on multiples of its period 8 (MONAI's refuses others; ours
    # pads and crops), so the dynamic sizes are 8 h x 8 w.
    from torch.export import Dim

    return {2: 8 * Dim("h", min=2, max=64), 3: 8 * Dim("w", min=2, max=64)}


# name -> (builder, input channels, the other size, dynamic dims of H and W). APS up-sampling
# needs the phase of its paired down-sampler: it is exported inside unet_aps.
CASES = {
    **{f"down_{n}": (lambda n=n: _layer("down", n), 4, LAYER_OTHER, _layer_dims) for n in DOWN},
    **{f"up_{n}": (lambda n=n: _layer("up", n), 4, LAYER_OTHER, _layer_dims) for n in UP},
    **{f"unet_{v}": (lambda v=v: _unet(v), 1, MODEL_OTHER, _model_dims) for v in DESIGNS},
    "monai_unet_converted": (_monai_converted, 1, MODEL_OTHER, _model_dims),
}
CASES["down_aps"] = (CASES["down_aps"][0], 4, (46, 38), lambda: _layer_dims(2))  # even sizes
# torch.export and ONNX take seconds to a minute per model: every layer, and the U-Nets that
# cover each kind of resampler (plain, blur-pool, APS) plus the converted third-party one.
EXPORT_CASES = (
    *[f"down_{n}" for n in DOWN],
    *[f"up_{n}" for n in UP],
    "unet_tconv2",
    "unet_blurpool_bilinear",
    "monai_unet_converted",
)
ONNX_CASES = ("down_blurpool", "up_blur", "unet_blurpool_bilinear", "monai_unet_converted")

# (name, method) -> why it fails, for cases marked xfail(strict=True); none today. A case
# that starts failing goes here with its measured reason, never silently out of the lists.
FAILURES: dict[tuple[str, str], str] = {}


def _params(method: str, names) -> list:
    out = []
    for name in names:
        reason = FAILURES.get((name, method))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(name, id=name, marks=marks))
    return out


def _check(run, model: nn.Module, xs: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for x in xs:
            torch.testing.assert_close(
                run(x), model(x), **TOL, msg=lambda m, x=x: f"{x.shape}: {m}"
            )


@pytest.mark.parametrize("name", _params("trace", CASES))
def test_jit_trace(name: str) -> None:
    build, channels, other, _ = CASES[name]
    model = build()
    xs = _inputs(channels, other)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, xs[0])
    _check(traced, model, xs)


@pytest.mark.parametrize("name", _params("export", EXPORT_CASES))
def test_torch_export_dynamic_height_width(name: str) -> None:
    from torch.export import export

    build, channels, other, dims = CASES[name]
    model = build()
    xs = _inputs(channels, other)
    with torch.no_grad():
        program = export(model, (xs[0],), dynamic_shapes=(dims(),))
    _check(program.module(), model, xs)


@pytest.mark.parametrize("name", _params("onnx", ONNX_CASES))
def test_onnx_runs_in_onnxruntime_at_two_sizes(name: str, tmp_path) -> None:
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    build, channels, other, dims = CASES[name]
    model = build()
    xs = _inputs(channels, other)
    path = tmp_path / f"{name}.onnx"
    with torch.no_grad():
        program = torch.onnx.export(model, (xs[0],), dynamic_shapes=(dims(),), dynamo=True)
    program.save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name
    _check(lambda x: torch.from_numpy(session.run(None, {feed: x.numpy()})[0]), model, xs)


# ------------------------------------------------------------------------ export_onnx helper


def test_export_onnx_writes_a_graph_equal_to_eager_at_another_size(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    from antialias.export import export_onnx

    model = _layer("down", "blurpool")
    xs = _inputs(4, LAYER_OTHER)
    path = export_onnx(model, xs[0], tmp_path / "sub" / "blurpool.onnx")
    assert path == tmp_path / "sub" / "blurpool.onnx" and path.stat().st_size > 0
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name
    _check(lambda x: torch.from_numpy(session.run(None, {feed: x.numpy()})[0]), model, xs)


class _BranchOnValues(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.mean() > 0:  # data-dependent control flow
            return x * 2
        return -x


class _DiffersWhenExported(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a stand-in for any graph that is not the eager model (a frozen branch)
        return x + 1 if torch.compiler.is_exporting() else x


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            _BranchOnValues().eval(),
            r"^cannot export _BranchOnValues \(torch\.export\) \(a Python branch on tensor ",
        ),
        (
            _DiffersWhenExported().eval(),
            r"^the ONNX graph of _DiffersWhenExported differs from eager",
        ),
        (nn.Dropout(0.5), r"^expected a model in eval mode"),
    ],
)
def test_export_onnx_refuses_in_one_line_and_writes_nothing(tmp_path, model, message) -> None:
    pytest.importorskip("onnxruntime")
    from antialias.export import export_onnx

    path = tmp_path / "model.onnx"
    with pytest.raises(ValueError, match=message) as info:
        export_onnx(model, torch.randn(1, 2, 16, 16), path)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left behind
