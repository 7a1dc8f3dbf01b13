"""How many Glue calls one crawl keeps in flight: additive increase, multiplicative decrease (AIMD).

Against real AWS every call costs tens of milliseconds, so a crawl overlaps them; how many Glue tolerates
depends on the account's quotas and on everyone else calling it. The limit grows by about one call per
window of answered calls while Glue answers, and halves as soon as it throttles, as TCP's congestion window
does, down to its minimum (a crawl's is its `workers`: see crawl.py). A throttle counts once per window:
calls already in flight when the limit was halved report their own throttles too, and halving again for each
of them would collapse the limit to its floor for one burst.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["AdaptiveLimit"]


class AdaptiveLimit:
    """A concurrency limit shared by all of a crawl's readers (thread-safe)."""

    def __init__(self, initial: int = 4, minimum: int = 1, maximum: int = 32) -> None:
        if not 1 <= minimum <= initial <= maximum:
            raise ValueError(f"need 1 <= minimum ({minimum}) <= initial ({initial}) <= maximum ({maximum})")
        self.minimum, self.maximum = minimum, maximum
        self._limit = float(initial)
        self._in_flight = 0
        self._epoch = 0  # bumped by every decrease: a call started before it reports an old congestion
        self._ready = threading.Condition()
        self.peak = self.lowest = initial  # how high and low the limit went: what a report or a benchmark shows
        self.decreases = 0

    @property
    def limit(self) -> int:
        return int(self._limit)

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Wait for room, hold it for one call; yields the epoch to hand back to `throttled`."""
        with self._ready:
            while self._in_flight >= int(self._limit):
                self._ready.wait()
            self._in_flight += 1
            epoch = self._epoch
        try:
            yield epoch
        finally:
            with self._ready:
                self._in_flight -= 1
                self._ready.notify()

    def answered(self) -> None:
        """A call Glue answered without throttling: +1/limit, so about +1 per window of calls."""
        with self._ready:
            grown = min(float(self.maximum), self._limit + 1.0 / self._limit)
            if int(grown) > int(self._limit):
                self._ready.notify()  # one more caller may go
            self._limit = grown
            self.peak = max(self.peak, int(grown))

    def throttled(self, epoch: int) -> None:
        """Glue throttled a call started in `epoch`: halve the limit, once per window."""
        with self._ready:
            if epoch != self._epoch:
                return
            halved = max(float(self.minimum), self._limit / 2)
            self.decreases += halved < self._limit
            self._limit = halved
            self.lowest = min(self.lowest, int(halved))
            self._epoch += 1
