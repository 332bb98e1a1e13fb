"""The pipeline: one item (a message or a dropped file) in, one Plan out.

    screen → trust → confirm → identify → attachments → check → route → dedupe → forward → reply

Each step is a module in ``handlers/``; ``commit`` then makes the Plan durable.
"""
from __future__ import annotations

from .context import Context, Stop, Work
from .handlers import ORDER
from ..item import FileIn, Item
from .plan import Plan

__all__ = ["Context", "FileIn", "Item", "Plan", "process"]


def process(item: Item, ctx: Context) -> Plan:
    work = Work(item, Plan(item.key, ctx.store.tracking_code(item.key)))
    for handler in ORDER:
        try:
            handler.handle(work, ctx)
        except Stop:
            break
    return work.plan
