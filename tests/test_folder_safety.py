"""The shared folder is hostile ground: links are answered and moved aside, never followed;
nothing is read or written outside the share; a unit's folder is its exact name; results are
0640 with the configured group."""
from __future__ import annotations

import grp
import os
from pathlib import Path

import pytest

from service.config import load_settings
from service.state import open_store
from tests.test_folder import MYBINH, MYLONG, drop, mau1, run_once, sent, write_config


def held_kinds(tmp: Path) -> list[str]:
    store = open_store(tmp / "state")
    try:
        return sorted(h.kind for h in store.list_held())
    finally:
        store.close()


@pytest.mark.slow
def test_a_symlink_to_another_units_list_or_a_held_file_is_answered_and_moved_never_read(tmp_path):
    cfg = write_config(tmp_path)
    share = tmp_path / "share"
    secret_list = drop(share / MYLONG.folder, "DS bí mật.xlsx", mau1([1, 2]))
    outside = tmp_path / "state-held-file.eml"
    outside.write_bytes(b"From: x\n\nPERSONAL-DATA-OUTSIDE-THE-SHARE\n")
    before = secret_list.read_bytes(), secret_list.stat().st_mtime_ns
    os.symlink(secret_list, share / MYBINH.folder / "Xem.xlsx")
    os.symlink(outside, share / MYBINH.folder / "thu.csv")
    os.symlink(tmp_path, share / MYBINH.folder / "thư mục")  # a link to a folder
    # run once, before the other unit's own list is processed: only Mỹ Bình's links
    (share / MYLONG.folder / "DS bí mật.xlsx").rename(tmp_path / "kept-aside.xlsx")
    os.symlink(tmp_path / "kept-aside.xlsx", share / MYBINH.folder / "DS.xlsx")
    run_once(cfg)
    out = sent(tmp_path)
    assert not [m for m in out if m["kind"] == "forward"]  # nothing read through a link
    assert all(b"PERSONAL-DATA-OUTSIDE" not in a for m in out for _, a in m["atts"])
    assert (tmp_path / "kept-aside.xlsx").read_bytes() == before[0]
    assert outside.read_bytes().endswith(b"PERSONAL-DATA-OUTSIDE-THE-SHARE\n")
    (fix,) = (share / MYBINH.folder / "Cần sửa").iterdir()  # the day's folder
    moved = sorted(p.name for p in fix.iterdir())
    for name in ("Xem.xlsx", "thu.csv", "thư mục", "DS.xlsx"):
        assert name in moved and os.path.islink(fix / name), moved
        assert f"{Path(name).stem} - kết quả.txt" in moved or any(m.startswith(Path(name).stem) and m.endswith("kết quả.txt") for m in moved)
    receipt = next(p for p in fix.iterdir() if p.name.endswith("kết quả.txt"))
    assert "lối tắt" in receipt.read_text(encoding="utf-8")
    assert not any(os.path.islink(p) for p in (share / MYBINH.folder).iterdir())


@pytest.mark.slow
def test_a_linked_output_folder_never_lets_results_escape_the_share(tmp_path):
    cfg = write_config(tmp_path)
    share = tmp_path / "share"
    inq = tmp_path / "state" / "queue" / "in" / "new"
    run_once(cfg)  # the state exists
    before = set(os.listdir(inq))
    os.symlink(inq, share / MYBINH.folder / "Cần sửa")  # results would land in the intake queue
    drop(share / MYBINH.folder, "DS.xlsx", mau1([3, 4], bad={4}))
    run_once(cfg)
    assert set(os.listdir(inq)) == before  # nothing written outside the share
    assert os.path.islink(share / MYBINH.folder / "Cần sửa - liên kết bị bỏ qua")
    real = share / MYBINH.folder / "Cần sửa"
    assert real.is_dir() and not real.is_symlink()
    assert any(p.name.endswith("kiểm tra.xlsx") for p in real.rglob("*"))


def test_a_look_alike_folder_is_nobodys(tmp_path):
    cfg = write_config(tmp_path)
    share = tmp_path / "share"
    fake = share / "LONG XUYEN - PHUONG MY BINH"
    fake.mkdir()
    drop(fake, "DS.xlsx", mau1([5, 6]))
    run_once(cfg)
    assert not [m for m in sent(tmp_path) if m["kind"] == "forward"]
    assert held_kinds(tmp_path) == ["unknown-folder"]
    assert (fake / "DS.xlsx").exists()  # left where it is, for the operator


@pytest.mark.slow
def test_results_beside_a_drop_are_0640_with_the_configured_group(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    cfg = write_config(tmp_path, result_group=group)
    share = tmp_path / "share"
    src = drop(share / MYBINH.folder, "DS.xlsx", mau1([7, 8], bad={8}))
    os.chmod(src, 0o666)
    old = os.umask(0)
    try:
        run_once(cfg)
    finally:
        os.umask(old)
    results = [p for p in (share / MYBINH.folder).rglob("*") if p.is_file() and ("kết quả" in p.name or "kiểm tra" in p.name)]
    assert len(results) == 2
    for p in results:
        st = p.stat()
        assert oct(st.st_mode & 0o777) == "0o640" and st.st_gid == os.getgid(), p.name
    assert load_settings(cfg).folder.result_group == group
