"""A small OpenDocument spreadsheet (.ods) writer for the generators and tests.

    write_ods(path, [(sheet_name, rows, merges)])

``rows`` are lists of cell values (str, int, float, date, datetime, None, or ``Formula``);
``merges`` are (r0, c0, r1, c1), 0-based inclusive: the first cell spans, the covered cells
are written as ``table:covered-table-cell`` the way LibreOffice writes them.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

MIME = "application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True)
class Formula:
    """A formula cell; ``value`` None writes it without a computed value (as programs do)."""
    text: str  # OpenFormula, e.g. "of:=ROW()-4"
    value: Any = None


def _cell(v: Any, span: tuple[int, int] | None) -> str:
    attrs = ""
    if span:
        rows, cols = span
        if cols > 1:
            attrs += f' table:number-columns-spanned="{cols}"'
        if rows > 1:
            attrs += f' table:number-rows-spanned="{rows}"'
    if isinstance(v, Formula):
        attrs += f" table:formula={quoteattr(v.text)}"
        v = v.value
        if v is None:
            return f"<table:table-cell{attrs}/>"
    if v is None or v == "":
        return f"<table:table-cell{attrs}/>"
    if isinstance(v, bool):
        return (f'<table:table-cell{attrs} office:value-type="boolean" '
                f'office:boolean-value="{"true" if v else "false"}"><text:p>{v}</text:p></table:table-cell>')
    if isinstance(v, (int, float)):
        return (f'<table:table-cell{attrs} office:value-type="float" office:value="{v!r}">'
                f"<text:p>{v}</text:p></table:table-cell>")
    if isinstance(v, datetime):
        iso = v.strftime("%Y-%m-%dT%H:%M:%S")
        return (f'<table:table-cell{attrs} office:value-type="date" office:date-value="{iso}">'
                f"<text:p>{v:%d/%m/%Y %H:%M}</text:p></table:table-cell>")
    if isinstance(v, date):
        return (f'<table:table-cell{attrs} office:value-type="date" office:date-value="{v.isoformat()}">'
                f"<text:p>{v:%d/%m/%Y}</text:p></table:table-cell>")
    lines = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(v).split("\n"))
    return f'<table:table-cell{attrs} office:value-type="string">{lines}</table:table-cell>'


def _table(name: str, rows: list[list[Any]], merges: list[tuple[int, int, int, int]]) -> str:
    spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in merges}
    covered = {(r, c) for r0, c0, r1, c1 in merges for r in range(r0, r1 + 1)
               for c in range(c0, c1 + 1) if (r, c) != (r0, c0)}
    width = max([len(r) for r in rows] + [c1 + 1 for _, _, _, c1 in merges] + [1])
    out = [f"<table:table table:name={quoteattr(name)}>",
           f'<table:table-column table:number-columns-repeated="{width}"/>']
    for r, row in enumerate(rows):
        cells = []
        for c in range(width):
            if (r, c) in covered:
                cells.append("<table:covered-table-cell/>")
            else:
                cells.append(_cell(row[c] if c < len(row) else None, spans.get((r, c))))
        while cells and cells[-1] == "<table:table-cell/>":
            cells.pop()
        out.append("<table:table-row>" + ("".join(cells) or "<table:table-cell/>") + "</table:table-row>")
    out.append("</table:table>")
    return "".join(out)


def write_ods(path: str | Path, sheets: list[tuple[str, list[list[Any]], list[tuple[int, int, int, int]]]]) -> None:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        + "".join(_table(n, rows, merges) for n, rows, merges in sheets)
        + "</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIME}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), MIME, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
