"""The morning digest: figures from a real SQLite state, the MIME message, charts, workbook."""
from __future__ import annotations

import dataclasses
import io
import re
from datetime import date, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from service.config import load_settings
from service.mail.render import Renderer
from service.state import Submission, open_store
from service.digest.message import build_digest, digest_message_id, gather_figures

VN = ZoneInfo("Asia/Ho_Chi_Minh")
D = date(2021, 8, 25)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------- the scenario


def ts(day: date, h: int = 9, m: int = 0) -> float:
    return datetime(day.year, day.month, day.day, h, m, tzinfo=VN).timestamp()


def _sub(store, key, unit, district, form, rows, valid, errors=None, at=None, status="forwarded"):
    code = store.tracking_code(key)
    store.record_submission(Submission(
        code=code, incoming_key=key, source="mail", sender="unit@angiang.example", status=status,
        received_at=at, unit_key=unit, district_code=district, file_name="ds.xlsx", form=form,
        rows=rows, valid_rows=valid, error_count=sum((errors or {}).values()),
        error_counts=errors or {}))
    return code


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:06d}" for i in range(n)]


def fill_scenario(store, directory) -> dict:
    """Day D = 25/08/2021:
    - Long Xuyên commune: Mẫu 1, 10 rows, 8 valid (2 phone errors), 8 forwarded to ttyt-883;
      the health centre confirms 5 of them. The day before: 4 rows, all confirmed.
    - Châu Đốc commune: Mẫu 2, 6 rows, 2 to ttyt-884 and 4 to CDC.
    - a provincial department: Mẫu 1, 5 rows to CDC.
    - an unknown sender: held.
    - An Phú commune: 3 rows on D-5, never confirmed (stale, and the unit is silent 5 days).
    - an enterprise on D+1: must not count in D's digest.
    """
    xa = {d.code: [u for u in directory.units if u.level == "xa" and u.district_code == d.code]
          for d in directory.districts}
    lx, cd, ap = xa[883][0], xa[884][0], xa[886][0]
    tinh = [u for u in directory.units if u.level == "tinh"][1]
    dn = [u for u in directory.units if u.level == "doanh_nghiep"][0]
    c = {}
    c["lx"] = _sub(store, "k-lx", lx.key, 883, "mau1", 10, 8, {"phone-invalid": 2}, ts(D, 9))
    store.record_forwarded(c["lx"], "mau1", "ttyt-883", _ids("089080", 8), district_code=883,
                           unit_key=lx.key, at=ts(D, 9, 1))
    c["cd"] = _sub(store, "k-cd", cd.key, 884, "mau2", 6, 6, None, ts(D, 10))
    store.record_forwarded(c["cd"], "mau2", "ttyt-884", _ids("089081", 2), district_code=884,
                           unit_key=cd.key, at=ts(D, 10, 1))
    store.record_forwarded(c["cd"], "mau2", "cdc", _ids("089082", 4), district_code=884,
                           unit_key=cd.key, at=ts(D, 10, 1))
    c["tinh"] = _sub(store, "k-tinh", tinh.key, None, "mau1", 5, 5, None, ts(D, 11))
    store.record_forwarded(c["tinh"], "mau1", "cdc", _ids("089083", 5), unit_key=tinh.key, at=ts(D, 11, 1))
    c["unknown"] = _sub(store, "k-unknown", None, None, None, 0, 0, None, ts(D, 12), status="held")
    store.hold("unknown-sender", "Người gửi lạ", None, key="k-unknown", sender="la@example.com", at=ts(D, 12))
    c["ap"] = _sub(store, "k-ap", ap.key, 886, "mau1", 3, 3, None, ts(D - timedelta(days=5), 8))
    store.record_forwarded(c["ap"], "mau1", "ttyt-886", _ids("089084", 3), district_code=886,
                           unit_key=ap.key, at=ts(D - timedelta(days=5), 8, 1))
    c["lx_prev"] = _sub(store, "k-lx-prev", lx.key, 883, "mau1", 4, 4, {"dob-year-only": 1},
                        ts(D - timedelta(days=1), 15))
    store.record_forwarded(c["lx_prev"], "mau1", "ttyt-883", _ids("089085", 4), district_code=883,
                           unit_key=lx.key, at=ts(D - timedelta(days=1), 15, 1))
    store.confirm(c["lx_prev"], "ttyt-883", None, at=ts(D, 8))
    store.confirm(c["lx"], "ttyt-883", 5, at=ts(D, 16))
    c["dn_next"] = _sub(store, "k-dn-next", dn.key, None, "mau1", 7, 7, None, ts(D + timedelta(days=1), 9))
    store.record_forwarded(c["dn_next"], "mau1", "ttyt-883", _ids("089086", 7), unit_key=dn.key,
                           at=ts(D + timedelta(days=1), 9, 1))
    return {"codes": c, "units": {"lx": lx, "cd": cd, "ap": ap, "tinh": tinh, "dn": dn}}


