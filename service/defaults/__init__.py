"""Locate the shipped defaults: config/ and mail_templates/.

In a checkout they are the top-level folders; in an installed package setup.py maps them
to service/defaults/config and service/defaults/mail_templates.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent.parent


def _pick(name: str) -> Path:
    installed = _HERE / name
    if installed.is_dir():
        return installed
    return _REPO / name


def config_dir() -> Path:
    return _pick("config")


def templates_dir() -> Path:
    return _pick("mail_templates")


def samples_dir() -> Path:
    return _pick("inbox_samples")
