"""Keeps the solver alive without an engineer in the room (pure; the clock is injected).

The worker is restarted when it died (crash, out of memory, killed) or hangs (work is pending and
no result came for ``hang_seconds``; a worker that has not answered yet since it started is loading
torch and the model, and gets ``start_seconds``). Restarts back off (``min_delay`` doubling up to ``max_delay``)
but never stop for good, because nobody is there to restart the app; after a quiet ``reset_after``
the delay starts small again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class WatchdogConfig:
    hang_seconds: float = 10.0
    start_seconds: float = 60.0  # a fresh worker's budget for its first result (torch import, model load)
    min_delay: float = 0.0  # the first restart is immediate
    max_delay: float = 60.0
    reset_after: float = 120.0  # seconds without a restart that forgive earlier ones


class Watchdog:
    def __init__(self, config: WatchdogConfig = WatchdogConfig(), *, clock):
        self.config = config
        self.clock = clock
        self.restarts = 0
        self._strikes = 0  # restarts since the last quiet period
        self._last_restart: float | None = None
        self._last_result = clock()
        self._answered = False  # the current worker has sent a result

    def result_arrived(self) -> None:
        self._last_result = self.clock()
        self._answered = True

    def delay(self) -> float:
        """Seconds the next restart waits after the previous one."""
        if self._strikes == 0:
            return self.config.min_delay
        return min(self.config.max_delay, max(1.0, self.config.min_delay) * 2 ** (self._strikes - 1))

    def check(self, *, alive: bool, pending: bool) -> str | None:
        """The reason to restart now ("crashed" or "hung"), or None."""
        now = self.clock()
        if self._last_restart is not None and now - self._last_restart > self.config.reset_after:
            self._strikes = 0
        budget = self.config.hang_seconds if self._answered else self.config.start_seconds
        if alive and not (pending and now - self._last_result > budget):
            return None
        if self._last_restart is not None and now - self._last_restart < self.delay():
            return None
        reason = "crashed" if not alive else "hung"
        self.restarts += 1
        self._strikes += 1
        self._last_restart = now
        self._last_result = now  # a fresh worker gets a full start budget
        self._answered = False
        return reason
