"""The pipeline's handlers, in the order a message travels through them.

Each module has one job and one function ``handle(work, ctx)``; a handler that decides the
item's fate raises ``Stop``.
"""
from . import attachments, check, confirm, dedupe, flood, forward, identify, reply, route, screen, trust

ORDER = [screen, trust, confirm, identify, flood, attachments, check, route, dedupe, forward, reply]
