"""What every handler may read: settings, directory, routing rules, templates, the store."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import Settings
from ..directory import Directory, Unit
from ..forms.model import Report
from ..mail.render import Renderer
from ..item import VN, FileIn, Item
from .plan import Plan
from .routing import Delivery, Routed, Rule, load_rules

if TYPE_CHECKING:
    from ..forms.worker import CheckPool, LocalChecker
    from ..state.store import Store


@dataclass
class Context:
    settings: Settings
    directory: Directory
    rules: list[Rule]
    renderer: Renderer
    store: Store  # handlers read it; only commit() writes
    workdir: Path
    now: Callable[[], datetime] = lambda: datetime.now(VN)
    checker: CheckPool | LocalChecker | None = None  # where files are checked
    released: frozenset[str] = frozenset()  # hold kinds the operator released for this run

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> "Context":
        work = settings.state_dir / "work"
        work.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(settings, settings.directory, load_rules(settings.routing_path),
                   Renderer(settings.templates_path), store, work)

    @property
    def intake_address(self) -> str:
        o = self.directory.office("intake")
        return o.email if o else "vaxmail@localhost"

    @property
    def domain(self) -> str:
        return self.intake_address.rsplit("@", 1)[-1]

    def limit(self, key: str) -> int:
        return self.settings.limit(key)


@dataclass
class Checked:
    """One file of the item through the pipeline."""
    file: FileIn
    report: Report
    routed: Routed | None = None
    fresh: list[Delivery] = field(default_factory=list)  # deliveries after dedupe
    # keys are (sheet, Excel row); the sheet is None unless the file has people on several sheets
    already: dict[tuple, str] = field(default_factory=dict)  # → earlier tracking code ("": another unit's)
    conflicts: dict[tuple, tuple[str, ...]] = field(default_factory=dict)  # → fields another unit forwarded differently
    annotated: bytes | None = None


@dataclass
class Work:
    item: Item
    plan: Plan
    unit: Unit | None = None
    checked: list[Checked] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)  # person keys (ID, else name+dob+phone) forwarded by this item so far


class Stop(Exception):
    """A handler decided the item's fate; later handlers are skipped."""
