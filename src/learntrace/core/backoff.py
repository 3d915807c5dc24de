"""How long a failed outbound call waits before the next try: doubled on each failure, never more
than a cap, and up to a quarter longer at random, so that calls that failed together (a platform
that was down for everyone) do not all come back in the same second."""

import math
import random

JITTER = 0.25  # the share of the delay that may be added at random
MAX_DELAY_SECONDS = 6 * 3600


def backoff_seconds(attempt: int, *, first_seconds: float, cap_seconds: float = MAX_DELAY_SECONDS,
                    rng: random.Random | None = None) -> float:
    """The wait after the `attempt`-th failure (1 for the first): first_seconds · 2^(attempt − 1),
    plus up to JITTER of it at random, at most cap_seconds."""
    doubled = math.ldexp(first_seconds, min(max(attempt, 1) - 1, 32))  # · 2^n, n bounded: no overflow
    drawn = rng.random() if rng is not None else random.random()
    return min(doubled * (1 + JITTER * drawn), cap_seconds)
