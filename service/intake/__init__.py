"""Mail intake: where submissions come from (IMAP or Maildir) and how a message is taken apart."""
from __future__ import annotations

from service.intake.source import DONE_FOLDER, RawMessage, Source
from service.urls import MailURL, parse_url

__all__ = ["DONE_FOLDER", "RawMessage", "Source", "open_source"]


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
