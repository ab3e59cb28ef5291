"""The shape of `analysis/` (docs/architecture.md): stages import one way, no cycles, no private names across modules.

Imports are read from the source (every `import`, including the lazy ones inside functions: a lazy import that
closes a cycle is still a cycle, it only hides it from the interpreter until run time).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The data walk, in order: a module may import from its own stage or an earlier one, never a later one.
STAGES = ["util", "io", "workspace", "explore", "space", "tokens", "checks", "run", "curation", "prepare", "cli",
          "__main__"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _analysis_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / "analysis").rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import of an `analysis` module in `path`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "analysis":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.append((sub, None) if sub in modules else (node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] == "analysis"]
    return found


def _graph() -> dict[str, set[str]]:
    modules = _analysis_modules()
    return {name: {m for m, _ in _imports(path, modules) if m in modules and m != name}
            for name, path in modules.items()}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, ..., a], or None (iterative DFS with colours)."""
    colour = dict.fromkeys(graph, 0)  # 0 new, 1 on the stack, 2 done
    for start in graph:
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        colour[start] = 1
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(child) == 1:
                return path[path.index(child):] + [child]
            elif colour.get(child) == 0:
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_in_analysis() -> None:
    assert find_cycle(_graph()) is None


def test_every_module_belongs_to_a_stage() -> None:
    strays = [m for m in _analysis_modules() if m != "analysis" and _stage(m) not in STAGES]
    assert strays == [], f"add these to a stage folder (and STAGES, docs/architecture.md): {strays}"


def test_stages_import_one_way() -> None:
    upward = [f"{a} -> {b}" for a, outs in _graph().items() for b in sorted(outs)
              if _stage(a) in STAGES and _stage(b) in STAGES and STAGES.index(_stage(b)) > STAGES.index(_stage(a))]
    assert upward == [], "a stage imports a later one (docs/architecture.md: the walk is one-way)"


def _private_imports(files: list[tuple[str, Path]], modules: dict[str, Path]) -> list[str]:
    """`from analysis.x import _name` anywhere, and a private module (`analysis.pkg._mod`) from outside `pkg`.

    `files` pairs each file with its dotted module name ("" outside `analysis/`)."""
    bad = []
    for own, path in files:
        own_package = own.rsplit(".", 1)[0] if own else ""
        for module, name in _imports(path, modules):
            if name is not None and name.startswith("_"):
                bad.append(f"{own or path.name}: {module}.{name}")
            parent, _, last = module.rpartition(".")
            if last.startswith("_") and parent != own_package:
                bad.append(f"{own or path.name}: {module}")
    return bad


def test_no_module_imports_another_modules_private_name() -> None:
    modules = _analysis_modules()
    outside = [ROOT / "app.py", *(ROOT / "components").rglob("*.py"), *(ROOT / "pages").rglob("*.py")]
    files = [*((name, path) for name, path in modules.items()), *(("", p) for p in outside)]
    assert _private_imports(files, modules) == []


def test_private_import_detector_catches_both_kinds(tmp_path: Path) -> None:
    modules = _analysis_modules()
    probe = tmp_path / "probe.py"
    probe.write_text("from analysis.io.readers import _runs_to_end\nfrom analysis.checks._re2 import may_match\n"
                     "from analysis.io.readers import iter_jsonl\n")
    assert _private_imports([("analysis.util.probe", probe)], modules) == [
        "analysis.util.probe: analysis.io.readers._runs_to_end", "analysis.util.probe: analysis.checks._re2"]
    assert _private_imports([("analysis.checks.probe", probe)], modules) == [
        "analysis.checks.probe: analysis.io.readers._runs_to_end"]  # a package's private module is its own
