"""The shared-folder intake through the real Service: drops → forwards, results beside each file.

Helpers at the top are shared with test_folder_watch.py and test_folder_kill.py.
"""
from __future__ import annotations

import io
import os
import shutil
import threading
import time
import unicodedata
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path

import openpyxl
import pytest

from service.config import load_settings
from service.directory import load_default
from service.intake.folder import create_unit_folders
from service.intake.folder_files import (fit_name, is_candidate_path, looks_complete, numbered)
from service.intake.folder_watch import choose_mode, is_network_fs, mount_type
from service.runner import Service
from tests.outbox_reader import rows_in

D = load_default()
MYBINH = D.unit("xa-30280")  # a commune with an address: receipts are mailed too
MYLONG = D.unit("xa-30283")
SYT = D.unit("tinh-2")  # Sở Y tế: a provincial unit with only a domain (no receipt by mail)
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Nhóm ưu tiên", "Số điện thoại",
          "Số CMND/CCCD", "Quận/Huyện", "Xã/Phường"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Huỳnh Văn Em",
         "Võ Thị Phương", "Đặng Văn Giàu", "Bùi Thị Hạnh"]


# ---------------------------------------------------------------------------- helpers


def person(n: int) -> list:
    """Row values for person ``n`` (distinct CCCD per n), a valid Mẫu 1 row in Mỹ Bình."""
    male = n % 2 == 0
    yy = 60 + n % 40
    cccd = f"089{0 if male else 1}{yy:02d}{100000 + n:06d}"
    phone = f"09{12 + n % 7}{345600 + n % 1000:06d}"[:10]
    return [NAMES[n % len(NAMES)], f"{1 + n % 28:02d}/{1 + n % 12:02d}/19{yy}", "Nam" if male else "Nữ",
            1 + n % 16, phone, cccd, "Thành phố Long Xuyên", "Phường Mỹ Bình"]


def mau1(people: list[int], bad: set[int] = frozenset()) -> bytes:
    """A Mẫu 1 workbook; people in ``bad`` get a phone with letters (an error)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mẫu 1"
    ws.append(HEADER)
    for i, n in enumerate(people, 1):
        row = person(n)
        if n in bad:
            row[4] = "0912abc678"
        ws.append([i, *row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_config(tmp: Path, **folder) -> Path:
    share = tmp / "share"
    share.mkdir(exist_ok=True)
    opts = {"settle_seconds": 0.3, "poll_seconds": 0.3, **folder}
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in opts.items())
    cfg = tmp / "vaxmail.toml"
    cfg.write_text(f'[smtp]\nurl = "file:{tmp / "out"}"\n[folder]\npath = "{share}"\n{lines}'
                   f'[state]\npath = "{tmp / "state"}"\n', encoding="utf-8")
    create_unit_folders(share, D)
    return cfg


def run_once(cfg: Path) -> dict:
    svc = Service(load_settings(cfg))
    try:
        return svc.run_once()
    finally:
        svc.close()


def sent(tmp: Path) -> list[dict]:
    out = []
    for p in sorted((tmp / "out").glob("*.eml")) if (tmp / "out").is_dir() else []:
        m = message_from_bytes(p.read_bytes(), policy=default_policy)
        atts = [(part.get_filename(), part.get_payload(decode=True)) for part in m.iter_attachments()]
        body = m.get_body(("plain",))
        out.append({"kind": str(m["X-Vaxmail-Kind"] or ""), "code": str(m["X-Vaxmail-Code"] or ""),
                    "mid": str(m["Message-ID"]), "to": sorted(a for _, a in getaddresses([str(m["To"] or "")])),
                    "cc": sorted(a for _, a in getaddresses([str(m["Cc"] or "")]) if a),
                    "atts": atts, "text": body.get_content() if body is not None else ""})
    return out


def rows_of(xlsx: bytes) -> int:
    """Data rows of a forwarded workbook, read back by the form engine."""
    return rows_in(xlsx)


def files_under(root: Path) -> list[str]:
    return sorted(unicodedata.normalize("NFC", p.relative_to(root).as_posix())
                  for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def drop(folder: Path, name: str, data: bytes) -> Path:
    """A user's drop: written under a temp name, then renamed (as SMB clients do)."""
    tmp = folder / f"~vx{time.time_ns()}.tmp"
    tmp.write_bytes(data)
    target = folder / name
    os.replace(tmp, target)
    return target


