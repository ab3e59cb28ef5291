"""Recipes: curate v1 (check-based and row-based drops), export, replay on v2 (new, reordered and edited rows)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from analysis.checks import run_checks
from analysis.curation.export import export_dataset
from analysis.curation.recipe import apply_recipe, build_recipe, check_rule, read_recipe, row_hash
from analysis.io import LoadError, load
from analysis.workspace.store import CurationStore

TOPICS = ["tides", "volcanoes", "bread", "chess", "comets", "bees", "glaciers", "violins", "kites", "tea",
          "deserts", "owls", "bridges", "coral", "maps", "clocks", "rivers", "ferns", "lanterns", "salt"]


def sft(topic: str, answer: str | None = None) -> dict:
    return {"instruction": f"Tell me one fact about {topic}.",
            "output": answer or f"Here is a short, true fact about {topic}: people have studied {topic} for ages."}


def v1_records() -> list[dict]:
    rows = [sft(t) for t in TOPICS]
    rows[3] = sft("chess", "Dear {{customer_name}}, chess is played on an 8x8 board.")  # placeholder
    rows[9] = sft("tea", "Hello {{user}}, tea comes from Camellia sinensis.")  # placeholder
    rows.append(dict(rows[1]))  # exact copy of row 1 (row 20)
    rows.append(dict(rows[4]))  # exact copy of row 4 (row 21)
    return rows


def curate_v1(path: Path, store: CurationStore) -> tuple[object, dict]:
    ds = load(path)
    rows = ds.rows
    found = run_checks(rows, ["placeholder", "exact_duplicate"])
    ph = found["placeholder"]
    for code in sorted(set(ph.reason[ph.is_issue].astype(str))):
        ids = rows["row_id"][ph.is_issue & (ph.reason.astype(str) == code)].tolist()
        store.drop(ids, reason=f"placeholder: {code}", rule=check_rule("placeholder", ph.params, [code],
                                                                        removable=False))
    dup = found["exact_duplicate"]
    rule = check_rule("exact_duplicate", dup.params, [], removable=True)
    for code in sorted(set(dup.reason[dup.removable()].astype(str))):  # one drop per group, as the UI does
        ids = rows["row_id"][dup.removable() & (dup.reason.astype(str) == code)].tolist()
        store.drop(ids, reason=f"exact_duplicate: {code}", rule=rule)
    store.drop([5, 7], reason="manual: off-topic")
    store.drop([11], reason="manual: wrong")
    store.restore([11])  # undone decisions are not in the recipe
    return ds, build_recipe(ds, store)


def test_recipe_records_rules_once_and_rows_by_hash(write_jsonl, tmp_path: Path) -> None:
    path = write_jsonl("v1.jsonl", v1_records())
    store = CurationStore(tmp_path / "c.sqlite")
    ds, recipe = curate_v1(path, store)
    assert recipe["version"] == 2 and recipe["source_fingerprint"] == ds.info.fingerprint
    by_op = [(s.get("check"), s["reason"], sorted(r["row_id"] for r in s["rows"])) for s in recipe["steps"]]
    assert by_op == [("placeholder", "placeholder: double_brace_var", [3, 9]),
                     ("exact_duplicate", "exact_duplicate: dup_of:1", [20, 21]),  # two groups, one rule
                     (None, "manual: off-topic", [5, 7])]
    dup_step = recipe["steps"][1]
    assert dup_step["drop_reasons"] == ["exact_duplicate: dup_of:1", "exact_duplicate: dup_of:4"]
    assert dup_step["removable"] is True and dup_step["reasons"] == [] and dup_step["params"]["keep"] == "first"
    assert recipe["steps"][0]["reasons"] == ["double_brace_var"] and recipe["steps"][0]["removable"] is False
    lines = path.read_text().splitlines()
    assert recipe["steps"][2]["rows"] == [{"row_id": 5, "hash": row_hash(lines[5])},
                                          {"row_id": 7, "hash": row_hash(lines[7])}]
    # export writes the same recipe beside the data
    res = export_dataset(ds, store, tmp_path / "out")
    assert json.loads(Path(res.recipe).read_text()) == recipe


def test_apply_to_a_new_version(write_jsonl, tmp_path: Path) -> None:
    v1 = v1_records()
    _, recipe = curate_v1(write_jsonl("v1.jsonl", v1), CurationStore(tmp_path / "c.sqlite"))
    recipe_path = tmp_path / "recipe.json"
    recipe_path.write_text(json.dumps(recipe))
    # v2: v1 reordered, row 7 edited (its manual decision no longer matches), three new rows: a new placeholder,
    # a new exact copy of row 2, and a clean one.
    v2 = [dict(r) for r in v1]
    v2[7] = sft("violins", "Violins have four strings tuned in fifths.")
    v2 += [sft("moss", "Hi {{name}}, moss has no roots."), dict(v1[2]), sft("quartz")]
    random.Random(7).shuffle(v2)
    v2_path = write_jsonl("v2.jsonl", v2)
    before = v2_path.read_bytes()
    out = tmp_path / "applied" / "clean.jsonl"
    result = apply_recipe(recipe_path, v2_path, out)
    assert v2_path.read_bytes() == before  # the input is never modified

    def key(r: dict) -> str:
        return json.dumps(r, sort_keys=True)

    placeholders = {key(v1[3]), key(v1[9]), key(v2_moss := sft("moss", "Hi {{name}}, moss has no roots."))}
    assert v2_moss
    manual = {key(v1[5])}
    expected, seen = [], set()
    for r in v2:  # keep rule "first": the first copy in v2's order stays
        k = key(r)
        if k in placeholders or k in manual or k in seen:
            seen.add(k)
            continue
        seen.add(k)
        expected.append(r)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == expected
    assert (result.rows_in, result.rows_written) == (len(v2), len(expected)) == (25, 18)
    steps = {s.reason: s for s in result.steps}
    assert steps["placeholder: double_brace_var"].rows_affected == 3  # two old, one new
    assert steps["exact_duplicate: dup_of:1"].rows_affected == 3  # copies of rows 1, 4 and the new copy of 2
    off = steps["manual: off-topic"]
    assert off.rows_affected == 1 and off.unmatched == [{"row_id": 7, "hash": row_hash(json.dumps(v1[7]))}]
    report = json.loads((out.parent / "apply_report.json").read_text())
    assert report["rows_written"] == 18 and len(report["dropped_rows"]) == 7
    assert [s["op"] for s in report["steps"]] == ["drop"] * 3


def test_exact_copies_replay_by_occurrence(write_jsonl, tmp_path: Path) -> None:
    """A manual drop of one of two identical rows drops one copy on replay, not both."""
    records = [sft("tides"), sft("tides"), sft("owls")]
    path = write_jsonl("v1.jsonl", records)
    ds = load(path)
    store = CurationStore(tmp_path / "c.sqlite")
    store.drop([1], reason="manual")
    recipe = build_recipe(ds, store)
    assert recipe["steps"][0]["rows"] == [{"row_id": 1, "hash": row_hash(path.read_text().splitlines()[1]),
                                           "occurrence": 1}]
    (tmp_path / "r.json").write_text(json.dumps(recipe))
    res = apply_recipe(tmp_path / "r.json", path, tmp_path / "o" / "x.jsonl")
    assert res.rows_written == 2 and res.steps[0].unmatched == []


def test_bad_recipes_are_clear(tmp_path: Path, write_jsonl) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(LoadError, match="not valid JSON"):
        read_recipe(bad)
    bad.write_text(json.dumps({"version": 2, "steps": [{"op": "shuffle"}]}))
    with pytest.raises(LoadError, match='steps\\[0\\].op: expected "drop" or "select", found "shuffle"'):
        read_recipe(bad)
    bad.write_text(json.dumps({"version": 9, "steps": []}))
    with pytest.raises(LoadError, match="unsupported recipe version 9"):
        read_recipe(bad)
    with pytest.raises(LoadError, match="cannot read recipe"):
        read_recipe(tmp_path / "missing.json")
    data = write_jsonl("d.jsonl", [sft("tea")])
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"version": 2, "steps": []}))
    with pytest.raises(LoadError, match="output file exists"):  # refused before anything loads
        apply_recipe(good, data, data)
    with pytest.raises(LoadError, match="refusing to overwrite the input"):  # --force never reaches a source
        apply_recipe(good, data, data, force=True)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"version": 2, "steps": [{"op": "drop", "check": "nope", "params": {}}]}))
    with pytest.raises(LoadError, match="steps\\[0\\].check: unknown check \"nope\""):
        apply_recipe(unknown, data, tmp_path / "o.jsonl")


def test_cli_export_then_apply(write_jsonl, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main
    from analysis.workspace.folder import Workspace

    v1 = v1_records()
    path = write_jsonl("v1.jsonl", v1)
    ws = Workspace.open(path, workspace=tmp_path / "ws")
    try:
        curate_v1(path, ws.store)
    finally:
        ws.close()
    assert main(["export", str(tmp_path / "ws"), "--out", str(tmp_path / "clean"), "--json"]) == 0
    capsys.readouterr()
    v2 = v1 + [sft("moss", "Hi {{name}}, moss has no roots.")]
    v2_path = write_jsonl("v2.jsonl", v2)
    out = tmp_path / "v2_clean" / "v2.jsonl"
    assert main(["apply", str(tmp_path / "clean" / "recipe.json"), str(v2_path), "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"out", "rows_in", "rows_written", "steps"} and doc["out"] == str(out)
    assert (doc["rows_in"], doc["rows_written"]) == (23, 23 - 2 - 1 - 2 - 2)  # placeholders, moss, copies, manual
    assert [(s["op"], s["rows_affected"]) for s in doc["steps"]] == [("drop", 3), ("drop", 2), ("drop", 2)]
    # the export folder itself names its recipe
    again = tmp_path / "v2_clean" / "v2_again.jsonl"
    assert main(["apply", str(tmp_path / "clean"), str(v2_path), "--out", str(again), "--json"]) == 0
    assert again.read_bytes() == out.read_bytes()
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "missing.json"), str(v2_path), "--out", str(out)]) == 2
    assert "sift apply: error:" in capsys.readouterr().err


def test_a_selection_manifest_replays_on_a_new_version(write_jsonl, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Every selection is a recipe step: `sift select --nested ... --out` on v1, `sift apply manifest.json v2`."""
    from analysis.cli import main

    v1 = [sft(t) for t in TOPICS] + [sft(f"{t} again", f"More about {t}.") for t in TOPICS]
    path = write_jsonl("v1.jsonl", v1)
    out = tmp_path / "subsets"
    assert main(["select", str(path), "--workspace", str(tmp_path / "ws"), "--nested", "0.25,0.5,1", "--seed", "3",
                 "--out", str(out), "--format", "alpaca", "--json"]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    half = manifest["subsets"]["0.5"]
    assert len(half["hashes"]) == len(half["row_ids"]) == 20
    chosen = [v1[i] for i in half["row_ids"]]
    # v2: reordered, one chosen row edited, two new rows
    v2 = [dict(r) for r in v1]
    edited = half["row_ids"][0]
    v2[edited] = sft("edited", "Edited text.")
    v2 += [sft("quartz"), sft("moss")]
    random.Random(5).shuffle(v2)
    v2_path = write_jsonl("v2.jsonl", v2)
    res_path = tmp_path / "o" / "half.jsonl"
    assert main(["apply", str(out / "manifest.json"), str(v2_path), "--subset", "0.5", "--out", str(res_path),
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    written = [json.loads(line) for line in res_path.read_text().splitlines()]
    expected = [r for r in v2 if r in chosen and r != v1[edited]]
    assert written == expected and doc["rows_written"] == 19
    (step,) = doc["steps"]
    assert step["op"] == "select" and step["reason"] == "subset 0.5" and len(step["unmatched"]) == 1
    assert step["rows_affected"] == len(v2) - 19
    assert main(["apply", str(out / "manifest.json"), str(v2_path), "--subset", "0.3", "--out", str(res_path),
                 "--force"]) == 2
    assert "no subset '0.3'" in capsys.readouterr().err


def test_apply_never_overwrites_what_it_did_not_write(write_jsonl, tmp_path: Path) -> None:
    """An existing --out, or a foreign apply_report.json beside it, is refused unless forced (library and CLI)."""
    from analysis.cli import main

    data = write_jsonl("v.jsonl", [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(5)])
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"version": 2, "steps": []}))
    out = tmp_path / "o" / "applied.jsonl"
    out.parent.mkdir()
    out.write_text("mine\n")
    with pytest.raises(LoadError, match="output file exists"):
        apply_recipe(recipe, data, out)
    assert out.read_text() == "mine\n"
    assert main(["apply", str(recipe), str(data), "--out", str(out)]) == 2 and out.read_text() == "mine\n"
    other = tmp_path / "p" / "applied.jsonl"
    other.parent.mkdir()
    (other.parent / "apply_report.json").write_text('{"my": "notes"}')
    with pytest.raises(LoadError, match="not a Sift apply report"):
        apply_recipe(recipe, data, other)
    assert apply_recipe(recipe, data, out, force=True).rows_written == 5
    assert apply_recipe(recipe, data, tmp_path / "o" / "second.jsonl").rows_written == 5  # its own report: fine
