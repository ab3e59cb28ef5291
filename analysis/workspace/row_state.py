"""The curation model, pure: a row's state, the log's actions, and the transitions between them.

The store (`store_log.py`) and `replay` both step rows through `step_core`, so the database and a replay of its log
can only agree. Internally a row's state is a plain "core" tuple (fast to hash, so a bulk action computes each
distinct transition once instead of once per row): (flagged, tags, note, dropped, drop_reason, dropped_by,
dropped_at). That is exactly what undo restores; updated_by/updated_at are stamped per action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: Action names that change row state; "undo" is the inverse of any of the others.
ROW_ACTIONS: Final[frozenset[str]] = frozenset(
    {"flag", "unflag", "tag", "untag", "drop", "restore", "set_note"}
)
UNDO: Final[str] = "undo"

STATE_COLUMNS: Final[tuple[str, ...]] = (
    "row_id",
    "flagged",
    "tags",
    "note",
    "dropped",
    "drop_reason",
    "updated_by",
    "updated_at",
)

@dataclass(frozen=True, slots=True)
class RowState:
    """Curation state of one row. The defaults are the state of a row nobody has touched."""

    row_id: int
    flagged: bool = False
    tags: tuple[str, ...] = ()
    note: str = ""
    dropped: bool = False
    drop_reason: str = ""
    dropped_by: str | None = None
    dropped_at: str | None = None
    updated_by: str | None = None
    updated_at: str | None = None

    @property
    def is_default(self) -> bool:
        """True when the row carries no curation state (it is then not stored in ``row_state``)."""
        return not (self.flagged or self.tags or self.note or self.dropped)


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of the append-only log."""

    id: int
    time: str
    user: str
    action: str
    row_ids: tuple[int, ...]
    reason: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def undoes(self) -> int | None:
        """Id of the action this one undoes (None unless this is an undo)."""
        value = self.params.get("undoes")
        return int(value) if self.action == UNDO and value is not None else None

    @property
    def session(self) -> str | None:
        """The browser session (app tab) that made this action; None for the CLI and for logs older than sessions."""
        value = self.params.get("session")
        return str(value) if value is not None else None

    @property
    def detail(self) -> str:
        """One line for a log view: for an undo, whose action it undid (its ``user`` is who undid it)."""
        if self.action != UNDO:
            return ""
        whose = self.params.get("undone_user")
        what = self.params.get("undone_action", "action")
        return f"undid #{self.undoes} ({what}" + (f" by {whose})" if whose else ")")


Core = tuple[bool, tuple[str, ...], str, bool, str, str | None, str | None]
DEFAULT_CORE: Final[Core] = (False, (), "", False, "", None, None)
SNAPSHOT_KEYS: Final[tuple[str, ...]] = (
    "flagged",
    "tags",
    "note",
    "dropped",
    "drop_reason",
    "dropped_by",
    "dropped_at",
)


def is_default_core(core: Core) -> bool:
    """A core nobody has touched (such rows are not stored)."""
    return not (core[0] or core[1] or core[2] or core[3])


def step_core(core: Core, action: str, params: Mapping[str, Any], reason: str, user: str, time: str) -> Core:
    """New core state of one row after a (non-undo) action."""
    flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at = core
    if action == "flag":
        flagged = True
    elif action == "unflag":
        flagged = False
    elif action == "tag":
        if params["tag"] not in tags:
            tags = tuple(sorted((*tags, params["tag"])))
    elif action == "untag":
        tags = tuple(t for t in tags if t != params["tag"])
    elif action == "drop":
        # Re-dropping replaces the reason: the latest decision is the one that gets exported.
        dropped, drop_reason, dropped_by, dropped_at = True, reason, user, time
    elif action == "restore":
        dropped, drop_reason, dropped_by, dropped_at = False, "", None, None
    elif action == "set_note":
        note = params["note"]
    else:
        raise ValueError(f"unknown action {action!r}")
    return (flagged, tags, note, dropped, drop_reason, dropped_by, dropped_at)


def stepper(
    action: str, params: Mapping[str, Any], reason: str, user: str, time: str
) -> Callable[[Core], Core]:
    """``step_core`` for one action, memoised on the prior state (a 100k-row batch has few distinct ones)."""
    memo: dict[Core, Core] = {}

    def step(core: Core) -> Core:
        new = memo.get(core)
        if new is None:
            new = memo[core] = step_core(core, action, params, reason, user, time)
        return new

    return step


def encode_before(prev: Mapping[int, Core]) -> list[dict[str, Any]]:
    """JSON-able ``before`` snapshot: rows grouped by identical prior state; absent rows were default."""
    groups: dict[Core, list[int]] = {}
    for row_id, core in prev.items():
        groups.setdefault(core, []).append(row_id)
    return [
        {
            "rows": sorted(rows),
            "state": dict(zip(SNAPSHOT_KEYS, (*core[:1], list(core[1]), *core[2:]), strict=True)),
        }
        for core, rows in groups.items()
    ]


def decode_before(before: Iterable[Mapping[str, Any]]) -> dict[int, Core]:
    """Inverse of :func:`encode_before`."""
    out: dict[int, Core] = {}
    for group in before:
        st = group["state"]
        core: Core = (
            bool(st.get("flagged", False)),
            tuple(sorted(set(st.get("tags", ())))),
            str(st.get("note", "")),
            bool(st.get("dropped", False)),
            str(st.get("drop_reason", "")),
            st.get("dropped_by"),
            st.get("dropped_at"),
        )
        for row_id in group["rows"]:
            out[int(row_id)] = core
    return out


def make_row(row_id: int, core: Core, updated_by: str | None, updated_at: str | None) -> RowState:
    """The public RowState of a core plus its last action's stamp."""
    return RowState(row_id, *core, updated_by=updated_by, updated_at=updated_at)


def replay(actions: Iterable[Action]) -> dict[int, RowState]:
    """Rebuild the row states from the log alone, keyed by row id (rows in the default state are omitted).

    An undo restores the ``before`` snapshot stored with the action it undoes. The store's ``row_state``
    table must always equal this (see :meth:`CurationStore.row_states`).
    """
    cores: dict[int, Core] = {}
    stamps: dict[int, tuple[str, str]] = {}
    befores: dict[int, Any] = {}
    for act in actions:
        befores[act.id] = act.params.get("before", [])
        stamp = (act.user, act.time)
        if act.action == UNDO:
            target = act.undoes
            if target is None or target not in befores:
                raise ValueError(f"action {act.id} undoes unknown action {target!r}")
            restored = decode_before(befores[target])
            new_cores = [(r, restored.get(r, DEFAULT_CORE)) for r in act.row_ids]
        else:
            step = stepper(act.action, act.params, act.reason, act.user, act.time)
            new_cores = [(r, step(cores.get(r, DEFAULT_CORE))) for r in act.row_ids]
        for r, core in new_cores:
            if is_default_core(core):
                cores.pop(r, None)
                stamps.pop(r, None)
            else:
                cores[r] = core
                stamps[r] = stamp
    return {r: make_row(r, cores[r], *stamps[r]) for r in sorted(cores)}
