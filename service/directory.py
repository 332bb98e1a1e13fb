"""The province's directory: districts, wards, offices, facilities and sending units.

Loaded from ``config/directory.toml`` (the An Giang directory of August 2021 by default).
Plain frozen data objects plus the lookups the form engine and the router need: places by
the many ways people write them, facilities by name or abbreviation, units by sender address.
"""
from __future__ import annotations

import re
import unicodedata
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .textnorm import fold, tidy

# Administrative kind words, folded, longest first; stripped to get a place's base name.
_KIND_PREFIXES = (
    "thanh pho", "thi xa", "thi tran", "huyen", "quan", "phuong", "xa",
    "tp", "tx", "tt", "h", "q", "p", "x",
)
_KIND_RE = re.compile(r"^(?:" + "|".join(_KIND_PREFIXES) + r")\s+")

# Abbreviations seen in facility names, folded → expanded (folded).
_FACILITY_ABBR = [
    (r"\bbvdktt\b", "benh vien da khoa trung tam"),
    (r"\bbvdkkv\b", "benh vien da khoa khu vuc"),
    (r"\bbvdk\b", "benh vien da khoa"),
    (r"\bbv\b", "benh vien"),
    (r"\bttyt\b", "trung tam y te"),
    (r"\btyt\b", "tram y te"),
    (r"\bdk\b", "da khoa"),
    (r"\bkv\b", "khu vuc"),
    (r"\bcdc\b", "trung tam kiem soat benh tat"),
    (r"\bttksbt\b", "trung tam kiem soat benh tat"),
]
_FACILITY_ABBR = [(re.compile(p), r) for p, r in _FACILITY_ABBR]


# Ward kinds as folded words, and how senders abbreviate them.
_WARD_KINDS = (("thi tran", ("thi tran", "tt")), ("phuong", ("phuong", "p")), ("xa", ("xa", "x")))


def place_base(text: str) -> str:
    """Folded place name without its kind word: 'TP. Long Xuyên' → 'long xuyen'."""
    f = fold(text)
    prev = None
    while prev != f:
        prev = f
        f = _KIND_RE.sub("", f, count=1)
    return f


def _facility_key(text: str) -> str:
    f = fold(text)
    for rx, rep in _FACILITY_ABBR:
        f = rx.sub(rep, f)
    f = re.sub(r"\b(tinh )?an giang\b", "", f)
    f = re.sub(r"\b(thanh pho|thi xa|thi tran|huyen|phuong|xa|tp|tx|tt)\b", " ", f)
    return re.sub(r"\s+", " ", f).strip()


@dataclass(frozen=True)
class Office:
    key: str
    name: str
    email: str


@dataclass(frozen=True)
class Ward:
    code: int
    name: str
    kind: str
    district_code: int
    email: str = ""
    health_station: str = ""


@dataclass(frozen=True)
class District:
    code: int
    name: str
    kind: str
    health_centre: Office
    culture_office: Office
    wards: tuple[Ward, ...] = ()
    target: int | None = None  # people to register, where the directory gives it


@dataclass(frozen=True)
class Facility:
    """A place that vaccinates and receives Mẫu 2 rows for the doses it gave."""
    key: str
    name: str
    email: str
    district_code: int | None = None
    aliases: tuple[str, ...] = ()
    code: str = ""  # "Mã cơ sở KCB" on the national platform, where the directory knows it


@dataclass(frozen=True)
class Unit:
    """A sender: provincial unit (tinh), district (huyen), commune (xa) or enterprise."""
    key: str
    name: str
    level: str  # "tinh" | "huyen" | "xa" | "doanh_nghiep"
    emails: tuple[str, ...] = ()
    district_code: int | None = None
    ward_code: int | None = None
    supervisor: str | None = None  # office key, for enterprises
    folder: str = ""  # subfolder name in the shared folder


