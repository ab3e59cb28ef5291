"""AppTest: the URL names the open dataset and the user (issue 13.1), and Undo stays in its own tab (13.5).

A new AppTest with the query string the last one ended with is what a reload, a second tab or a bookmark is:
a fresh Streamlit session given only the URL. Assertions read the workspace folder and its SQLite file.
AppTest runs app.py (sidebar, notice) only on a session's first run and afterwards the page scripts alone, so the
sidebar is checked on first runs; typing a name in the sidebar is covered by the Chromium test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analysis.workspace.folder import CURATION_FILE, Workspace, mark_opened, workspace_id
from analysis.workspace.store import CurationStore
from components.state import plain_md

ROOT = Path(__file__).resolve().parents[2]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """SIFT_HOME in tmp, a default dataset (SIFT_DATA) and a second file a user loads on the Data page."""
    monkeypatch.setenv("SIFT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SIFT_WORKSPACE", raising=False)
    default = _jsonl(tmp_path / "default" / "sft.jsonl",
                     [{"prompt": f"Default question {i}?", "response": f"Default answer {i}."} for i in range(12)])
    other = _jsonl(tmp_path / "mine" / "chat.jsonl", [
        {"messages": [{"role": "user", "content": f"My question {i}?"},
                      {"role": "assistant", "content": f"My answer {i}."}]} for i in range(7)])
    monkeypatch.setenv("SIFT_DATA", str(default))
    return {"default": default, "other": other, "home": tmp_path / "home"}


def _new_session(query: dict[str, str] | None = None) -> AppTest:
    """A fresh browser tab opened on a URL with this query string."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, f"{page}: {at.exception}"
    return at


def _sidebar(at: AppTest) -> str:
    return " | ".join(c.value for c in at.sidebar.caption)


def _load(at: AppTest, path: Path) -> None:
    _go(at, "pages/data.py")
    at.radio(key="data_source").set_value("Local path").run()
    at.text_input(key="data_path").input(str(path)).run()
    at.button(key="data_load").click().run()
    assert not at.exception, at.exception


def test_loaded_dataset_and_name_survive_a_new_session(env: dict[str, Path]) -> None:
    at = _new_session()
    assert "sft.jsonl · sft · 12 rows" in _sidebar(at)
    default_id = at.query_params["ws"]
    assert workspace_id(Workspace.open(env["default"]).dir) == default_id
    _load(at, env["other"])
    assert at.metric[0].value == "7"
    ws_id = at.query_params["ws"]
    assert ws_id != default_id and (env["home"] / "workspaces" / ws_id / "meta.json").exists()
    # page navigation keeps the URL naming the dataset
    for page in ("pages/overview.py", "pages/browse.py", "pages/export.py"):
        _go(at, page)
        assert at.query_params.get("ws") == ws_id, page

    again = _new_session({**at.query_params, "user": "Ada Lovelace"})  # reload / second tab / bookmark
    assert "chat.jsonl · chat · 7 rows" in _sidebar(again)
    assert again.sidebar.text_input(key="app_user").value == "Ada Lovelace"
    assert again.query_params == {"ws": ws_id, "user": "Ada Lovelace"}
    _go(again, "pages/data.py")
    assert again.metric[0].value == "7"
    assert again.query_params == {"ws": ws_id, "user": "Ada Lovelace"}


def test_a_bookmark_opens_the_workspace_even_when_its_file_is_gone(env: dict[str, Path]) -> None:
    ws = Workspace.open(env["other"])
    CurationStore(ws.dir / CURATION_FILE, user="ada").flag([3])
    env["other"].unlink()
    at = _new_session({"ws": workspace_id(ws.dir)})
    assert "chat.jsonl · chat · 7 rows" in _sidebar(at)
    assert any(f"source changed since this workspace was read ({plain_md('chat.jsonl: missing')})" in w.value
               for w in at.sidebar.warning), [w.value for w in at.sidebar.warning]
    _go(at, "pages/browse.py")
    assert any("1 flagged" in m.value for m in at.markdown)


@pytest.mark.parametrize(("bad", "said"), [
    ("deadbeefdeadbeef", "The link names workspace deadbeefdeadbeef, which is not under "),
    ("../../etc", "The link's workspace id is not valid"),
    ("![x](http://127.0.0.1:9/x.png)", "The link's workspace id is not valid"),  # never echoed as Markdown
])
def test_an_unknown_workspace_in_the_url_falls_back_visibly(env: dict[str, Path], bad: str, said: str) -> None:
    at = _new_session({"ws": bad, "user": "ada"})
    notices = [w.value for w in at.warning]
    assert len(notices) == 1 and notices[0].startswith(said), notices
    assert "(SIFT_DATA) instead" in notices[0] and "](" not in notices[0]
    assert "sft.jsonl · sft · 12 rows" in _sidebar(at)
    # the URL no longer claims the unknown id: it names what is shown
    assert at.query_params["ws"] == workspace_id(Workspace.open(env["default"]).dir)
    assert at.query_params["user"] == "ada"
    assert at.button(key="app_notice_ok")  # stays above every page until dismissed