def wait_for(cond, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or cond}")


class Daemon:
    """The real Service's daemon loop in a thread (SIGTERM-equivalent stop at the end)."""

    def __init__(self, cfg: Path):
        self.svc = Service(load_settings(cfg))
        self.thread = threading.Thread(target=self.svc.run_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.svc

    def __exit__(self, *exc):
        self.svc.request_stop()
        self.thread.join(timeout=15)
        self.svc.close()
        assert not self.thread.is_alive()


def day_dirs(unit_dir: Path, out: str) -> list[Path]:
    base = unit_dir / out
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


# ---------------------------------------------------------------------------- rules (pure units)


@pytest.mark.parametrize("rel, ok", [
    ("Sở Y tế/Danh sách.xlsx", True),
    ("Sở Y tế/DS.XLSM", True),
    ("Sở Y tế/cu.xls", True),
    ("Sở Y tế/ds.csv", True),
    ("Sở Y tế/ghi chú.docx", False),
    ("Sở Y tế/~$Danh sách.xlsx", False),          # Excel lock file
    ("Sở Y tế/.~lock.Danh sách.xlsx#", False),    # LibreOffice lock file
    ("Sở Y tế/~WRL0001.tmp", False),
    ("Sở Y tế/Danh sách.xlsx.crdownload", False),
    ("Sở Y tế/Danh sách.xlsx.part", False),
    ("Sở Y tế/Danh sách.xlsx.partial", False),
    ("Sở Y tế/.ẩn.xlsx", False),
    ("Sở Y tế/Đã xử lý/2021-08-25/Danh sách.xlsx", False),
    ("Sở Y tế/" + unicodedata.normalize("NFD", "Cần sửa") + "/2021-08-25/a.xlsx", False),
    ("Sở Y tế/Danh sách - kiểm tra.xlsx", False),   # our own result file
    ("Sở Y tế/.snapshot/a.xlsx", False),
    ("Sở Y tế/#recycle/a.xlsx", False),
    ("lạc chỗ.xlsx", True),                         # a candidate, held for the operator later
])
def test_which_files_count_as_drops(rel, ok):
    assert is_candidate_path(Path(rel)) is ok


def test_a_workbook_is_complete_only_with_its_zip_directory(tmp_path):
    data = mau1([1, 2])
    whole, cut = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) // 2])
    pre = tmp_path / "c.xlsx"  # a preallocated copy: right size, tail still zeros
    pre.write_bytes(data[:1000] + b"\0" * (len(data) - 1000))
    csv, xls = tmp_path / "d.csv", tmp_path / "e.xls"
    csv.write_text("STT,Họ và tên\n1,An\n", encoding="utf-8")
    xls.write_bytes(b"<html><table><tr><td>STT</td></tr></table></html>")
    assert looks_complete(whole) and looks_complete(csv) and looks_complete(xls)
    assert not looks_complete(cut) and not looks_complete(pre)


def test_long_names_are_cut_to_the_file_name_limit_at_a_character_boundary():
    stem = "Danh sách đăng ký tiêm vắc xin phòng COVID-19 " * 8
    name = fit_name(stem, " - kết quả.txt")
    assert len(name.encode()) <= 255 and name.endswith(" - kết quả.txt")
    nfd = unicodedata.normalize("NFD", stem)
    cut = fit_name(nfd, " (2).xlsx")
    assert len(cut.encode()) <= 255 and not unicodedata.combining(cut[: -len(" (2).xlsx")][-1])
    assert numbered("a", ".xlsx", 1) == "a.xlsx" and numbered("a", ".xlsx", 3) == "a (3).xlsx"