def make_settings(folder):
    cfg = folder / "vaxmail.toml"
    cfg.write_text(f'[state]\npath = "{folder / "state"}"\n', encoding="utf-8")
    return load_settings(cfg)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def store(settings):
    s = open_store(settings.state_dir)
    yield s
    s.close()


@pytest.fixture
def scenario(settings, store):
    return fill_scenario(store, settings.directory)


@pytest.fixture
def renderer(settings):
    return Renderer(settings.templates_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The scenario's digest, built once for the read-only tests."""
    settings = make_settings(tmp_path_factory.mktemp("digest"))
    store = open_store(settings.state_dir)
    scenario = fill_scenario(store, settings.directory)
    msg, fig, files = build_digest(settings, store, D, Renderer(settings.templates_path))
    yield settings, store, scenario, msg, fig, files
    store.close()


def _group(fig: dict, key: str) -> dict:
    return next(g for g in fig["groups"] if g["key"] == key)


def _text(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def _html(msg) -> str:
    return msg.get_body(preferencelist=("html",)).get_content()


# ---------------------------------------------------------------------------- figures


def test_figures_match_the_state(built):
    settings, _store, scenario, _msg, fig, _files = built
    day, total = fig["day_total"], fig["total"]
    assert (day["files"], day["units"], day["mau1"], day["mau2"]) == (4, 3, 15, 6)
    assert (day["forwarded"], day["rejected"], day["held"]) == (19, 2, 1)
    # since the start, up to D: the enterprise's file of D+1 is not counted
    assert (total["files"], total["forwarded"], total["forwarded_mau1"], total["forwarded_mau2"]) == (6, 26, 20, 6)
    assert (fig["rows_sent"], fig["entered"]) == (26, 9)
    assert fig["first_day"] == D - timedelta(days=5)

    lx = _group(fig, "d883")
    assert (lx["total"]["forwarded"], lx["rows_sent"], lx["entered"], lx["rank"]) == (12, 12, 9, 1)
    assert (lx["day"]["mau1"], lx["day"]["forwarded"], lx["day"]["rejected"]) == (10, 8, 2)
    assert round(lx["entered_pct"]) == 75
    assert (_group(fig, "d884")["rank"], _group(fig, "d886")["rank"]) == (2, 3)
    assert _group(fig, "tinh")["total"]["forwarded"] == 5 and _group(fig, "tinh")["rank"] is None
    assert _group(fig, "doanh_nghiep")["total"]["forwarded"] == 0
    assert _group(fig, "khac")["day"]["held"] == 1
    assert [g["key"] for g in fig["groups"]][:3] == ["d883", "d884", "d886"]
    assert len([g for g in fig["groups"] if g["district_code"]]) == 11

    # who is late: 179 units in the directory, 4 sent up to D (the enterprise only on D+1)
    assert fig["unit_count"] == len(settings.directory.units) == 179
    assert fig["never_count"] == 175
    assert [(s["name"], s["days"]) for s in fig["silent"]] == [(scenario["units"]["ap"].name, 5)]
    never_lx = next(n for n in fig["never"] if n["group"] == "d883")
    assert never_lx["count"] == never_lx["of"] - 1 and len(never_lx["names"]) <= 4

    # unconfirmed after 2 days: only An Phú's batch of D-5
    assert [(s["recipient"], s["batches"], s["rows"], s["oldest_code"]) for s in fig["stale"]] == \
        [("ttyt-886", 1, 3, scenario["codes"]["ap"])]
    assert [(e["code"], e["day"], e["total"]) for e in fig["errors"]] == \
        [("phone-invalid", 2, 2), ("dob-year-only", 0, 1)]
    assert fig["held_day"] == {"unknown-sender": 1} and fig["held_open"] == 1
    rec = {r["key"]: r for r in fig["recipients"]}
    assert (rec["cdc"]["rows_day"], rec["cdc"]["rows"], rec["cdc"]["entered"]) == (9, 9, 0)
    assert rec["ttyt-883"]["name"] == "Trung tâm Y tế thành phố Long Xuyên"
    assert (rec["ttyt-883"]["rows"], rec["ttyt-883"]["entered"]) == (12, 9)


def test_text_part_carries_the_key_numbers(built):
    _settings, _store, scenario, msg, _fig, _files = built
    text = _text(msg)
    assert "Ngày 25/08/2021 – lũy kế từ ngày 20/08/2021" in text
    assert "Nhận 4 lượt gửi (thư hoặc tệp) từ 3 đơn vị, gồm 21 người (Mẫu 1: 15; Mẫu 2: 6)" in text
    assert "Đã chuyển cho nơi tiêm: 19 người. Trả lại đơn vị để sửa: 2 dòng." in text
    assert "Đã chuyển 26 người (Mẫu 1: 20; Mẫu 2: 6)" in text
    assert "đã nhập vào hệ thống tiêm chủng quốc gia: 9 / 26 người (35%)" in text
    assert " 1. TP. Long Xuyên: chuyển 12, đã nhập 9 (75%); 1/13 đơn vị đã gửi" in text
    assert "Đơn vị chưa gửi lần nào: 175 / 179" in text
    ap = scenario["units"]["ap"]
    assert f"- {ap.name} (An Phú): gửi lần cuối ngày 20/08/2021, đã 5 ngày" in text
    assert f"Trung tâm Y tế huyện An Phú: 1 lô, 3 người; lô cũ nhất {scenario['codes']['ap']}" in text
    assert "- Số điện thoại không hợp lệ: 2 / 2" in text
    assert "- Người gửi không có trong danh bạ: 1 (trong ngày)" in text
    assert "0896" not in text and "089080000000" not in text  # no ID numbers anywhere
    assert msg["Subject"] == ("Tiến độ nhập dữ liệu tiêm chủng ngày 25/08/2021: chuyển 19 người, "
                              "lũy kế đã nhập 35%")


def test_message_structure_images_and_size(built):
    settings, _store, _scenario, msg, fig, files = built
    parsed = message_from_bytes(bytes(msg), policy=default_policy)
    assert parsed.get_content_type() == "multipart/mixed"
    alt, xlsx = parsed.get_payload()
    assert alt.get_content_type() == "multipart/alternative"
    plain, related = alt.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    assert [i.get_content_type() for i in images] == ["image/png", "image/png"]
    html = html_part.get_content()
    for img in images:
        data = img.get_content()
        assert data.startswith(PNG_SIGNATURE)
        width = int.from_bytes(data[16:20], "big")
        assert width >= 2 * 480 - 2  # drawn at 2× the 480 px it is shown at
        cid = img["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
    assert xlsx.get_filename() == "tien-do-tiem-chung-2021-08-25.xlsx"
    assert xlsx.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert len(html.encode("utf-8")) < 100_000 and fig["html_bytes"] < 100_000
    assert "<style" not in html and "<table" in html
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["From"].addresses[0].addr_spec == "tiemchung@angiang.example"
    assert {a.addr_spec for a in parsed["To"].addresses} == set(settings.directory.leaders)
    assert set(files) == {"trend.png", "districts.png", "tien-do-tiem-chung-2021-08-25.xlsx"}
    # the Message-ID is stable per day: a re-run after a crash is the same message
    assert msg["Message-ID"] == digest_message_id(settings, D)
    assert digest_message_id(settings, D - timedelta(days=1)) != msg["Message-ID"]


def test_workbook_has_the_full_tables(built):
    _settings, _store, scenario, _msg, _fig, files = built
    wb = openpyxl.load_workbook(io.BytesIO(files["tien-do-tiem-chung-2021-08-25.xlsx"]))
    assert wb.sheetnames == ["Tổng hợp", "Theo đơn vị", "14 ngày", "Lỗi", "Nơi nhận",
                             "Chưa xác nhận", "Mục đang giữ"]
    ws = wb["Tổng hợp"]
    head = [c.value for c in ws[3]]
    rows = {r[1]: dict(zip(head, r)) for r in ws.iter_rows(min_row=4, values_only=True)}
    lx, total = rows["Thành phố Long Xuyên"], rows["Toàn tỉnh"]
    assert lx["Hạng"] == 1 and lx["Đã chuyển (lũy kế)"] == 12 and lx["Đã nhập (nơi nhận xác nhận)"] == 9
    assert total["Đã chuyển (ngày 25/08)"] == 19 and total["Đã chuyển (lũy kế)"] == 26
    assert total["Đã nhập (nơi nhận xác nhận)"] == 9 and total["Dòng trả lại chờ sửa (ngày 25/08)"] == 2
    units = list(wb["Theo đơn vị"].iter_rows(min_row=4, values_only=True))
    assert len(units) == 179
    ap = next(r for r in units if r[0] == scenario["units"]["ap"].name)
    assert ap[-1] == "Không gửi từ 5 ngày" and ap[-3] == datetime(2021, 8, 20)
    assert sum(1 for r in units if r[-1] == "Chưa gửi lần nào") == 175
    trend = list(wb["14 ngày"].iter_rows(min_row=4, values_only=True))
    assert len(trend) == 14 and trend[-1][0] == datetime(2021, 8, 25) and trend[-1][3] == 19
    stale = list(wb["Chưa xác nhận"].iter_rows(min_row=4, values_only=True))
    assert [(r[1], r[2], r[3]) for r in stale] == [("ttyt-886", 1, 3)]


def test_a_confirmation_changes_the_entered_figures(settings, store, scenario, renderer):
    before = gather_figures(settings, store, D).as_dict()
    store.confirm(scenario["codes"]["ap"], "ttyt-886", None, at=ts(D, 18))  # "Đã nhập" from An Phú
    store.confirm(scenario["codes"]["cd"], "cdc", 3, at=ts(D, 18))  # "ĐÃ NHẬP 3/4"
    msg, after, _ = build_digest(settings, store, D, renderer)
    assert (before["entered"], after["entered"]) == (9, 15)
    assert _group(after, "d886")["entered"] == 3 and _group(after, "d884")["entered"] == 3
    assert after["stale"] == []
    assert "đã nhập vào hệ thống tiêm chủng quốc gia: 15 / 26 người (58%)" in _text(msg)
    assert "- Không có: nơi nhận đã xác nhận mọi lô gửi quá 2 ngày." in _text(msg)


def test_an_empty_state_still_makes_a_digest(settings, store, renderer):
    msg, fig, files = build_digest(settings, store, D, renderer)
    assert fig["total"]["forwarded"] == 0 and fig["never_count"] == 179 and fig["first_day"] is None
    assert "Không có lượt gửi nào trong ngày." in _text(msg)
    assert files["trend.png"].startswith(PNG_SIGNATURE)


def test_targets_rank_by_share_of_target(settings, store, scenario, renderer):
    d = settings.directory
    targets = {883: 1200, 884: 60, 886: 30}  # 1 %, 10 %, 10 % of target forwarded
    districts = tuple(dataclasses.replace(x, target=targets.get(x.code, 1000)) for x in d.districts)
    settings.__dict__["directory"] = dataclasses.replace(d, districts=districts)
    msg, fig, _ = build_digest(settings, store, D, renderer)
    assert fig["districts_have_targets"] is True
    assert [g["key"] for g in fig["groups"][:3]] == ["d884", "d886", "d883"]
    assert round(_group(fig, "d884")["target_pct"]) == 10
    text = _text(msg)
    assert "xếp hạng theo tỷ lệ đã chuyển so với chỉ tiêu" in text
    assert re.search(r"1\. TP\. Châu Đốc: chuyển 6, đã nhập 0 \(0%\), chỉ tiêu 60 \(đạt 10%\)", text)
    assert "Chỉ tiêu</th>" in _html(msg)
