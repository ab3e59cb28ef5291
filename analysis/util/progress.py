"""Progress reporting shared by every long step: a plain `(message, fraction)` callable, optionally with rows.

The app's progress bars and most tests pass a two-argument callable, so that stays the contract (`Progress`).
A sink that also wants row counts (the CLI's stderr line) says so with `counts_rows = True`; producers call
`report(...)`, which sends such a sink the step name and rows done/total as keywords and any other sink the
familiar `(message, fraction)`. One producer line therefore serves both without breaking old closures.
"""

from __future__ import annotations

from collections.abc import Callable
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