def test_network_mounts_are_polled_local_folders_use_inotify(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "40 22 0:50 / /srv/chia\\040se rw,relatime - cifs //nas/share rw,vers=3.0\n"
        "41 22 0:51 / /mnt/nfs rw - nfs4 nas:/export rw\n"
        "42 22 0:52 / /mnt/fuse rw - fuse.sshfs host: rw\n")
    assert mount_type(Path("/srv/chia se/Sở Y tế"), str(info)) == "cifs"
    assert mount_type(Path("/mnt/nfs/x"), str(info)) == "nfs4"
    assert mount_type(Path("/home/x"), str(info)) == "ext4"
    assert all(is_network_fs(t) for t in ("cifs", "smb3", "nfs", "nfs4", "fuse.sshfs"))
    assert not is_network_fs("ext4")
    assert choose_mode("polling", tmp_path) == "polling"
    assert choose_mode("auto", tmp_path) in ("inotify", "polling")


# ---------------------------------------------------------------------------- the service


def test_vaxmail_folders_creates_one_subfolder_per_unit(tmp_path):
    import subprocess
    import sys
    cfg = tmp_path / "v.toml"
    cfg.write_text(f'[folder]\npath = "{tmp_path / "share"}"\n[state]\npath = "{tmp_path / "st"}"\n')
    (tmp_path / "share").mkdir()
    # a macOS client made one of them already, in NFD: it is reused, not doubled
    (tmp_path / "share" / unicodedata.normalize("NFD", MYBINH.folder)).mkdir()
    out = subprocess.run([sys.executable, "-m", "service.cli", "folders", "--config", str(cfg)],
                         capture_output=True, text=True, cwd=Path(__file__).parent.parent, check=True).stdout
    lines = [ln.split("\t") for ln in out.splitlines()]
    assert [MYBINH.folder, MYBINH.name] in lines and [SYT.folder, "Sở Y tế"] in lines
    assert len(lines) == sum(1 for u in D.units if u.folder)
    made = {unicodedata.normalize("NFC", p.name) for p in (tmp_path / "share").iterdir()}
    assert made == {u.folder for u in D.units if u.folder}
    assert len(list((tmp_path / "share").iterdir())) == len(made)


@pytest.mark.slow
def test_drops_are_forwarded_and_results_land_beside_each_file(tmp_path):
    cfg = write_config(tmp_path)
    share = tmp_path / "share"
    good, bad = mau1([1, 2, 3]), mau1([4, 5, 6], bad={5})
    drop(share / MYBINH.folder, "Danh sách đợt 1.xlsx", good)
    drop(share / MYBINH.folder, "Danh sách đợt 2.xlsx", bad)
    drop(share / SYT.folder, "DS Sở Y tế.xlsx", mau1([7, 8]))
    (share / MYBINH.folder / "~$Danh sách đợt 1.xlsx").write_bytes(b"\0" * 165)  # Excel's lock file
    drop(share, "lạc chỗ.xlsx", mau1([9]))                                       # top level
    (share / "Phòng không có trong danh bạ").mkdir()
    drop(share / "Phòng không có trong danh bạ", "ds.xlsx", mau1([10]))          # unknown subfolder

    result = run_once(cfg)
    assert result["taken"] == 5 and result["processed"] == 5

    day = day_dirs(share / MYBINH.folder, "Đã xử lý")[0].name
    assert files_under(share / MYBINH.folder) == sorted([
        f"Cần sửa/{day}/Danh sách đợt 2 - kiểm tra.xlsx",
        f"Cần sửa/{day}/Danh sách đợt 2 - kết quả.txt",
        f"Cần sửa/{day}/Danh sách đợt 2.xlsx",
        f"Đã xử lý/{day}/Danh sách đợt 1 - kết quả.txt",
        f"Đã xử lý/{day}/Danh sách đợt 1.xlsx",
        "~$Danh sách đợt 1.xlsx",
    ])
    assert (share / MYBINH.folder / "Đã xử lý" / day / "Danh sách đợt 1.xlsx").read_bytes() == good
    receipt = (share / MYBINH.folder / "Đã xử lý" / day / "Danh sách đợt 1 - kết quả.txt").read_text("utf-8")
    fix = (share / MYBINH.folder / "Cần sửa" / day / "Danh sách đợt 2 - kết quả.txt").read_text("utf-8")
    assert "Mã theo dõi: VX-" in receipt and "Dòng 3" in fix and "Số điện thoại" in fix
    # the unknown places stay where they are, held for the operator
    assert (share / "lạc chỗ.xlsx").exists() and (share / "Phòng không có trong danh bạ" / "ds.xlsx").exists()
    svc = Service(load_settings(cfg))
    try:
        held = Counter(h.kind for h in svc.store.list_held())
    finally:
        svc.close()
    assert held["unknown-folder"] == 2

    msgs = sent(tmp_path)
    fw = [m for m in msgs if m["kind"] == "forward"]
    assert sorted((m["to"][0], rows_of(m["atts"][0][1])) for m in fw) == [
        ("cdc@angiang.example", 2), ("ttyt.longxuyen@angiang.example", 2), ("ttyt.longxuyen@angiang.example", 3)]
    assert all(m["cc"] == ["vhtt.longxuyen@angiang.example"] for m in fw if "ttyt" in m["to"][0])
    # the commune has an address: the same receipt / error report by mail; Sở Y tế has none
    replies = Counter((m["to"][0], m["kind"]) for m in msgs if m["kind"] != "forward")
    assert replies == {("ubnd.mybinh.longxuyen@angiang.example", "receipt"): 1,
                       ("ubnd.mybinh.longxuyen@angiang.example", "error-report"): 1}
    assert len({m["mid"] for m in msgs}) == len(msgs)

    # nothing is taken twice: a second run finds only the held files, already seen
    assert run_once(cfg) == {"taken": 0, "processed": 0}
    assert len(sent(tmp_path)) == len(msgs)


