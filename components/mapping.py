"""The role → column picker shared by the Data page (the dataset's columns) and the Topics page (a reference's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

NONE = "—"


def role_selects(roles: Sequence[str], columns: Sequence[str], current: Mapping[str, str], *, key: str,
                 per_row: int) -> dict[str, str]:
    """One selectbox per role (inside the caller's form), preset from `current`; the roles given a column."""
    options = [NONE, *columns]
    cells = st.columns(per_row)
    chosen: dict[str, str] = {}
    for i, role in enumerate(roles):
        default = current.get(role, NONE)
        pick = cells[i % per_row].selectbox(role, options, index=options.index(default) if default in options else 0,
                                            key=f"{key}_{role}")
        if pick != NONE:
            chosen[role] = pick
    return chosen
