"""Render the Jinja2 templates of mail_templates/: every word people read lives there.

Each message kind has three templates: ``KIND.subject.j2`` (one line), ``KIND.txt.j2`` (the
plain-text part) and ``KIND.html.j2`` (the HTML part, extending ``_layout.html.j2``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import tomllib

import jinja2

from ..addresses import clean_echo


@dataclass
class Rendered:
    subject: str
    text: str
    html: str | None


def _vn_date(v) -> str:
    if isinstance(v, datetime):
        return v.strftime("%H:%M ngày %d/%m/%Y")
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    return "" if v is None else str(v)


def _num(v) -> str:
    """Vietnamese thousands separator: 12.345."""
    try:
        return f"{int(v):,}".replace(",", ".")
    except (TypeError, ValueError):
        return str(v)


def _finalize(value):
    """Every value a template prints: bidi controls and control characters removed."""
    if isinstance(value, str):
        cleaned = clean_echo(value)
        return cleaned if type(value) is str else type(value)(cleaned)  # Markup stays Markup
    return value


class Renderer:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        common = dict(finalize=_finalize, loader=jinja2.FileSystemLoader(str(self.folder)), undefined=jinja2.StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self.text_env = jinja2.Environment(autoescape=False, **common)
        self.html_env = jinja2.Environment(autoescape=True, **common)
        for env in (self.text_env, self.html_env):
            env.filters["ngay"] = _vn_date
            env.filters["so"] = _num

    def has(self, kind: str) -> bool:
        return (self.folder / f"{kind}.txt.j2").is_file()

    def render(self, kind: str, **ctx) -> Rendered:
        subject = self.text_env.get_template(f"{kind}.subject.j2").render(**ctx)
        text = self.text_env.get_template(f"{kind}.txt.j2").render(**ctx)
        html = None
        if (self.folder / f"{kind}.html.j2").is_file():
            html = self.html_env.get_template(f"{kind}.html.j2").render(**ctx)
        return Rendered(" ".join(subject.split()), text, html)

    def reason(self, kind: str, /, **ctx) -> str:
        """A short Vietnamese reason for the operator (held items), from held_reasons.toml."""
        if not hasattr(self, "_reasons"):
            path = self.folder / "held_reasons.toml"
            with open(path, "rb") as fh:
                self._reasons = tomllib.load(fh)
        template = self._reasons.get(kind, kind)
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return template

    def text(self, name: str, **ctx) -> str:
        """A plain template that is not a mail (e.g. the receipt beside a dropped file)."""
        return self.text_env.get_template(name).render(**ctx)