@pytest.mark.slow
def test_the_same_file_again_is_answered_not_forwarded_and_a_corrected_file_forwards_only_the_new(tmp_path):
    cfg = write_config(tmp_path)
    unit = tmp_path / "share" / MYBINH.folder
    first = mau1([1, 2, 3], bad={3})
    original = tmp_path / "Danh sách.xlsx"
    original.write_bytes(first)
    shutil.copy2(original, unit / "Danh sách.xlsx")  # a copy keeps the mtime, as Windows does
    run_once(cfg)
    shutil.copy2(original, unit / "Danh sách.xlsx")  # the very same file, dropped again
    assert run_once(cfg)["processed"] == 1
    drop(unit, "Danh sách.xlsx", mau1([1, 2, 3]))     # corrected: row 3 fixed
    assert run_once(cfg)["processed"] == 1

    fw = [m for m in sent(tmp_path) if m["kind"] == "forward"]
    assert sorted(rows_of(m["atts"][0][1]) for m in fw) == [1, 2]  # 2 valid first, then only the fixed one
    replies = [m for m in sent(tmp_path) if m["kind"] != "forward"]
    assert len(replies) == 3 and len({m["code"] for m in replies}) == 3
    day = day_dirs(unit, "Cần sửa")[0].name
    names = files_under(unit)
    assert f"Cần sửa/{day}/Danh sách.xlsx" in names and f"Cần sửa/{day}/Danh sách (2).xlsx" in names
    assert f"Đã xử lý/{day}/Danh sách.xlsx" in names
    assert not (unit / "Danh sách.xlsx").exists()


