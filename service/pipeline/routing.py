"""The notice's routing table (config/routing.toml) applied to one checked file.

Pure: a report, the sending unit and the directory in, deliveries out. No mail, no state.
"""
from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..directory import Directory, Unit
from ..forms.model import Record


@dataclass(frozen=True)
class Recipient:
    key: str  # stable: office key, "ttyt-883", facility key…
    name: str
    email: str


@dataclass(frozen=True)
class Rule:
    name: str
    form: str
    levels: tuple[str, ...]
    to: str
    cc: tuple[str, ...]


@dataclass
class Delivery:
    to: Recipient
    cc: list[Recipient]
    records: list[Record]
    rule: str
    form: str | None = None  # the form of these rows (a national-layout file may hold both)


@dataclass
class Routed:
    deliveries: list[Delivery] = field(default_factory=list)
    unroutable: list[tuple[Record, str]] = field(default_factory=list)  # (record, reason code)
    problem: str | None = None  # the whole file cannot be routed: reason code


def load_rules(path: Path) -> list[Rule]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return [Rule(r.get("name", ""), r["form"], tuple(r.get("levels", ())), r["to"], tuple(r.get("cc", ())))
            for r in data.get("rule", [])]


def _rule_for(rules: list[Rule], form: str, unit: Unit) -> Rule | None:
    for r in rules:
        if r.form == form and (not r.levels or unit.level in r.levels):
            return r
    return None


def _resolve(target: str, unit: Unit, d: Directory) -> Recipient | None:
    kind, _, arg = target.partition(":")
    if kind == "office":
        o = d.office(arg)
        return Recipient(o.key, o.name, o.email) if o and o.email else None
    if kind == "district":
        dist = d.district(unit.district_code)
        if dist is None:
            return None
        o = getattr(dist, arg, None)
        return Recipient(o.key, o.name, o.email) if o and o.email else None
    if kind == "supervisor":
        o = d.office(unit.supervisor or "")
        return Recipient(o.key, o.name, o.email) if o and o.email else None
    return None


def route(form: str, records: list[Record], unit: Unit, d: Directory, rules: list[Rule]) -> Routed:
    """Split the accepted records of one file into deliveries."""
    out = Routed()
    rule = _rule_for(rules, form, unit)
    if rule is None:
        out.problem = "no-rule"
        return out
    cc = []
    for target in rule.cc:
        r = _resolve(target, unit, d)
        if r is None:
            out.problem = "no-copy-recipient"
            return out
        cc.append(r)
    if rule.to.startswith("row:"):
        fld = rule.to.split(":", 1)[1]
        groups: dict[str, list[Record]] = defaultdict(list)
        by_key = {f.key: f for f in d.facilities}
        for rec in records:
            fac = by_key.get(rec.values.get(f"{fld}_key") or "")
            if fac is None:
                out.unroutable.append((rec, "unknown-facility"))
            elif not fac.email:
                out.unroutable.append((rec, "facility-no-address"))
            else:
                groups[fac.key].append(rec)
        for key, recs in groups.items():
            fac = by_key[key]
            out.deliveries.append(Delivery(Recipient(fac.key, fac.name, fac.email),
                                           [c for c in cc if c.email != fac.email], recs, rule.name, form))
        return out
    to = _resolve(rule.to, unit, d)
    if to is None:
        out.problem = "no-recipient"
        return out
    if records:
        out.deliveries.append(Delivery(to, cc, list(records), rule.name, form))
    return out


def route_by_row_form(default_form: str, records: list[Record], unit: Unit, d: Directory,
                      rules: list[Rule]) -> Routed:
    """Route rows by their own form when they carry one (the national layout: registrations
    by the Mẫu 1 rule, dosed rows by the Mẫu 2 rule), else all by the file's form."""
    forms = {rec.form for rec in records if rec.form}
    if not forms:
        return route(default_form, records, unit, d, rules)
    out = Routed()
    for form in ("mau1", "mau2"):
        part = [rec for rec in records if (rec.form or default_form) == form]
        if not part:
            continue
        r = route(form, part, unit, d, rules)
        if r.problem:
            return Routed(problem=r.problem)  # as for any file: held whole for the operator
        out.deliveries += r.deliveries
        out.unroutable += r.unroutable
    return out
