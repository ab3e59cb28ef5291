"""Background jobs: run one long step (the accurate embeddings, map and topics) in a daemon thread and let any
number of readers poll its status.

Why a thread and not a process: the work is numpy, ONNX Runtime, faiss and numba, which release the GIL, so the app
stays responsive; the result (an `Analysis` with its kNN index) is handed back in memory, and everything the step
writes goes to the workspace anyway, so a killed server loses only the chunk in flight (embedding resumes).
The status is a small immutable snapshot taken under a lock, so a reader never sees a half-updated message and
fraction. Nothing here knows about Streamlit: the app polls `status()` from its own script thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Progress = Callable[[str, float], None]

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"


@dataclass(frozen=True)
class JobStatus:
    """One consistent snapshot: state, the last progress message and fraction, the error text when it failed,
    and wall-clock start/finish times (time.time())."""

    state: str = PENDING
    message: str = ""
    fraction: float = 0.0
    error: str | None = None
    started: float | None = None
    finished: float | None = None

    @property
    def active(self) -> bool:
        """Started and not finished: a second start would duplicate the work."""
        return self.state in (PENDING, RUNNING)

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since the start (to the finish once finished); 0 before it started."""
        if self.started is None:
            return 0.0
        return (self.finished if self.finished is not None else (now or time.time())) - self.started


class Job(Generic[T]):
    """`fn(progress)` run once in a daemon thread; `progress(message, fraction)` is what `fn` reports through.

    An exception in `fn` is caught: the job ends FAILED with `"<Type>: <message>"` as its error (the traceback
    goes to the log, not to the user).
    """

    def __init__(self, name: str, fn: Callable[[Progress], T]) -> None:
        self.name = name
        self._fn = fn
        self._lock = threading.Lock()
        self._status = JobStatus()
        self._result: T | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Job[T]:
        """Start the thread (once; a second call is a no-op) and return the job."""
        with self._lock:
            if self._thread is not None:
                return self
            self._status = replace(self._status, state=RUNNING, started=time.time())
            self._thread = threading.Thread(target=self._run, name=f"sift-job-{self.name}", daemon=True)
        self._thread.start()
        return self

    def progress(self, message: str, fraction: float) -> None:
        """Thread-safe progress report; the fraction is clipped to [0, 1]."""
        with self._lock:
            if self._status.state == RUNNING:
                self._status = replace(self._status, message=str(message),
                                       fraction=min(max(float(fraction), 0.0), 1.0))

    def status(self) -> JobStatus:
        with self._lock:
            return self._status

    def result(self) -> T | None:
        """What `fn` returned, once DONE; None before or after a failure."""
        with self._lock:
            return self._result if self._status.state == DONE else None

    def wait(self, timeout: float | None = None) -> JobStatus:
        """Block until the job has finished or `timeout` seconds passed (for the CLI and tests, not the app)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status()

    def _run(self) -> None:
        try:
            out = self._fn(self.progress)
        except Exception as exc:  # any failure becomes the job's error, shown to the user
            log.exception("background job %s failed", self.name)
            with self._lock:
                self._status = replace(self._status, state=FAILED, error=f"{type(exc).__name__}: {exc}",
                                       finished=time.time())
            return
        with self._lock:
            self._result = out
            self._status = replace(self._status, state=DONE, fraction=1.0, finished=time.time())
