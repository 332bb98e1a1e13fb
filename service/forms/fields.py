"""The canonical fields and their header synonyms, loaded from config/fields.toml."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..defaults import config_dir
from ..textnorm import fold

DOSE_PARTS = ("date", "vaccine", "lot", "facility")


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    required: tuple[str, ...]


@dataclass(frozen=True)
class FieldCatalog:
    fields: dict[str, FieldSpec]
    synonyms: dict[str, str]  # folded header → field key (non-dose)
    dose_groups: dict[str, int]  # folded group header ("mui 1") → dose number
    part_synonyms: dict[str, str]  # folded part header ("ngay tiem") → part ("date")
    required_dose: dict[str, tuple[str, ...]]

    def required(self, form: str) -> list[str]:
        keys = [k for k, f in self.fields.items() if form in f.required]
        return keys + list(self.required_dose.get(form, ()))

    def label(self, key: str) -> str:
        if key in self.fields:
            return self.fields[key].label
        m = re.match(r"dose(\d)_(\w+)", key)
        if m:
            return f"Mũi {m.group(1)} - {PART_LABELS.get(m.group(2), m.group(2))}"
        return key


PART_LABELS = {"date": "Ngày tiêm", "vaccine": "Tên vắc xin", "lot": "Số lô", "facility": "Nơi tiêm"}


def load_catalog(path: Path | None = None) -> FieldCatalog:
    path = path or config_dir() / "fields.toml"
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> FieldCatalog:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    fields: dict[str, FieldSpec] = {}
    synonyms: dict[str, str] = {}
    for key, spec in data.get("field", {}).items():
        fields[key] = FieldSpec(key, spec.get("label", key), tuple(spec.get("required", ())))
        for h in [spec.get("label", "")] + list(spec.get("headers", [])):
            if h:
                synonyms.setdefault(fold(h), key)
    dose = data.get("dose", {})
    groups = {fold(h): int(n) for n, hs in dose.get("groups", {}).items() for h in hs}
    parts = {}
    for part, spec in dose.get("part", {}).items():
        for h in [spec.get("label", "")] + list(spec.get("headers", [])):
            if h:
                parts.setdefault(fold(h), part)
    req = {k: tuple(v) for k, v in data.get("required_dose", {}).items()}
    return FieldCatalog(fields, synonyms, groups, parts, req)
