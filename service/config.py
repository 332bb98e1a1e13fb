"""Settings: one typed schema (every key, its type, default and a one-line doc), strictly loaded.

The schema below is the single source: ``config/settings.toml`` is generated from it
(``python -m service.config > config/settings.toml``; a test checks the two agree). An
operator's TOML file needs only the keys it changes; a file holding only ``[mailbox] url``,
``[smtp] url``, ``[folder] path`` and ``[state] path`` works. An unknown section or key, or a
value of the wrong type, is refused with a ``ConfigError`` naming the file, the section and the
key (every command that reads the config then exits 2).
"""
from __future__ import annotations

import sys
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, get_type_hints

from .defaults import config_dir, templates_dir
from .directory import Directory
from .wording import say


class ConfigError(Exception):
    """A settings file that cannot be used; the message (Vietnamese) is for the operator."""


def _key(default: Any, doc: str, *, choices: tuple[str, ...] = (), check: Any = None) -> Any:
    """One key: its default, a one-line doc, and optionally the values allowed (``choices``)
    or a ``check(value) -> bool`` of its form."""
    return field(default=default, metadata={"doc": doc, "choices": choices, "check": check})


def _clock_time(text: str) -> bool:
    hh, sep, mm = text.partition(":")
    return bool(sep) and hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60


def _time_zone(text: str) -> bool:
    from zoneinfo import ZoneInfo
    try:
        ZoneInfo(text)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


@dataclass(frozen=True)
class MailboxSettings:
    """Where submissions arrive."""
    url: str = _key("", "imap://USER:PASSWORD@HOST:PORT/FOLDER, imaps://…, or maildir:/path")
    password_env: str = _key("VAXMAIL_IMAP_PASSWORD", "environment variable holding the password when the URL has none")
    password_credential: str = _key("imap-password", "systemd LoadCredential name holding the password")
    cafile: str = _key("", "CA bundle to trust for imaps/STARTTLS (empty: the system's)")
    done_folder: str = _key("Đã xử lý", "IMAP folder / Maildir subfolder where taken messages are moved")
    idle_cycle_seconds: float = _key(240.0, "longest IMAP IDLE before it is renewed (at most 29 minutes)")
    sweep_seconds: float = _key(180.0, "look at the mailbox at least this often even without news")
    timeout_seconds: float = _key(30.0, "network timeout of one IMAP operation")


@dataclass(frozen=True)
class SmtpSettings:
    """Where outgoing mail goes."""
    url: str = _key("", "smtp://USER:PASSWORD@HOST:PORT, smtps://…, or file:/path (one .eml per message)")
    password_env: str = _key("VAXMAIL_SMTP_PASSWORD", "environment variable holding the password when the URL has none")
    password_credential: str = _key("smtp-password", "systemd LoadCredential name holding the password")
    cafile: str = _key("", "CA bundle to trust for smtps/STARTTLS (empty: the system's)")
    from_name: str = _key("Hệ thống tiếp nhận danh sách tiêm chủng", "display name on every message sent")
    retry_days: float = _key(3.0, "keep retrying a message this long, then park it for the operator")
    retry_base_seconds: float = _key(30.0, "first retry delay; doubles up to one hour")


@dataclass(frozen=True)
class FolderSettings:
    """The shared folder (one subfolder per unit)."""
    path: str = _key("", "the shared folder; empty: no folder intake")
    mode: str = _key("auto", "how changes are noticed (auto: polling on network mounts)",
                     choices=("auto", "inotify", "polling"))
    poll_seconds: float = _key(5.0, "polling interval")
    rescan_minutes: float = _key(10.0, "full rescan interval (catches events a network mount lost)")
    settle_seconds: float = _key(2.0, "a file is taken once unchanged this long")
    invalid_grace_seconds: float = _key(0.0, "a stable file that does not open yet is taken after this long (0: max(10, 5 × settle_seconds))")
    result_group: str = _key("", "group given read access to results written beside dropped files (0640); empty: the service's group")


@dataclass(frozen=True)
class StateSettings:
    """The service's own files."""
    path: str = _key("/var/lib/vaxmail", "state directory (database, queues, outbox, held items); created if missing")
    key_file: str = _key("", "the ID-hash key, kept OUTSIDE the state directory (created 0600 on first use; an old key in the "
                             "state directory moves there); the systemd credential id-hash-key wins; empty: in the state directory")


