"""The data the checks rest on, read once from config/fields.toml and config/vaccines.toml."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ...defaults import config_dir

_DOSE_PARTS = ("date", "vaccine", "lot", "facility")


@lru_cache(maxsize=1)
def _fields_toml() -> dict:
    with open(config_dir() / "fields.toml", "rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=4)
def required_fields(form: str) -> frozenset[str]:
    """Field keys that must be filled in every row of the form ("mau1" | "mau2")."""
    data = _fields_toml()
    out = {key for key, f in data.get("field", {}).items() if form in f.get("required", [])}
    out.update(data.get("required_dose", {}).get(form, []))
    return frozenset(out)


@lru_cache(maxsize=1)
def field_labels() -> dict[str, str]:
    """Field key → Vietnamese label ("dob" → "Ngày sinh", "dose1_date" → "Ngày tiêm mũi 1")."""
    data = _fields_toml()
    out = {key: f.get("label", key) for key, f in data.get("field", {}).items()}
    parts = data.get("dose", {}).get("part", {})
    for n in (1, 2):
        for part in _DOSE_PARTS:
            label = parts.get(part, {}).get("label", part)
            out[f"dose{n}_{part}"] = f"{label} mũi {n}"
    return out


@dataclass(frozen=True)
class Vaccine:
    name: str
    aliases: tuple[str, ...]
    doses: int = 2
    min_interval_days: int | None = None


@lru_cache(maxsize=1)
def vaccines() -> tuple[Vaccine, ...]:
    with open(config_dir() / "vaccines.toml", "rb") as fh:
        data = tomllib.load(fh)
    return tuple(
        Vaccine(v["name"], tuple(v.get("aliases", [])), int(v.get("doses", 2)),
                v.get("min_interval_days"))
        for v in data.get("vaccine", [])
    )


def vaccine(name: str | None) -> Vaccine | None:
    for v in vaccines():
        if v.name == name:
            return v
    return None
