"""Settings: the shipped config/settings.toml, overlaid with the operator's TOML file.

A file holding only ``[mailbox] url``, ``[smtp] url``, ``[folder] path`` and ``[state] path``
works: every other key keeps its shipped default (the An Giang directory, the templates).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .defaults import config_dir, templates_dir
from .directory import Directory


class ConfigError(Exception):
    """A settings file that cannot be used; the message is for the operator."""


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Settings:
    raw: dict[str, Any]
    base_dir: Path  # folder of the operator's file (for relative paths)

    def section(self, name: str) -> dict[str, Any]:
        return self.raw.get(name, {})

    def path(self, section: str, key: str) -> Path | None:
        value = self.section(section).get(key, "")
        if not value:
            return None
        p = Path(str(value)).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def state_dir(self) -> Path:
        return self.path("state", "path") or Path("/var/lib/vaxmail")

    @property
    def folder_path(self) -> Path | None:
        return self.path("folder", "path")

    @property
    def mailbox_url(self) -> str:
        return str(self.section("mailbox").get("url", ""))

    @property
    def smtp_url(self) -> str:
        return str(self.section("smtp").get("url", ""))

    @property
    def directory_path(self) -> Path:
        return self.path("data", "directory") or config_dir() / "directory.toml"

    @property
    def routing_path(self) -> Path:
        return self.path("data", "routing") or config_dir() / "routing.toml"

    @property
    def templates_path(self) -> Path:
        return self.path("data", "templates") or templates_dir()

    @cached_property
    def directory(self) -> Directory:
        try:
            return Directory.load(self.directory_path)
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
            raise ConfigError(f"cannot load the directory {self.directory_path}: {exc}") from None

    def limit(self, key: str) -> int:
        return int(self.section("limits")[key])


def load_settings(path: str | Path | None = None) -> Settings:
    with open(config_dir() / "settings.toml", "rb") as fh:
        raw = tomllib.load(fh)
    base = Path.cwd()
    if path:
        p = Path(path)
        try:
            with open(p, "rb") as fh:
                user = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read the settings file {p}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"the settings file {p} is not valid TOML: {exc}") from None
        raw = _merge(raw, user)
        base = p.resolve().parent
    return Settings(raw, base)
