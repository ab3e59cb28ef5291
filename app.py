"""Sift: a local-first dashboard for dataset engineering. `streamlit run app.py`.

The entry point only sets up the page, the one session object and the explicit page list;
pages render, `analysis/` computes. It also keeps the URL naming the open dataset and the user
(`?ws=<id>&user=<name>`, see components/state.py), so a reload, a second tab or a bookmark opens the same.
"""

from __future__ import annotations

import streamlit as st

from analysis.workspace.folder import source_changes
from components.state import (
    APP_ROOT,
    clean_user,
    get_session,
    open_store,
    open_workspace,
    plain_md,
    publish_url,
    unpin,
)

# A local icon: a `:material/...:` page icon makes the browser fetch the favicon from Google's font CDN.
st.set_page_config(page_title="Sift", page_icon=str(APP_ROOT / "components" / "assets" / "sift.png"), layout="wide")

session = get_session()  # applies the URL's ?ws= and ?user= on a session's first run
pages = [
    st.Page("pages/data.py", title="Data", icon=":material/folder_open:", url_path="data"),
    st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", url_path="overview", default=True),
    st.Page("pages/browse.py", title="Browse", icon=":material/table_rows:", url_path="browse"),
    st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:", url_path="map"),
    st.Page("pages/topics.py", title="Topics", icon=":material/category:", url_path="topics"),
    st.Page("pages/findings.py", title="Findings", icon=":material/rule:", url_path="findings"),
    st.Page("pages/duplicates.py", title="Duplicates", icon=":material/content_copy:", url_path="duplicates"),
    st.Page("pages/prepare.py", title="Prepare", icon=":material/tune:", url_path="prepare"),
    st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
]
nav = st.navigation(pages)

with st.sidebar:
    st.markdown("### Sift")
    ws = open_workspace(session)
    if ws is not None:
        info = ws.dataset.info
        name = info.files[0].path.rsplit("/", 1)[-1] if len(info.files) == 1 else f"{len(info.files)} files"
        store = open_store(ws, session)
        dropped = len(store.dropped_ids())
        store.close()
        st.caption(f"{name} · {info.kind} · {info.rows:,} rows · {dropped:,} dropped")
        changed = source_changes(ws.dir) if session.pinned else None
        if changed:
            st.warning(f"The source changed since this workspace was read ({plain_md('; '.join(changed[:3]))}); "
                       "these are the rows as read then.")
            if st.button("Read the source again", key="app_reread", disabled=any("missing" in c for c in changed)):
                unpin(session)
                st.rerun()
    session.user = clean_user(st.text_input("Your name (for the action log)", value=session.user, key="app_user",
                                            placeholder="defaults to your login name",
                                            help="Kept in the page address (?user=), so a reload or a bookmark "
                                                 "keeps it."))
publish_url(session, ws)

if session.notice:
    c_msg, c_ok = st.columns([6, 1], vertical_alignment="center")
    c_msg.warning(session.notice)
    if c_ok.button("Dismiss", key="app_notice_ok"):
        session.notice = None
        st.rerun()

nav.run()