@pytest.mark.slow
def test_nfd_names_long_names_and_clashes_with_users_files(tmp_path):
    cfg = write_config(tmp_path)
    share = tmp_path / "share"
    shutil.rmtree(share / MYLONG.folder)
    unit = share / unicodedata.normalize("NFD", MYLONG.folder)  # written by a macOS client
    unit.mkdir()
    nfd_name = unicodedata.normalize("NFD", "Danh sách tổ dân phố.xlsx")
    drop(unit, nfd_name, mau1([11, 12]))
    long_stem = ("Danh sách đăng ký tiêm vắc xin phòng COVID-19 khóm Đông Thịnh " * 4)[:80]
    long_name = long_stem + ".xlsx"
    assert len(long_name.encode()) > 100
    drop(unit, long_name, mau1([13], bad={13}))
    longest = fit_name("Danh sách " * 40, ".xlsx", limit=250)  # close to the 255-byte limit
    drop(unit, longest, mau1([14]))
    # a user already keeps a file of the same name in today's output folder
    run_once(cfg)
    day = next(p for p in (unit / "Đã xử lý").iterdir()).name
    drop(unit, nfd_name, mau1([15]))
    user_file = unit / "Đã xử lý" / day / unicodedata.normalize("NFC", nfd_name)  # another client's name
    user_file.write_bytes(b"a user's own file")
    user_bytes = user_file.read_bytes()
    run_once(cfg)

    names = files_under(unit)
    assert f"Đã xử lý/{day}/Danh sách tổ dân phố - kết quả.txt" in names
    assert f"Đã xử lý/{day}/Danh sách tổ dân phố (2).xlsx" in names
    assert f"Đã xử lý/{day}/Danh sách tổ dân phố (2) - kết quả.txt" in names
    assert user_file.read_bytes() == user_bytes  # never overwritten
    assert any(n.endswith(" - kiểm tra.xlsx") and n.startswith(f"Cần sửa/{day}/{long_stem[:40]}") for n in names)
    assert sum(1 for n in names if n.endswith(" - kết quả.txt")) == 4
    assert all(len(Path(n).name.encode()) <= 255 for n in names)
    assert not [n for n in names if "/" not in n]  # nothing left in the unit folder itself
    assert sorted(rows_of(m["atts"][0][1]) for m in sent(tmp_path) if m["kind"] == "forward") == [1, 1, 2]


@pytest.mark.slow
def test_a_crash_after_the_commit_finishes_on_restart_without_sending_twice(tmp_path):
    from service.pipeline import process
    from service.pipeline.commit import commit

    cfg = write_config(tmp_path)
    unit = tmp_path / "share" / MYBINH.folder
    drop(unit, "Danh sách.xlsx", mau1([1, 2], bad={2}))
    svc = Service(load_settings(cfg))
    try:  # what a killed service leaves: committed, results written, file not yet moved
        svc.recover()
        assert svc.take_folder(settle=False) == 1
        entry = svc.inq.claim()
        item = svc.folder.item(entry)
        assert svc.store.claim_incoming(item.key)
        commit(process(item, svc.ctx), item, svc.store, svc.outbox, svc.state_dir)
    finally:
        svc.close()
    assert (unit / "Danh sách.xlsx").exists()
    before = run_once(cfg)
    assert before["processed"] == 1 and before["taken"] == 0
    day = day_dirs(unit, "Cần sửa")[0].name
    assert files_under(unit) == [f"Cần sửa/{day}/Danh sách - kiểm tra.xlsx",
                                 f"Cần sửa/{day}/Danh sách - kết quả.txt", f"Cần sửa/{day}/Danh sách.xlsx"]
    msgs = sent(tmp_path)
    assert Counter(m["kind"] for m in msgs) == {"forward": 1, "error-report": 1}
    assert not list((tmp_path / "state" / "results").iterdir())  # nothing personal left behind
    assert run_once(cfg) == {"taken": 0, "processed": 0}


