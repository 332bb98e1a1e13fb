"""Province, district and ward against the directory (``angiang/directory.toml``).

Names match across kind words and abbreviations ("TP Long Xuyên", "Thành phố Long Xuyên",
"Long Xuyen", "H. Chợ Mới"), tone placement (Hoà/Hòa) and NFD text (``Directory.find_*``).
A ward must belong to the row's district: a ward that exists elsewhere is
"ward-not-in-district", naming the district(s) where it does exist.
A province other than An Giang is a warning (people living elsewhere may register here); the
row's district and ward are then kept as written, not matched against the directory.
"""
from __future__ import annotations

from typing import Any

from ...directory import Directory, District
from ...textnorm import fold, tidy
from .. import issues as I
from .common import NO_EXTRA, Parsed, text_of, whole_number

_MEMO_MAX = 50_000


def _memo(directory: Directory, name: str) -> dict:
    memo = directory._cache.setdefault(name, {})
    if len(memo) > _MEMO_MAX:
        memo.clear()
    return memo


def _text(raw: Any) -> str:
    n = whole_number(raw)
    return str(n) if n is not None else tidy(text_of(raw))


def _home_keys(directory: Directory) -> frozenset[str]:
    keys = directory._cache.get("checks.home")
    if keys is None:
        f = fold(directory.province_name)
        base = f.removeprefix("tinh ").strip()
        initials = "".join(w[0] for w in base.split())
        keys = frozenset({f, base, initials, f"t {base}", f"tinh {initials}",
                          str(directory.province_code)})
        directory._cache["checks.home"] = keys
    return keys


def parse_province(raw: Any, directory: Directory) -> Parsed:
    """Province → the directory's province name; another province is a warning."""
    text = _text(raw)
    if fold(text) in _home_keys(directory):
        return directory.province_name, None, None
    return text, (I.PROVINCE_OTHER, NO_EXTRA), None


# (district_value, district_code, district_problem, ward_value, ward_code, ward_problem)
PlaceResult = tuple[Any, "int | None", Any, Any, "int | None", Any]


def place_checker(directory: Directory):
    """``check(district_raw, ward_raw) -> PlaceResult``, memoised for the directory."""
    memo = _memo(directory, "checks.places")

    def check(district_raw: Any, ward_raw: Any) -> PlaceResult:
        key = (district_raw, ward_raw)
        hit = memo.get(key)
        if hit is None:
            if len(memo) > _MEMO_MAX:
                memo.clear()
            hit = memo[key] = _check_place(district_raw, ward_raw, directory)
        return hit

    return check


def _check_place(district_raw: Any, ward_raw: Any, directory: Directory) -> PlaceResult:
    d_value = d_code = d_problem = None
    district: District | None = None
    if district_raw is not None:
        text = _text(district_raw)
        district = directory.find_district(text)
        if district is None:
            d_value, d_problem = text, (I.DISTRICT_UNKNOWN, NO_EXTRA)
        else:
            d_value, d_code = district.name, district.code
    w_value = w_code = w_problem = None
    if ward_raw is not None:
        text = _text(ward_raw)
        w_value = text
        if district is not None:
            wards = directory.find_wards(text, district)
            if wards:
                w_value, w_code = wards[0].name, wards[0].code
            else:
                elsewhere = directory.find_wards(text)
                if elsewhere:
                    names = list(dict.fromkeys(
                        directory.district(w.district_code).name for w in elsewhere))
                    w_problem = (I.WARD_NOT_IN_DISTRICT, {
                        "district": district.name, "elsewhere": " hoặc ".join(names)})
                else:
                    example = district.wards[0].name if district.wards else "Phường Mỹ Bình"
                    w_problem = (I.WARD_UNKNOWN, {"scope": f" của {district.name}",
                                                  "example": example})
        else:
            wards = directory.find_wards(text)
            if len(wards) == 1:
                w_value, w_code = wards[0].name, wards[0].code
            elif not wards:
                w_problem = (I.WARD_UNKNOWN, {"scope": f" của {_lower_first(directory.province_name)}",
                                              "example": "Phường Mỹ Bình"})
    return d_value, d_code, d_problem, w_value, w_code, w_problem


def tidy_place(raw: Any) -> str:
    """A place kept as written (another province's district or ward)."""
    return _text(raw)


def _lower_first(name: str) -> str:
    """'Tỉnh An Giang' → 'tỉnh An Giang' (inside a sentence)."""
    return name[:1].lower() + name[1:]
