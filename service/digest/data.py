"""Gather the digest's figures for one day from the store: plain data, no words, no layout.

The digest for day D covers what was received on D (the "day" figures) and everything up to
the end of D (the "total" figures). Rows are grouped into the province's 11 districts, the
provincial units ("tinh"), the enterprises ("doanh_nghiep") and, when anything came from an
unknown sender, "khac". "Entered" is what receivers confirmed by reply ("Đã nhập 45/50"), as
recorded now; batches that nobody confirmed within ``unconfirmed_days`` of the end of D are
flagged. Silent units: no file for ``silent_days`` or more up to D; never sent: no file at all.

Every figure comes from the store's stats queries (``unit_stats`` once over the whole range,
then grouped here), so the cost does not grow with the number of people forwarded.
"""
from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..directory import Directory, District, Unit
from ..forms.issues import titles
from ..state.store import DigestStats, UnitStats

START = "0001-01-01"  # "since the start": every day the store knows
GROUP_TINH, GROUP_DN, GROUP_OTHER = "tinh", "doanh_nghiep", "khac"
TREND_DAYS = 14
TOP_ERRORS = 8  # shown in the mail; the workbook has them all
NAMES_SHOWN = 4  # names listed per group of units that never sent


@dataclass
class Counts:
    files: int = 0  # submissions: mails or dropped files (one per file when a mail has several)
    units: int = 0  # distinct units that sent at least one file
    mau1: int = 0  # people submitted on Mẫu 1
    mau2: int = 0
    forwarded_mau1: int = 0
    forwarded_mau2: int = 0
    rejected: int = 0  # rows returned to the sender for correction
    held: int = 0  # files held for the operator

    @property
    def submitted(self) -> int:
        return self.mau1 + self.mau2

    @property
    def forwarded(self) -> int:
        return self.forwarded_mau1 + self.forwarded_mau2

    def add(self, s: UnitStats) -> None:
        self.files += s.files
        self.mau1 += s.rows_mau1
        self.mau2 += s.rows_mau2
        self.forwarded_mau1 += s.forwarded_mau1
        self.forwarded_mau2 += s.forwarded_mau2
        self.rejected += s.error_rows
        self.held += s.files_held


@dataclass
class Group:
    """One line of the district table: a district, the provincial units, or enterprises."""
    key: str  # "d883", "tinh", "doanh_nghiep", "khac"
    name: str  # full name
    short: str  # for narrow tables
    district_code: int | None = None  # set for the 11 districts
    day: Counts = field(default_factory=Counts)
    total: Counts = field(default_factory=Counts)
    rows_sent: int = 0  # rows in forwarded batches (up to D)
    entered: int = 0  # rows confirmed entered in the national system
    batches: int = 0
    batches_confirmed: int = 0
    target: int | None = None
    rank: int | None = None
    units: int = 0  # units of the group in the directory
    units_reported: int = 0  # of those, units that sent at least one file up to D

    @property
    def entered_pct(self) -> float | None:
        return 100.0 * self.entered / self.rows_sent if self.rows_sent else None

    @property
    def target_pct(self) -> float | None:
        return 100.0 * self.total.forwarded / self.target if self.target else None

    @property
    def target_entered_pct(self) -> float | None:
        return 100.0 * self.entered / self.target if self.target else None


@dataclass
class UnitRow:
    key: str
    name: str
    group: str  # group key
    group_name: str
    level: str
    total: Counts = field(default_factory=Counts)
    entered: int = 0
    rows_sent: int = 0
    last_day: date | None = None  # day of the last file up to D
    silent_days: int | None = None  # days since then (None: never sent)


@dataclass
class TrendDay:
    day: date
    files: int = 0  # submissions: mails or dropped files (one per file when a mail has several)
    submitted: int = 0
    forwarded: int = 0
    rejected: int = 0


@dataclass
class ErrorLine:
    code: str
    label: str
    day: int
    total: int


@dataclass
class RecipientLine:
    key: str
    name: str
    batches_day: int = 0
    rows_day: int = 0
    batches: int = 0
    rows: int = 0
    entered: int = 0
    unconfirmed_batches: int = 0


@dataclass
class StaleLine:
    recipient: str
    name: str
    batches: int
    rows: int
    oldest_code: str
    oldest_day: date
    days: int  # days from the oldest one's day to D


