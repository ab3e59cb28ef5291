"""Curation buttons shared by Browse's bulk bar and the example view.

Every click is one action in the SQLite log (with the reason typed beside it); the page reruns
afterwards so every table and badge reflects what is now on disk. "Undo" is scoped to the person and the
browser tab that acted (the store's `user` and `session`): another tab's or another user's work is never undone.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analysis.workspace.store import CurationStore, UndoConflict
from components.state import plain_md


def _done(message: str) -> None:
    st.session_state["sift_toast"] = message
    st.rerun()


def show_pending_toast() -> None:
    """Show the message of the action that caused this rerun (set just before `st.rerun`)."""
    msg = st.session_state.pop("sift_toast", None)
    if msg:
        st.toast(msg)


def bulk_actions(store: CurationStore, row_ids: Sequence[int], *, key: str, label: str) -> None:
    """Flag / tag / drop / restore / undo for a set of rows, with a reason for the log."""
    n = len(row_ids)
    c_reason, c_tag = st.columns([3, 2])
    reason = c_reason.text_input("Reason (goes into the log)", key=f"{key}_reason",
                                 placeholder="e.g. off-topic, duplicate of 12, bad formatting")
    tag = c_tag.text_input("Tag", key=f"{key}_tag", placeholder="e.g. review")
    cols = st.columns(6)
    disabled = n == 0
    if cols[0].button(f"Flag {label}", key=f"{key}_flag", disabled=disabled, width="stretch"):
        store.flag(row_ids, reason=reason)
        _done(f"Flagged {n:,} rows")
    if cols[1].button(f"Unflag {label}", key=f"{key}_unflag", disabled=disabled, width="stretch"):
        store.unflag(row_ids, reason=reason)
        _done(f"Unflagged {n:,} rows")
    if cols[2].button(f"Tag {label}", key=f"{key}_tagbtn", disabled=disabled or not tag.strip(),
                      width="stretch"):
        store.tag(row_ids, tag.strip(), reason=reason)
        _done(f"Tagged {n:,} rows #{tag.strip()}")
    if cols[3].button(f"Drop {label}", key=f"{key}_drop", disabled=disabled, type="primary",
                      width="stretch"):
        store.drop(row_ids, reason=reason or "manual")
        _done(f"Dropped {n:,} rows")
    if cols[4].button(f"Restore {label}", key=f"{key}_restore", disabled=disabled, width="stretch"):
        store.restore(row_ids, reason=reason)
        _done(f"Restored {n:,} rows")
    if cols[5].button("Undo last action", key=f"{key}_undo", width="stretch",
                      help="Undoes your own last action in this browser tab; other tabs and users are never touched."):
        undo_mine(store)


def undo_mine(store: CurationStore) -> None:
    """Undo this user's last action in this tab, or say why nothing was undone (a conflict stays on screen)."""
    try:
        undone = store.undo(session=store.session, user=store.user)
    except UndoConflict as exc:
        st.warning(f"Not undone: {plain_md(str(exc))}")  # names another user: untrusted text
        return
    if undone is None:
        _done("Nothing to undo: you have no action left to undo in this tab (the Export page lists everyone's "
              "actions)")
        return
    last = store.actions(limit=1)[-1]
    _done(f"Undid your action #{last.undoes} ({last.params.get('undone_action')}, {len(last.row_ids):,} rows)")
