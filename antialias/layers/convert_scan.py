"""Find the resampling a converter cannot replace: functional calls in a model's ``forward``.

:func:`convert` swaps *modules*; a ``F.max_pool2d``, ``F.interpolate``, strided ``F.conv3d``,
``F.pixel_shuffle`` or ``x[..., ::2]`` written in a ``forward`` stays aliased, silently. What
lives here: :func:`scan_functional`, which finds them, with the module path and the source
line, and :class:`ScanWarning`, one finding. It traces the model with ``torch.fx`` (every
call seen, data flow exact, modules of ``torch.nn`` and of this package kept as leaves: they
are what ``convert`` handles) and, when ``fx`` cannot trace it (control flow on values,
unsupported calls), falls back to reading the source of every ``forward`` (``ast``): the same
calls by name, strides read when they are literals. What does not: the conversion itself
(``convert.py``).
"""

from __future__ import annotations

import ast
import inspect
import operator
import os
import re
import sys
import textwrap
from dataclasses import asdict, dataclass

import torch
from torch import fx, nn

__all__ = ["RESAMPLING_FUNCTIONS", "ScanWarning", "scan_functional"]

#: function name -> what it does; ``stride`` marks the ones that resample only with stride > 1
#: (positional index of the stride argument, default when absent), ``pool`` those whose
#: stride defaults to the kernel size.
RESAMPLING_FUNCTIONS: dict[str, str] = {
    **{f"max_pool{d}d": "pool" for d in (1, 2, 3)},
    **{f"max_pool{d}d_with_indices": "pool" for d in (1, 2, 3)},
    **{f"avg_pool{d}d": "pool" for d in (1, 2, 3)},
    **{f"lp_pool{d}d": "pool" for d in (1, 2, 3)},
    **{f"adaptive_avg_pool{d}d": "always" for d in (1, 2, 3)},
    **{f"adaptive_max_pool{d}d": "always" for d in (1, 2, 3)},
    **{f"fractional_max_pool{d}d": "always" for d in (2, 3)},
    **{f"conv{d}d": "stride" for d in (1, 2, 3)},
    **{f"conv_transpose{d}d": "stride" for d in (1, 2, 3)},
    "interpolate": "always",
    "upsample": "always",
    "upsample_nearest": "always",
    "upsample_bilinear": "always",
    "pixel_shuffle": "always",
    "pixel_unshuffle": "always",
    "pixelshuffle": "always",  # MONAI's functional N-D shuffle
    "pixelunshuffle": "always",
}
_STRIDE_INDEX = 3  # F.conv*d(input, weight, bias, stride, ...)
_POOL_STRIDE_INDEX = 2  # F.*pool*d(input, kernel_size, stride, ...)


@dataclass(frozen=True)
class ScanWarning:
    """One resampling call in a ``forward`` that :func:`convert` did not replace.

    Attributes:
        module: dotted path of the module whose ``forward`` makes the call (``""``: the model).
        call: the function, e.g. ``"max_pool2d"`` or ``"getitem[::2]"``.
        location: ``"file.py:LINE"`` of the call ("" when unknown).
        source: that source line, stripped.
        message: what it does and why it is a problem.
        method: ``"fx"`` (found by tracing) or ``"ast"`` (found in the source).
    """

    module: str
    call: str
    location: str
    source: str
    message: str
    method: str

    def as_dict(self) -> dict:
        """The finding as plain JSON-able values."""
        return asdict(self)

    def __str__(self) -> str:
        where = self.module or "<model>"
        at = f" at {self.location}" if self.location else ""
        src = f": {self.source}" if self.source else ""
        return f"{where}: {self.call}{at}{src} ({self.message})"


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def _is_leaf_type(m: nn.Module, leaf_types: tuple[type, ...]) -> bool:
    mod = type(m).__module__
    return (
        (mod.startswith("torch.nn.") and not isinstance(m, _CONTAINERS))
        or mod.startswith("antialias.")
        or (bool(leaf_types) and isinstance(m, leaf_types))
    )


