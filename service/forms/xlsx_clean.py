"""Make a workbook safe to send out: no macros, no external links or data connections, no
formulas, no hyperlinks.

``clean(data) -> bytes`` rewrites an .xlsx/.xlsm package (a zip) so that:
- the VBA project (``vbaProject.bin`` and its signature), ActiveX controls and the custom
  ribbon are gone, and the workbook's content type is the plain .xlsx one;
- external workbook links (``xl/externalLinks/``), data connections and query tables are
  gone, with the relationships and ``<externalReferences>`` that pointed at them, and defined
  names that reach into another workbook;
- every ``<f>`` (formula) element is removed: the cell keeps the value Excel cached; a formula
  text result (``t="str"``) becomes an inline string; ``calcChain.xml`` goes too;
- cell hyperlinks are removed (with their external relationships);
- bidi control characters are removed from cell texts and comments.
Everything else (styles, comments, merges, widths) is copied byte for byte. Pure function on
bytes; raises ``ValueError`` on something that is not a zip package.
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_MACRO_MAIN = re.compile(r"application/[^\"']*macroEnabled\.main\+xml", re.I)

# parts never sent out (lower-case prefixes / names)
_DROP_PREFIXES = ("xl/externallinks/", "xl/activex/", "customui/", "xl/querytables/")
_DROP_NAMES = {"xl/vbaproject.bin", "xl/vbaprojectsignature.bin", "xl/vbaprojectsignatureagile.bin",
               "xl/vbaprojectsignaturev3.bin", "xl/calcchain.xml", "xl/connections.xml"}
_DROP_REL_TYPES = re.compile(
    r"/(?:vbaProject|vbaProjectSignature|externalLink|externalLinkPath|connections|queryTable|"
    r"calcChain|control|ctrlProp|activeXControl|activeXControlBinary|hyperlink|ui/extensibility|"
    r"extensibility|attachedTemplate)\"", re.I)

_F_ELEMENT = re.compile(rb"<(?:\w+:)?f(?:\s[^>]*)?/>|<(?:\w+:)?f(?:\s[^>]*)?>.*?</(?:\w+:)?f>", re.S)
_STR_CELL = re.compile(rb'<c\b([^>]*?)\bt="str"([^>/]*)>(.*?)</c>', re.S)
_V_ELEMENT = re.compile(rb"<v(?:\s[^>]*)?>(.*?)</v>", re.S)
_HYPERLINKS = re.compile(rb"<(?:\w+:)?hyperlinks\b.*?</(?:\w+:)?hyperlinks>|<(?:\w+:)?hyperlinks\b[^>]*/>", re.S)
_CONTROLS = re.compile(rb"<(?:\w+:)?controls\b.*?</(?:\w+:)?controls>", re.S)
_EXT_REFS = re.compile(rb"<(?:\w+:)?externalReferences\b.*?</(?:\w+:)?externalReferences>|"
                       rb"<(?:\w+:)?externalReferences\b[^>]*/>", re.S)
_DEFINED_NAME = re.compile(rb"<(?:\w+:)?definedName\b[^>]*>(.*?)</(?:\w+:)?definedName>", re.S)
_DEFINED_NAMES_EMPTY = re.compile(rb"<(?:\w+:)?definedNames\b[^>]*>\s*</(?:\w+:)?definedNames>", re.S)
# UTF-8 of the bidi controls U+200E/F, U+202A–202E, U+2066–2069: never echoed back
_BIDI = re.compile(rb"\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]")
_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*?/>", re.S)
_CT_ENTRY = re.compile(r"<(?:Override|Default)\b[^>]*?/>", re.S)


def _dropped(name: str) -> bool:
    low = name.lower()
    return low in _DROP_NAMES or low.startswith(_DROP_PREFIXES)


def _rels_owner_dir(rels_name: str) -> str:
    """'xl/worksheets/_rels/sheet1.xml.rels' → 'xl/worksheets'."""
    folder = posixpath.dirname(posixpath.dirname(rels_name))
    return folder


def _clean_rels(name: str, text: str) -> str:
    base = _rels_owner_dir(name)

    def keep(m: re.Match) -> str:
        rel = m.group(0)
        if _DROP_REL_TYPES.search(rel.replace("'", '"')):
            return ""
        if re.search(r'TargetMode\s*=\s*["\']External["\']', rel):
            t = re.search(r'Type\s*=\s*["\']([^"\']+)', rel)
            if t and not t.group(1).endswith("/image"):
                return ""  # external links of any kind (an external picture keeps its frame)
        target = re.search(r'Target\s*=\s*["\']([^"\']+)', rel)
        if target:
            path = target.group(1)
            full = path.lstrip("/") if path.startswith("/") else posixpath.normpath(posixpath.join(base, path))
            if _dropped(full):
                return ""
        return rel
    return _RELATIONSHIP.sub(keep, text)


def _clean_content_types(text: str) -> str:
    text = _MACRO_MAIN.sub(XLSX_MAIN, text)

    def keep(m: re.Match) -> str:
        entry = m.group(0)
        part = re.search(r'PartName\s*=\s*["\']([^"\']+)', entry)
        if part and _dropped(part.group(1).lstrip("/")):
            return ""
        if re.search(r"vbaProject|activeX|macroEnabled", entry, re.I):
            return ""
        return entry
    return _CT_ENTRY.sub(keep, text)


def _inline_str(m: re.Match) -> bytes:
    before, after, body = m.group(1), m.group(2), m.group(3)
    v = _V_ELEMENT.search(body)
    if v is None:
        return b"<c" + before + after + b"/>" if not body.strip() else b"<c" + before + after + b">" + body + b"</c>"
    text = v.group(1)
    return b"<c" + before + b't="inlineStr"' + after + b'><is><t xml:space="preserve">' + text + b"</t></is></c>"


def clean_sheet(xml: bytes) -> bytes:
    """A worksheet's XML without formulas (cached values kept), hyperlinks or controls."""
    xml = _F_ELEMENT.sub(b"", xml)
    xml = _STR_CELL.sub(_inline_str, xml)
    xml = _HYPERLINKS.sub(b"", xml)
    return _BIDI.sub(b"", _CONTROLS.sub(b"", xml))


