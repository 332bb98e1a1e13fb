"""Vietnamese text normalisation for matching headers, places, vaccines and facilities.

Two levels:
- ``tidy(s)``: NFC, old tone placement moved to the modern one (hoà → hòa), whitespace
  collapsed, bidi controls and control characters removed. Safe to show to people.
- ``fold(s)``: a matching key: tidy, lower case, diacritics removed (đ → d), every run of
  punctuation or spaces turned into one space. Never shown to people.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Old-style ("oà", "uỳ") tone placement → new style ("òa", "ùy"), as NFC strings.
_OLD_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}
_OLD_TONES.update({k.upper(): v.upper() for k, v in list(_OLD_TONES.items())})
_OLD_TONES.update({k[0].upper() + k[1:]: v[0].upper() + v[1:] for k, v in list(_OLD_TONES.items()) if k.islower()})
# "quý" keeps its tone on the y: after q the u belongs to the consonant.
_OLD_RE = re.compile(r"(?<![qQ])(" + "|".join(map(re.escape, _OLD_TONES)) + r")(?![a-zA-ZÀ-ỹ])")
_SPACE_RE = re.compile(r"\s+")
# Characters nobody sees that break matching and checks: a byte-order mark, zero-width spaces
# and joiners, the soft hyphen, bidi marks and overrides (removed); no-break spaces (made
# plain spaces).
INVISIBLE_RE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e\u200e\u200f"
                          "\u202a-\u202e\u2066-\u2069\ufffe]")
NBSP_RE = re.compile("[\u00a0\u2007\u202f]")


def strip_invisible(s: str) -> str:
    """``s`` without invisible characters, no-break spaces made plain (not stripped)."""
    return NBSP_RE.sub(" ", INVISIBLE_RE.sub("", s))
# bidi embeddings/overrides/isolates and control characters: never carried into what we send
_INVISIBLE_RE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
                           "\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65536)
def tidy(s: str) -> str:
    """NFC, modern tone placement, single spaces, stripped."""
    s = unicodedata.normalize("NFC", s)
    s = s.replace("\u00a0", " ").replace("\u200b", "")
    s = _INVISIBLE_RE.sub("", s)
    s = _OLD_RE.sub(lambda m: _OLD_TONES[m.group(1)], s)
    return _SPACE_RE.sub(" ", s).strip()


@lru_cache(maxsize=65536)
def fold(s: str) -> str:
    """Matching key: no case, no diacritics, punctuation as single spaces."""
    s = unicodedata.normalize("NFD", s.lower())
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    s = s.replace("đ", "d").replace("ð", "d")
    return _NON_ALNUM_RE.sub(" ", s).strip()