@dataclass(frozen=True)
class DataSettings:
    """The province's data (empty: the shipped ones)."""
    directory: str = _key("", "the directory of units and offices (default: the shipped An Giang directory)")
    routing: str = _key("", "the routing table (default: the shipped one)")
    templates: str = _key("", "the mail templates folder (default: the shipped one)")


@dataclass(frozen=True)
class LimitsSettings:
    """Caps that keep one sender or one file from hurting the others."""
    max_attachments: int = _key(20, "spreadsheets read from one message")
    max_file_mb: float = _key(25.0, "one spreadsheet (attachment or dropped file)")
    max_message_mb: float = _key(60.0, "a whole mail; larger ones are fetched as headers only and answered")
    max_rows: int = _key(200000, "rows read from one sheet")
    replies_per_sender_per_day: int = _key(20, "replies to one address per day")
    unknown_sender_notices_per_day: int = _key(1, "notices to one unknown sender per day")
    file_memory_mb: int = _key(1024, "memory one file's check may use")
    file_seconds: int = _key(120, "time one file's check may take")
    forwards_per_unit_day: int = _key(50, "forwarded messages per unit per day")
    replies_global_per_hour: int = _key(200, "replies to all senders per hour")
    held_max_mb: int = _key(500, "room for held messages and files")


@dataclass(frozen=True)
class DigestSettings:
    """The leaders' morning digest."""
    time: str = _key("07:00", "when the digest for yesterday goes out (HH:MM)", check=_clock_time)
    misfire_grace_hours: float = _key(6.0, "a machine down at that time still sends it when back within this window")
    timezone: str = _key("Asia/Ho_Chi_Minh", "the digest's time zone", check=_time_zone)
    silent_days: int = _key(3, "a unit that sent nothing this many days is listed as silent")
    unconfirmed_days: int = _key(2, "a forward unconfirmed this many days is listed as late")


@dataclass(frozen=True)
class TrustSettings:
    """What the province's own receiving mail server vouches for."""
    authserv_id: str = _key("", "authserv-id of its Authentication-Results header (RFC 8601); empty: not checked")


@dataclass(frozen=True)
class RetentionSettings:
    """How long personal data is kept."""
    days: int = _key(30, "held items, copies, leftovers, parked mail and results older than this are purged")


@dataclass(frozen=True)
class WebSettings:
    """The operator's web console."""
    listen: str = _key("127.0.0.1:8080", "HOST:PORT the console listens on")
    secret_file: str = _key("", "file holding the session secret (empty: one in the state directory)")
    lockout_failures: int = _key(5, "failed logins before an account is locked")
    lockout_minutes: int = _key(15, "how long a locked account stays locked")


SECTIONS: dict[str, type] = {
    "mailbox": MailboxSettings, "smtp": SmtpSettings, "folder": FolderSettings,
    "state": StateSettings, "data": DataSettings, "limits": LimitsSettings,
    "digest": DigestSettings, "trust": TrustSettings, "retention": RetentionSettings,
    "web": WebSettings,
}


