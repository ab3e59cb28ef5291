"""Corrupt recipes (issue 14, fault injection): a real recipe exported from curated GSM8K rows, mutated hundreds of
ways (wrong types, out-of-range numbers, unknown checks / parameters / keys, strings where lists are expected,
malformed reason codes and hashes). Every mutation must be refused before anything runs — `read_recipe` raises one
LoadError naming the file and the place, and `sift apply` exits 2 with that one line, never a traceback."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pytest

from analysis.checks import REGISTRY, run_checks
from analysis.curation.recipe import build_recipe, check_rule, read_recipe, row_hash
from analysis.io import LoadError, load
from analysis.workspace.store import CurationStore

GSM8K = Path("/work/shared/datasets/gsm8k/train.jsonl")
ROOT = Path(__file__).resolve().parents[2]
WRONG = [5, -1, 1.5, 1e9, "dup", None, True, [], {}, [5], {"a": 1}]


def _records() -> list[str]:
    if GSM8K.is_file():
        lines = GSM8K.read_text(encoding="utf-8").splitlines()[:120]
    else:  # (a checkout without the shared datasets: the same shape)
        lines = [json.dumps({"question": f"What is {i} + {i}?", "answer": f"{i} + {i} = {2 * i}. #### {2 * i}"})
                 for i in range(120)]
    return lines + lines[:10]  # ten exact copies to drop


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A recipe as `sift export` writes it: check-based steps (exact and near duplicates, with parameters) and a
    manual row-based step, plus a select step from a selection manifest."""
    folder = tmp_path_factory.mktemp("recipe")
    data = folder / "data.jsonl"
    data.write_text("\n".join(_records()) + "\n", encoding="utf-8")
    ds = load(data)
    store = CurationStore(folder / "curation.sqlite")
    found = run_checks(ds.rows, ["exact_duplicate", "near_duplicate"])
    dropped: set[int] = set()
    for name in ("exact_duplicate", "near_duplicate"):
        res = found[name]
        ids = [r for r in ds.rows["row_id"][res.removable()].tolist() if r not in dropped]
        dropped.update(ids)
        if ids:
            store.drop(ids, reason=f"{name}: drop", rule=check_rule(name, res.params, sorted(res.reasons()),
                                                                    removable=True))
    store.drop([3, 4], reason="manual: off-topic")
    recipe = build_recipe(ds, store)
    store.close()
    present = {s.get("check") for s in recipe["steps"]}
    for name, cls in sorted(REGISTRY.items()):  # hand-added steps: every check's parameters get mutated
        if name not in present:
            rule = check_rule(name, asdict(cls.Params()), [f"{name}_code"], removable=False)
            recipe["steps"].append({"op": "drop", "reason": f"{name}: hand-added", **rule, "rows": []})
    hashes = [row_hash(s) for s in ds.rows["source"].astype(str)]
    recipe["steps"].append({"op": "select", "kind": "nested", "strategy": "stratified-random", "seed": 0,
                            "fractions": [0.5, 1.0], "stratified_by": "none",
                            "subsets": {"0.5": hashes[:50], "1": hashes}})
    assert {s.get("check") for s in recipe["steps"]} & {"exact_duplicate", "near_duplicate"}
    assert None in {s.get("check") for s in recipe["steps"]}
    return data, recipe


def _bad_param_values(check: str, param: str, default: Any) -> list[Any]:
    """Values a parameter must refuse: wrong types, and numbers just outside (and far outside) its bounds."""
    bound = REGISTRY[check].bounds.get(param)
    if isinstance(default, bool):
        out = [5, "yes", None, [], 1.0]
    elif isinstance(default, (int, float)):
        out = ["5", None, True, [], {}, math.inf]
        if isinstance(default, int):
            out.append(2.5)
        if bound is not None and bound.lo is not None:
            out += [bound.lo - 1, -1e9]
        if bound is not None and bound.hi is not None:
            out += [bound.hi + 1, 1e9 if bound.hi < 1e9 else bound.hi * 10]
    elif isinstance(default, str):
        out = [5, None, [], True]
        if bound is not None and bound.choices:
            out.append("bogus")
    else:  # a list parameter
        out = ["x", 5, {"a": 1}, [None]]
    return out


