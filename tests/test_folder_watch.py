"""The folder intake as a daemon (real Service, real watchdog observers) under the faults of
issue 4: slow chunked copies, temp-then-rename, deletes and replacements mid-copy, a
subfolder deleted while watched, the share gone and back, a hung polling watcher."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from service.intake.folder import create_unit_folders
from service.intake.folder_watch import FolderWatcher
from tests.test_folder import (D, MYBINH, MYLONG, Daemon, drop, files_under, mau1, rows_of, sent,
                               wait_for, write_config)

# watchdog warns when our "Đã xử lý/<date>" folders are registered twice (the service silences it)
pytestmark = [pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning"), pytest.mark.slow]


def slow_copy(target: Path, data: bytes, chunks: int = 8, gap: float = 0.08, pause_at: int | None = None,
              pause: float = 0.0) -> None:
    """Write ``data`` in chunks, as a slow SMB copy does (optionally pausing mid-way)."""
    step = len(data) // chunks + 1
    with open(target, "wb") as fh:
        for i in range(chunks):
            fh.write(data[i * step:(i + 1) * step])
            fh.flush()
            time.sleep(pause if i == pause_at else gap)


def done_files(unit: Path) -> list[str]:
    return [n for n in files_under(unit) if n.startswith(("Đã xử lý/", "Cần sửa/")) and
            not n.endswith((" - kết quả.txt", " - kiểm tra.xlsx"))]


def processed(unit: Path, name: str) -> Path | None:
    for sub in ("Đã xử lý", "Cần sửa"):
        for day in (unit / sub).glob("*") if (unit / sub).is_dir() else []:
            if (day / name).exists():
                return day / name
    return None


@pytest.mark.parametrize("mode", ["inotify", "polling"])
def test_the_daemon_survives_the_faults_of_a_shared_folder(tmp_path, mode):
    cfg = write_config(tmp_path, mode=mode, invalid_grace_seconds=1.5)
    share = tmp_path / "share"
    unit = share / MYBINH.folder
    expected: dict[str, bytes] = {}
    with Daemon(cfg) as svc:
        # 1. a slow copy in chunks, pausing longer than the settle time mid-way
        expected["chậm.xlsx"] = mau1([1, 2])
        slow_copy(unit / "chậm.xlsx", expected["chậm.xlsx"], pause_at=3, pause=0.9)
        # 2. written under a temp name, then renamed
        expected["đổi tên.xlsx"] = mau1([3])
        slow_copy(unit / "~$tmp-1234.tmp", expected["đổi tên.xlsx"])
        os.replace(unit / "~$tmp-1234.tmp", unit / "đổi tên.xlsx")
        # 3. deleted mid-copy: never taken
        half = mau1([4])
        slow_copy(unit / "xóa.xlsx", half[: len(half) // 2], chunks=3)
        os.unlink(unit / "xóa.xlsx")
        # 4. replaced mid-copy: only the replacement is taken
        expected["thay.xlsx"] = mau1([5, 6, 7])
        slow_copy(unit / "thay.xlsx", mau1([8])[:3000], chunks=3)
        (unit / ".thay.tmp").write_bytes(expected["thay.xlsx"])
        os.replace(unit / ".thay.tmp", unit / "thay.xlsx")
        for name in expected:
            wait_for(lambda n=name: processed(unit, n) is not None, what=name)

        # 5. a unit folder deleted while watched, then made again and used
        other = share / MYLONG.folder
        shutil.rmtree(other)
        time.sleep(0.5)
        other.mkdir()
        drop(other, "sau khi tạo lại.xlsx", mau1([9]))
        wait_for(lambda: processed(other, "sau khi tạo lại.xlsx") is not None, what="recreated subfolder")

        for name, data in expected.items():  # each drop taken whole, once
            assert processed(unit, name).read_bytes() == data
        assert sorted(Path(n).name for n in done_files(unit)) == sorted(expected)
        assert not files_under(unit) or all("/" in n for n in files_under(unit))

        # 6. the share unmounted and back: the whole tree goes away and returns
        restarts = svc.folder.watcher.restarts
        shutil.rmtree(share)
        time.sleep(1.0)
        share.mkdir()
        create_unit_folders(share, D)
        back = mau1([10, 11])
        drop(unit, "sau khi gắn lại.xlsx", back)
        wait_for(lambda: processed(unit, "sau khi gắn lại.xlsx") is not None, timeout=30, what="after remount")
        assert svc.folder.watcher.restarts > restarts
        assert processed(unit, "sau khi gắn lại.xlsx").read_bytes() == back
        time.sleep(1.0)  # the service's own output never comes back in
    fw = [m for m in sent(tmp_path) if m["kind"] == "forward"]
    # chậm 2, đổi tên 1, thay 3, tạo lại 1, gắn lại 2; the deleted and replaced halves never
    assert sorted(rows_of(m["atts"][0][1]) for m in fw) == [1, 1, 2, 2, 3]
    assert all(m["to"] == ["ttyt.longxuyen@angiang.example"] for m in fw)
    assert len([m for m in sent(tmp_path) if m["kind"] == "receipt"]) == 5


def test_a_new_drop_lands_while_files_settle_and_a_file_in_no_units_folder_stays(tmp_path):
    cfg = write_config(tmp_path, mode="inotify")
    share = tmp_path / "share"
    with Daemon(cfg) as svc:
        drop(share, "ngoài.xlsx", mau1([1]))
        (share / MYBINH.folder / "~$khóa.xlsx").write_bytes(b"x" * 165)
        (share / MYBINH.folder / ".~lock.khóa.xlsx#").write_text("lock")
        drop(share / MYBINH.folder, "khóa.xlsx", mau1([2]))
        wait_for(lambda: processed(share / MYBINH.folder, "khóa.xlsx") is not None)
        wait_for(lambda: svc.store.list_held(), what="held")
        time.sleep(0.8)
    assert (share / "ngoài.xlsx").exists()
    assert [h.kind for h in svc_held(cfg)] == ["unknown-folder"]
    assert (share / MYBINH.folder / "~$khóa.xlsx").exists()
    assert len([m for m in sent(tmp_path) if m["kind"] == "forward"]) == 1


def svc_held(cfg):
    from service.config import load_settings
    from service.runner import Service
    svc = Service(load_settings(cfg))
    try:
        return svc.store.list_held()
    finally:
        svc.close()


class _HangingWatcher(FolderWatcher):
    """A share whose listing blocks (a hard NFS mount that lost its server)."""
    hang = threading.Event()
    release = threading.Event()

    def _listdir(self, path):
        if self.hang.is_set():
            self.release.wait(10)
        return super()._listdir(path)


def test_a_hung_polling_watcher_is_noticed_and_replaced(tmp_path):
    w = _HangingWatcher(tmp_path, "polling", poll_seconds=0.1, stall_seconds=0.6)
    try:
        assert w.check() and w.mode == "polling"
        (tmp_path / "a.xlsx").write_bytes(b"x")
        assert any(c.path.endswith("a.xlsx") for c in w.wait(2.0))
        w.hang.set()
        time.sleep(1.0)
        w.hang.clear()
        assert w.check() and w.restarts == 1  # stalled → restarted
        (tmp_path / "b.xlsx").write_bytes(b"x")
        wait_for(lambda: any(c.path.endswith("b.xlsx") for c in w.wait(0.2)), timeout=5)
    finally:
        w.release.set()
        w.close()


def test_a_vanished_root_is_waited_for_and_watched_again(tmp_path):
    root = tmp_path / "share"
    root.mkdir()
    w = FolderWatcher(root, "inotify", poll_seconds=0.1)
    try:
        assert w.check() and w.mode == "inotify"
        shutil.rmtree(root)
        assert not w.check() and not w.watching
        root.mkdir()
        time.sleep(0.2)
        assert w.check() and w.watching
        (root / "c.xlsx").write_bytes(b"x")
        wait_for(lambda: any(c.path.endswith("c.xlsx") for c in w.wait(0.2)), timeout=5)
    finally:
        w.close()
