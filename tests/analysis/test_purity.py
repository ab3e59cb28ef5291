"""`analysis/` must stay pure: no streamlit import, directly or through a dependency."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_streamlit_import_in_source() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "analysis").rglob("*.py")
                 if re.search(r"^\s*(import streamlit|from streamlit)", p.read_text(), flags=re.MULTILINE)]
    assert offenders == []


def test_importing_every_analysis_module_does_not_load_streamlit() -> None:
    modules = sorted("analysis." + ".".join(p.relative_to(ROOT / "analysis").with_suffix("").parts)
                     for p in (ROOT / "analysis").rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules) + \
        "print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_unsafe_html_anywhere() -> None:
    hits = [str(p.relative_to(ROOT)) for d in ("app.py", "pages", "components")
            for p in ([ROOT / d] if d.endswith(".py") else (ROOT / d).rglob("*.py"))
            if re.search(r"unsafe_allow_html\s*=\s*True", p.read_text())]
    assert hits == []
