"""The one retry delay of notify and xAPI: doubled per failure, jittered upwards, capped."""

import random

from learntrace.core.backoff import MAX_DELAY_SECONDS, backoff_seconds


class Fixed(random.Random):
    """A generator that always draws the same number, so a jittered delay is exact."""

    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_delay_doubles_with_each_failure():
    assert [backoff_seconds(n, first_seconds=60, rng=Fixed(0.0)) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


def test_the_jitter_adds_up_to_a_quarter():
    assert backoff_seconds(1, first_seconds=60, rng=Fixed(0.5)) == 67.5
    assert backoff_seconds(3, first_seconds=60, rng=Fixed(0.999)) == 240 * (1 + 0.25 * 0.999)


def test_the_delay_never_exceeds_the_cap_however_many_failures():
    assert backoff_seconds(10, first_seconds=60, cap_seconds=3600, rng=Fixed(0.0)) == 3600
    assert backoff_seconds(10_000, first_seconds=60, rng=Fixed(0.9)) == MAX_DELAY_SECONDS


def test_a_first_attempt_below_one_counts_as_the_first():
    assert backoff_seconds(0, first_seconds=30, rng=Fixed(0.0)) == 30


def test_two_deliveries_that_failed_together_come_back_apart():
    seeded = random.Random(7)
    delays = {backoff_seconds(1, first_seconds=60, rng=seeded) for _ in range(2)}
    assert len(delays) == 2
