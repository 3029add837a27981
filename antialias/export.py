"""Export a model (antialiased or not) to ONNX, checked against eager at a second size.

:func:`export_onnx` is the one helper: ``torch.export`` with dynamic height and width, the ONNX
exporter on that program, then ``onnxruntime`` run on the example and on a random input of
another size, both compared with the eager model. A trace that froze a size, a branch on the
data, or an op the exporter cannot follow is refused with one line (a ``ValueError``) and
nothing is written; the ONNX file appears whole (:func:`antialias.files.atomic_write_bytes`)
or not at all.

The blur layers export because :mod:`antialias.resample` runs its export-safe path
(``impl="pad"``) whenever it is traced. Needs the packages ``onnx``, ``onnxscript`` and
``onnxruntime`` (the ``export`` extra).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import torch
from torch import nn

from antialias.files import atomic_write_bytes

__all__ = ["export_onnx"]


def _one_line(err: BaseException) -> str:
    """The first non-empty line of an exception's message (exporters write pages)."""
    for line in str(err).splitlines():
        if line.strip():
            return f"{type(err).__name__}: {line.strip()}"
    return type(err).__name__


def _period(h: int, w: int) -> int:
    """The largest power of two dividing both sizes (a U-Net of depth d needs ``2**d``) that
    leaves at least 2 periods: torch specialises a dynamic size whose example value is 1."""
    g = math.gcd(h, w)
    period = g & -g
    while period > 1 and min(h, w) // period < 2:
        period //= 2
    return period


def _dims(period: int) -> dict[int, object]:
    """Dynamic H and W as multiples of ``period``, from 2 periods (0 and 1 are specialised)."""
    from torch.export import Dim

    if period == 1:
        return {2: Dim("H", min=2), 3: Dim("W", min=2)}
    return {2: period * Dim("h", min=2), 3: period * Dim("w", min=2)}


def _check_args(
    model: object, example: object, dynamic: object, check_size: object
) -> tuple[int, int]:
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected model to be a torch.nn.Module, got {type(model).__name__}")
    if model.training:
        raise ValueError(
            "expected a model in eval mode (dropout and batch statistics differ per call), "
            "got training mode: call model.eval() first"
        )
    if not isinstance(example, torch.Tensor) or example.ndim != 4:
        got = tuple(example.shape) if isinstance(example, torch.Tensor) else type(example).__name__
        raise ValueError(f"expected example to be a tensor of shape (N, C, H, W), got {got}")
    if not example.is_floating_point():
        raise ValueError(f"expected a floating-point example, got dtype {example.dtype}")
    if not isinstance(dynamic, bool):
        raise ValueError(f"expected dynamic to be True or False, got {dynamic!r}")
    h, w = example.shape[-2], example.shape[-1]
    if check_size is None:
        p = _period(h, w)
        return (h + p, w + 2 * p) if dynamic else (h, w)
    ok = isinstance(check_size, tuple | list) and len(check_size) == 2
    if not ok or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in check_size
    ):
        raise ValueError(f"expected check_size to be (height, width) > 0, got {check_size!r}")
    if not dynamic and tuple(check_size) != (h, w):
        raise ValueError(
            f"expected check_size equal to the example's size {(h, w)} with dynamic=False, "
            f"got {tuple(check_size)}"
        )
    return int(check_size[0]), int(check_size[1])


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    path: str | Path,
    dynamic: bool = True,
    *,
    check_size: tuple[int, int] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> Path:
    """Export ``model`` to an ONNX file, after checking it equals eager at two sizes.

    ``torch.export`` (non-strict) of ``model`` on ``example``, with height and width dynamic
    when ``dynamic`` (as multiples of the largest power of two dividing both of the example's
    sizes that leaves two of them, which a U-Net's down-sampling needs), then
    ``torch.onnx.export`` of that program.
    ``onnxruntime`` runs the graph on ``example`` and on a random input of ``check_size``
    (default: the example's size plus one and two such multiples), and each output must equal
    the eager model's within ``rtol``/``atol``; only then is the file written.

    Args:
        model: the model, in eval mode.
        example: an input, shape ``(N, C, H, W)``, floating point.
        path: the ONNX file to write.
        dynamic: export with dynamic height and width (else the example's size only).
        check_size: ``(height, width)`` of the second check (``dynamic=True``).
        rtol, atol: tolerance of the comparison with eager.

    Returns:
        ``path``, as a :class:`~pathlib.Path`.

    Raises:
        ValueError: one line, nothing written: bad arguments, an export that fails (e.g.
            control flow on the data), or an exported graph that differs from eager.

    Shape:
        - example: :math:`(N, C, H, W)`
    """
    h2, w2 = _check_args(model, example, dynamic, check_size)
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ValueError(f"export_onnx needs onnx, onnxscript and onnxruntime: {err}") from None
    name = type(model).__name__
    h, w = example.shape[-2], example.shape[-1]
    shapes = (_dims(_period(h, w)),) if dynamic else None
    with torch.no_grad():
        try:
            program = torch.export.export(model, (example,), dynamic_shapes=shapes, strict=False)
        except Exception as err:  # the exporters' many error types: all mean "cannot"
            hint = ""
            if "data-dependent" in str(err) or "DataDependent" in type(err).__name__:
                hint = " (a Python branch on tensor values: use torch.where or torch.cond)"
            raise ValueError(
                f"cannot export {name} (torch.export){hint}: {_one_line(err)}"
            ) from None
        gen = torch.Generator().manual_seed(0)
        second = torch.randn(*example.shape[:2], h2, w2, generator=gen, dtype=example.dtype)
        second = second * example.std() + example.mean()
        inputs = [example, second.to(example.device)] if (h2, w2) != (h, w) else [example]
        wants = [model(x) for x in inputs]
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp) / "model.onnx"
            try:
                onnx_program = torch.onnx.export(
                    program, (example,), dynamic_shapes=shapes, dynamo=True, verbose=False
                )
                onnx_program.save(str(tmp_path), external_data=False)
                session = ort.InferenceSession(str(tmp_path), providers=["CPUExecutionProvider"])
            except Exception as err:
                raise ValueError(f"cannot export {name} to ONNX: {_one_line(err)}") from None
            feed = session.get_inputs()[0].name
            for x, want in zip(inputs, wants):
                if not isinstance(want, torch.Tensor):
                    raise ValueError(
                        f"expected {name} to return one tensor, got {type(want).__name__}"
                    )
                try:
                    got = torch.from_numpy(session.run(None, {feed: x.cpu().numpy()})[0])
                except Exception as err:
                    raise ValueError(
                        f"the ONNX graph of {name} fails at {tuple(x.shape)}: {_one_line(err)}"
                    ) from None
                want = want.detach().cpu().to(got.dtype)
                if got.shape != want.shape or not torch.allclose(got, want, rtol, atol):
                    err = (
                        f"shape {tuple(got.shape)} vs eager {tuple(want.shape)}"
                        if got.shape != want.shape
                        else f"max abs error {float((got - want).abs().max()):.3g}"
                    )
                    raise ValueError(
                        f"the ONNX graph of {name} differs from eager at input {tuple(x.shape)} "
                        f"({err}; rtol={rtol}, atol={atol}): the model's forward depends on "
                        "its input in a way the export froze (a branch on sizes or values)"
                    )
            data = tmp_path.read_bytes()
    return atomic_write_bytes(path, data)
