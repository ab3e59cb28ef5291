"""Data-quality and duplicate checks, registered by stable name (ARCHITECTURE.md §4).

Importing this package imports every check module so `REGISTRY` is complete.
"""

from __future__ import annotations

import importlib
import pkgutil

from analysis.checks.base import (
    REGISTRY,
    Check,
    CheckContext,
    CheckResult,
    latest_results,
    load_result,
    make_result,
    register,
    run_checks,
)

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name != "base" and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["REGISTRY", "Check", "CheckContext", "CheckResult", "latest_results", "load_result", "make_result",
           "register", "run_checks"]