@dataclass
class NeverGroup:
    group: str
    name: str
    count: int
    of: int  # units of the group in the directory
    names: list[str]  # the first few


@dataclass
class SilentLine:
    name: str
    group_name: str
    last_day: date
    days: int


@dataclass
class Figures:
    day: date
    first_day: date | None  # first day with any file (None: nothing yet)
    generated_at: datetime
    silent_days: int
    unconfirmed_days: int
    groups: list[Group]  # districts in rank order, then tinh, doanh_nghiep, khac
    districts_have_targets: bool
    day_total: Counts
    total: Counts
    rows_sent: int
    entered: int
    trend: list[TrendDay]
    errors: list[ErrorLine]  # all codes, most common first (by the day's count, then the total)
    error_rows_day: int
    error_rows_total: int
    held_day: dict[str, int]  # kind → held items created on D
    held_open: int
    held_labels: dict[str, str]
    held_dropped: int  # unknown-sender messages dropped on D to keep the held folder under its cap
    recipients: list[RecipientLine]
    stale: list[StaleLine]
    never: list[NeverGroup]
    never_count: int
    silent: list[SilentLine]
    units: list[UnitRow]
    unit_count: int

    @property
    def entered_pct(self) -> float | None:
        return 100.0 * self.entered / self.rows_sent if self.rows_sent else None

    @property
    def stale_batches(self) -> int:
        return sum(s.batches for s in self.stale)

    @property
    def stale_rows(self) -> int:
        return sum(s.rows for s in self.stale)

    @property
    def districts(self) -> list[Group]:
        return [g for g in self.groups if g.district_code is not None]

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (dates stay ``date``): the dataclass fields plus the derived figures."""
        out = asdict(self)
        out["entered_pct"] = self.entered_pct
        out["stale_batches"] = self.stale_batches
        out["stale_rows"] = self.stale_rows
        for key in ("day_total", "total"):
            c: Counts = getattr(self, key)
            out[key].update(submitted=c.submitted, forwarded=c.forwarded)
        for g, d in zip(self.groups, out["groups"]):
            d.update(entered_pct=g.entered_pct, target_pct=g.target_pct)
            for key in ("day", "total"):
                c = getattr(g, key)
                d[key].update(submitted=c.submitted, forwarded=c.forwarded)
        return out


# ---------------------------------------------------------------------------- labels


def load_labels(templates: Path) -> dict[str, dict[str, str]]:
    """Short Vietnamese names of error codes (the issue types' titles) and of held kinds
    (mail_templates/digest_labels.toml)."""
    path = Path(templates) / "digest_labels.toml"
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        data = {}
    return {"errors": titles(), "held": dict(data.get("held", {}))}


def short_district(d: District) -> str:
    """'Thành phố Long Xuyên' → 'TP. Long Xuyên'; 'Huyện An Phú' → 'An Phú'."""
    for long, short in (("Thành phố ", "TP. "), ("Thị xã ", "TX. "), ("Huyện ", "")):
        if d.name.startswith(long):
            return short + d.name[len(long):]
    return d.name


# ---------------------------------------------------------------------------- grouping


class _Groups:
    """Which digest group a unit, or an unknown unit in a known district, belongs to."""

    NAMES = {GROUP_TINH: ("Các sở, ban, ngành cấp tỉnh", "Cấp tỉnh"),
             GROUP_DN: ("Doanh nghiệp", "Doanh nghiệp"),
             GROUP_OTHER: ("Chưa xác định đơn vị", "Chưa xác định")}

    def __init__(self, directory: Directory):
        self.directory = directory
        self.units = {u.key: u for u in directory.units}
        self.districts = {d.code: d for d in directory.districts}

    def key(self, unit_key: str | None, district_code: int | None) -> str:
        u = self.units.get(unit_key or "")
        if u is not None:
            if u.level == "tinh":
                return GROUP_TINH
            if u.level == "doanh_nghiep":
                return GROUP_DN
            district_code = u.district_code or district_code
        if district_code in self.districts:
            return f"d{district_code}"
        return GROUP_OTHER

    def unit_group(self, u: Unit) -> str:
        return self.key(u.key, u.district_code)

    def name(self, key: str) -> tuple[str, str, int | None]:
        if key.startswith("d") and key[1:].isdigit():
            d = self.districts[int(key[1:])]
            return d.name, short_district(d), d.code
        return (*self.NAMES[key], None)


def _recipient_names(directory: Directory) -> dict[str, str]:
    """Recipient key or address → the name people know it by."""
    names: dict[str, str] = {}
    for o in directory.offices.values():
        names[o.key] = o.name
        if o.email:
            names.setdefault(o.email, o.name)
    for d in directory.districts:
        for o in (d.health_centre, d.culture_office):
            names[o.key] = o.name
            if o.email:
                names.setdefault(o.email, o.name)
    for f in directory.facilities:
        names.setdefault(f.key, f.name)
        if f.email:
            names.setdefault(f.email, f.name)
    return names


def day_start(day: date, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(0), tz).timestamp()


# ---------------------------------------------------------------------------- gather


def gather(directory: Directory, store: DigestStats, day: date, *, tz: ZoneInfo,
           labels: dict[str, dict[str, str]] | None = None, silent_days: int = 3,
           unconfirmed_days: int = 2, now: datetime | None = None) -> Figures:
    labels = labels or {"errors": {}, "held": {}}
    groups_of = _Groups(directory)
    d_iso = day.isoformat()
    trend_from = day - timedelta(days=TREND_DAYS - 1)

    # -- one pass over the per-day, per-unit stats since the start
    stats = store.unit_stats(START, day)
    groups: dict[str, Group] = {}

    def group(key: str) -> Group:
        if key not in groups:
            groups[key] = Group(key, *groups_of.name(key))
        return groups[key]

    for d in directory.districts:
        group(f"d{d.code}").target = d.target
    for key in (GROUP_TINH, GROUP_DN):
        group(key)

    units: dict[str, UnitRow] = {}
    for u in directory.units:
        gk = groups_of.unit_group(u)
        units[u.key] = UnitRow(u.key, u.name, gk, group(gk).name, u.level)
        group(gk).units += 1

    trend = {trend_from + timedelta(days=i): TrendDay(trend_from + timedelta(days=i))
             for i in range(TREND_DAYS)}
    day_total, total = Counts(), Counts()
    units_day: dict[str, set[str]] = defaultdict(set)
    units_all: dict[str, set[str]] = defaultdict(set)
    first_day: str | None = None
    for s in stats:
        gk = groups_of.key(s.unit_key, s.district_code)
        g = group(gk)
        g.total.add(s)
        total.add(s)
        if s.files:
            first_day = s.day if first_day is None or s.day < first_day else first_day
            if s.unit_key:
                units_all[gk].add(s.unit_key)
        if s.unit_key:
            row = units.get(s.unit_key)
            if row is None:  # a unit no longer in the directory
                row = units[s.unit_key] = UnitRow(s.unit_key, s.unit_key, gk, g.name, "")
            row.total.add(s)
        if s.day == d_iso:
            g.day.add(s)
            day_total.add(s)
            if s.unit_key and s.files:
                units_day[gk].add(s.unit_key)
        t = trend.get(date.fromisoformat(s.day))
        if t is not None:
            t.files += s.files
            t.submitted += s.rows_mau1 + s.rows_mau2
            t.forwarded += s.forwarded_mau1 + s.forwarded_mau2
            t.rejected += s.error_rows
    for gk, g in groups.items():
        g.day.units = len(units_day.get(gk, ()))
        g.total.units = len(units_all.get(gk, ()))
    day_total.units = sum(len(v) for v in units_day.values())
    total.units = sum(len(v) for v in units_all.values())

    # -- entered (confirmed by the receivers) vs sent, per group and unit
    rows_sent = entered = 0
    for c in store.confirmation_totals(day):
        g = group(groups_of.key(c.unit_key, c.district_code))
        g.rows_sent += c.rows_sent
        g.entered += c.rows_confirmed
        g.batches += c.batches
        g.batches_confirmed += c.batches_confirmed
        rows_sent += c.rows_sent
        entered += c.rows_confirmed
        if c.unit_key in units:
            units[c.unit_key].rows_sent += c.rows_sent
            units[c.unit_key].entered += c.rows_confirmed

    # -- ranking of the districts
    districts = [groups[f"d{d.code}"] for d in directory.districts]
    with_targets = bool(districts) and all(g.target for g in districts)
    if with_targets:
        ranked = sorted(districts, key=lambda g: (-(g.target_pct or 0), -g.entered))
    else:  # sorted() is stable: ties keep the directory's order
        ranked = sorted(districts, key=lambda g: (-g.total.forwarded, -g.entered))
    for i, g in enumerate(ranked, 1):
        g.rank = i
    order = ranked + [groups[k] for k in (GROUP_TINH, GROUP_DN)]
    if GROUP_OTHER in groups:
        order.append(groups[GROUP_OTHER])

    # -- errors
    err_day = store.error_stats(day, day)
    err_all = store.error_stats(START, day)
    errors = [ErrorLine(code, labels["errors"].get(code, code), err_day.get(code, 0), n)
              for code, n in err_all.items()]
    errors.sort(key=lambda e: (-e.day, -e.total, e.code))

    # -- held items
    held_day = store.held_stats(day, day)
    held_open = held_day.pop("open", 0)
    counted = getattr(store, "count_replies", None)  # the store's daily counters (pipeline.held_cap)
    held_dropped = counted("held-dropped", day) if counted else 0

    # -- recipients
    names = _recipient_names(directory)
    recips: dict[str, RecipientLine] = {}
    for r in store.recipient_stats(START, day):
        recips[r.recipient] = RecipientLine(r.recipient, names.get(r.recipient, r.recipient),
                                            batches=r.batches, rows=r.rows_sent or 0,
                                            entered=r.rows_confirmed or 0,
                                            unconfirmed_batches=r.unconfirmed_batches or 0)
    for r in store.recipient_stats(day, day):
        line = recips.setdefault(r.recipient, RecipientLine(r.recipient, names.get(r.recipient, r.recipient)))
        line.batches_day, line.rows_day = r.batches, r.rows_sent or 0
    recipients = sorted((r for r in recips.values() if r.rows or r.rows_day),
                        key=lambda r: (-r.rows_day, -r.rows, r.name))

    # -- batches nobody confirmed in time
    tz_day_end = day_start(day + timedelta(days=1), tz)
    stale = []
    for s in store.stale_batches(tz_day_end - unconfirmed_days * 86400.0, day):
        sent_day = datetime.fromtimestamp(s.oldest_sent, tz).date()
        stale.append(StaleLine(s.recipient, names.get(s.recipient, s.recipient), s.batches,
                               s.rows_sent or 0, s.oldest_code, sent_day, (day - sent_day).days))

    # -- who never sent, who went silent
    last = store.last_submission_by_unit(day)
    never_by_group: dict[str, list[str]] = defaultdict(list)
    silent: list[SilentLine] = []
    for u in directory.units:
        row = units[u.key]
        ts = last.get(u.key)
        if ts is None:
            never_by_group[row.group].append(u.name)
            continue
        row.last_day = datetime.fromtimestamp(ts, tz).date()
        row.silent_days = (day - row.last_day).days
        if row.silent_days >= silent_days:
            silent.append(SilentLine(u.name, group(row.group).short, row.last_day, row.silent_days))
    silent.sort(key=lambda s: (-s.days, s.group_name, s.name))
    never = [NeverGroup(g.key, g.short, len(never_by_group[g.key]), g.units,
                        never_by_group[g.key][:NAMES_SHOWN])
             for g in order if never_by_group.get(g.key)]
    for g in order:
        g.units_reported = g.units - len(never_by_group.get(g.key, ()))

    return Figures(
        day=day, first_day=date.fromisoformat(first_day) if first_day else None,
        generated_at=now or datetime.now(tz), silent_days=silent_days,
        unconfirmed_days=unconfirmed_days, groups=order, districts_have_targets=with_targets,
        day_total=day_total, total=total, rows_sent=rows_sent, entered=entered,
        trend=list(trend.values()), errors=errors,
        error_rows_day=day_total.rejected, error_rows_total=total.rejected,
        held_day=held_day, held_open=held_open, held_labels=labels["held"], held_dropped=held_dropped,
        recipients=recipients, stale=stale, never=never,
        never_count=sum(n.count for n in never), silent=silent,
        units=sorted(units.values(), key=lambda r: (_group_order(r.group, order), r.name)),
        unit_count=len(directory.units),
    )


def _group_order(key: str, order: list[Group]) -> int:
    for i, g in enumerate(order):
        if g.key == key:
            return i
    return len(order)

