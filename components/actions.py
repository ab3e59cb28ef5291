"""Curation buttons shared by Browse's bulk bar and the example view.

Every click is one action in the SQLite log (with the reason typed beside it); the page reruns
afterwards so every table and badge reflects what is now on disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analysis.workspace.store import CurationStore


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
    if cols[5].button("Undo last action", key=f"{key}_undo", width="stretch"):
        undone = store.undo()
        _done("Nothing to undo" if undone is None else f"Undid action #{store.actions()[-1].params.get('undoes')}")