def _clean_workbook(xml: bytes) -> bytes:
    xml = _EXT_REFS.sub(b"", xml)
    # a defined name pointing into another workbook ("[1]Sheet1!A1"), calling a function, or
    # starting an Excel 4 macro when the file opens (Auto_Open / Auto_Close)
    xml = _DEFINED_NAME.sub(lambda m: b"" if (b"[" in m.group(1) or b"(" in m.group(1)
                                               or re.search(rb'name="[^"]*auto_(?:open|close)', m.group(0), re.I))
                            else m.group(0), xml)
    return _DEFINED_NAMES_EMPTY.sub(b"", xml)


def clean(data: bytes) -> bytes:
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError("not a workbook package") from exc
    out = io.BytesIO()
    with src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = info.filename
            if _dropped(name):
                continue
            body = src.read(info)
            low = name.lower()
            if low == "[content_types].xml":
                body = _clean_content_types(body.decode("utf-8")).encode("utf-8")
            elif low.endswith(".rels"):
                body = _clean_rels(name, body.decode("utf-8")).encode("utf-8")
            elif low == "xl/workbook.xml":
                body = _clean_workbook(body)
            elif low.startswith(("xl/worksheets/", "xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")) \
                    and low.endswith(".xml"):
                body = clean_sheet(body)
            elif low == "xl/sharedstrings.xml" or (low.startswith("xl/comments") and low.endswith(".xml")):
                body = _BIDI.sub(b"", body)
            zi = zipfile.ZipInfo(name, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, body)
    return out.getvalue()


def findings(data: bytes) -> list[str]:
    """What an outgoing workbook still carries that it must not (empty: clean). For tests and
    a last check before sending."""
    found: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            low = name.lower()
            if _dropped(low) and low != "xl/calcchain.xml":
                found.append(name)
            if low.startswith("xl/worksheets/") and low.endswith(".xml"):
                xml = zf.read(name)
                if re.search(rb"<(?:\w+:)?f[\s>/]", xml):
                    found.append(f"{name}: formula")
            if low == "[content_types].xml" and re.search(rb"macroEnabled|vbaProject", zf.read(name), re.I):
                found.append(f"{name}: macro content type")
    return found