@dataclass
class Directory:
    province_name: str
    province_code: int
    cccd_prefix: str
    cmnd_prefix: str
    support_phones: tuple[str, ...]
    offices: dict[str, Office]
    districts: tuple[District, ...]
    facilities: tuple[Facility, ...]
    units: tuple[Unit, ...]
    leaders: tuple[str, ...]
    # recipient key → layout of the workbooks forwarded to it: "national" (the default, the
    # platform's import template) or "canonical" (the project's own Mẫu 1/Mẫu 2 layout),
    # from an optional `layout` key of an office, health centre, facility or ward.
    layouts: dict[str, str] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path) -> "Directory":
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "Directory":
        prov = data.get("province", {})
        offices = {
            key: Office(key, tidy(o["name"]), o.get("email", "").lower())
            for key, o in data.get("office", {}).items()
        }
        districts = []
        units: list[Unit] = []
        facilities: list[Facility] = []
        layouts: dict[str, str] = {
            key: _layout(o) for key, o in data.get("office", {}).items() if o.get("layout")}
        for d in data.get("district", []):
            code = int(d["code"])
            hc, co = d["health_centre"], d["culture_office"]
            for key, o in ((f"ttyt-{code}", hc), (f"vhtt-{code}", co)):
                if o.get("layout"):
                    layouts[key] = _layout(o)
            for w in d.get("wards", []):
                if w.get("layout"):
                    layouts[f"tyt-{int(w['code'])}"] = _layout(w)
            wards = tuple(
                Ward(int(w["code"]), tidy(w["name"]), w.get("kind", ""), code,
                     w.get("email", "").lower(), w.get("health_station", "").lower())
                for w in d.get("wards", [])
            )
            dist = District(
                code, tidy(d["name"]), d.get("kind", ""),
                Office(f"ttyt-{code}", tidy(hc["name"]), hc.get("email", "").lower()),
                Office(f"vhtt-{code}", tidy(co["name"]), co.get("email", "").lower()),
                wards, d.get("target"),
            )
            districts.append(dist)
            facilities.append(Facility(dist.health_centre.key, dist.health_centre.name,
                                       dist.health_centre.email, code, code=_kcb(hc.get("code"))))
            station_codes = {int(w["code"]): _kcb(w.get("health_station_code")) for w in d.get("wards", [])}
            for w in wards:
                if w.health_station:
                    facilities.append(Facility(f"tyt-{w.code}", f"Trạm Y tế {w.name}",
                                               w.health_station, code, code=station_codes.get(w.code, "")))
                if w.email:
                    units.append(Unit(f"xa-{w.code}", f"UBND {w.name}", "xa", (w.email,),
                                      code, w.code, folder=_folder_name(f"{_short(dist)} - {w.name}")))
            if d.get("emails"):
                units.append(Unit(f"huyen-{code}", f"UBND {dist.name}", "huyen",
                                  tuple(x.lower() for x in d["emails"]), code,
                                  folder=_folder_name(dist.name)))
        for i, f in enumerate(data.get("facility", [])):
            if f.get("layout"):
                layouts[f.get("key", f"cs-{i + 1}")] = _layout(f)
            facilities.append(Facility(f.get("key", f"cs-{i + 1}"), tidy(f["name"]),
                                       f.get("email", "").lower(), f.get("district"),
                                       tuple(f.get("aliases", [])), code=_kcb(f.get("code"))))
        for i, u in enumerate(data.get("unit", [])):
            level = u.get("level", "tinh")
            key = u.get("key") or f"{level}-{i + 1}"
            units.append(Unit(key, tidy(u["name"]), level,
                              tuple(x.lower() for x in u.get("emails", [])),
                              u.get("district"), u.get("ward"), u.get("supervisor"),
                              folder=u.get("folder") or _folder_name(u["name"])))
        return cls(
            province_name=tidy(prov.get("name", "")),
            province_code=int(prov.get("code", 0)),
            cccd_prefix=str(prov.get("cccd_prefix", "")),
            cmnd_prefix=str(prov.get("cmnd_prefix", "")),
            support_phones=tuple(prov.get("support_phones", [])),
            offices=offices,
            districts=tuple(districts),
            facilities=tuple(facilities),
            units=tuple(units),
            leaders=tuple(x.lower() for x in data.get("digest", {}).get("recipients", [])),
            layouts=layouts,
        )

    # ------------------------------------------------------------------ places
    @cached_property
    def _district_index(self) -> dict[str, District]:
        idx: dict[str, District] = {}
        for d in self.districts:
            idx[fold(d.name)] = d
            idx[place_base(d.name)] = d
            idx[str(d.code)] = d
        return idx

    def district(self, code: int | None) -> District | None:
        for d in self.districts:
            if d.code == code:
                return d
        return None

    def find_district(self, text: str) -> District | None:
        if not text:
            return None
        idx = self._district_index
        return idx.get(fold(text)) or idx.get(place_base(text))

    @cached_property
    def _ward_index(self) -> dict[int, dict[str, list[Ward]]]:
        out: dict[int, dict[str, list[Ward]]] = {}
        for d in self.districts:
            idx: dict[str, list[Ward]] = {}
            for w in d.wards:
                for k in {fold(w.name), place_base(w.name), str(w.code)}:
                    idx.setdefault(k, []).append(w)
            out[d.code] = idx
        return out

    def find_wards(self, text: str, district: District | None = None) -> list[Ward]:
        """Wards matching the text, inside the district if given, else anywhere."""
        if not text:
            return []
        keys = (fold(text), place_base(text))
        scopes = [district.code] if district else [d.code for d in self.districts]
        found: list[Ward] = []
        for code in scopes:
            idx = self._ward_index[code]
            hit = idx.get(keys[0]) or idx.get(keys[1]) or []
            found.extend(w for w in hit if w not in found)
        return found

    # ------------------------------------------------------------------ facilities
    @cached_property
    def _facility_index(self) -> dict[str, list[Facility]]:
        idx: dict[str, list[Facility]] = {}
        for f in self.facilities:
            names = {f.name, *f.aliases}
            for n in names:
                idx.setdefault(_facility_key(n), []).append(f)
            if f.email:
                idx.setdefault(f.email, []).append(f)
            if f.code:  # the platform's "Mã cơ sở KCB" (the national template's column T/X)
                idx.setdefault(f.code, []).append(f)
        return idx

    def find_facilities(self, text: str) -> list[Facility]:
        if not text:
            return []
        t = text.strip().lower()
        if "@" in t:
            return list(self._facility_index.get(t, []))
        return list(dict.fromkeys(self._facility_index.get(_facility_key(text), [])))

    def find_facility(self, text: str, district: District | None = None) -> Facility | None:
        """One facility for the text, using the district to settle a clash; else None."""
        hits = self.find_facilities(text)
        if len(hits) > 1 and district is not None:
            hits = [f for f in hits if f.district_code == district.code] or hits
        if len(hits) > 1:
            # "TYT xã An Phú" vs "TYT thị trấn An Phú": the kind word the sender wrote decides
            words = f" {fold(text)} "
            for kind, marks in _WARD_KINDS:
                if any(f" {m} " in words for m in marks):
                    hits = [f for f in hits if f" {kind} " in f" {fold(f.name)} "] or hits
                    break
        return hits[0] if len(hits) == 1 else None

    # ------------------------------------------------------------------ senders
    @cached_property
    def _sender_index(self) -> tuple[dict[str, Unit], dict[str, Unit]]:
        exact: dict[str, Unit] = {}
        domains: dict[str, Unit] = {}
        for u in self.units:
            for e in u.emails:
                if e.startswith("@"):
                    domains[e[1:]] = u
                else:
                    exact[e] = u
        return exact, domains

    def unit_for_sender(self, address: str) -> Unit | None:
        """The unit of an exact address, or of a plain local part at a unit's own domain.

        Only plain addresses count (no ``%``, ``!``, quoted local parts, route syntax), and a
        domain entry covers that domain only, not its subdomains.
        """
        from .addresses import is_plain
        address = (address or "").strip().lower()
        if not is_plain(address):
            return None
        exact, domains = self._sender_index
        if address in exact:
            return exact[address]
        return domains.get(address.rsplit("@", 1)[1])

    def unit(self, key: str) -> Unit | None:
        for u in self.units:
            if u.key == key:
                return u
        return None

    def unit_for_folder(self, folder: str) -> Unit | None:
        """The unit whose shared subfolder is exactly this name (NFC). Never by folding: a
        folder "LONG XUYEN - PHUONG MY BINH" is not that ward's."""
        want = unicodedata.normalize("NFC", folder or "")
        for u in self.units:
            if u.folder and unicodedata.normalize("NFC", u.folder) == want:
                return u
        return None

    def layout_for(self, recipient_key: str) -> str:
        """"national" (default) or "canonical": the layout of workbooks forwarded to them."""
        return self.layouts.get(recipient_key, "national")

    def office(self, key: str) -> Office | None:
        return self.offices.get(key)

    def recipient_keys(self, email: str) -> set[str]:
        """Recipient keys (as routing names them) that use this address."""
        email = (email or "").strip().lower()
        keys = {o.key for o in self.offices.values() if o.email == email}
        for d in self.districts:
            keys |= {o.key for o in (d.health_centre, d.culture_office) if o.email == email}
        keys |= {f.key for f in self.facilities if f.email == email}
        return keys

    def all_addresses(self) -> set[str]:
        """Every address the directory knows (for recognising our own offices)."""
        out = {o.email for o in self.offices.values() if o.email}
        for d in self.districts:
            out |= {d.health_centre.email, d.culture_office.email}
        out |= {f.email for f in self.facilities if f.email}
        return out - {""}


LAYOUTS = ("national", "canonical")


def _layout(table: dict) -> str:
    value = str(table.get("layout", "national")).strip().lower()
    if value not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {value!r}")
    return value


def _kcb(value) -> str:
    """A facility's "Mã cơ sở KCB" as text (TOML may give it as a number)."""
    if value is None or value == "":
        return ""
    return str(value).strip()


def _short(d: "District") -> str:
    """'Thành phố Long Xuyên' → 'Long Xuyên' (the district name without its kind word)."""
    if d.kind and d.name.lower().startswith(d.kind.lower() + " "):
        return d.name[len(d.kind) + 1:]
    return d.name


def _folder_name(name: str) -> str:
    """A file-system-safe folder name for a unit, readable by staff (keeps diacritics)."""
    s = tidy(name)
    s = re.sub(r'[\\/:*?"<>|]+', "-", s)
    return s.strip(" .-")[:120]


def load_default() -> Directory:
    from .defaults import config_dir
    return Directory.load(config_dir() / "directory.toml")
