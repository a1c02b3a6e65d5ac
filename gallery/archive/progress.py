"""What a backup's copying shares with whoever watches it: the chunk size, the counters
(files, bytes, time left), the cancel and the rests of a paced copy."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

CHUNK = 1024 * 1024


class Cancelled(Exception):
    """The backup was cancelled; the partial archive is to be thrown away."""


@dataclass
class Progress:
    """Counters shared between the writing thread and whoever reports them (a job, a CLI)."""
    total_files: int = 0
    total_bytes: int = 0
    files: int = 0
    bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event = field(default_factory=threading.Event)
    # Seconds of rest per second of work while the originals are copied (0: none): the
    # backup job's child rests (background.PACE), so that visitors keep the cores.
    pace: float = 0.0
    _owed: float = field(default=0.0, repr=False)
    _since: float = field(default=0.0, repr=False)

    def rest(self, worked: float) -> None:
        """Rest `pace` times `worked` seconds, in rests of at least 10 ms (shorter sleeps
        cost more wake-ups than they give back); a cancel ends a rest."""
        self._owed += worked * self.pace
        if self._owed >= 0.01:
            self.cancel.wait(self._owed)
            self._owed = 0.0

    def step_done(self) -> None:
        """One step of paced work ended (a media object written into backup.xml): rest
        `pace` times the time since the step before (the first only starts the clock)."""
        now = time.perf_counter()
        if self._since:
            self.rest(now - self._since)
        self._since = time.perf_counter()

    def eta_seconds(self) -> float | None:
        elapsed = time.monotonic() - self.started
        if self.bytes <= 0 or elapsed <= 0:
            return None
        return max(0.0, (self.total_bytes - self.bytes) * elapsed / self.bytes)

    def as_dict(self) -> dict:
        eta = self.eta_seconds()
        return {"files": self.files, "total_files": self.total_files, "bytes": self.bytes,
                "total_bytes": self.total_bytes, "eta_seconds": None if eta is None else round(eta, 1)}