def _all_ones(value: object) -> bool | None:
    """True when a stride is 1 everywhere, False when > 1 somewhere, None when unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value == 1
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) for v in value):
        return all(v == 1 for v in value)
    return None


def _resamples(kind: str, args: tuple, kwargs: dict) -> bool | None:
    """Whether a call resamples (None: cannot tell from what is known)."""
    if kind == "always":
        return True
    if kind == "stride":
        stride = kwargs.get("stride", args[_STRIDE_INDEX] if len(args) > _STRIDE_INDEX else 1)
    else:
        stride = kwargs.get(
            "stride", args[_POOL_STRIDE_INDEX] if len(args) > _POOL_STRIDE_INDEX else None
        )
        if stride is None:  # defaults to the kernel size
            stride = kwargs.get("kernel_size", args[1] if len(args) > 1 else None)
    ones = _all_ones(stride)
    return None if ones is None else not ones


def _message(call: str, known: bool | None) -> str:
    what = (
        "strided slicing (decimation without a low-pass)"
        if call.startswith("getitem")
        else ("functional resampling")
    )
    tail = "convert() replaces modules only; rewrite it as a module (see antialias.layers)"
    if known is None:
        return f"{what}, stride not a literal: may resample; {tail}"
    return f"{what}; {tail}"


# --------------------------------------------------------------------------- fx


def _frame(stack: str | None) -> tuple[str, str]:
    """``(file:line, source)`` of the innermost frame outside torch in an fx stack trace."""
    if not stack:
        return "", ""
    torch_dir = os.path.dirname(torch.__file__)
    found = ("", "")
    for m in re.finditer(r'File "([^"]+)", line (\d+), in \S+\n\s*(.*)', stack):
        path, line, code = m.group(1), m.group(2), m.group(3)
        if not path.startswith(torch_dir):
            found = (f"{os.path.basename(path)}:{line}", code.strip())
    return found


def _step_slices(index: object) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(s, slice) and isinstance(s.step, int) and s.step > 1 for s in items)


def _autowrap() -> tuple:
    # MONAI's N-D pixel shuffle is a plain function: keep it as one node. Only when MONAI is
    # already imported (a MONAI model is): importing it costs seconds and a model without
    # it cannot call it.
    utils = sys.modules.get("monai.networks.utils")
    fns = (getattr(utils, "pixelshuffle", None), getattr(utils, "pixelunshuffle", None))
    return tuple(f for f in fns if callable(f))


class _Tracer(fx.Tracer):
    def __init__(self, leaf_types: tuple[type, ...], stacks: bool) -> None:
        super().__init__(autowrap_functions=_autowrap())
        self.record_stack_traces = stacks
        self.leaf_types = leaf_types

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return _is_leaf_type(m, self.leaf_types) or super().is_leaf_module(m, module_qualified_name)


def _scan_fx(
    model: nn.Module, leaf_types: tuple[type, ...], stacks: bool = False
) -> list[ScanWarning]:
    """The findings of one fx trace; traced again with stack traces (the source lines) only
    when there is something to locate: recording them costs seconds on the first trace."""
    graph = _Tracer(leaf_types, stacks).trace(model)
    out: list[ScanWarning] = []
    for node in graph.nodes:
        if node.op not in ("call_function", "call_method"):
            continue
        target = node.target
        name = target if isinstance(target, str) else getattr(target, "__name__", "")
        if target is operator.getitem:
            if len(node.args) < 2 or not _step_slices(node.args[1]):
                continue
            call, known = "getitem[::step]", True
        elif name in RESAMPLING_FUNCTIONS:
            args = tuple(node.args)  # call_method: self is the input, as for F.*
            known = _resamples(RESAMPLING_FUNCTIONS[name], args, dict(node.kwargs))
            if known is False:
                continue
            call = name
        else:
            continue
        stack = node.meta.get("nn_module_stack") or {}
        path = ""
        if stack:
            last = list(stack.values())[-1]
            path = last[0] if isinstance(last, tuple) else str(last)
        location, source = _frame(node.meta.get("stack_trace"))
        if not stacks:
            return _scan_fx(model, leaf_types, stacks=True)
        out.append(ScanWarning(path, call, location, source, _message(call, known), "fx"))
    return out


# --------------------------------------------------------------------------- ast


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return ast  # marker: not a literal


def _scan_source(cls: type) -> list[tuple[int, str, str, bool | None, str]]:
    """``(line, call, source, known, file)`` for every resampling call in ``cls.forward``."""
    forward = getattr(cls, "forward", None)
    try:
        lines, start = inspect.getsourcelines(forward)
        file = inspect.getsourcefile(forward) or ""
    except (OSError, TypeError):
        return []
    tree = ast.parse(textwrap.dedent("".join(lines)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in RESAMPLING_FUNCTIONS:
                continue
            args = tuple(_literal(a) for a in node.args)
            kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
            known = _resamples(RESAMPLING_FUNCTIONS[name], args, kwargs)
            if known is False:
                continue
        elif isinstance(node, ast.Subscript):
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            steps = [_literal(s.step) for s in items if isinstance(s, ast.Slice) and s.step]
            if not any(isinstance(s, int) and s > 1 for s in steps):
                continue
            name, known = "getitem[::step]", True
        else:
            continue
        line = start + node.lineno - 1
        found.append((line, name, lines[node.lineno - 1].strip(), known, file))
    return found


def _scan_ast(model: nn.Module, leaf_types: tuple[type, ...]) -> list[ScanWarning]:
    out: list[ScanWarning] = []
    cache: dict[type, list] = {}
    skip: list[str] = []
    for path, m in model.named_modules():
        if any(path.startswith(f"{s}.") for s in skip):
            continue
        if _is_leaf_type(m, leaf_types):
            skip.append(path)
            continue
        cls = type(m)
        if cls.__module__.startswith("torch."):  # containers: torch's forward, look inside
            continue
        if cls not in cache:
            cache[cls] = _scan_source(cls)
        for line, call, source, known, file in cache[cls]:
            location = f"{os.path.basename(file)}:{line}"
            out.append(ScanWarning(path, call, location, source, _message(call, known), "ast"))
    return out


def scan_functional(
    model: nn.Module, leaf_types: tuple[type, ...] = ()
) -> tuple[list[ScanWarning], str]:
    """Resampling calls in the ``forward`` of ``model`` and its sub-modules.

    Args:
        model: any ``nn.Module``.
        leaf_types: module types not looked into (besides ``torch.nn``'s and this package's:
            those :func:`convert` handles).

    Returns:
        ``(warnings, method)``: the findings in graph (fx) or module (ast) order, and
        ``"fx"`` or ``"ast: <why fx failed>"``.

    Example:
        >>> import torch.nn.functional as F
        >>> class Net(nn.Module):
        ...     def forward(self, x):
        ...         return F.max_pool2d(x, 2)
        >>> found, how = scan_functional(Net())
        >>> [(w.call, w.method) for w in found], how
        ([('max_pool2d', 'fx')], 'fx')
    """
    try:
        return _scan_fx(model, leaf_types), "fx"
    except Exception as err:  # noqa: BLE001 - fx fails in many ways; the source scan still works
        why = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        return _scan_ast(model, leaf_types), f"ast: fx could not trace ({why})"
