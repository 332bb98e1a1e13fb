"""Generate realistic An Giang Mẫu 1 / Mẫu 2 workbooks with a ground truth.

    from bench.gen_forms import generate, Style
    truth = generate("/tmp/m2.xlsx", form="mau2", rows=1000, seed=3,
                     style=Style(title=True, merged_header=True), errors=0.05)

    python -m bench.gen_forms --form mau2 --rows 100000 --out /tmp/m2.xlsx [--errors 0.05]

People are plausible residents of An Giang (Vietnamese, Khmer and Cham names; CCCD numbers
consistent with birth year and sex; phones valid for ``phonenumbers``; districts, wards and
facilities from the shipped directory, written the many ways people write them). ``Style``
flags reproduce the shapes real files arrive in. ``errors`` injects one error into that
share of rows and ``repairs`` one repairable value; ``Truth`` lists both with Excel row
numbers. Clean rows are valid under SPEC.md's rules: a checker that reports anything on
them is wrong (or the spec is ambiguous: see bench/README.md).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import sys
import time
import tomllib
import unicodedata
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.defaults import config_dir
from service.directory import Directory, load_default
from service.textnorm import fold, tidy

from service.forms.xlsx_writer import Cell, SheetSpec, Style as CellStyle, write_xlsx

# ---------------------------------------------------------------------------- style


@lru_cache(maxsize=None)
def _cell_style(font: str | None, bold: bool) -> CellStyle:
    """One shared cell style per (font name, bold): the writer looks styles up by identity."""
    return CellStyle(font=font, bold=bold)


@dataclass
class Style:
    """How the file looks. Every flag is independent; ``Style.random`` mixes them."""
    fmt: str = "xlsx"  # "xlsx" | "xls" | "csv"
    csv_encoding: str = "utf-8-sig"  # or "cp1258"
    title: bool = False  # national motto, unit, title and date above the header
    merged_header: bool = False  # header over two rows, "Mũi 1" merged over its parts
    number_row: bool = False  # "1 2 3 …" under the header
    signature: bool = False  # total, "Người lập biểu", "Thủ trưởng đơn vị" below the data
    blank_rows: bool = False  # empty rows inside the data
    synonyms: bool = False  # header synonyms/abbreviations instead of the plain labels
    shuffle: bool = False  # column order shuffled
    extra_columns: bool = False  # columns the form does not know
    drop_optional: bool = False  # leave out some optional columns
    upper_headers: bool = False
    nfd: bool = False  # every string in NFD
    numeric_ids: bool = False  # ID numbers and phones typed as numbers (leading zero lost)
    dates: str = "date"  # "date" | "text" | "dash" | "dot" | "serial" | "mixed"
    birth_years: bool = False  # some elderly people's dob as a bare year
    instruction_sheet: bool = False  # a "Hướng dẫn" sheet before the form
    summary_sheet: bool = False  # a non-form "Tổng hợp" sheet after the form
    legacy: str | None = None  # None | "tcvn3" | "vni": text in .VnTime / VNI-Times fonts

    @classmethod
    def random(cls, rng: random.Random, fmt: str | None = None) -> "Style":
        fmt = fmt or rng.choices(["xlsx", "xls", "csv"], [8, 2, 1])[0]
        s = cls(fmt=fmt)
        for f in ("title", "merged_header", "number_row", "signature", "blank_rows", "synonyms",
                  "shuffle", "extra_columns", "drop_optional", "upper_headers", "birth_years",
                  "instruction_sheet", "summary_sheet"):
            setattr(s, f, rng.random() < 0.4)
        s.nfd = rng.random() < 0.15
        s.numeric_ids = rng.random() < 0.3
        s.dates = rng.choice(["date", "date", "text", "dash", "dot", "serial", "mixed"])
        if fmt == "csv":
            s.csv_encoding = rng.choice(["utf-8-sig", "utf-8-sig", "cp1258"])
        elif not s.nfd and rng.random() < 0.15:
            s.legacy = rng.choice(["tcvn3", "tcvn3", "vni"])
        return s.normalised()

    def normalised(self) -> "Style":
        """Drop combinations that cannot exist in that format."""
        if self.fmt == "csv":
            self.instruction_sheet = self.summary_sheet = False
            self.legacy = None
            self.numeric_ids = False  # a CSV has no number type: "89123456789" is just text
            if self.dates == "date" or self.dates == "serial":
                self.dates = "text"
        if self.legacy:
            self.nfd = False
        return self

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------- truth


@dataclass
class Truth:
    """What a perfect checker reports for the file.

    ``errors``: {row, field, kind, also?, optional?} — ``row`` is the Excel row; ``also``
    lists other fields where a checker may fairly report the same fault (a CCCD/gender
    mismatch can be reported on either); ``optional`` errors (the first row of a duplicate
    pair) are not required but are not false either. ``fixes``: {row, field, to, kind}.
    ``rows``: the exact number of data rows (people); None when not a form.
    """
    file: str
    form: str | None
    rows: int | None
    sheet: str | None = None
    unreadable: bool = False
    errors: list[dict] = field(default_factory=list)
    fixes: list[dict] = field(default_factory=list)
    style: dict = field(default_factory=dict)
    header_rows: list[int] = field(default_factory=list)  # Excel rows of the header
    columns: dict[str, str] = field(default_factory=dict)  # field → column letter

    def as_json(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------- people

FAMILY = [("Nguyễn", 31), ("Trần", 11), ("Lê", 9), ("Phạm", 6), ("Huỳnh", 6), ("Võ", 5),
          ("Phan", 4), ("Trương", 2), ("Bùi", 2), ("Đặng", 2), ("Đỗ", 2), ("Ngô", 2), ("Hồ", 2),
          ("Dương", 2), ("Lý", 2), ("Đinh", 1), ("Lâm", 1), ("Châu", 1), ("Thái", 1), ("Tô", 1),
          ("Mai", 1), ("Quách", 1), ("Đoàn", 1), ("Hoàng", 1), ("La", 1), ("Kim", 1), ("Thạch", 1)]
_FAMILY_NAMES = [f for f, _ in FAMILY]
_FAMILY_CUM = list(itertools.accumulate(w for _, w in FAMILY))
_GROUPS = list(range(1, 17))
_GROUP_CUM = list(itertools.accumulate([3, 2, 2, 3, 2, 2, 4, 2, 3, 2, 2, 6, 8, 3, 2, 10]))
MIDDLE_M = ["Văn", "Văn", "Văn", "Hữu", "Minh", "Quốc", "Thanh", "Công", "Đức", "Hoàng", "Tấn", "Phước", "Thành"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thanh", "Kim", "Thu", "Mỹ", "Hồng", "Bích", "Thúy", "Diễm", "Phương"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hùng", "Hải", "Long", "Minh", "Nam", "Phong", "Phúc",
           "Quang", "Sơn", "Tài", "Thành", "Tuấn", "Vinh", "Khoa", "Lộc", "Tâm", "Trí", "Hiếu",
           "Nghĩa", "Toàn", "Khánh", "Hòa", "Thắng", "Lợi", "Tùng", "Nhân", "Đạt", "Duy", "Kiệt"]
GIVEN_F = ["Anh", "Ánh", "Châu", "Diễm", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh",
           "Mai", "Ngân", "Nhung", "Oanh", "Phượng", "Thảo", "Trang", "Trinh", "Tuyết", "Vân",
           "Yến", "Loan", "Xuân", "Thủy", "Hằng", "Nga", "Liên", "Lệ", "My", "Nhi", "Huệ"]
KHMER_M = ["Chau Sóc Kha", "Chau Sang", "Chau Ty", "Chau Phích", "Chau Sóc Thonl", "Chau Kim Sen"]
KHMER_F = ["Néang Sa Ly", "Néang Chanh Thi", "Néang Sóc Pha", "Néang Ni", "Néang Sa Phi"]
CHAM_M = ["Mohamad Sa Ly", "Ha Sanh", "Sa Ri Ya", "Mu Ha Mách"]
CHAM_F = ["Ma Ry Am", "Ha Li Mah", "Sa Phi Dah", "Fa Ti Mah"]
OCCUPATIONS = ["Nông dân", "Công nhân", "Giáo viên", "Buôn bán", "Nội trợ", "Học sinh", "Sinh viên",
               "Cán bộ", "Công chức", "Viên chức", "Tài xế", "Thợ hồ", "Hưu trí", "Tự do",
               "Kinh doanh", "Bác sĩ", "Điều dưỡng", "Làm thuê", "Thợ may", "Bộ đội"]
WORKPLACES = ["UBND {ward}", "Trường THCS {base}", "Trường Tiểu học {base} A", "Chợ {base}",
              "Công ty CP Xuất nhập khẩu Thủy sản An Giang", "Công ty TNHH MTV Xổ số kiến thiết An Giang",
              "Công an {ward}", "Trạm Y tế {ward}", "Hợp tác xã nông nghiệp {base}", "Tự do", ""]
BHYT_KINDS = ["GD", "GD", "GD", "HT", "DN", "HC", "HN", "CN", "BT", "NO", "XN", "CK", "HS", "SV", "CB"]
HAMLETS = ["Bình Hòa", "Long Hòa", "Mỹ Hòa", "Tân Lợi", "Phú Hiệp", "Đông Bình", "Tây Bình",
           "Hòa Thạnh", "Thạnh Lợi", "Vĩnh Phú", "An Thạnh", "Trung Bình", "Long Thạnh",
           "Phú Thượng", "Hòa Long", "Bình Đông", "Mỹ Thuận", "Tân Phú", "Kiến Hưng", "Vĩnh Lợi"]

# Vaccines: canonical name → (weight, written variants, minimum interval in days or None)
VACCINES = {
    "AstraZeneca": (70, ["AstraZeneca", "AstraZeneca", "AZ", "Astra", "Astrazeneca", "ASTRAZENECA",
                         "Covishield", "Vaxzevria", "Astra Zeneca"], 28),
    "Sinopharm": (14, ["Vero Cell", "Vero Cell", "Verocell", "Sinopharm", "VeroCell", "Vero-Cell"], 21),
    "Moderna": (7, ["Moderna", "Moderna", "Spikevax"], 28),
    "Pfizer": (6, ["Pfizer", "Pfizer", "Pfizer-BioNTech", "Comirnaty", "Pfizer BioNTech"], 21),
    "Hayat-Vax": (1, ["Hayat-Vax", "Hayat Vax"], 21),
    "Sputnik V": (1, ["Sputnik V", "Sputnik-V"], 21),
    "Abdala": (0.5, ["Abdala"], 14),
    "Janssen": (0.5, ["Janssen"], None),
}
LOT_PATTERNS = {
    "AstraZeneca": ["ABV{4}", "ABW{4}", "NJ{4}", "MT{4}", "A{4}", "4120Z{3}"],
    "Sinopharm": ["2021{2}{1}B{3}", "202106A{4}", "202107{4}"],
    "Moderna": ["30021{2}", "0{2}C21A", "940{3}"],
    "Pfizer": ["FF{4}", "FE{4}", "FD{4}"],
    "Hayat-Vax": ["HY{5}"], "Sputnik V": ["II-{6}"], "Abdala": ["AB{4}"], "Janssen": ["XD{5}"],
}
UNKNOWN_VACCINES = ["Covaxin", "Nanocovax", "Corbevax", "ZF2001", "Novavax"]
UNKNOWN_FACILITIES = ["Phòng khám Đa khoa Hạnh Phúc", "Bệnh viện Chợ Rẫy", "Trạm Y tế xã Mỹ Xương",
                      "Bệnh viện Nhi Đồng 1", "TTYT huyện Cao Lãnh", "Điểm tiêm lưu động số 7"]
UNKNOWN_DISTRICTS = ["Huyện Cao Lãnh", "Huyện Lai Vung", "Quận Thốt Nốt", "Huyện Hòn Đất",
                     "Huyện ABC", "Thành phố Sa Đéc"]

DOSE_START = date(2021, 3, 8)
DOSE1_LAST = date(2021, 8, 20)
FILE_DATE = date(2021, 8, 25)  # the files "were compiled" at the end of August 2021

# Phone conversion of 2018: new 3-digit prefix → old 4-digit prefix (SPEC).
_OLD_PREFIX = {f"03{d}": f"016{d}" for d in "23456789"}
_OLD_PREFIX.update({"070": "0120", "079": "0121", "077": "0122", "076": "0126", "078": "0128",
                    "083": "0123", "084": "0124", "085": "0125", "081": "0127", "082": "0129",
                    "056": "0186", "058": "0188", "059": "0199"})

# ---------------------------------------------------------------------------- headers

HEADERS: dict[str, list[str]] = {
    "stt": ["STT", "TT", "Số TT", "Số thứ tự"],
    "full_name": ["Họ và tên", "Họ tên", "Họ và tên người được tiêm", "Họ tên người được tiêm",
                  "Họ và tên người đăng ký", "Họ và tên công dân"],
    "dob": ["Ngày sinh", "Ngày tháng năm sinh", "Năm sinh", "Ngày sinh (dd/mm/yyyy)",
            "Ngày, tháng, năm sinh", "Sinh ngày"],
    "gender": ["Giới tính", "Nam/Nữ", "Giới", "Phái", "Giới tính (Nam/Nữ)"],
    "priority_group": ["Nhóm ưu tiên", "Nhóm đối tượng", "Đối tượng", "Nhóm",
                       "Đối tượng ưu tiên", "Nhóm ưu tiên (theo QĐ 3355)"],
    "occupation": ["Nghề nghiệp", "Nghề", "Công việc"],
    "workplace": ["Đơn vị công tác", "Nơi công tác", "Cơ quan/Đơn vị", "Nơi làm việc"],
    "phone": ["Số điện thoại", "SĐT", "Điện thoại", "Số ĐT", "ĐTDĐ", "SĐT liên hệ"],
    "id_number": ["Số CMND/CCCD", "CMND/CCCD", "CMND/CCCD/Hộ chiếu", "Số định danh cá nhân",
                  "Số CCCD/CMND", "Số CMT", "Số CMND/CCCD/Hộ chiếu"],
    "insurance_number": ["Số thẻ BHYT", "Mã thẻ BHYT", "Thẻ BHYT", "BHYT", "Số thẻ bảo hiểm y tế"],
    "ethnicity": ["Dân tộc"],
    "nationality": ["Quốc tịch"],
    "province": ["Tỉnh/Thành phố", "Tỉnh", "Tỉnh/TP"],
    "district": ["Quận/Huyện", "Huyện", "Huyện/Thị xã/Thành phố", "Huyện/TX/TP", "Huyện/Thị"],
    "ward": ["Xã/Phường", "Xã/Phường/Thị trấn", "Phường/Xã", "Xã", "Xã/Phường/TT"],
    "address": ["Địa chỉ", "Địa chỉ chi tiết", "Ấp/Khóm", "Nơi ở hiện nay", "Số nhà, ấp/khóm",
                "Tổ/Ấp/Khóm"],
    "note": ["Ghi chú"],
}
DOSE_GROUPS = {1: ["Mũi 1", "Mũi thứ nhất", "Tiêm mũi 1", "Thông tin mũi 1", "Đã tiêm mũi 1"],
               2: ["Mũi 2", "Mũi thứ hai", "Tiêm mũi 2", "Thông tin mũi 2", "Đã tiêm mũi 2"]}
DOSE_PARTS = {"date": ["Ngày tiêm", "Ngày", "Thời gian tiêm", "Ngày tháng tiêm"],
              "vaccine": ["Tên vắc xin", "Loại vắc xin", "Vắc xin", "Tên vaccine", "Loại vaccine"],
              "lot": ["Số lô", "Lô", "Số lô vắc xin"],
              "facility": ["Nơi tiêm", "Cơ sở tiêm", "Địa điểm tiêm", "Cơ sở tiêm chủng", "Đơn vị tiêm"]}
EXTRA_HEADERS = [("Email", lambda r, p: ""), ("Tiền sử dị ứng", lambda r, p: r.choice(["Không", "Không", "", "Có"])),
                 ("Mã hộ gia đình", lambda r, p: f"89{r.randrange(10**8):08d}"),
                 ("Ký tên", lambda r, p: ""), ("Tình trạng", lambda r, p: r.choice(["Đã đăng ký", ""]))]

MAU1_FIELDS = ["stt", "full_name", "dob", "gender", "priority_group", "occupation", "workplace",
               "phone", "id_number", "insurance_number", "ethnicity", "nationality", "province",
               "district", "ward", "address", "note"]
MAU2_FIELDS = ["stt", "full_name", "dob", "gender", "priority_group", "occupation", "phone",
               "id_number", "insurance_number", "province", "district", "ward", "address",
               "dose1_date", "dose1_vaccine", "dose1_lot", "dose1_facility",
               "dose2_date", "dose2_vaccine", "dose2_lot", "dose2_facility", "note"]
OPTIONAL = {"stt", "occupation", "workplace", "insurance_number", "ethnicity", "nationality",
            "province", "address", "note", "dose1_lot", "dose2_lot"}
REQUIRED = {"mau1": ["full_name", "dob", "gender", "priority_group", "phone", "id_number", "district", "ward"],
            "mau2": ["full_name", "dob", "gender", "phone", "id_number", "district", "ward",
                     "dose1_date", "dose1_vaccine", "dose1_facility"]}

# ---------------------------------------------------------------------------- directory pools


@dataclass
class _Place:
    district: Any
    ward: Any
    district_texts: list[str]
    ward_texts: list[str]
    facilities: list[tuple[Any, list[str]]]  # (facility, written variants), local first

    def __post_init__(self):
        self.local = [fv for fv in self.facilities if fv[0].key.startswith(("tyt", "ttyt"))]
        self.hospitals = [fv for fv in self.facilities if fv[0].key.startswith("cs-")]


@lru_cache(maxsize=2)
def _pools(config: str | None = None) -> tuple[Directory, list[_Place], dict]:
    d = Directory.load(config) if config else load_default()
    by_key = {f.key: f for f in d.facilities}
    hospitals = [f for f in d.facilities if f.key.startswith("cs-")]
    places: list[_Place] = []
    for dist in d.districts:
        base = dist.name.split(" ", 2)[-1] if dist.name.startswith(("Thành phố", "Thị xã")) else dist.name.split(" ", 1)[-1]
        kind_abbr = {"thành phố": ["TP", "TP.", "Tp."], "thị xã": ["TX", "TX.", "Thị xã"],
                     "huyện": ["H.", "huyện", "Huyện"]}.get(dist.kind, [])
        dtexts = [dist.name, dist.name, base, base] + [f"{a} {base}" for a in kind_abbr]
        dtexts = [t for t in dtexts if d.find_district(t) is dist]
        ttyt = by_key.get(f"ttyt-{dist.code}")
        ttyt_texts = [ttyt.name, f"TTYT {base}", f"TTYT {dist.kind} {base}", f"Trung tâm Y tế {base}",
                      f"TTYT {kind_abbr[0]} {base}" if kind_abbr else ttyt.name] if ttyt else []
        for w in dist.wards:
            if d.find_wards(w.name, dist) != [w]:
                continue  # two wards of the district fold to the same name: skip (ambiguous)
            wbase = w.name.split(" ", 2)[-1] if w.name.startswith("Thị trấn") else w.name.split(" ", 1)[-1]
            wab = {"xã": ["X.", "xã"], "phường": ["P.", "phường", "Phường"], "thị trấn": ["TT", "TT.", "thị trấn"]}.get(w.kind, [])
            wtexts = [w.name, w.name, wbase, wbase] + [f"{a} {wbase}" for a in wab]
            wtexts = [t for t in wtexts if d.find_wards(t, dist) == [w]]
            if not wtexts or not dtexts:
                continue
            facs: list[tuple[Any, list[str]]] = []
            tyt = by_key.get(f"tyt-{w.code}")
            if tyt:
                tv = [tyt.name, f"Trạm Y tế {w.kind} {wbase}", f"TYT {w.kind} {wbase}", f"TYT {wbase}",
                      f"Trạm y tế {wbase}", f"Trạm Y tế {wbase}"]
                facs.append((tyt, tv))
            if ttyt:
                facs.append((ttyt, ttyt_texts))
            for h in hospitals:
                hv = [h.name]
                if h.key == "cs-1":
                    hv += ["BVĐK Trung tâm An Giang", "BVĐKTT An Giang", "Bệnh viện ĐK Trung tâm An Giang"]
                elif h.key == "cs-2":
                    hv += ["BVĐK khu vực tỉnh An Giang", "BVĐKKV tỉnh An Giang"]
                elif h.key == "cs-3":
                    hv += ["BVĐKKV Tân Châu", "BVĐK khu vực Tân Châu"]
                elif h.key == "cs-4":
                    hv += ["BV Tim mạch An Giang"]
                facs.append((h, hv))
            good = []
            for f, variants in facs:
                ok = list(dict.fromkeys(v for v in variants if d.find_facility(v, dist) is f))
                if ok:
                    good.append((f, ok))
            places.append(_Place(dist, w, dtexts, wtexts, good))
    # Ward names written for a district they are not in (error injection).
    foreign: dict[int, list[str]] = {}
    for dist in d.districts:
        names = []
        for other in d.districts:
            if other is dist:
                continue
            for w in other.wards:
                if not d.find_wards(w.name, dist):
                    names.append(w.name)
        foreign[dist.code] = names
    return d, places, foreign


@lru_cache(maxsize=1)
def _phone_prefixes() -> list[tuple[str, float]]:
    """4-digit mobile prefixes that phonenumbers accepts as valid VN mobiles, with weights."""
    import phonenumbers
    rng = random.Random(7)
    out = []
    for p3 in list(range(32, 40)) + [52, 55, 56, 58, 59, 70, 76, 77, 78, 79] + list(range(81, 90)) + list(range(90, 100)):
        for d4 in range(10):
            prefix = f"0{p3:02d}{d4}"
            ok = True
            for _ in range(4):
                num = prefix + f"{rng.randrange(10**6):06d}"
                pn = phonenumbers.parse(num, "VN")
                if not (phonenumbers.is_valid_number(pn)
                        and phonenumbers.number_type(pn) == phonenumbers.PhoneNumberType.MOBILE):
                    ok = False
                    break
            if ok:
                w = 3.0 if prefix[:2] in ("09", "03") else 1.0
                out.append((prefix, w))
    return out


@lru_cache(maxsize=1)
def _header_synonyms() -> set[str]:
    with open(config_dir() / "fields.toml", "rb") as fh:
        data = tomllib.load(fh)
    out = set()
    for spec in data["field"].values():
        out |= {fold(h) for h in spec.get("headers", []) + [spec.get("label", "")] if h}
    dose = data["dose"]
    for hs in dose["groups"].values():
        out |= {fold(h) for h in hs}
    for spec in dose["part"].values():
        out |= {fold(h) for h in spec.get("headers", []) + [spec.get("label", "")] if h}
    return out


# ---------------------------------------------------------------------------- generator


class _Gen:
    def __init__(self, form: str, rows: int, seed: int, style: Style, errors: float,
                 repairs: float | None, today: date):
        self.form, self.n, self.style = form, rows, style
        self.rng = random.Random(seed)
        self.err_rate = errors
        self.rep_rate = errors if repairs is None else repairs
        self.today = today
        self.dir, self.places, self.foreign = _pools()
        self.used_ids: set[str] = set()
        prefixes = _phone_prefixes()
        self.phone_prefixes = [p for p, _ in prefixes]
        self.phone_cum = list(itertools.accumulate(w for _, w in prefixes))
        self.old_able = [p for p in self.phone_prefixes if p[:3] in _OLD_PREFIX]
        vac = list(VACCINES)
        self.vac_names, self.vac_cum = vac, list(itertools.accumulate(VACCINES[v][0] for v in vac))
        r = self.rng
        self._rand = r.random
        self.pick = lambda seq, _r=r.random: seq[int(_r() * len(seq))]
        # file-level habits
        self.gender_case = r.choice(["title", "title", "lower", "upper"])
        self.group_fmt = r.choice(["int", "int", "str", "nhom", "n"])
        self.places_here = r.sample(self.places, k=min(len(self.places), r.choice([1, 3, 15, len(self.places)])))

    # -- values ----------------------------------------------------------------
    def _digits(self, n: int) -> str:
        return f"{int(self._rand() * 10 ** n):0{n}d}"

    def new_cccd(self, year: int, female: bool, prefix: str = "089") -> str:
        g = (0 if year < 2000 else 2) + (1 if female else 0)
        while True:
            s = f"{prefix}{g}{year % 100:02d}{self._digits(6)}"
            # four trailing zeros look like digits lost to Excel's 15-digit floats: avoid
            if s not in self.used_ids and not s.endswith("0000"):
                self.used_ids.add(s)
                return s

    def new_cmnd(self) -> str:
        while True:
            s = "35" + self._digits(7)
            if s not in self.used_ids:
                self.used_ids.add(s)
                return s

    def new_phone(self, prefixes=None) -> str:
        r = self.rng
        pick = self.pick
        p = pick(prefixes) if prefixes else r.choices(self.phone_prefixes, cum_weights=self.phone_cum)[0]
        return p + self._digits(6)

    def lot(self, vac: str) -> str:
        pat = self.pick(LOT_PATTERNS[vac])
        out, i = "", 0
        while i < len(pat):
            if pat[i] == "{":
                j = pat.index("}", i)
                out += self._digits(int(pat[i + 1:j]))
                i = j + 1
            else:
                out += pat[i]
                i += 1
        return out

    def person(self) -> dict:
        r = self.rng
        pick = self.pick
        pl = pick(self.places_here)
        female = r.random() < 0.52
        year = min(2005, max(1930, int(r.triangular(1930, 2005, 1985))))
        dob = date(year, 1, 1) + timedelta(days=r.randrange(365))
        dname = fold(pl.district.name)
        minority = 0.25 if ("tri ton" in dname or "tinh bien" in dname) else 0.01
        cham = 0.08 if ("an phu" in dname or "tan chau" in dname) else 0.0
        x = r.random()
        if x < minority:
            name, eth = pick(KHMER_F if female else KHMER_M), "Khmer"
        elif x < minority + cham:
            name, eth = pick(CHAM_F if female else CHAM_M), "Chăm"
        else:
            fam = r.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]
            mid = pick(MIDDLE_F if female else MIDDLE_M)
            giv = pick(GIVEN_F if female else GIVEN_M)
            if r.random() < 0.15:
                giv = pick(GIVEN_F if female else GIVEN_M) + " " + giv
            name, eth = f"{fam} {mid} {giv}", ("Hoa" if r.random() < 0.02 else "Kinh")
        y = r.random()
        if y < 0.78:
            idn = self.new_cccd(year, female)
        elif y < 0.83:
            idn = self.new_cccd(year, female, pick(["087", "091", "079", "092", "001"]))
        elif y < 0.995 and year < 2000:
            idn = self.new_cmnd()
        elif y < 0.995:
            idn = self.new_cccd(year, female)
        else:
            idn = pick("BCN") + self._digits(7)
        wb = pl.ward.name.split(" ", 2)[-1] if pl.ward.name.startswith("Thị trấn") else pl.ward.name.split(" ", 1)[-1]
        hamlet = (f"Khóm {r.randint(1, 9)}" if r.random() < 0.5 else f"Khóm {pick(HAMLETS)}") \
            if pl.ward.kind in ("phường", "thị trấn") else f"Ấp {pick(HAMLETS)}"
        addr = pick([hamlet, hamlet, f"Tổ {r.randint(1, 30)}, {hamlet}",
                         f"Số {r.randint(1, 300)}, {hamlet}"])
        bh = ""
        if r.random() < 0.7:
            sin = "89" + self._digits(8)
            bh = sin if r.random() < 0.1 else f"{pick(BHYT_KINDS)}{r.randint(1, 5)}89{sin}"
        p = {
            "full_name": name, "dob": dob, "gender": "Nữ" if female else "Nam",
            "priority_group": r.choices(_GROUPS, cum_weights=_GROUP_CUM)[0],
            "occupation": pick(OCCUPATIONS), "workplace": pick(WORKPLACES).format(ward=pl.ward.name, base=wb),
            "phone": self.new_phone(), "id_number": idn, "insurance_number": bh,
            "ethnicity": eth, "nationality": "Việt Nam", "province": pick(["An Giang", "Tỉnh An Giang"]),
            "district": pick(pl.district_texts), "ward": pick(pl.ward_texts),
            "address": addr, "note": pick([""] * 12 + ["Đã tiêm mũi 1", "Khuyết tật", "Người cao tuổi"]),
            "_place": pl, "_year_only": False, "_female": female, "_year": year,
        }
        if self.style.birth_years and year < 1960 and r.random() < 0.35:
            p["_year_only"] = True
        if self.form == "mau2":
            self.doses(p)
        if self.form == "mau2" and p["note"] == "Đã tiêm mũi 1":
            p["note"] = ""
        return p

    def facility_text(self, pl: _Place) -> str:
        r = self.rng
        pick = self.pick
        x = r.random()
        local, hosp = pl.local, pl.hospitals
        pool = local if (x < 0.9 and local) or not hosp else hosp
        f, variants = pick(pool) if x >= 0.9 or len(pool) == 1 else (pool[0] if x < 0.65 else pick(pool))
        return pick(variants)

    def doses(self, p: dict, vaccine: str | None = None) -> None:
        r = self.rng
        pick = self.pick
        vac = vaccine or r.choices(self.vac_names, cum_weights=self.vac_cum)[0]
        span = (DOSE1_LAST - DOSE_START).days
        d1 = DOSE_START if r.random() < 0.005 else DOSE_START + timedelta(days=int(span * (r.random() ** 0.6)))
        p.update({"dose1_date": d1, "dose1_vaccine": pick(VACCINES[vac][1]), "dose1_lot": self.lot(vac),
                  "dose1_facility": self.facility_text(p["_place"]), "_vac": vac,
                  "dose2_date": None, "dose2_vaccine": "", "dose2_lot": "", "dose2_facility": ""})
        minimum = VACCINES[vac][2]
        if minimum is None or r.random() > 0.3:
            return
        if r.random() < 0.05:
            gap = minimum
        elif vac == "AstraZeneca":
            gap = r.randint(56, 84)
        else:
            gap = r.randint(minimum, minimum + 14)
        d2 = d1 + timedelta(days=gap)
        if d2 > FILE_DATE:
            return
        p.update({"dose2_date": d2, "dose2_vaccine": pick(VACCINES[vac][1]), "dose2_lot": self.lot(vac),
                  "dose2_facility": p["dose1_facility"] if r.random() < 0.8 else self.facility_text(p["_place"])})

    def drop_dose2(self, p: dict) -> None:
        p.update({"dose2_date": None, "dose2_vaccine": "", "dose2_lot": "", "dose2_facility": ""})


# ---------------------------------------------------------------------------- errors and repairs

_COMMON_KINDS = ["invalid_dob", "future_dob", "cccd_sex_mismatch", "cccd_year_mismatch", "cccd_length",
                 "id_scientific", "phone_letters", "phone_short", "invalid_bhyt", "bad_priority",
                 "unknown_district", "ward_not_in_district", "missing_required", "duplicate_id",
                 "name_with_digits"]
_MAU2_KINDS = ["invalid_dose_date", "dose_before_start", "dose_in_future", "dose2_before_dose1",
               "interval_too_short", "janssen_dose2", "unknown_vaccine", "unknown_facility"]
REPAIR_KINDS = ["phone_lost_zero", "phone_country_code", "phone_separators", "phone_11_digits",
                "id_number_typed"]


def _inject_error(g: _Gen, people: list[dict], i: int, kind: str, cols: set[str], clean: list[int]) -> dict | None:
    """Mutate people[i]; return {field, kind, also?} or None when the kind does not apply."""
    r = g.rng
    p = people[i]
    raw = p.setdefault("_raw", {})

    def as_cmnd():
        g.used_ids.discard(p["id_number"])
        p["id_number"] = g.new_cmnd()

    def as_cccd():
        if not p["id_number"].startswith("089") or len(p["id_number"]) != 12:
            p["id_number"] = g.new_cccd(p["_year"], p["_female"])

    if kind == "invalid_dob":
        as_cmnd()
        raw["dob"] = r.choice(["31/02/1985", "30/02/1990", "32/01/1980", "15/13/1975", "00/05/1960",
                               "29/02/1983", "không rõ", "1965/31/12"])
        return {"field": "dob", "kind": kind}
    if kind == "future_dob":
        as_cmnd()
        p["_year_only"] = False
        raw["dob"] = _render_date(g, g.today + timedelta(days=r.randint(30, 3000)), force_full=True)
        return {"field": "dob", "kind": kind, "also": ["id_number"]}
    if kind == "cccd_sex_mismatch":
        as_cccd()
        s = p["id_number"]
        gd = int(s[3])
        wrong = f"{s[:3]}{gd ^ 1}{s[4:]}"
        if wrong in g.used_ids:
            return None
        g.used_ids.add(wrong)
        p["id_number"] = wrong
        return {"field": "id_number", "kind": kind, "also": ["gender"]}
    if kind == "cccd_year_mismatch":
        as_cccd()
        s = p["id_number"]
        yy = (p["_year"] + r.choice([-1, 1]) * r.randint(1, 15)) % 100
        wrong = f"{s[:4]}{yy:02d}{s[6:]}"
        if wrong in g.used_ids or yy == p["_year"] % 100:
            return None
        g.used_ids.add(wrong)
        p["id_number"] = wrong
        return {"field": "id_number", "kind": kind, "also": ["dob"]}
    if kind == "cccd_length":
        n = r.choice([10, 11, 13])
        raw["id_number"] = "089" + g._digits(n - 3)
        return {"field": "id_number", "kind": kind}
    if kind == "id_scientific":
        as_cccd()
        raw["id_number"] = f"{int(p['id_number']):.5E}".replace("E+", "E+")  # "8.91234E+11"
        return {"field": "id_number", "kind": kind}
    if kind == "phone_letters":
        ph = list(p["phone"])
        k = r.randrange(3, 10)
        ph[k] = r.choice("oOlIxabS")
        raw["phone"] = "".join(ph)
        return {"field": "phone", "kind": kind}
    if kind == "phone_short":
        raw["phone"] = p["phone"][: r.choice([6, 7, 8])]
        return {"field": "phone", "kind": kind}
    if kind == "invalid_bhyt":
        if "insurance_number" not in cols:
            return None
        sin = "89" + g._digits(8)
        raw["insurance_number"] = r.choice([f"GD489{sin[:6]}", f"XY989{sin}", f"GD4-89-{sin}",
                                            f"G4989{sin}", f"GD789{sin}", sin[:8]])
        return {"field": "insurance_number", "kind": kind}
    if kind == "bad_priority":
        if "priority_group" not in cols:
            return None
        raw["priority_group"] = r.choice([17, 0, 25, "abc", "Nhóm 20", "x"])
        return {"field": "priority_group", "kind": kind}
    if kind == "unknown_district":
        p["district"] = r.choice(UNKNOWN_DISTRICTS)
        return {"field": "district", "kind": kind, "also": ["ward"]}
    if kind == "ward_not_in_district":
        names = g.foreign[p["_place"].district.code]
        if not names:
            return None
        p["ward"] = r.choice(names)
        return {"field": "ward", "kind": kind, "also": ["district"]}
    if kind == "missing_required":
        f = r.choice([f for f in REQUIRED[g.form] if f in cols])
        raw[f] = None
        if f.startswith("dose1"):
            g.drop_dose2(p)
        return {"field": f, "kind": kind, "also": ["ward"] if f == "district" else []}
    if kind == "duplicate_id":
        earlier = [j for j in clean if j < i]
        if not earlier:
            return None
        j = r.choice(earlier)
        q = people[j]
        for k in ("full_name", "dob", "gender", "id_number", "_year", "_female", "_year_only"):
            p[k] = q[k]
        p["_dup_of"] = j
        return {"field": "id_number", "kind": kind}
    if kind == "name_with_digits":
        nm = p["full_name"].split(" ")
        if r.random() < 0.5:
            nm[-1] = nm[-1] + str(r.randint(1, 9))
        else:
            nm.append(str(r.randint(1, 99)))
        p["full_name"] = " ".join(nm)
        return {"field": "full_name", "kind": kind}
    # ---- Mẫu 2
    if kind == "invalid_dose_date":
        g.drop_dose2(p)
        raw["dose1_date"] = r.choice(["31/06/2021", "30/02/2021", "15/13/2021", "32/07/2021", "chưa nhớ"])
        return {"field": "dose1_date", "kind": kind}
    if kind == "dose_before_start":
        g.drop_dose2(p)
        p["dose1_date"] = DOSE_START - timedelta(days=r.choice([1, 1, 10, 40, 120, 300]))
        return {"field": "dose1_date", "kind": kind}
    if kind == "dose_in_future":
        g.drop_dose2(p)
        p["dose1_date"] = g.today + timedelta(days=r.randint(5, 400))
        return {"field": "dose1_date", "kind": kind}
    if kind in ("dose2_before_dose1", "interval_too_short"):
        vac = p["_vac"]
        minimum = VACCINES[vac][2]
        if minimum is None:
            return None
        d1 = min(p["dose1_date"], DOSE1_LAST - timedelta(days=20))
        d1 = max(d1, DOSE_START + timedelta(days=30))
        p["dose1_date"] = d1
        gap = -r.randint(0, 25) if kind == "dose2_before_dose1" else r.randint(1, minimum - 1)
        p.update({"dose2_date": d1 + timedelta(days=gap), "dose2_vaccine": r.choice(VACCINES[vac][1]),
                  "dose2_lot": g.lot(vac), "dose2_facility": p["dose1_facility"]})
        return {"field": "dose2_date", "kind": kind, "also": ["dose1_date"]}
    if kind == "janssen_dose2":
        d1 = min(p["dose1_date"], date(2021, 6, 20))
        p.update({"dose1_date": d1, "dose1_vaccine": "Janssen", "dose1_lot": g.lot("Janssen"), "_vac": "Janssen",
                  "dose2_date": d1 + timedelta(days=r.randint(28, 60)), "dose2_vaccine": "Janssen",
                  "dose2_lot": g.lot("Janssen"), "dose2_facility": p["dose1_facility"]})
        return {"field": "dose2_vaccine", "kind": kind, "also": ["dose2_date", "dose1_vaccine"]}
    if kind == "unknown_vaccine":
        g.drop_dose2(p)
        p["dose1_vaccine"] = r.choice(UNKNOWN_VACCINES)
        return {"field": "dose1_vaccine", "kind": kind}
    if kind == "unknown_facility":
        g.drop_dose2(p)
        p["dose1_facility"] = r.choice(UNKNOWN_FACILITIES)
        return {"field": "dose1_facility", "kind": kind}
    raise ValueError(kind)


def _inject_repair(g: _Gen, p: dict, kind: str) -> dict | None:
    """Write a repairable variant of a value; return {field, to, kind} or None."""
    r = g.rng
    raw = p.setdefault("_raw", {})
    ph = p["phone"]
    if kind == "phone_lost_zero":
        raw["phone"] = int(ph) if g.style.fmt != "csv" else ph[1:]
        return {"field": "phone", "to": ph, "kind": kind}
    if kind == "phone_country_code":
        raw["phone"] = r.choice(["+84", "84", "+84 ", "+84"]) + ph[1:]
        return {"field": "phone", "to": ph, "kind": kind}
    if kind == "phone_separators":
        raw["phone"] = r.choice([f"{ph[:4]} {ph[4:7]} {ph[7:]}", f"{ph[:4]}.{ph[4:7]}.{ph[7:]}",
                                 f"{ph[:3]} {ph[3:6]} {ph[6:]}", f"{ph[:4]}.{ph[4:]}"])
        return {"field": "phone", "to": ph, "kind": kind}
    if kind == "phone_11_digits":
        new = g.new_phone(g.old_able)
        p["phone"] = new
        raw["phone"] = _OLD_PREFIX[new[:3]] + new[3:]
        return {"field": "phone", "to": new, "kind": kind}
    if kind == "id_number_typed":
        if g.style.fmt == "csv":
            return None
        idn = p["id_number"]
        if len(idn) != 12 or not idn.isdigit() or not idn.startswith("0"):
            return None
        raw["id_number"] = int(idn) if r.random() < 0.7 else float(int(idn))
        return {"field": "id_number", "to": idn, "kind": kind}
    raise ValueError(kind)


# ---------------------------------------------------------------------------- rendering

def _render_date(g: _Gen, d: date, force_full: bool = False, year_only: bool = False) -> Any:
    st = g.style.dates
    if st == "mixed":
        st = g.rng.choice(["date", "text", "dash", "dot", "serial"])
    if g.style.fmt == "csv" and st in ("date", "serial"):
        st = "text"
    if year_only and not force_full:
        return d.year if g.style.fmt != "csv" and g.rng.random() < 0.8 else str(d.year)
    if st == "date":
        return d
    if st == "text":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if st == "dash":
        return f"{d.day}-{d.month}-{d.year}"
    if st == "dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if st == "serial":
        return (d - date(1899, 12, 30)).days
    raise ValueError(st)


def _render_value(g: _Gen, p: dict, f: str) -> Any:
    raw = p.get("_raw")
    if raw and f in raw:
        return raw[f]
    v = p.get(f)
    if f == "dob":
        return _render_date(g, v, year_only=p["_year_only"])
    if f in ("dose1_date", "dose2_date"):
        return None if v is None else _render_date(g, v)
    if f == "gender":
        return {"title": v, "lower": v.lower(), "upper": v.upper()}[g.gender_case]
    if f == "priority_group":
        return {"int": v, "str": str(v), "nhom": f"Nhóm {v}", "n": f"N{v}"}[g.group_fmt] \
            if g.style.fmt != "csv" or g.group_fmt != "int" else str(v)
    if f == "phone" and g.style.numeric_ids:
        return int(v)
    if f == "id_number" and g.style.numeric_ids and v.isdigit():
        return int(v)
    return v if v != "" else None


def _style_fixes(g: _Gen, p: dict, f: str, value: Any) -> dict | None:
    """Expected fixes caused by the style (number-typed IDs and phones)."""
    if not g.style.numeric_ids or not isinstance(value, int) or isinstance(value, bool):
        return None
    if f == "phone" and len(p["phone"]) == 10:
        return {"field": "phone", "to": p["phone"], "kind": "phone_lost_zero"}
    if f == "id_number" and p["id_number"].startswith("0") and len(p["id_number"]) == 12:
        return {"field": "id_number", "to": p["id_number"], "kind": "id_number_typed"}
    return None


class _Legacy:
    """Encodes text for a legacy font; text the encoding cannot hold stays Unicode."""

    FONTS = {"tcvn3": ".VnTime", "tcvn3h": ".VnTimeH", "vni": "VNI-Times"}

    def __init__(self, kind: str):
        from service.forms import legacy  # the engine's own tables: one source of truth
        self.kind = kind
        self.decode = legacy.decode
        # Latin-1 letters that are Vietnamese in Unicode but have no code of their own in
        # the legacy font (TCVN3 has no toned capitals: "Á" must stay Unicode).
        self._unicode_only = set()
        if kind == "tcvn3":
            inverse = {v: k for k, v in legacy.TCVN3.items()}
            self._unicode_only = {chr(c) for c in range(0xC0, 0x100)
                                  if unicodedata.normalize("NFD", chr(c)) != chr(c)} - set(legacy.TCVN3)
            self._enc = lambda s, _inv=inverse: "".join(_inv.get(ch, ch) for ch in s)
        else:
            self._enc = lambda s: legacy.encode(s, "vni")

    def cell(self, text: str, bold: bool = False) -> tuple[Any, bool]:
        """→ (cell, converted?)."""
        text = unicodedata.normalize("NFC", text)
        if text.isascii():
            return Cell(text, _cell_style(self.FONTS["tcvn3" if self.kind == "tcvn3" else "vni"], bold)), False
        kinds = [self.kind]
        if self.kind == "tcvn3" and text.upper() == text:
            kinds = ["tcvn3h"]
        for k in kinds:
            enc = self._enc(text.lower()) if k == "tcvn3h" else self._enc(text)
            # Encodable only if every letter has a code in the font (no Unicode left over,
            # e.g. "Ánh" has no .VnTime code) and decoding gives the text back.
            if enc != text and all(ord(ch) < 256 for ch in enc) and not any(
                    ch in self._unicode_only for ch in enc) and self.decode(enc, k) == text:
                return Cell(enc, _cell_style(self.FONTS[k], bold)), True
        return Cell(text, _cell_style("Times New Roman", bold)), False


# ---------------------------------------------------------------------------- layout


def _choose_columns(g: _Gen) -> list[str]:
    r = g.rng
    base = list(MAU1_FIELDS if g.form == "mau1" else MAU2_FIELDS)
    if g.style.drop_optional:
        base = [f for f in base if f not in OPTIONAL or r.random() < 0.5]
    else:
        base = [f for f in base if f not in ("ethnicity", "nationality", "province") or r.random() < 0.5]
    if g.form == "mau2" and "priority_group" in base and r.random() < 0.3:
        base.remove("priority_group")
    if g.style.shuffle:
        head = [f for f in base if f == "stt"]
        rest = [f for f in base if f != "stt"]
        if g.style.merged_header:
            blocks: list[list[str]] = []
            for f in rest:
                if f.startswith("dose") and blocks and blocks[-1][0][:5] == f[:5]:
                    blocks[-1].append(f)
                else:
                    blocks.append([f])
            r.shuffle(blocks)
            rest = [f for b in blocks for f in b]
        else:
            r.shuffle(rest)
        base = head + rest
    return base


def _header_text(g: _Gen, f: str) -> str:
    r = g.rng
    if f in HEADERS:
        return r.choice(HEADERS[f]) if g.style.synonyms else HEADERS[f][0]
    n, part = int(f[4]), f.split("_", 1)[1]
    ptxt = r.choice(DOSE_PARTS[part]) if g.style.synonyms else DOSE_PARTS[part][0]
    if g.style.merged_header:
        return ptxt
    if ptxt in ("Ngày", "Lô", "Vắc xin") and not g.style.synonyms:
        ptxt = DOSE_PARTS[part][0]
    return r.choice([f"{ptxt} mũi {n}", f"{ptxt} mũi {n}", f"Mũi {n} - {ptxt}"]) if g.style.synonyms \
        else f"{ptxt} mũi {n}"


def generate(path: str | Path, form: str = "mau1", rows: int = 100, seed: int = 0,
             style: Style | None = None, errors: float = 0.0, repairs: float | None = None,
             today: date | None = None) -> Truth:
    """Write one workbook to ``path`` and return its ground truth."""
    style = (style or Style()).normalised()
    sheets, truth, _ = build(path, form, rows, seed, style, errors, repairs, today)
    _write(path, sheets, style)
    return truth


@dataclass
class Built:
    """What ``build`` knows beyond the sheets: for layout transforms (bench.gen_layouts)."""
    sheet_index: int  # the form's sheet in the list
    excel_row: dict[int, int]  # person index → Excel row
    fields: list[str | None]  # per column: the field key, or None for an extra column
    people: list[dict]
    rng: random.Random


def build(path: str | Path, form: str = "mau1", rows: int = 100, seed: int = 0,
          style: Style | None = None, errors: float = 0.0, repairs: float | None = None,
          today: date | None = None) -> tuple[list[SheetSpec], Truth, Built]:
    """The sheets of one workbook, its ground truth, and the facts layout transforms need."""
    if form not in ("mau1", "mau2"):
        raise ValueError("form must be 'mau1' or 'mau2'")
    style = (style or Style()).normalised()
    g = _Gen(form, rows, seed, style, errors, repairs, today or date.today())
    r = g.rng
    people = [g.person() for _ in range(rows)]
    columns = _choose_columns(g)
    colset = set(columns)
    if form == "mau2" and "dose2_date" not in colset:
        for p in people:
            g.drop_dose2(p)

    # ---- errors and repairs (row indexes into people)
    n_err = round(errors * rows)
    n_rep = round(g.rep_rate * rows)
    order = list(range(rows))
    r.shuffle(order)
    err_rows = sorted(order[:n_err])
    rep_rows = order[n_err:n_err + n_rep]
    err_set = set(err_rows)
    clean = sorted(set(range(rows)) - err_set)
    kinds = _COMMON_KINDS + (_MAU2_KINDS if form == "mau2" else [])
    row_errors: dict[int, dict] = {}
    dup_firsts: set[int] = set()
    dup_sources = clean[:: max(1, len(clean) // 2000)]
    for i in err_rows:
        for _ in range(10):
            e = _inject_error(g, people, i, r.choice(kinds), colset, dup_sources)
            if e:
                row_errors[i] = e
                if e["kind"] == "duplicate_id":
                    dup_firsts.add(people[i]["_dup_of"])
                break
    row_repairs: dict[int, dict] = {}
    for i in rep_rows:
        if i in dup_firsts:
            continue
        for _ in range(5):
            fx = _inject_repair(g, people[i], r.choice(REPAIR_KINDS))
            if fx:
                row_repairs[i] = fx
                break

    # ---- header
    legacy = _Legacy(style.legacy) if style.legacy else None
    nfd = style.nfd

    def text_cell(s: Any, bold: bool = False) -> Any:
        if not isinstance(s, str):
            return s
        if nfd:
            s = unicodedata.normalize("NFD", s)
        if legacy:
            return legacy.cell(s, bold)[0]
        return Cell(s, _cell_style(None, True)) if bold and style.fmt != "csv" else s

    extras: list[tuple[int, str, Any]] = []
    if style.extra_columns:
        for h, fn in r.sample(EXTRA_HEADERS, k=r.randint(1, 3)):
            extras.append((r.randint(1, len(columns)), h, fn))
    layout: list[tuple[str, Any]] = [("field", f) for f in columns]
    for pos, h, fn in sorted(extras, key=lambda x: -x[0]):
        layout.insert(pos, ("extra", (h, fn)))
    ncol = len(layout)

    sheet_rows: list[list[Any]] = []
    merged: list[tuple[int, int, int, int]] = []
    unit = r.choice(["UBND XÃ MỸ KHÁNH", "ỦY BAN NHÂN DÂN PHƯỜNG MỸ BÌNH", "SỞ TÀI CHÍNH",
                     "CÔNG TY CP XUẤT NHẬP KHẨU THỦY SẢN AN GIANG", "UBND THỊ TRẤN AN PHÚ", "SỞ Y TẾ AN GIANG"])
    if style.title:
        half = max(1, ncol // 2)
        sheet_rows.append([text_cell(unit, True)] + [None] * (half - 1) + [text_cell("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True)])
        sheet_rows.append([None] * half + [text_cell("Độc lập - Tự do - Hạnh phúc", True)])
        sheet_rows.append([])
        title = ("DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19" if form == "mau1"
                 else r.choice(["DANH SÁCH NGƯỜI ĐÃ TIÊM VẮC XIN PHÒNG COVID-19",
                                "DANH SÁCH BỔ SUNG THÔNG TIN NGƯỜI ĐÃ TIÊM VẮC XIN PHÒNG COVID-19"]))
        sheet_rows.append([text_cell(title, True)])
        merged.append((len(sheet_rows) - 1, 0, len(sheet_rows) - 1, ncol - 1))
        sheet_rows.append([text_cell(f"(Kèm theo Công văn số {r.randint(100, 999)}/UBND-VX ngày 24/8/2021)")])
        sheet_rows.append([None] * half + [text_cell(f"Long Xuyên, ngày {r.randint(24, 31)} tháng 8 năm 2021")])
        sheet_rows.append([])
    header_top = len(sheet_rows)
    headers = []
    for kind, x in layout:
        if kind == "field":
            h = _header_text(g, x)
        else:
            h = x[0]
        headers.append(h.upper() if style.upper_headers else h)
    if style.merged_header:
        top: list[Any] = [None] * ncol
        sub: list[Any] = [None] * ncol
        c = 0
        while c < ncol:
            kind, x = layout[c]
            if kind == "field" and x.startswith("dose"):
                n = x[4]
                c1 = c
                while c1 + 1 < ncol and layout[c1 + 1][0] == "field" and layout[c1 + 1][1].startswith(f"dose{n}"):
                    c1 += 1
                gtxt = r.choice(DOSE_GROUPS[int(n)]) if style.synonyms else DOSE_GROUPS[int(n)][0]
                top[c] = text_cell(gtxt.upper() if style.upper_headers else gtxt, True)
                merged.append((header_top, c, header_top, c1))
                for k in range(c, c1 + 1):
                    sub[k] = text_cell(headers[k], True)
                c = c1 + 1
            else:
                top[c] = text_cell(headers[c], True)
                merged.append((header_top, c, header_top + 1, c))
                c += 1
        sheet_rows += [top, sub]
        header_rows = [header_top + 1, header_top + 2]
    else:
        sheet_rows.append([text_cell(h, True) for h in headers])
        header_rows = [header_top + 1]
    if style.number_row:
        paren = r.random() < 0.5
        sheet_rows.append([f"({k + 1})" if paren else k + 1 for k in range(ncol)])

    # ---- data
    truth = Truth(file=str(path), form=form, rows=rows, style=style.as_dict(), header_rows=header_rows)
    from service.forms.xlsx_writer import column_letter as col_letter
    truth.columns = {x: col_letter(c) for c, (kind, x) in enumerate(layout) if kind == "field"}
    excel_row = {}
    blank_p = 0.01 if style.blank_rows else 0.0
    for i, p in enumerate(people):
        if blank_p and i and r.random() < blank_p:
            sheet_rows.append([])
        er = len(sheet_rows) + 1
        excel_row[i] = er
        out = []
        conv_fields = []
        for kind, x in layout:
            if kind == "extra":
                v = x[1](r, p)
                out.append(text_cell(v) if v else None)
                continue
            if x == "stt":
                out.append(i + 1)
                continue
            v = _render_value(g, p, x)
            if i not in row_errors and i not in row_repairs:
                fx = _style_fixes(g, p, x, v)
                if fx:
                    truth.fixes.append({"row": er, **fx})
            elif i in row_repairs and row_repairs[i]["field"] != x:
                fx = _style_fixes(g, p, x, v)
                if fx:
                    truth.fixes.append({"row": er, **fx})
            if isinstance(v, str):
                if nfd:
                    v = unicodedata.normalize("NFD", v)
                elif legacy:
                    orig = v
                    v, converted = legacy.cell(v)
                    if converted:
                        conv_fields.append((x, orig))
            out.append(v)
        sheet_rows.append(out)
        if i in row_errors:
            e = row_errors[i]
            truth.errors.append({"row": er, **e})
            if e["kind"] == "duplicate_id":
                truth.errors.append({"row": excel_row[p["_dup_of"]], "field": "id_number",
                                     "kind": "duplicate_id_first", "optional": True})
        if i in row_repairs:
            truth.fixes.append({"row": er, **row_repairs[i]})
        for f, orig in conv_fields:
            if i in row_errors and row_errors[i]["field"] == f:
                continue
            truth.fixes.append({"row": er, "field": f, "to": tidy(orig), "kind": "legacy"})
    truth.errors.sort(key=lambda e: e["row"])
    truth.fixes.sort(key=lambda e: e["row"])

    if style.signature:
        sheet_rows.append([])
        if r.random() < 0.5:
            sheet_rows.append([None, text_cell(f"Tổng cộng: {rows} người", True)])
        right = max(2, ncol - 4)
        sheet_rows.append([None, text_cell("Người lập biểu", True)] + [None] * (right - 2) + [text_cell("Thủ trưởng đơn vị", True)])
        sheet_rows.append([None, text_cell("(Ký, ghi rõ họ tên)")] + [None] * (right - 2) + [text_cell("(Ký tên, đóng dấu)")])
        sheet_rows += [[], [], []]
        sheet_rows.append([None, text_cell("Nguyễn Thị Thu Hà")] + [None] * (right - 2) + [text_cell("Trần Văn Minh")])

    # ---- sheets
    sheet_name = r.choice(["Mẫu 1", "Mau 1", "DS đăng ký", "Sheet1", "Danh sách"] if form == "mau1"
                          else ["Mẫu 2", "Mau 2", "DS đã tiêm", "Sheet1", "Danh sách"])
    truth.sheet = sheet_name
    widths = {c: (24 if layout[c][0] == "field" and layout[c][1] in ("full_name", "dose1_facility", "dose2_facility", "address") else 13) for c in range(ncol)}
    sheets = []
    if style.instruction_sheet:
        lines = ["HƯỚNG DẪN ĐIỀN DANH SÁCH", "1. Mỗi người một dòng, không gộp ô.",
                 "2. Ngày sinh ghi theo dạng ngày/tháng/năm (dd/mm/yyyy).",
                 "3. Số CMND/CCCD và số điện thoại định dạng Text để không mất số 0 ở đầu.",
                 "4. Nhóm ưu tiên theo Quyết định 3355/QĐ-BYT ngày 08/7/2021 (từ 1 đến 16).",
                 "5. Gửi file mềm về hộp thư tiemchung@angiang.example trước 17 giờ hằng ngày."]
        sheets.append(SheetSpec("Hướng dẫn", [[text_cell(t)] for t in lines], widths={0: 90}))
    sheets.append(SheetSpec(sheet_name, sheet_rows, merged, widths))
    if style.summary_sheet:
        counts: dict[str, int] = {}
        for p in people:
            counts[p["_place"].district.name] = counts.get(p["_place"].district.name, 0) + 1
        srows = [[text_cell("TỔNG HỢP SỐ LƯỢNG THEO ĐỊA BÀN", True)], [],
                 [text_cell(h, True) for h in ("STT", "Địa bàn", "Số lượng", "Tỷ lệ (%)")]]
        for k, (name, cnt) in enumerate(sorted(counts.items()), 1):
            srows.append([k, text_cell(name), cnt, round(100 * cnt / rows, 1)])
        sheets.append(SheetSpec("Tổng hợp", srows, [], {1: 30}))
    index = next(k for k, sh in enumerate(sheets) if sh.name == sheet_name)
    return sheets, truth, Built(index, excel_row, [x if kind == "field" else None for kind, x in layout],
                                people, r)


# ---------------------------------------------------------------------------- writers

def _write(path: str | Path, sheets: list[SheetSpec], style: Style) -> None:
    path = str(path)
    if style.fmt == "xlsx":
        write_xlsx(path, sheets)
    elif style.fmt == "xls":
        _write_xls(path, sheets)
    elif style.fmt == "csv":
        _write_csv(path, sheets[0] if len(sheets) == 1 else next(s for s in sheets if s.name not in ("Hướng dẫn", "Tổng hợp")), style.csv_encoding)
    else:
        raise ValueError(style.fmt)


def _write_xls(path: str, sheets: list[SheetSpec]) -> None:
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    cache: dict[tuple, Any] = {}

    def xf(font: str | None, bold: bool, is_date: bool):
        key = (font, bold, is_date)
        if key not in cache:
            st = xlwt.XFStyle()
            fnt = xlwt.Font()
            fnt.name = font or "Times New Roman"
            fnt.bold = bold
            st.font = fnt
            if is_date:
                st.num_format_str = "dd/mm/yyyy"
            cache[key] = st
        return cache[key]

    for sh in sheets:
        ws = wb.add_sheet(sh.name[:31], cell_overwrite_ok=True)
        merged_at = {(r0, c0): (r0, c0, r1, c1) for r0, c0, r1, c1 in sh.merged}
        covered = {(rr, cc) for r0, c0, r1, c1 in sh.merged for rr in range(r0, r1 + 1)
                   for cc in range(c0, c1 + 1) if (rr, cc) != (r0, c0)}
        for ri, row in enumerate(sh.rows):
            for ci, v in enumerate(row or []):
                if (ri, ci) in covered:
                    continue
                font, bold = None, False
                if isinstance(v, Cell):
                    st = v.style or CellStyle()
                    font, bold, v = st.font, st.bold, v.value
                is_date = isinstance(v, date)
                style = xf(font, bold, is_date)
                if (ri, ci) in merged_at:
                    r0, c0, r1, c1 = merged_at[(ri, ci)]
                    ws.write_merge(r0, r1, c0, c1, v if v is not None else "", style)
                elif v is not None:
                    ws.write(ri, ci, v, style)
        for c, w in sh.widths.items():
            ws.col(c).width = int(w * 256)
    wb.save(path)


def to_cp1258(s: str) -> str:
    """Unicode → the form Windows-1258 can hold: base letters with shape marks precomposed,
    tone marks combining (as Vietnamese Windows software writes it)."""
    out = []
    for ch in unicodedata.normalize("NFC", s):
        try:
            ch.encode("cp1258")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], d[1:]
        shape = "".join(m for m in marks if m in "\u0302\u0306\u031b")
        tone = "".join(m for m in marks if m not in "\u0302\u0306\u031b")
        out.append(unicodedata.normalize("NFC", base + shape) + tone)
    return "".join(out)


def _write_csv(path: str, sheet: SheetSpec, encoding: str) -> None:
    def txt(v):
        if isinstance(v, Cell):
            v = v.value
        if v is None:
            return ""
        if isinstance(v, date):
            return f"{v.day:02d}/{v.month:02d}/{v.year}"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        v = str(v)
        return to_cp1258(v) if encoding == "cp1258" else v

    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        width = max((len(r) for r in sheet.rows if r), default=0)
        for row in sheet.rows:
            row = list(row or [])
            w.writerow([txt(v) for v in row] + [""] * (width - len(row)))


# ---------------------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gen_forms", description=__doc__.split("\n\n")[0])
    ap.add_argument("--form", choices=["mau1", "mau2"], default="mau2")
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--errors", type=float, default=0.0, help="share of rows with one injected error")
    ap.add_argument("--repairs", type=float, default=None, help="share of rows with a repairable value (default: --errors)")
    ap.add_argument("--random-style", action="store_true", help="mix style flags at random (seeded)")
    ap.add_argument("--truth", help="write the ground truth as JSON here")
    for f in fields(Style):
        if f.type in ("bool", bool):
            ap.add_argument("--" + f.name.replace("_", "-"), action="store_true")
    ap.add_argument("--dates", default="date", choices=["date", "text", "dash", "dot", "serial", "mixed"])
    ap.add_argument("--legacy", choices=["tcvn3", "vni"])
    ap.add_argument("--csv-encoding", default="utf-8-sig")
    a = ap.parse_args(argv)
    fmt = {".xls": "xls", ".csv": "csv"}.get(Path(a.out).suffix.lower(), "xlsx")
    if a.random_style:
        style = Style.random(random.Random(a.seed), fmt)
    else:
        style = Style(fmt=fmt, dates=a.dates, legacy=a.legacy, csv_encoding=a.csv_encoding,
                      **{f.name: getattr(a, f.name) for f in fields(Style) if f.type in ("bool", bool)})
    t0 = time.perf_counter()
    truth = generate(a.out, a.form, a.rows, a.seed, style, a.errors, a.repairs)
    dt = time.perf_counter() - t0
    if a.truth:
        Path(a.truth).write_text(json.dumps(truth.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{a.out}: {truth.form}, {truth.rows} rows, {len(truth.errors)} errors, "
          f"{len(truth.fixes)} fixes, {dt:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
