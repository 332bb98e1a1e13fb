"""Settings: one schema, strictly loaded; the shipped file agrees with it; every key is used."""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from service.config import SECTIONS, ConfigError, Settings, load_settings, render_defaults
from service.defaults import config_dir, templates_dir

ROOT = Path(__file__).resolve().parent.parent


def vaxmail(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_the_shipped_settings_file_is_the_schema_rendered():
    shipped = (config_dir() / "settings.toml").read_text(encoding="utf-8")
    assert shipped == render_defaults(), "run: python -m service.config > config/settings.toml"
    # and it loads as an operator's file to exactly the defaults
    loaded = load_settings(config_dir() / "settings.toml")
    for name in SECTIONS:
        assert getattr(loaded, name) == getattr(Settings(), name)


def test_every_key_has_a_type_a_default_and_a_doc():
    for name, cls in SECTIONS.items():
        assert cls.__doc__, name
        for f in fields(cls):
            assert f.metadata["doc"].strip(), f"[{name}] {f.name}"
            assert f.type in ("str", "int", "float", "bool"), f"[{name}] {f.name}: {f.type}"


def test_the_keys_other_issues_agreed_on_are_declared():
    s = Settings()
    assert s.trust.authserv_id == "" and s.retention.days == 30
    assert (s.limits.file_memory_mb, s.limits.file_seconds, s.limits.forwards_per_unit_day,
            s.limits.replies_global_per_hour, s.limits.held_max_mb) == (1024, 120, 50, 200, 500)
    assert (s.web.listen, s.web.secret_file, s.web.lockout_failures, s.web.lockout_minutes) == \
        ("127.0.0.1:8080", "", 5, 15)


@pytest.mark.parametrize("text, section, key", [
    ('[mailbox]\nidle_cycle_seconds = "abc"\n', "mailbox", "idle_cycle_seconds"),
    ('[mailbox]\nidle_cyle_seconds = 20\n', "mailbox", "idle_cyle_seconds"),
    ('[mailbx]\nurl = "maildir:/tmp/x"\n', "mailbx", None),
    ('[limits]\nmax_rows = 2.5\n', "limits", "max_rows"),
    ('[limits]\nmax_attachments = true\n', "limits", "max_attachments"),
    ('[folder]\nmode = "fast"\n', "folder", "mode"),
    ('[state]\npath = 5\n', "state", "path"),
    ('state = "x"\n', "state", None),
    ('[digest]\ntime = "7 giờ"\n', "digest", "time"),
    ('[digest]\ntimezone = "Asia/Sai_Gon"\n', "digest", "timezone"),
])
def test_an_unknown_or_mistyped_key_is_refused_naming_file_section_and_key(tmp_path, text, section, key):
    cfg = tmp_path / "v.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings(cfg)
    message = str(exc.value)
    assert str(cfg) in message and f"[{section}]" in message
    if key:
        assert f'"{key}"' in message
    assert "Tệp cấu hình" in message


def test_numbers_widen_but_never_narrow(tmp_path):
    cfg = tmp_path / "v.toml"
    cfg.write_text("[mailbox]\nidle_cycle_seconds = 20\n[limits]\nmax_file_mb = 0.5\n", encoding="utf-8")
    s = load_settings(cfg)
    assert s.mailbox.idle_cycle_seconds == 20.0 and isinstance(s.mailbox.idle_cycle_seconds, float)
    assert s.bytes_limit("max_file_mb") == 500_000


@pytest.mark.parametrize("command", [
    ["run", "--once"], ["status"], ["held"], ["retry"], ["folders"], ["digest"], ["check", "FILE"],
])
@pytest.mark.slow
def test_every_command_that_reads_the_config_exits_2_on_a_bad_key(tmp_path, command):
    cfg = tmp_path / "v.toml"
    cfg.write_text(f'[state]\npath = "{tmp_path / "st"}"\n[mailbox]\nidle_cycle_seconds = "abc"\n',
                   encoding="utf-8")
    args = [a if a != "FILE" else str(ROOT / "inbox_samples" / "missing.xlsx") for a in command]
    out = vaxmail(*args, "--config", str(cfg))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    assert str(cfg) in out.stderr and "[mailbox]" in out.stderr and '"idle_cycle_seconds"' in out.stderr
    assert not (tmp_path / "st").exists()  # refused before anything was touched


def test_with_values_checks_like_a_file():
    s = Settings()
    assert s.with_values("digest", time="00:00").digest.time == "00:00"
    with pytest.raises(ConfigError):
        s.with_values("digest", tiem="00:00")


# ---------------------------------------------------------------- every key changes behaviour

def _settings(tmp: Path, text: str) -> Settings:
    cfg = tmp / "v.toml"
    if "[state]" not in text:
        text = f'[state]\npath = "{tmp / "state"}"\n' + text
    cfg.write_text(text, encoding="utf-8")
    return load_settings(cfg)


def _service(tmp: Path, text: str):
    from service.runner import Service
    return Service(_settings(tmp, text))


def _on_service(get, folder: bool = False):
    """A probe: build the Service from the settings text, answer ``get(service)``, close it."""
    def probe(tmp, text):
        if folder:  # the probe adds [folder] path; the text holds more [folder] keys first
            (tmp / "share").mkdir(exist_ok=True)
            text = f'[folder]\npath = "{tmp / "share"}"\n' + text
        svc = _service(tmp, text)
        try:
            return get(svc)
        finally:
            svc.close()
    return probe


def _mail(attr):
    return _on_service(lambda svc: attr(svc.mail))


def _sender(attr):
    return _on_service(lambda svc: attr(svc.sender))


def _folder(attr):
    return _on_service(lambda svc: attr(svc.folder), folder=True)


def _context(attr):
    return _on_service(lambda svc: attr(svc.ctx))


def _copy_data(tmp: Path, name: str, old: str, new: str) -> Path:
    src = config_dir() / name if name.endswith(".toml") else templates_dir()
    if src.is_dir():
        dst = tmp / "templates"
        shutil.copytree(src, dst)
        target = dst / "held_reasons.toml"
    else:
        dst = target = tmp / name
        shutil.copy(src, dst)
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dst


def _env(monkeypatch, tmp):
    monkeypatch.setenv("VAXMAIL_IMAP_PASSWORD", "from-default-env")
    monkeypatch.setenv("VAXMAIL_SMTP_PASSWORD", "from-default-env")
    monkeypatch.setenv("OTHER_PASSWORD", "from-other-env")
    creds = tmp / "creds"
    creds.mkdir(exist_ok=True)
    (creds / "other").write_text("from-other-credential\n")
    return creds


def _check_rows(tmp, text):
    from service.forms.engine import check_file
    from tests.factory import mau1_xlsx, provincial_people
    path = tmp / "f.xlsx"
    path.write_bytes(mau1_xlsx("Sở Y tế", provincial_people(12, 1)))
    s = _settings(tmp, text)
    return check_file(path, directory=s.directory, max_rows=s.limits.max_rows).fatal is None


MB = '[mailbox]\nurl = "imap://u@127.0.0.1:1/INBOX"\n'
MD = '[mailbox]\nurl = "maildir:{tmp}/md"\n'
SM = '[smtp]\nurl = "smtp://u@127.0.0.1:1"\n'

# (section, key) → (settings text before, after — {tmp} and {data} filled in —, a probe of the
# object that consumes the key). Each test asserts the probe's answer differs.
PROBES = {
    ("mailbox", "url"): ("", MD, _mail(lambda m: type(m).__name__)),
    ("mailbox", "password_env"): (MB, MB + 'password_env = "OTHER_PASSWORD"', _mail(lambda m: m.url.password)),
    ("mailbox", "password_credential"): (MB, MB + 'password_credential = "other"', _mail(lambda m: m.url.password)),
    ("mailbox", "cafile"): (MB, MB + 'cafile = "/ca.pem"', _mail(lambda m: m.cafile)),
    ("mailbox", "done_folder"): (MD, MD + 'done_folder = "Xong"', _mail(lambda m: m.done_path.name)),
    ("mailbox", "idle_cycle_seconds"): (MB, MB + "idle_cycle_seconds = 20", _mail(lambda m: m.idle_cycle)),
    ("mailbox", "timeout_seconds"): (MB, MB + "timeout_seconds = 7", _mail(lambda m: m.timeout)),
    ("mailbox", "sweep_seconds"): (MD, MD + "sweep_seconds = 7", _on_service(lambda svc: _mail_runner(svc).sweep)),
    ("smtp", "url"): ("", '[smtp]\nurl = "file:{tmp}/out"', _sender(lambda s: s is None)),
    ("smtp", "password_env"): (SM, SM + 'password_env = "OTHER_PASSWORD"', _sender(lambda s: s.transport.password)),
    ("smtp", "password_credential"): (SM, SM + 'password_credential = "other"', _sender(lambda s: s.transport.password)),
    ("smtp", "cafile"): (SM, SM + 'cafile = "/ca.pem"', _sender(lambda s: s.transport.cafile)),
    ("smtp", "retry_days"): (SM, SM + "retry_days = 1", _sender(lambda s: s.give_up_after)),
    ("smtp", "retry_base_seconds"): (SM, SM + "retry_base_seconds = 1", _sender(lambda s: s.base_delay)),
    ("folder", "mode"): ("", 'mode = "polling"', _folder(lambda f: f.watcher.configured)),
    ("folder", "poll_seconds"): ("", "poll_seconds = 1", _folder(lambda f: f.watcher.poll_seconds)),
    ("folder", "rescan_minutes"): ("", "rescan_minutes = 1", _folder(lambda f: f.rescan_every)),
    ("folder", "settle_seconds"): ("", "settle_seconds = 0.5", _folder(lambda f: f.settle)),
    ("folder", "invalid_grace_seconds"): ("", "invalid_grace_seconds = 60", _folder(lambda f: f.grace)),
    ("state", "path"): ("", '[state]\npath = "{tmp}/elsewhere"', _on_service(lambda svc: svc.state_dir)),
    ("data", "directory"): ("", '[data]\ndirectory = "{data}"', _context(lambda c: c.intake_address)),
    ("data", "routing"): ("", '[data]\nrouting = "{data}"', _context(lambda c: len(c.rules))),
    ("data", "templates"): ("", '[data]\ntemplates = "{data}"', _context(lambda c: c.renderer.reason("unreadable"))),
    ("limits", "max_file_mb"): ("", "[limits]\nmax_file_mb = 1", _folder(lambda f: f.max_bytes)),
    ("limits", "max_message_mb"): (MB, MB + "[limits]\nmax_message_mb = 1", _mail(lambda m: m.max_message_bytes)),
    ("limits", "max_rows"): ("", "[limits]\nmax_rows = 5", _check_rows),
}
DATA = {  # a copy of a shipped data file with one change, for the [data] keys
    "directory": ("directory.toml", "tiemchung@angiang.example", "tiep-nhan@angiang.example"),
    "routing": ("routing.toml", "[[rule]]", '[[rule]]\nform = "mau1"\nsender_level = "none"\nto = "cdc"\n\n[[rule]]'),
    "templates": ("templates", "Tệp không đọc được.", "Tệp hỏng."),
}


def _mail_runner(svc):
    from service.runners import MailIntake
    return MailIntake(svc)


# Keys whose behaviour is shown by a test elsewhere (the test's name), or that another issue's
# code consumes (and tests) — declared here so the schema is complete.
ELSEWHERE = {
    ("smtp", "from_name"): "test_pipeline_rules.test_from_name_is_the_display_name_of_what_is_sent",
    ("folder", "path"): "tests/test_folder.py",
    ("limits", "max_attachments"): "test_pipeline_rules.test_max_attachments_caps_the_files_read_from_one_message",
    ("limits", "replies_per_sender_per_day"): "test_pipeline_rules.test_replies_to_one_sender_are_capped_per_day_and_the_rest_held",
    ("limits", "unknown_sender_notices_per_day"): "test_pipeline_rules.test_unknown_sender_notices_per_day_caps_the_short_notices",
    ("limits", "file_memory_mb"): "issue 11 (worker pool)",
    ("limits", "file_seconds"): "issue 11 (worker pool)",
    ("limits", "forwards_per_unit_day"): "issue 10",
    ("limits", "replies_global_per_hour"): "issue 10",
    ("limits", "held_max_mb"): "issue 10",
    ("digest", "time"): "test_digest_schedule.test_the_cron_job_is_set_up_and_fires",
    ("digest", "misfire_grace_hours"): "test_digest_schedule.test_the_cron_job_is_set_up_and_fires",
    ("digest", "timezone"): "test_digest",
    ("digest", "silent_days"): "test_digest",
    ("digest", "unconfirmed_days"): "test_digest",
    ("trust", "authserv_id"): "test_trust.test_authenticated_mail_is_forwarded_unauthenticated_is_held_with_one_short_notice",
    ("retention", "days"): "test_retention.test_purge_removes_exactly_what_is_older_than_the_retention_and_nothing_newer",
    ("state", "key_file"): "test_retention.test_the_id_hash_key_moves_out_of_the_state_directory_and_keeps_matching",
    ("folder", "result_group"): "test_folder_safety.test_results_beside_a_drop_are_0640_with_the_configured_group",
    ("web", "listen"): "issue 13",
    ("web", "secret_file"): "issue 13",
    ("web", "lockout_failures"): "issue 13",
    ("web", "lockout_minutes"): "issue 13",
}


def _write(tmp: Path, text: str) -> Path:
    cfg = tmp / "w.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_every_key_is_probed_here_or_named_elsewhere():
    keys = {(name, f.name) for name, cls in SECTIONS.items() for f in fields(cls)}
    assert keys == set(PROBES) | set(ELSEWHERE), keys ^ (set(PROBES) | set(ELSEWHERE))
    assert not set(PROBES) & set(ELSEWHERE)


@pytest.mark.parametrize("section, key", sorted(PROBES))
def test_changing_the_key_changes_what_its_consumer_does(tmp_path, monkeypatch, section, key):
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(_env(monkeypatch, tmp_path)))
    before, after, probe = PROBES[(section, key)]
    data = _copy_data(tmp_path, *DATA[key]) if section == "data" else ""
    answers = []
    for run, text in (("a", before), ("b", after)):
        (tmp_path / run).mkdir()
        answers.append(probe(tmp_path / run, text.format(tmp=tmp_path / run, data=data) + "\n"))
    assert answers[0] != answers[1]