def test_a_half_built_workspace_in_the_url_is_named(env: dict[str, Path]) -> None:
    (env["home"] / "workspaces" / "0123456789abcdef").mkdir(parents=True)  # a first load killed mid-way
    at = _new_session({"ws": "0123456789abcdef"})
    (notice,) = [w.value for w in at.warning]
    assert notice.startswith("The link names workspace 0123456789abcdef, which cannot be opened (")
    assert "is not a finished Sift workspace" in notice
    assert "sft.jsonl · sft · 12 rows" in _sidebar(at)


def test_recent_workspaces_reopen_in_one_click(env: dict[str, Path]) -> None:
    at = _new_session()
    _load(at, env["other"])
    other_id = at.query_params["ws"]
    _load(at, env["default"])
    default_id = at.query_params["ws"]
    _go(at, "pages/data.py")
    texts = [t.value for t in at.text]
    assert "chat.jsonl" in texts and "sft.jsonl (open)" in texts
    assert at.button(key=f"data_recent_{default_id}").disabled
    at.button(key=f"data_recent_{other_id}").click().run()
    assert not at.exception
    assert at.query_params["ws"] == other_id
    assert at.metric[0].value == "7"
    # the list is ordered by when each workspace was last opened
    mark_opened(env["home"] / "workspaces" / default_id)
    at.run()
    names = [t.value for t in at.text if t.value.startswith(("chat.jsonl", "sft.jsonl"))]
    assert names == ["sft.jsonl", "chat.jsonl (open)"]


def test_undo_in_one_tab_never_undoes_another(env: dict[str, Path]) -> None:
    tab_a = _new_session({"user": "ann"})
    tab_b = _new_session({"user": "bob", "ws": tab_a.query_params["ws"]})
    for at, row in ((tab_a, 5), (tab_b, 6)):
        _go(at, "pages/browse.py")
        at.number_input(key="browse_row").set_value(row).run()
        at.button(key=f"browse_ex_flag_{row}").click().run()
        assert not at.exception
    store = CurationStore(next((env["home"] / "workspaces").glob(f"{tab_a.query_params['ws']}/{CURATION_FILE}")))
    assert store.flagged_ids() == {5, 6}
    tab_a.button(key="browse_bulk_undo").click().run()  # B acted last; A's undo must take A's flag
    assert store.flagged_ids() == {6}
    undo = store.actions()[-1]
    assert (undo.user, undo.params["undone_user"], undo.detail) == ("ann", "ann", f"undid #{undo.undoes} (flag by ann)")
    tab_a.button(key="browse_bulk_undo").click().run()  # nothing of A's left: B's flag stays
    assert store.flagged_ids() == {6} and store.actions()[-1].id == undo.id
    _go(tab_a, "pages/export.py")
    log = tab_a.dataframe[-1].value
    assert log.iloc[0]["detail"] == undo.detail and log.iloc[0]["user"] == "ann"
    store.close()


def test_a_page_run_before_app_py_still_reads_the_url(env: dict[str, Path]) -> None:
    """A deep link (`/browse?ws=...`) on a cold server runs the page script before app.py (Streamlit's legacy
    pages/ mode): the session must still open the linked dataset, not the default one."""
    ws = Workspace.open(env["other"])
    at = AppTest.from_file(str(ROOT / "pages" / "browse.py"), default_timeout=120)
    at.query_params.update({"ws": workspace_id(ws.dir), "user": "zed"})
    at.run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**7** of 7 rows match") for m in at.markdown), [m.value for m in at.markdown]
    assert at.query_params == {"ws": workspace_id(ws.dir), "user": "zed"}
    assert at.session_state["sift_session"].user == "zed"


def test_undo_that_would_revert_another_tab_says_so(env: dict[str, Path]) -> None:
    tab_a = _new_session({"user": "ann"})
    tab_b = _new_session({"user": "bob", "ws": tab_a.query_params["ws"]})
    for at in (tab_a, tab_b):
        _go(at, "pages/browse.py")
        at.number_input(key="browse_row").set_value(5).run()
    tab_a.button(key="browse_ex_flag_5").click().run()
    tab_b.button(key="browse_ex_drop_5").click().run()
    tab_a.button(key="browse_bulk_undo").click().run()
    assert not tab_a.exception
    (warning,) = [w.value for w in tab_a.warning if w.value.startswith("Not undone")]
    assert "bob" in warning and "drop" in warning
    with CurationStore(env["home"] / "workspaces" / tab_a.query_params["ws"] / CURATION_FILE) as store:
        assert store.flagged_ids() == {5} and store.dropped_ids() == {5}
        assert [a.action for a in store.actions()] == ["flag", "drop"]
