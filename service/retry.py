"""The one backoff rule: the delay doubles after each failure, up to a cap."""
from __future__ import annotations


def backoff(attempts: int, base: float = 30.0, cap: float = 3600.0) -> float:
    """Delay before the next try after ``attempts`` failed ones (1 → base, 2 → 2 × base, …)."""
    return min(cap, base * 2 ** max(0, attempts - 1))
