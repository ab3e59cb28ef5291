"""Progress reporting shared by every long step: a plain `(message, fraction)` callable, optionally with rows.

The app's progress bars and most tests pass a two-argument callable, so that stays the contract (`Progress`).
A sink that also wants row counts (the CLI's stderr line) says so with `counts_rows = True`; producers call
`report(...)`, which sends such a sink the step name and rows done/total as keywords and any other sink the
familiar `(message, fraction)`. One producer line therefore serves both without breaking old closures.
`heartbeat` keeps a step that has no loop to report from (UMAP, k-means, a model build) visible while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

Progress = Callable[[str, float], None]


class RowProgress(Protocol):
    """A Progress that also takes counts: `step` names the step (rate and ETA reset when it changes), `done` /
    `total` count `unit`s within it, and `fraction` is the step's own fraction (not the whole command's)."""

    counts_rows: bool

    def __call__(self, message: str, fraction: float, done: int | None = None, total: int | None = None, *,
                 step: str | None = None, unit: str = "rows") -> None: ...


def counts_rows(progress: object) -> bool:
    """Whether `progress` accepts row counts (see RowProgress); plain callables do not."""
    return bool(getattr(progress, "counts_rows", False))


def report(progress: Progress | None, message: str, fraction: float, *, step: str | None = None,
           done: int | None = None, total: int | None = None, unit: str = "rows",
           step_fraction: float | None = None) -> None:
    """Send one update: counts to a RowProgress, `(message, fraction)` to anything else.

    `fraction` is what a plain sink shows (often the whole operation's share); `step_fraction` is this step's own
    share for a RowProgress (default: done / total when both are known, else `fraction`).
    """
    if progress is None:
        return
    if not counts_rows(progress):
        progress(message, fraction)
        return
    if step_fraction is None:
        step_fraction = done / total if done is not None and total else fraction
    progress(message, step_fraction, done, total, step=step, unit=unit)  # type: ignore[call-arg]


@contextmanager
def heartbeat(progress: Progress | None, message: str, *, step: str, interval: float = 0.5) -> Iterator[None]:
    """A step with no loop of its own to report from (UMAP's fit, k-means, a model build): its start at once, then
    the same word from a thread every `interval` seconds while it runs, so the CLI's line (which adds the elapsed
    time and writes at most every 5 s when not on a terminal) never goes quiet for minutes.

    Only a RowProgress sink gets the beats: a plain sink may be the app's progress bar, whose Streamlit calls work
    only on the script thread. The beats stop before the block's exit returns, so the caller's own last word
    (`report(..., 1.0)`) is never overtaken.
    """
    report(progress, message, 0.0, step=step)
    if not counts_rows(progress):
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            report(progress, message, 0.0, step=step)

    thread = threading.Thread(target=beat, name=f"heartbeat {step}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
