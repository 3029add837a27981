"""The report page: HTML from a result document and its rendered figures (no files).

The page is self-contained: figures are PNG data URIs, the style is inline, nothing is fetched.
Every text that comes from the result is HTML-escaped. The skeleton is ``template.html`` (package
data, read with :mod:`importlib.resources`, so it works from a wheel).
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from string import Template
from typing import Any

from antialias.report._data import summary_rows, worst_header

__all__ = ["Figure", "page"]

_COLUMNS = (
    ("model", "model"),
    ("mode", "mode"),
    ("images", "images"),
    ("shifts", "shifts"),
    ("metric", "metric"),
    ("all", "all pixels [95% CI]"),
    ("interior", "interior [95% CI]"),
    ("border", "border"),
    ("worst", "worst shift (dy, dx)"),
)


class Figure:
    """A rendered figure of the page: PNG bytes shown inline, the PDF's file name linked."""

    def __init__(self, key: str, title: str, caption: str, png: bytes, pdf_name: str) -> None:
        self.key, self.title, self.caption = key, title, caption
        self.png, self.pdf_name = png, pdf_name


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _figure(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure id="fig-{_e(fig.key)}"><img alt="{_e(fig.title)}" '
        f'src="data:image/png;base64,{data}">'
        f'<figcaption>{_e(fig.caption)} (<a href="{_e(fig.pdf_name)}">PDF</a>)</figcaption>'
        "</figure>"
    )


_AXIS_COLUMNS = (
    ("model", "model"),
    ("axis", "axis"),
    ("shifts", "shifts along it only"),
    ("metric", "metric"),
    ("median", "median"),
    ("worst", "worst"),
    ("exact", "exact to rounding"),
)


def _table(columns: tuple[tuple[str, str], ...], rows: list[dict[str, str]]) -> str:
    head = "".join(f"<th>{_e(title)}</th>" for _, title in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row[key])}</td>" for key, _ in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary_table(doc: dict[str, Any]) -> str:
    columns = (*_COLUMNS[:-1], ("worst", worst_header(doc)))
    return _table(columns, summary_rows(doc))


def _axis_section(doc: dict[str, Any]) -> list[str]:
    """Volumes only: the shifts along each axis alone, per model (nothing for images)."""
    from antialias.report._volumes import axis_rows

    rows = axis_rows(doc)
    if not rows:
        return []
    return [
        "<h2>Per axis (volumes)</h2>",
        "<p>Shifts along one axis only (the other two zero): the median and the worst value "
        "of the primary metric, and at how many of them the model is exact to rounding.</p>",
        _table(_AXIS_COLUMNS, rows),
    ]


def _kv_table(mapping: dict[str, Any]) -> str:
    rows = []
    for key, value in mapping.items():
        text = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
        rows.append(f"<tr><td>{_e(key)}</td><td><pre>{_e(text)}</pre></td></tr>")
    return f'<table class="kv"><tbody>{"".join(rows)}</tbody></table>'


def page(
    doc: dict[str, Any],
    *,
    source: str,
    verdict: str,
    sections: list[tuple[str, Figure | None, str]],
    version: str,
) -> str:
    """The whole HTML page.

    Args:
        doc: the result document.
        source: the result file, as the user named it.
        verdict: the one-line verdict.
        sections: ``(heading, figure or None, note)``; a section without a figure shows its
            note (why there is nothing to draw).
        version: the antialias version that wrote the page.
    """
    parts = [
        "<h1>Shift consistency report</h1>",
        f'<p class="source">{_e(source)}</p>',
        f'<p class="verdict" id="verdict">{_e(verdict)}</p>',
        "<h2>Summary</h2>",
        "<p>Pooled over the non-zero shifts of each model; 95% confidence intervals are "
        "bootstrap intervals over images.</p>",
        _summary_table(doc),
        *_axis_section(doc),
    ]
    for heading, fig, note in sections:
        parts.append(f"<h2>{_e(heading)}</h2>")
        if note:
            parts.append(f'<p class="note">{_e(note)}</p>')
        if fig is not None:
            parts.append(_figure(fig))
    parts += [
        "<h2>Configuration</h2>",
        _kv_table(doc.get("config") or {}),
        "<h2>Provenance</h2>",
        _kv_table(doc.get("provenance") or {"provenance": "not recorded in the result"}),
    ]
    template = Template(
        resources.files("antialias.report").joinpath("template.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        title=_e(f"Shift consistency: {source}"), body="\n".join(parts), version=_e(version)
    )