def test_a_truncated_workbook_that_stays_so_is_answered_as_a_broken_file(tmp_path):
    cfg = write_config(tmp_path)
    unit = tmp_path / "share" / MYBINH.folder
    data = mau1([1, 2])
    (unit / "Hỏng.xlsx").write_bytes(data[: len(data) // 2])
    assert run_once(cfg)["processed"] == 1
    day = day_dirs(unit, "Cần sửa")[0].name
    text = (unit / "Cần sửa" / day / "Hỏng - kết quả.txt").read_text("utf-8")
    assert "Mã theo dõi" in text
    assert not [m for m in sent(tmp_path) if m["kind"] == "forward"]


@pytest.mark.slow
def test_a_file_over_the_size_limit_is_answered_beside_it_not_left_unseen(tmp_path):
    cfg = write_config(tmp_path)
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write("[limits]\nmax_file_mb = 0.01\n")  # 10 kB
    unit = tmp_path / "share" / MYBINH.folder
    data = mau1(list(range(1, 400)))
    assert len(data) > 10_000
    (unit / "Lớn.xlsx").write_bytes(data)
    assert run_once(cfg)["processed"] == 1
    day = day_dirs(unit, "Cần sửa")[0].name
    assert (unit / "Cần sửa" / day / "Lớn.xlsx").read_bytes() == data
    text = (unit / "Cần sửa" / day / "Lớn - kết quả.txt").read_text("utf-8")
    assert "tệp quá lớn" in text
    assert not [m for m in sent(tmp_path) if m["kind"] == "forward"]
    assert run_once(cfg)["processed"] == 0


@pytest.mark.slow
def test_permission_denied_is_logged_without_the_name_and_retried(tmp_path):
    """Run as root without the DAC-override capabilities, so a 000 file cannot be read."""
    import subprocess
    import sys
    cfg = write_config(tmp_path)
    unit = tmp_path / "share" / MYBINH.folder
    secret = drop(unit, "Nguyễn Văn An.xlsx", mau1([1]))
    drop(unit, "Danh sách.xlsx", mau1([2]))
    os.chmod(secret, 0)
    cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
           sys.executable, "-m", "service.cli", "run", "--config", str(cfg), "--once"]
    repo = Path(__file__).parent.parent
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=repo)
    assert first.returncode == 0, first.stderr
    assert "permission denied" in first.stderr and "Nguyễn" not in first.stderr
    assert secret.exists() and not (unit / "Danh sách.xlsx").exists()
    os.chmod(secret, 0o644)
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=repo)
    assert again.returncode == 0, again.stderr
    assert not secret.exists()
    assert len([m for m in sent(tmp_path) if m["kind"] == "forward"]) == 2


SAMPLES = Path(__file__).resolve().parent.parent / "inbox_samples"
# mailed samples from known units with spreadsheets, in the order they were sent
CORPUS = ["01-mau1-so-y-te", "02-mau1-xa-co-loi", "03-mau1-xa-gui-lai", "04-mau1-doanh-nghiep",
          "05-mau2-so-gddt", "06-mau2-xa-noi-tiem-la", "07-mau2-doanh-nghiep", "16-tep-hong"]


@pytest.mark.slow
def test_the_wild_corpus_dropped_in_folders_forwards_exactly_what_mailing_it_does(tmp_path):
    from service.intake.mime import extract

    def forwards(tmp: Path) -> Counter:
        return Counter((tuple(m["to"]), tuple(m["cc"]), tuple(sorted(rows_of(d) for n, d in m["atts"]
                                                                     if n and n.endswith(".xlsx"))))
                       for m in sent(tmp) if m["kind"] == "forward")

    mail = tmp_path / "mail"
    maildir = mail / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for n, name in enumerate(CORPUS):
        (maildir / "new" / f"{1629853200 + n}.{n}.t:{name}").write_bytes((SAMPLES / f"{name}.eml").read_bytes())
    (mail / "v.toml").write_text(f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "file:{mail / "out"}"\n'
                                 f'[state]\npath = "{mail / "state"}"\n', encoding="utf-8")
    run_once(mail / "v.toml")

    share_tmp = tmp_path / "folder"
    share_tmp.mkdir()
    cfg = write_config(share_tmp, settle_seconds=0)
    for name in CORPUS:  # one drop after another, as the mails came
        ex = extract((SAMPLES / f"{name}.eml").read_bytes())
        unit = D.unit_for_sender(ex.from_addr)
        for f in ex.files:
            (share_tmp / "share" / unit.folder / f.name).write_bytes(f.data)
        run_once(cfg)
    assert forwards(share_tmp) == forwards(mail) and sum(forwards(mail).values()) >= 8
    left = [n for n in files_under(share_tmp / "share") if n.count("/") < 3]
    assert not left  # every drop moved into a dated result folder
