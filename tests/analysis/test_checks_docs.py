"""docs/checks.md documents every registered check and matches the docstrings (regenerate it if this fails)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from analysis.checks import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def test_docs_checks_md_is_in_sync() -> None:
    spec = importlib.util.spec_from_file_location("make_checks_md", ROOT / "docs" / "make_checks_md.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == module.render(), "run: python docs/make_checks_md.py"
    for name in REGISTRY:
        assert f"## `{name}`" in committed


def test_every_check_has_a_real_docstring() -> None:
    for name, cls in REGISTRY.items():
        assert cls.__doc__ and len(cls.__doc__.split()) >= 25, f"{name} needs a docstring paragraph"
