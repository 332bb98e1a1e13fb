"""Checks across the dose columns of one row (Mẫu 2).

- dose 2 on or before dose 1 is an error ("dose2-before-dose1");
- dose 2 sooner than the minimum interval is an error; an interval exactly equal to the
  minimum is valid. Minimums come from config/vaccines.toml; with mixed vaccines the larger
  of the two minimums applies (the safer reading of the 2021 mixing guidance);
- Janssen is a single dose: a dose 2 after Janssen, or a dose 2 of Janssen, is an error;
- dose 2 filled while dose 1's date and vaccine are both empty is an error (unless the empty
  cells are already reported as required);
- dose 2 with a date but no vaccine (or the reverse) is a warning.
Only cells that parsed without error take part.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from .. import issues as I
from ..issues import ddmmyyyy
from .config import vaccine

DOSE2_FIELDS = ("dose2_date", "dose2_vaccine", "dose2_lot", "dose2_facility")

# (field the issue is reported on, (IssueType, extras))
Found = list[tuple[str, tuple]]


def cross_check(values: dict[str, Any], bad: set[str], headers: dict[str, str]) -> Found:
    out: Found = []
    get = values.get
    d1, d2 = get("dose1_date"), get("dose2_date")
    d1 = d1 if isinstance(d1, date) and "dose1_date" not in bad else None
    d2 = d2 if isinstance(d2, date) and "dose2_date" not in bad else None
    v1 = vaccine(get("dose1_vaccine")) if "dose1_vaccine" not in bad else None
    v2 = vaccine(get("dose2_vaccine")) if "dose2_vaccine" not in bad else None
    dose2_filled = [f for f in DOSE2_FIELDS if get(f) is not None]
    if not dose2_filled:
        return out
    if get("dose1_date") is None and get("dose1_vaccine") is None \
            and "dose1_date" not in bad and "dose1_vaccine" not in bad:
        out.append((dose2_filled[0], (I.DOSE2_WITHOUT_DOSE1, I_NONE)))
    where = "dose2_vaccine" if get("dose2_vaccine") is not None else dose2_filled[0]
    if (v1 is not None and v1.doses == 1) or (v2 is not None and v2.doses == 1):
        out.append((where, (I.JANSSEN_SECOND_DOSE, I_NONE)))
    elif d1 is not None and d2 is not None:
        if d2 <= d1:
            out.append(("dose2_date", (I.DOSE2_BEFORE_DOSE1,
                                       {"dose1": ddmmyyyy(d1), "dose2": ddmmyyyy(d2)})))
        else:
            rule = max((v for v in (v1, v2) if v is not None and v.min_interval_days),
                       key=lambda v: v.min_interval_days, default=None)
            days = (d2 - d1).days
            if rule is not None and days < rule.min_interval_days:
                out.append(("dose2_date", (I.DOSE_INTERVAL_TOO_SHORT, {
                    "dose1": ddmmyyyy(d1), "dose2": ddmmyyyy(d2), "days": days,
                    "vaccine": rule.name, "min_days": rule.min_interval_days})))
    date_given = get("dose2_date") is not None
    vaccine_given = get("dose2_vaccine") is not None
    if date_given != vaccine_given and "dose2_date" in headers and "dose2_vaccine" in headers:
        empty, other = ("dose2_vaccine", "dose2_date") if date_given else ("dose2_date", "dose2_vaccine")
        out.append((empty, (I.DOSE2_INCOMPLETE, {"other_header": headers[other]})))
    return out


I_NONE: dict = {}
