"""Readers under load and patient polling, shared by the fault runs (tests/load/fault_run.py, edge_faults.py)."""

import threading
import time
from collections import Counter

from tests import servers

FRIENDLY_503 = b"We will be back in a moment"


def wait_for(check, limit: float) -> bool:
    """Poll `check` until it is true or `limit` seconds have passed; return whether it became true."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


class Readers:
    """Threads fetching pages until stopped, recording when each answer came and what it was."""

    def __init__(self, base: str, paths: list[str], count: int = 8):
        self.answers: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(base, paths), daemon=True) for _ in range(count)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _read(self, base: str, paths: list[str]) -> None:
        number = 0
        while not self.stop.is_set():
            number += 1
            try:
                status, _, body = servers.get(base + paths[number % len(paths)], timeout=15)
                verdict = "503 friendly" if status == 503 and FRIENDLY_503 in body else str(status)
            except OSError as error:
                verdict = f"no answer ({type(error).__name__})"
            with self.lock:
                self.answers.append((time.monotonic(), verdict))
            time.sleep(0.01)

    def between(self, start: float, end: float = float("inf")) -> Counter:
        with self.lock:
            return Counter(verdict for at, verdict in self.answers if start <= at < end)

    def first(self, verdict: str, since: float) -> float | None:
        with self.lock:
            return min((at for at, seen in self.answers if at >= since and seen == verdict), default=None)
