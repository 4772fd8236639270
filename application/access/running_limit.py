"""At most so many long operations (exports, imports) at once per caller, in this process."""

from __future__ import annotations

# The contract's "at most 2 exports or imports at once per caller".
MAX_RUNNING = 2


class RunningLimit:
    """Counts each caller's running operations; a caller with none takes no memory."""

    def __init__(self, maximum: int = MAX_RUNNING) -> None:
        self.maximum = maximum
        self._running: dict[str, int] = {}
        # Operations refused for it, for the metrics.
        self.refused = 0

    def try_start(self, caller: str) -> bool:
        running = self._running.get(caller, 0)
        if running >= self.maximum:
            self.refused += 1
            return False
        self._running[caller] = running + 1
        return True

    def finish(self, caller: str) -> None:
        running = self._running.get(caller, 0) - 1
        if running > 0:
            self._running[caller] = running
        else:
            self._running.pop(caller, None)
