"""How long a failed call to another service waits before the next try."""

from __future__ import annotations

import random


def backoff_seconds(*, attempt: int, base_s: float, cap_s: float) -> float:
    """Return the wait before retry number `attempt` (1 = the first retry): exponential, capped, jittered.

    The wait doubles from `base_s` up to `cap_s`, and a random half of it is
    dropped ("equal jitter"), so retries of many failed requests spread out
    instead of hitting the service again at the same moment, yet never come
    sooner than half the planned wait.
    """
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)
