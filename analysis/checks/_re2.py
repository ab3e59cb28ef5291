"""A vectorised pre-filter: which texts *may* match a check's Python regexes, decided by one RE2 scan in Arrow.

Python's `re` walks a pattern with look-arounds at every position of every text, one call per text; RE2 over an
Arrow column scans all texts in C++ in one call, linearly. A check passes a pattern that matches a superset of
what its own regexes can match (a necessary condition: "a run of digits with a separator"), and runs its exact
Python logic only on the texts that pass, so its results are unchanged and most texts cost one RE2 scan.
Character classes must be written for RE2: `\\p{Nd}` for Python's Unicode `\\d` (RE2's `\\d` is ASCII-only).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 200_000  # texts per Arrow array: bounds the temporary copy of the strings


def may_match(texts: Sequence[str], pattern: str) -> np.ndarray:
    """bool per text: does RE2 find `pattern` anywhere in it (multi-line, case-sensitive)?"""
    out = np.zeros(len(texts), dtype=bool)
    for lo in range(0, len(texts), CHUNK):
        part = texts[lo:lo + CHUNK]
        try:
            arr = pa.array(part, type=pa.large_string())
        except (pa.ArrowException, UnicodeError):  # a lone surrogate is not UTF-8: let the Python regexes decide
            out[lo:lo + len(part)] = True
            continue
        out[lo:lo + len(part)] = pc.match_substring_regex(arr, pattern).fill_null(False).to_numpy(
            zero_copy_only=False)
    return out
