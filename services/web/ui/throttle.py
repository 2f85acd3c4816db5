"""Login throttling (pure): too many failures for one address, or from one client, and
further attempts are refused for a while — before the password is even checked.

Failures are counted in a sliding window; each failure past the allowance doubles the
lock (capped). In memory, per web process: enough against guessing, which needs
thousands of tries; a shared counter would need a store the gateway does not have.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        *,
        allowed: int = 5,
        window: float = 900.0,
        lock: float = 30.0,
        max_lock: float = 900.0,
        max_keys: int = 100_000,
    ) -> None:
        self.allowed, self.window, self.lock, self.max_lock = allowed, window, lock, max_lock
        self._max_keys = max_keys
        self._records: dict[str, _Record] = {}

    def retry_after(self, keys: list[str], now: float) -> float:
        """Seconds to wait before another attempt with these keys (0: go ahead)."""
        waits = [r.locked_until - now for k in keys if (r := self._records.get(k))]
        return max([0.0, *waits])

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._records) > self._max_keys:
            self._forget_old(now)
        for key in keys:
            record = self._records.setdefault(key, _Record())
            record.failures.append(now)
            while record.failures and record.failures[0] < now - self.window:
                record.failures.popleft()
            excess = len(record.failures) - self.allowed
            if excess >= 0:
                record.locked_until = now + min(self.max_lock, self.lock * 2**excess)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._records.pop(key, None)

    def _forget_old(self, now: float) -> None:
        for key in [
            k
            for k, r in self._records.items()
            if r.locked_until < now and (not r.failures or r.failures[-1] < now - self.window)
        ]:
            del self._records[key]
