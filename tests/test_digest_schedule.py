"""The scheduled digest: due once a day, sent once across restarts, one instance only."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

import pytest

from service.mail.render import Renderer
from service.outbox import Outbox, Sender, open_transport
from service.state import open_store
from service.digest.schedule import DigestScheduler, queue_digest
from tests.test_digest import D, fill_scenario, make_settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AFTER = datetime(2021, 8, 26, 9, 30, tzinfo=VN)  # D+1, after 07:00: D's digest is due


@pytest.fixture
def env(tmp_path):
    settings = make_settings(tmp_path)
    store = open_store(settings.state_dir)
    fill_scenario(store, settings.directory)
    outbox = Outbox(settings.state_dir)
    renderer = Renderer(settings.templates_path)
    made = []

    def scheduler(settings=settings):
        s = DigestScheduler(settings, store, outbox, renderer)
        made.append(s)
        return s

    yield settings, store, outbox, scheduler
    for s in made:
        s.shutdown()
    store.close()


def test_due_day_follows_the_configured_time(env):
    _settings, _store, _outbox, scheduler = env
    s = scheduler()
    assert s.due_day(datetime(2021, 8, 26, 6, 59, tzinfo=VN)) is None
    assert s.due_day(datetime(2021, 8, 26, 7, 0, tzinfo=VN)) == D
    assert s.due_day(datetime(2021, 8, 26, 23, 59, tzinfo=VN)) == D
    # the zone is explicit: 01:00 UTC is 08:00 in Ho Chi Minh City
    assert s.due_day(datetime(2021, 8, 26, 1, 0, tzinfo=ZoneInfo("UTC"))) == D


@pytest.mark.slow
def test_sends_once_across_restarts_and_days(env, tmp_path):
    settings, store, outbox, scheduler = env
    first = scheduler()
    assert first.run_due(datetime(2021, 8, 26, 6, 0, tzinfo=VN)) is False  # not yet 07:00
    assert len(outbox.pending()) == 0
    assert first.run_due(AFTER) is True
    assert first.run_due(AFTER + timedelta(hours=1)) is False
    assert len(outbox.pending()) == 1 and store.digest_sent(D)
    first.shutdown()

    restarted = scheduler()  # a new process on the same state
    assert restarted.run_due(AFTER + timedelta(hours=2)) is False
    assert len(outbox.pending()) == 1

    # the sender delivers it once; later runs find nothing more to send
    sent_dir = tmp_path / "sent"
    Sender(outbox, open_transport(f"file:{sent_dir}"), store).run_once()
    Sender(outbox, open_transport(f"file:{sent_dir}"), store).run_once()
    delivered = list(sent_dir.glob("*.eml"))
    assert len(delivered) == 1
    msg = message_from_bytes(delivered[0].read_bytes(), policy=default_policy)
    assert msg["X-Vaxmail-Digest"] == D.isoformat() and msg["Auto-Submitted"] == "auto-generated"
    assert store.get_value("last_digest")["day"] == D.isoformat()

    # the next morning: the next day's digest, once
    assert restarted.run_due(AFTER + timedelta(days=1)) is True
    assert restarted.run_due(AFTER + timedelta(days=1, hours=3)) is False
    assert store.digest_sent(D + timedelta(days=1))


def test_a_day_already_sent_sends_nothing(env):
    _settings, store, outbox, scheduler = env
    store.mark_digest_sent(D, "<earlier@angiang.example>")
    assert scheduler().run_due(AFTER) is False
    assert len(outbox.pending()) == 0


@pytest.mark.slow
def test_a_rerun_after_a_crash_queues_the_same_message(env):
    settings, store, outbox, scheduler = env
    renderer = Renderer(settings.templates_path)
    a = queue_digest(settings, store, outbox, renderer, D)  # crashed after queuing ...
    b = queue_digest(settings, store, outbox, renderer, D)  # ... and ran again
    assert a == b and len(outbox.pending()) == 1


@pytest.mark.slow
def test_one_instance_only(env):
    _settings, store, outbox, scheduler = env
    a, b = scheduler(), scheduler()
    assert a.start() is True
    assert b.start() is False  # another daemon on the same state: the lock is taken
    assert b.run_due(AFTER) is False and len(outbox.pending()) == 0
    assert a.run_due(AFTER) is True
    a.shutdown()
    assert b.start() is True  # the lock is free again


@pytest.mark.slow
def test_the_cron_job_is_set_up_and_fires(env):
    settings, store, outbox, scheduler = env
    s = scheduler()
    assert s.start() is True
    job = s._scheduler.get_job("digest")
    assert job.misfire_grace_time == 6 * 3600 and job.coalesce is True and job.max_instances == 1
    nxt = s.next_run()
    assert (nxt.hour, nxt.minute, nxt.utcoffset()) == (7, 0, timedelta(hours=7))
    s.shutdown()

    # a scheduler whose time has passed today; make its job fire now: in its own thread it
    # runs run_due() for yesterday (real clock)
    s = scheduler(settings.with_values("digest", time="00:00"))
    assert s.start() is True
    yesterday = datetime.now(VN).date() - timedelta(days=1)
    s._scheduler.get_job("digest").modify(next_run_time=datetime.now(VN))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not store.digest_sent(yesterday):
        time.sleep(0.1)
    assert store.digest_sent(yesterday)
    assert [e.meta["kind"] for e in outbox.pending()] == ["digest"]
