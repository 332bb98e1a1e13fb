"""Mail intake: where submissions come from (IMAP or Maildir) and how a message is taken apart."""
from __future__ import annotations

from service.intake.source import DONE_FOLDER, RawMessage, Source
from service.urls import MailURL, endpoint, parse_url

__all__ = ["DONE_FOLDER", "RawMessage", "Source", "open_mailbox", "open_source"]


def open_mailbox(settings) -> Source | None:
    """The source for the settings' ``[mailbox]`` (None when no url is set)."""
    cfg = settings.mailbox
    ep = endpoint(cfg.url, allowed=("imap", "imaps", "maildir"), local="maildir",
                  password_env=cfg.password_env, password_credential=cfg.password_credential)
    if ep is None:
        return None
    parsed, password = ep
    return open_source(parsed, password=password, cafile=cfg.cafile or None, done_folder=cfg.done_folder,
                       idle_cycle=cfg.idle_cycle_seconds, timeout=cfg.timeout_seconds,
                       max_message_bytes=settings.bytes_limit("max_message_mb"))


def open_source(url: str | MailURL, *, password: str | None = None, cafile: str | None = None,
                done_folder: str = DONE_FOLDER, idle_cycle: float = 240.0, timeout: float = 30.0,
                max_message_bytes: int | None = None) -> Source:
    """The source for a `[mailbox] url` (imap://, imaps:// or maildir:)."""
    parsed = url if isinstance(url, MailURL) else parse_url(url, allowed=("imap", "imaps", "maildir"))
    if parsed.scheme == "maildir":
        from service.intake.maildir import MaildirSource

        return MaildirSource(parsed.path, done_folder=done_folder)
    from service.intake.imap import ImapSource

    if password is not None:
        parsed = parsed.with_password(password)
    extra = {"max_message_bytes": max_message_bytes} if max_message_bytes else {}
    return ImapSource(parsed, folder=parsed.path or "INBOX", done_folder=done_folder, cafile=cafile,
                      idle_cycle=idle_cycle, timeout=timeout, **extra)
