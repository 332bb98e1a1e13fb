"""The morning digest for leaders (the notice's item 7): figures from the state, two charts,
an .xlsx, a Vietnamese text + HTML message; sent daily by ``schedule.DigestScheduler`` or by
``vaxmail digest`` (``command.run``)."""