@dataclass(frozen=True)
class Settings:
    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    folder: FolderSettings = field(default_factory=FolderSettings)
    state: StateSettings = field(default_factory=StateSettings)
    data: DataSettings = field(default_factory=DataSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    web: WebSettings = field(default_factory=WebSettings)
    base_dir: Path = field(default_factory=Path.cwd)  # folder of the operator's file (relative paths)
    source: str = ""  # the operator's file, for messages

    # -- generic access (for code that names a key at run time)
    def section(self, name: str) -> dict[str, Any]:
        obj = getattr(self, name)
        return {f.name: getattr(obj, f.name) for f in fields(obj)}

    def limit(self, key: str) -> Any:
        return getattr(self.limits, key)

    def with_values(self, section: str, **values: Any) -> "Settings":
        """A copy with some keys of one section changed (checked like a file's)."""
        _check_section(section, values, self.source or "(mã)")
        return replace(self, **{section: replace(getattr(self, section), **values)})

    def path(self, section: str, key: str) -> Path | None:
        value = getattr(getattr(self, section), key)
        if not value:
            return None
        p = Path(str(value)).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    # -- the paths and endpoints the service uses
    @property
    def state_dir(self) -> Path:
        return self.path("state", "path") or Path(StateSettings.path)

    @property
    def folder_path(self) -> Path | None:
        return self.path("folder", "path")

    @property
    def smtp_url(self) -> str:
        return self.smtp.url

    @property
    def directory_path(self) -> Path:
        return self.path("data", "directory") or config_dir() / "directory.toml"

    @property
    def routing_path(self) -> Path:
        return self.path("data", "routing") or config_dir() / "routing.toml"

    @property
    def templates_path(self) -> Path:
        return self.path("data", "templates") or templates_dir()

    def bytes_limit(self, key: str) -> int:
        """A ``*_mb`` limit in bytes."""
        return int(float(self.limit(key)) * 1_000_000)

    @cached_property
    def directory(self) -> Directory:
        try:
            return Directory.load(self.directory_path)
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
            raise ConfigError(say("config.directory", path=self.directory_path, error=exc)) from None


def _type_ok(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


_TYPE_WORDS = {str: "config.type-str", int: "config.type-int", float: "config.type-float", bool: "config.type-bool"}


def _check_section(name: str, values: dict[str, Any], source: str) -> dict[str, Any]:
    cls = SECTIONS.get(name)
    if cls is None:
        raise ConfigError(say("config.unknown-section", file=source, section=name,
                              known=", ".join(SECTIONS)))
    if not isinstance(values, dict):
        raise ConfigError(say("config.not-section", file=source, section=name))
    hints = get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        f = known.get(key)
        if f is None:
            raise ConfigError(say("config.unknown-key", file=source, section=name, key=key,
                                  known=", ".join(known)))
        kind = hints[key]
        if not _type_ok(value, kind):
            raise ConfigError(say("config.wrong-type", file=source, section=name, key=key,
                                  value=repr(value), expected=say(_TYPE_WORDS[kind])))
        choices = f.metadata.get("choices") or ()
        if choices and value not in choices:
            raise ConfigError(say("config.wrong-choice", file=source, section=name, key=key,
                                  value=repr(value), choices=", ".join(choices)))
        check = f.metadata.get("check")
        if check is not None and not check(value):
            raise ConfigError(say("config.wrong-form", file=source, section=name, key=key,
                                  value=repr(value), doc=f.metadata["doc"]))
        out[key] = float(value) if kind is float else value
    return out


def parse_settings(raw: dict[str, Any], source: str, base_dir: Path) -> Settings:
    """Check a TOML document against the schema and build the settings (defaults elsewhere)."""
    parts = {}
    for name, values in raw.items():
        checked = _check_section(name, values, source)
        parts[name] = SECTIONS[name](**checked)
    return Settings(**parts, base_dir=base_dir, source=source)


def load_settings(path: str | Path | None = None) -> Settings:
    if not path:
        return Settings()
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            raw = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(say("config.unreadable", file=p, error=exc.strerror)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(say("config.not-toml", file=p, error=exc)) from None
    return parse_settings(raw, str(p), p.resolve().parent)


# ---------------------------------------------------------------------------- the shipped file

_HEADER = """\
# vaxmail settings: the shipped defaults, generated from the schema in service/config.py
# (python -m service.config > config/settings.toml). An operator's file needs only the keys it
# changes; every other key keeps the value below. An unknown section or key, or a value of the
# wrong type, stops every command with exit status 2. Relative paths are read from the
# operator's file's folder.
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_defaults() -> str:
    """``config/settings.toml``: every key with its default and its doc."""
    lines = [_HEADER]
    for name, cls in SECTIONS.items():
        lines.append(f"[{name}]  # {cls.__doc__}")
        for f in fields(cls):
            default = f.default if f.default is not MISSING else None
            assignment = f"{f.name} = {_toml_value(default)}"
            doc = f.metadata["doc"]
            choices = f.metadata.get("choices")
            if choices:
                doc += " — one of: " + ", ".join(choices)
            lines.append(f"{assignment:<43} # {doc}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_defaults())
