"""Words a person reads outside mail templates (command output, operator messages).

They live in ``mail_templates/messages.toml``, grouped by section; ``say("config.unknown-key",
file=…)`` looks up ``[config] unknown-key`` and fills its ``{placeholders}``.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from .defaults import templates_dir

CATALOGUE = "messages.toml"


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Any]:
    with open(templates_dir() / CATALOGUE, "rb") as fh:
        return tomllib.load(fh)


def say(key: str, /, **values: Any) -> str:
    """The catalogue's text for ``section.name``, its placeholders filled in."""
    node: Any = _catalogue()
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)


def catalogue_section(name: str, /) -> dict[str, str]:
    """All texts of one ``[section]``, unfilled (for tables keyed by a code)."""
    return {key: str(text) for key, text in _catalogue()[name].items()}


def say_each(key: str, /, **values: Any) -> list[str]:
    """The catalogue's list of texts for ``section.name`` (e.g. a table's column heads), each filled in."""
    node: Any = _catalogue()
    for part in key.split("."):
        node = node[part]
    return [str(text).format(**values) if values else str(text) for text in node]