def mutations(recipe: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(label, mutated recipe, the place its message must name)."""
    out: list[tuple[str, dict[str, Any], str]] = []

    def add(label: str, where: str, edit: Any) -> None:
        doc = copy.deepcopy(recipe)
        edit(doc)
        out.append((label, doc, where))

    def put(path: list[Any], value: Any) -> Any:
        def edit(doc: dict[str, Any]) -> None:
            node = doc
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        return edit

    for value in ["2", 3, None, True, 2.5, [2]]:
        add(f"version={value!r}", "unsupported recipe version", put(["version"], value))
    for key, value in [("header", "maybe"), ("header", 1), ("kind", "bogus"), ("kind", 5), ("format", "xlsx"),
                       ("skip_bad_lines", "yes"), ("skip_bad_lines", None), ("mapping", 5), ("mapping", {"a": 5}),
                       ("colour", "red")]:
        add(f"load_options.{key}={value!r}", f"load_options.{key}", put(["load_options", key], value))
    add("load_options=[]", "load_options", put(["load_options"], []))
    add("source_fingerprint=5", "source_fingerprint", put(["source_fingerprint"], 5))
    for value in [5, "drop", None, [1]]:
        add(f"steps[0]={value!r}", "steps[0]", put(["steps", 0], value))
    for i, step in enumerate(recipe["steps"]):
        at = f"steps[{i}]"
        for value in ["shuffle", None, 5, "DROP"]:
            add(f"{at}.op={value!r}", f"{at}.op", put(["steps", i, "op"], value))
        add(f"{at}.unknown key", f"{at}.colour", put(["steps", i, "colour"], "red"))
        if step["op"] == "select":
            for key, values in [("subsets", [5, "x", {}, None, {"a": "dup"}, {"a": [5]}, {"a": ["zz"]}]),
                                ("seed", [-1, "0", 1.5, None]), ("n", [-5, "ten"]),
                                ("fractions", [[2], "0.5", [0], [None], 5]), ("kind", [5]), ("strategy", [[]])]:
                for value in values:
                    where = f"{at}.subsets" if key == "subsets" else f"{at}.{key}"
                    add(f"{at}.{key}={value!r}", where, put(["steps", i, key], value))
            continue
        for value in [5, None, [], {}]:
            add(f"{at}.reason={value!r}", f"{at}.reason", put(["steps", i, "reason"], value))
        for value in [5, "dup", None, {"a": 1}, [5], ["ok", 7]]:
            add(f"{at}.drop_reasons={value!r}", f"{at}.drop_reasons", put(["steps", i, "drop_reasons"], value))
        for value in [5, "dup", None, {}, [1, 2], ["x" * 80], ["two words"], [""]]:
            where = f"{at}.reasons" if not (isinstance(value, list) and value and isinstance(value[0], str)) \
                else f"{at}.reasons[0]"
            add(f"{at}.reasons={value!r}", where, put(["steps", i, "reasons"], value))
        for value in [5, "x", {}, None, [5], ["not a row"]]:
            where = f"{at}.rows" if not isinstance(value, list) or not value else f"{at}.rows[0]"
            add(f"{at}.rows={value!r}", where, put(["steps", i, "rows"], value))
        if step.get("rows"):
            for key, values in [("row_id", ["3", 1.5, True, []]), ("hash", [5, "dup", "ABC", [], "0" * 31]),
                                ("occurrence", [-1, "0", 1.5, None]), ("colour", ["red"])]:
                for value in values:
                    add(f"{at}.rows[0].{key}={value!r}", f"{at}.rows[0].{key}",
                        put(["steps", i, "rows", 0, key], value))
        if "check" not in step:
            add(f"{at} without rows", f"{at}.rows", lambda d, i=i: d["steps"][i].pop("rows"))
            add(f"{at}.params on a row step", f"{at}.params", put(["steps", i, "params"], {}))
            add(f"{at}.check=unknown", f"{at}.check", put(["steps", i, "check"], "no_such_check"))
            continue
        for value in [5, "x", [], None, 1]:
            add(f"{at}.removable={value!r}", f"{at}.removable", put(["steps", i, "removable"], value))
        for value in ["no_such_check", 5, None, ["exact_duplicate"], "Exact_Duplicate"]:
            add(f"{at}.check={value!r}", f"{at}.check", put(["steps", i, "check"], value))
        for value in [5, "x", [], [["scope", "prompt"]]]:
            add(f"{at}.params={value!r}", f"{at}.params", put(["steps", i, "params"], value))
        add(f"{at}.params.unknown", f"{at}.params.colour", put(["steps", i, "params", "colour"], "red"))
        check = step["check"]
        for spec in fields(REGISTRY[check].Params):
            for value in _bad_param_values(check, spec.name, spec.default):
                add(f"{at}.params.{spec.name}={value!r}", f"{at}.params.{spec.name}",
                    put(["steps", i, "params", spec.name], value))
    return out


def test_the_unmutated_recipe_is_valid(exported: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    _, recipe = exported
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    assert read_recipe(path)["steps"] == recipe["steps"]


def test_every_mutation_is_one_located_error(exported: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    _, recipe = exported
    cases = mutations(recipe)
    assert len(cases) > 1000
    print(f"{len(cases)} corrupt recipes")
    path = tmp_path / "recipe.json"
    missed = []
    for label, doc, where in cases:
        path.write_text(json.dumps(doc))
        try:
            read_recipe(path)
        except LoadError as exc:
            text = str(exc)
            if not (text.startswith(f"{path}: ") and where in text and "\n" not in text):
                missed.append(f"{label}: {text}")
        else:
            missed.append(f"{label}: accepted")
    assert missed == [], "\n".join(missed)


def test_sift_apply_exits_2_on_every_mutation(exported: tuple[Path, dict[str, Any]], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI path end to end (in-process: an uncaught exception fails the test as a traceback would), on every
    eighth mutation (each kind is covered; the library test above takes all of them)."""
    from analysis.cli import main

    data, recipe = exported
    cases = mutations(recipe)[::8]
    path, out = tmp_path / "recipe.json", tmp_path / "out" / "clean.jsonl"
    for label, doc, where in cases:
        path.write_text(json.dumps(doc))
        assert main(["apply", str(path), str(data), "--out", str(out), "--no-progress"]) == 2, label
        err = capsys.readouterr().err
        assert err.startswith(f"sift apply: error: {path}: ") and where in err and err.count("\n") == 1, label
        assert not out.exists(), label  # nothing ran, nothing was written


def test_the_issue_cases_by_subprocess(exported: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The four recipes of issue 14 (`"reasons": 5` was a TypeError, `num_perm=1e9` a 1.6 TiB allocation,
    `"reasons": "dup"` dropped nothing, `"header": "maybe"` was accepted), as a user runs them."""
    data, recipe = exported
    check_step = next(i for i, s in enumerate(recipe["steps"]) if s.get("check") == "near_duplicate"
                      or s.get("check") == "exact_duplicate")
    cases = {"reasons_int": (["steps", check_step, "reasons"], 5, "reasons: expected a list of strings, found 5"),
             "reasons_str": (["steps", check_step, "reasons"], "dup", "expected a list of strings, found \"dup\""),
             "header_maybe": (["load_options", "header"], "maybe", "load_options.header: expected true, false or "
                                                                   "null, found \"maybe\"")}
    for name, (where, value, message) in cases.items():
        doc = copy.deepcopy(recipe)
        node = doc
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        done = subprocess.run([sys.executable, "-m", "analysis.cli", "apply", str(path), str(data), "--out",
                               str(tmp_path / "o.jsonl")], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr and message in done.stderr, done.stderr
    doc = copy.deepcopy(recipe)
    doc["steps"].insert(0, {"op": "drop", "reason": "near", "check": "near_duplicate", "params": {"num_perm": 1e9},
                            "reasons": ["near_duplicate"], "removable": True, "rows": []})
    path = tmp_path / "num_perm.json"
    path.write_text(json.dumps(doc))
    done = subprocess.run([sys.executable, "-m", "analysis.cli", "apply", str(path), str(data), "--out",
                           str(tmp_path / "o.jsonl")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "steps[0].params.num_perm: expected a number between 16 and 2048, found " \
        "1000000000" in done.stderr, done.stderr


def test_check_param_bounds_on_the_command_line(exported: tuple[Path, dict[str, Any]]) -> None:
    data, _ = exported
    done = subprocess.run([sys.executable, "-m", "analysis.cli", "analyze", str(data), "--checks", "near_duplicate",
                           "--check-param", "near_duplicate.num_perm=1000000000"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**__import__("os").environ,
                                                       "SIFT_HOME": str(data.parent / "home")})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "check near_duplicate: num_perm: expected a number between 16 and 2048, found 1000000000" in done.stderr


def test_a_checks_own_rules_are_checked_before_anything_runs(exported: tuple[Path, dict[str, Any]],
                                                             tmp_path: Path) -> None:
    """Within the declared bounds but refused by the check's own `__post_init__` (threshold 0 of a Jaccard in
    (0, 1]): still a located error at validation, not a failure half-way through the replay."""
    _, recipe = exported
    doc = copy.deepcopy(recipe)
    at = next(i for i, s in enumerate(doc["steps"]) if s.get("check") == "near_duplicate")
    doc["steps"][at]["params"]["threshold"] = 0
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LoadError, match=rf"steps\[{at}\]\.params: threshold and curve_min must be in \(0, 1\]"):
        read_recipe(path)
