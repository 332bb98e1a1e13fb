"""Legacy Vietnamese 8-bit encodings (TCVN3/ABC and VNI-Windows) → Unicode NFC.

Old workbooks keep Vietnamese text in "Western" fonts whose glyphs were redrawn: the cell
holds Latin-1 characters ("NguyÔn V¨n An") that only look Vietnamese in a .VnTime font.
Whether a cell is legacy text is decided by its font alone (``legacy_kind``); ``decode``
never touches text that already carries Unicode Vietnamese letters.

- TCVN3 (TCVN 5712:1993, VN3 subset, the "ABC" fonts .VnTime, .VnArial, …): one byte per
  letter, lower-case toned letters and seven bare capitals (Ă Â Ê Ô Ơ Ư Đ). Toned capitals
  only exist in the all-capitals fonts (.VnTimeH, .VnArialH, …), which draw the lower-case
  code points as capitals: kind ``"tcvn3h"`` decodes and then upper-cases.
- VNI-Windows (VNI-Times, VNI-Helve, …): a base letter followed by one mark character
  ("Nguyeãn" → "Nguyễn"); a few letters are single characters (ô → ơ, ö → ư, ñ → đ, ó → ĩ).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# ---------------------------------------------------------------------------- TCVN3

# Code point in the font (as the Latin-1 character Excel stores) → Unicode letter.
TCVN3: dict[str, str] = {
    # bare capitals and lower-case letters with shape marks
    "\xa1": "Ă", "\xa2": "Â", "\xa3": "Ê", "\xa4": "Ô", "\xa5": "Ơ", "\xa6": "Ư", "\xa7": "Đ",
    "\xa8": "ă", "\xa9": "â", "\xaa": "ê", "\xab": "ô", "\xac": "ơ", "\xad": "ư", "\xae": "đ",
    # a: grave, hook, tilde, acute, dot below
    "\xb5": "à", "\xb6": "ả", "\xb7": "ã", "\xb8": "á", "\xb9": "ạ",
    # ă
    "\xbb": "ằ", "\xbc": "ẳ", "\xbd": "ẵ", "\xbe": "ắ", "\xc6": "ặ",
    # â
    "\xc7": "ầ", "\xc8": "ẩ", "\xc9": "ẫ", "\xca": "ấ", "\xcb": "ậ",
    # e
    "\xcc": "è", "\xce": "ẻ", "\xcf": "ẽ", "\xd0": "é", "\xd1": "ẹ",
    # ê
    "\xd2": "ề", "\xd3": "ể", "\xd4": "ễ", "\xd5": "ế", "\xd6": "ệ",
    # i
    "\xd7": "ì", "\xd8": "ỉ", "\xdc": "ĩ", "\xdd": "í", "\xde": "ị",
    # o
    "\xdf": "ò", "\xe1": "ỏ", "\xe2": "õ", "\xe3": "ó", "\xe4": "ọ",
    # ô
    "\xe5": "ồ", "\xe6": "ổ", "\xe7": "ỗ", "\xe8": "ố", "\xe9": "ộ",
    # ơ
    "\xea": "ờ", "\xeb": "ở", "\xec": "ỡ", "\xed": "ớ", "\xee": "ợ",
    # u
    "\xef": "ù", "\xf1": "ủ", "\xf2": "ũ", "\xf3": "ú", "\xf4": "ụ",
    # ư
    "\xf5": "ừ", "\xf6": "ử", "\xf7": "ữ", "\xf8": "ứ", "\xf9": "ự",
    # y
    "\xfa": "ỳ", "\xfb": "ỷ", "\xfc": "ỹ", "\xfd": "ý", "\xfe": "ỵ",
}
_TCVN3_TRANS = str.maketrans(TCVN3)

# ---------------------------------------------------------------------------- VNI

# Marks that follow a base letter. Lower-case forms; the capital fonts use the upper-case
# Latin-1 twin of each (ù/Ù, â/Â, …), and the output case follows the base letter.
_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRCUMFLEX_TONES = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_BREVE_TONES = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}

# Single characters that are whole letters in VNI.
VNI_SINGLE: dict[str, str] = {
    "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ",
    "í": "í", "Í": "Í", "ì": "ì", "Ì": "Ì", "æ": "ỉ", "Æ": "Ỉ",
    "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "î": "ỵ", "Î": "Ỵ",
}


def _build_vni() -> dict[str, str]:
    """Every two-character VNI sequence (base + mark) → its NFC letter."""
    table: dict[str, str] = {}

    def add(base_vni: str, base_uni: str, mark: str, combining: str) -> None:
        for b_vni, b_uni in ((base_vni, base_uni), (base_vni.upper(), base_uni.upper())):
            letter = unicodedata.normalize("NFC", b_uni + combining)
            for m in {mark, mark.upper()}:
                table[b_vni + m] = letter

    for base in "aeouy":
        for mark, comb in _TONES.items():
            add(base, base, mark, comb)
    for base in "aeo":
        for mark, comb in _CIRCUMFLEX_TONES.items():
            add(base, base + "\u0302", mark, comb)
    for mark, comb in _BREVE_TONES.items():
        add("a", "a\u0306", mark, comb)
    for base_vni, base_uni in (("ô", "ơ"), ("ö", "ư")):
        for mark, comb in _TONES.items():
            add(base_vni, base_uni, mark, comb)
    return table


VNI_PAIRS: dict[str, str] = _build_vni()
_VNI_RE = re.compile("|".join(sorted(map(re.escape, list(VNI_PAIRS) + list(VNI_SINGLE)), key=len, reverse=True)))
_VNI_ALL = {**VNI_SINGLE, **VNI_PAIRS}

# ---------------------------------------------------------------------------- API

# Letters and marks only Unicode Vietnamese text has (not the cp1252 extras like Œ or Š).
_UNICODE_VIETNAMESE_RE = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0"
    "\u0300\u0301\u0303\u0309\u0323\u1ea0-\u1ef9]")


@lru_cache(maxsize=4096)
def legacy_kind(font_name: str | None) -> str | None:
    """The legacy encoding a font implies: "tcvn3", "tcvn3h" (all capitals), "vni" or None."""
    if not font_name:
        return None
    name = font_name.strip()
    low = name.lower()
    if low.startswith("vni-") or low.startswith("vni "):
        return "vni"
    # ABC fonts: ".VnTime", ".VnArial NarrowH"; also the TrueType "VNtimes new roman" family.
    if low.startswith(".vn") or (low.startswith("vn") and not low.startswith("vni")):
        compact = name.replace(" ", "")
        if compact.endswith("H") and len(compact) > 3 and compact[-2].isalpha():
            return "tcvn3h"
        return "tcvn3"
    return None


def is_unicode_vietnamese(text: str) -> bool:
    """True if the text holds letters (or combining marks) only Unicode Vietnamese uses."""
    return _UNICODE_VIETNAMESE_RE.search(text) is not None


def decode(text, kind: str | None):
    """Legacy-encoded ``text`` → Unicode NFC. Anything else is returned unchanged:
    non-strings, ``kind`` None, and text that already holds Unicode Vietnamese letters."""
    if not isinstance(text, str) or not kind or not text or is_unicode_vietnamese(text):
        return text
    if text.isascii():
        return text.upper() if kind == "tcvn3h" else text
    if kind in ("tcvn3", "tcvn3h"):
        out = text.translate(_TCVN3_TRANS)
        if kind == "tcvn3h":
            out = out.upper()
    elif kind == "vni":
        out = _VNI_RE.sub(lambda m: _VNI_ALL[m.group(0)], text)
    else:
        return text
    return unicodedata.normalize("NFC", out)


def encode(text: str, kind: str) -> str:
    """Unicode → legacy text (the inverse of ``decode``; used to build test files).
    Letters the encoding cannot hold (toned capitals in TCVN3) are left as they are."""
    text = unicodedata.normalize("NFC", text)
    if kind in ("tcvn3", "tcvn3h"):
        inverse = {v: k for k, v in TCVN3.items()}
        if kind == "tcvn3h":
            text = text.lower()
        return "".join(inverse.get(ch, ch) for ch in text)
    if kind == "vni":
        inverse: dict[str, str] = {}
        for k, v in _VNI_ALL.items():
            if len(k) == 1 or k[0].isupper() == k[1].isupper():  # canonical: mark case = base case
                inverse.setdefault(v, k)
        return "".join(inverse.get(ch, ch) for ch in text)
    raise ValueError(kind)
