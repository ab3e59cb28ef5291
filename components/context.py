"""What every page needs first: the session, its workspace and a curation store, or a clear error."""

from __future__ import annotations

import streamlit as st

from analysis.workspace.folder import Workspace
from analysis.workspace.store import CurationStore
from components.state import Session, get_session, open_store, open_workspace


def require_workspace() -> tuple[Session, Workspace, CurationStore]:
    """Stop the page with an `st.error` (never a traceback) when the dataset cannot be loaded."""
    session = get_session()
    ws = open_workspace(session)
    if ws is None:
        st.error(session.error or "No dataset loaded.")
        st.page_link("pages/data.py", label="Choose or fix the dataset on the Data page", icon=":material/folder_open:")
        st.stop()
    return session, ws, open_store(ws, session)
