"""Write docs/checks.md from the registered checks' docstrings and parameter defaults.

Run `python docs/make_checks_md.py` after adding or changing a check; a test keeps the file in sync.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.checks import REGISTRY  # noqa: E402

HEADER = """# Checks

Every check is one module in `analysis/checks/` with a parameter dataclass, stable reason codes and the
uniform `CheckResult` (per-row score in [0, 1], flag, reason, group id; ARCHITECTURE.md §4). Run them with
`sift analyze PATH --checks all` (or a comma-separated list, with `--check-param CHECK.PARAM=VALUE`) or on the
Findings page; `sift findings DIR --json` summarises the latest results. Results are cached per check and
parameters in the workspace (`results/<check>@<params-hash>.parquet`).

This page is generated from the checks' docstrings by `docs/make_checks_md.py`.
"""


def render() -> str:
    parts = [HEADER]
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        doc = inspect.cleandoc(cls.__doc__ or cls.description or "(undocumented)")
        defaults = cls.Params()
        params = ", ".join(f"`{f.name}={getattr(defaults, f.name)!r}`" for f in fields(cls.Params))
        parts.append(f"## `{name}`\n\n{doc}\n\nParameters (defaults): {params or 'none'}.\n")
    return "\n".join(parts)


if __name__ == "__main__":
    (ROOT / "docs" / "checks.md").write_text(render(), encoding="utf-8")
    print(f"wrote docs/checks.md ({len(REGISTRY)} checks)")
