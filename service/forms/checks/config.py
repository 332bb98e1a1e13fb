"""The data the checks rest on: required fields (config/fields.toml, through the engine's
field catalog) and vaccines (config/vaccines.toml), each read once."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ...defaults import config_dir
from ..fields import load_catalog


@lru_cache(maxsize=4)
def required_fields(form: str) -> frozenset[str]:
    """Field keys that must be filled in every row of the form ("mau1" | "mau2"), from
    config/fields.toml (``required`` and ``[required_dose]``) via the engine's field catalog."""
    return frozenset(load_catalog().required(form))


def field_label(key: str) -> str:
    """Field key → Vietnamese label ("dob" → "Ngày sinh"), for columns not in the file."""
    return load_catalog().label(key)


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
