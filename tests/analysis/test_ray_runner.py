"""`--engine ray` (issue 6): on a local Ray (2 CPUs), the Ray runner's canonical rows, per-row check results and
embeddings equal the local runner's exactly, and `sift findings` reads the workspace it writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED

from analysis.checks import REGISTRY, run_checks
from analysis.io import LoadError, LoadOptions, load
from analysis.space.embedders import HashingEmbedder, embed_rows, load_embeddings

ray = pytest.importorskip("ray")
from analysis.run import ray_runner as rr  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DEMO = SHARED / "llamafactory_demo"
ROW_LOCAL = sorted(n for n, c in REGISTRY.items() if c.row_local)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    rr.init_ray()
    yield
    ray.shutdown()


@pytest.fixture
def small_batches(monkeypatch):
    """Many batches and blocks even on small files, so merging across batches is exercised."""
    monkeypatch.setattr(rr, "BATCH_ROWS", 400)
    monkeypatch.setattr(rr, "MAX_BLOCK_ROWS", 800)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared dataset not found: {path}")
    return path


def assert_same_rows(a, b) -> None:
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if col == "messages":
            assert a[col].tolist() == b[col].tolist()
        else:
            assert a[col].equals(b[col]), col


def assert_same_results(ray_res, local_res) -> None:
    assert ray_res.keys() == local_res.keys()
    for name, r in ray_res.items():
        loc = local_res[name]
        np.testing.assert_array_equal(r.is_issue, loc.is_issue, err_msg=name)
        np.testing.assert_array_equal(r.reason, loc.reason, err_msg=name)
        np.testing.assert_array_equal(r.group_id, loc.group_id, err_msg=name)
        np.testing.assert_array_equal(r.score, loc.score, err_msg=name)
        assert (r.keep is None) == (loc.keep is None), name
        if r.keep is not None:
            np.testing.assert_array_equal(r.keep, loc.keep, err_msg=name)
        np.testing.assert_array_equal(r.evidence_or_empty(), loc.evidence_or_empty(), err_msg=name)
        for key in ("rows_flagged", "groups", "rows_removable", "reasons"):
            assert r.summary[key] == loc.summary[key], (name, key)
        assert r.summary["engine"] in ("ray", "ray (driver)")


def test_json_array_exact_duplicates_and_row_local_checks():
    path = need(DEMO / "alpaca_en_demo.json")
    ds, local = rr.load_ray(path), load(path)
    assert_same_rows(ds.rows, local.rows)
    assert ds.info.to_dict() == local.info.to_dict()
    names = ["exact_duplicate", "placeholder", "formatting"]
    res = rr.run_checks_ray(local.rows, names)
    assert_same_results(res, run_checks(local.rows, names))
    assert res["exact_duplicate"].summary["rows_removable"] == 14
    assert res["exact_duplicate"].summary["engine"] == "ray"


def test_identity_placeholders(small_batches):
    path = need(DEMO / "identity.json")
    rows = load(path).rows
    res = rr.run_checks_ray(rows, ["placeholder"])
    assert_same_results(res, run_checks(rows, ["placeholder"]))
    assert res["placeholder"].rows_flagged == 85
    assert res["placeholder"].summary["codes"] == run_checks(rows, ["placeholder"])["placeholder"].summary["codes"]


def test_gsm8k_folder_near_duplicates(tmp_path, small_batches):
    """Two JSONL files cut into many byte ranges; near_duplicate across them (socratic re-phrasings)."""
    folder = tmp_path / "gsm8k"
    folder.mkdir()
    for name in ("test.jsonl", "test_socratic.jsonl"):
        shutil.copy(need(SHARED / "gsm8k" / name), folder / name)
    ds, local = rr.load_ray(folder, chunk_bytes=200_000), load(folder)
    assert_same_rows(ds.rows, local.rows)
    assert ds.info.to_dict() == local.info.to_dict()
    names = ["near_duplicate", "exact_duplicate", "chat_structure"]
    res = rr.run_checks_ray(local.rows, names)
    loc = run_checks(local.rows, names)
    assert_same_results(res, loc)
    assert res["near_duplicate"].rows_flagged > 1000
    drop = {"seconds", "engine"}
    assert {k: v for k, v in res["near_duplicate"].summary.items() if k not in drop} == \
        {k: v for k, v in loc["near_duplicate"].summary.items() if k not in drop}


def test_jsonl_quirks_and_errors_match_the_local_loader(tmp_path):
    """BOM, blank lines, CRLF, a broken line and a record missing a field, in strict and skip mode."""
    lines = ['{"instruction": "a", "output": "b"}', "", '{"instruction": "c", "output": "d"}\r',
             '{"instruction": "e", "output": ', '{"instruction": "f"}', "   ", '{"instruction": "g", "output": "h"}']
    f = tmp_path / "quirks.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines * 30).encode() + b"\n")
    opts = LoadOptions(skip_bad_lines=True)
    ds, local = rr.load_ray(f, opts, chunk_bytes=500), load(f, opts)
    assert_same_rows(ds.rows, local.rows)
    assert ds.info.to_dict() == local.info.to_dict()
    with pytest.raises(LoadError) as ray_err:
        rr.load_ray(f, chunk_bytes=500)
    with pytest.raises(LoadError) as local_err:
        load(f)
    assert str(ray_err.value) == str(local_err.value)


def test_mixed_shapes_and_empty_conversations_match_the_local_loader(tmp_path):
    """Alpaca and ShareGPT lines in one file (per-row kinds, file kind mixed), an empty conversation and an
    unreadable record: the Ray runner reads them as the local loader does, in strict and skip mode."""
    recs = [{"instruction": "a", "output": "b"}, {"conversations": []}, {"messages": "hello"},
            {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]
    f = tmp_path / "mixed.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in recs * 40))
    opts = LoadOptions(skip_bad_lines=True)
    ds, local = rr.load_ray(f, opts, chunk_bytes=500), load(f, opts)
    assert_same_rows(ds.rows, local.rows)
    assert ds.info.to_dict() == local.info.to_dict()
    assert ds.info.kind == "mixed" and set(ds.rows["kind"]) == {"sft", "chat"} and len(ds.info.skipped) == 40
    with pytest.raises(LoadError) as ray_err:
        rr.load_ray(f, chunk_bytes=500)
    with pytest.raises(LoadError) as local_err:
        load(f)
    assert str(ray_err.value) == str(local_err.value)
    assert "--skip-bad-lines" in str(ray_err.value)


def test_cli_engine_ray_builds_a_workspace_findings_reads(tmp_path, capsys):
    """Every row-local check plus the duplicate and driver-side checks through `sift analyze --engine ray`."""
    from analysis.cli import main

    data = str(ROOT / "sample_data" / "*.jsonl")
    names = ",".join(ROW_LOCAL + ["exact_duplicate", "near_duplicate", "length"])
    docs = {}
    for engine in ("local", "ray"):
        ws = tmp_path / engine
        assert main(["analyze", data, "--workspace", str(ws), "--checks", names, "--engine", engine, "--json"]) == 0
        capsys.readouterr()
        assert main(["findings", str(ws), "--json"]) == 0
        docs[engine] = json.loads(capsys.readouterr().out)
    for doc in docs.values():
        for c in doc["checks"]:
            c.pop("per_row")
    assert docs["ray"]["checks"] == docs["local"]["checks"]
    assert docs["ray"]["rows"] == docs["local"]["rows"] == 1050
    meta = json.loads((tmp_path / "ray" / "meta.json").read_text())
    assert meta["fingerprint"] == json.loads((tmp_path / "local" / "meta.json").read_text())["fingerprint"]
    results = json.loads(next((tmp_path / "ray" / "results").glob("length@*.json")).read_text())
    assert results["summary"]["engine"] == "ray (driver)"


def test_embeddings_in_an_actor_pool_equal_the_local_path(tmp_path):
    from analysis.workspace.folder import Workspace

    src = ROOT / "sample_data" / "sft.jsonl"
    local_ws = Workspace.open(src, workspace=tmp_path / "local")
    ray_ws = rr.open_workspace(src, workspace=tmp_path / "ray")
    emb = HashingEmbedder(dim=64)
    want = embed_rows(local_ws.dir, local_ws.dataset.rows, emb, scope="both")
    got = rr.embed_ray(ray_ws, scope="both", embedder=emb, actors=1)
    np.testing.assert_array_equal(got, want)
    row_ids = ray_ws.dataset.rows["row_id"].to_numpy()
    np.testing.assert_array_equal(np.asarray(load_embeddings(ray_ws.dir, "hashing", "both", row_ids)), want)
    assert (ray_ws.dir / "embeddings" / "hashing@both.npy").is_file()


def test_apply_with_the_ray_engine_equals_local(tmp_path: Path) -> None:
    """`sift apply --engine ray`: the same rows written and the same per-step report as the local engine."""
    from analysis.cli import main
    from analysis.curation.recipe import build_recipe, check_rule
    from analysis.workspace.store import CurationStore

    src = need(DEMO / "alpaca_en_demo.json")
    ds = load(src)
    store = CurationStore(tmp_path / "c.sqlite")
    found = run_checks(ds.rows, ["exact_duplicate"])["exact_duplicate"]
    store.drop(ds.rows["row_id"][found.removable()].tolist(), reason="exact_duplicate: dup_of:*",
               rule=check_rule("exact_duplicate", found.params, [], removable=True))
    store.drop([3, 5], reason="manual")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps(build_recipe(ds, store)))
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine / "clean.jsonl"
        assert main(["apply", str(recipe), str(src), "--out", str(out), "--engine", engine, "--json"]) == 0
        outs[engine] = (out.read_text(), json.loads((out.parent / "apply_report.json").read_text()))
    assert outs["ray"][0] == outs["local"][0]
    local, remote = outs["local"][1], outs["ray"][1]
    assert remote["steps"] == local["steps"] and remote["rows_written"] == local["rows_written"] == 999 - 14 - 2
    assert (remote["engine"], local["engine"]) == ("ray", "local")


def test_folder_with_sidecars_and_a_cut_gz_matches_the_local_loader(tmp_path):
    """Issue 14: the Ray loader leaves out the same files (empty, sidecar) with the same notices, reads TSV without
    quotes, and salvages the complete records of a cut .gz exactly as the local loader does."""
    import gzip

    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "sample_data" / "sft.jsonl", d / "sft.jsonl")
    shutil.copy(ROOT / "sample_data" / "defects.json", d / "defects.json")
    (d / "dropped.jsonl").write_text("")
    (d / "pairs.tsv").write_text('a "quoted\tb\n"c\td"\n')
    body = gzip.compress((ROOT / "sample_data" / "chat.jsonl").read_bytes())
    (d / "chat.jsonl.gz").write_bytes(body[: len(body) // 2])
    opts = LoadOptions(skip_bad_lines=True)
    ds, local = rr.load_ray(d, opts), load(d, opts)
    assert_same_rows(ds.rows, local.rows)
    assert ds.info.to_dict() == local.info.to_dict()
    assert [n.split(":")[0] for n in ds.info.notices] == ["defects.json", "dropped.jsonl"]
    assert 0 < ds.info.files[0].rows < 350 and "cut short" in ds.info.skipped[0].error
