"""Peak memory of the current process, for the small measuring scripts the tests run as
children (``python -c …``)."""
from __future__ import annotations

import resource


def peak_mb() -> float:
    """This process's own high-water mark. ru_maxrss also counts the pages a child inherited
    from the (large) test process before exec; VmHWM restarts at exec."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
