"""Load errors that name the file, the record and the field.

A data engineer fixing a 2 GB file needs the exact place to look, not a traceback, so every
failure inside `analysis.io` is raised as a `LoadError` whose string is the whole message the
CLI prints (exit code 2) and the app shows in `st.error`.
"""

from __future__ import annotations

from dataclasses import dataclass


def describe_location(*, path: str | None, line: int | None = None, index: int | None = None,
                      field: str | None = None, byte: int | None = None) -> str:
    """`file.jsonl, line 7, field 'messages'`: the prefix every load message starts with.

    With `byte` (a record of a JSON document, where one line may hold every record) the record comes first:
    `file.json, record 7 (line 1, byte 5120)`."""
    parts: list[str] = []
    if path:
        parts.append(path)
    if byte is not None:
        at = f"line {line}, byte {byte}" if line is not None else f"byte {byte}"
        parts.append(f"record {index} ({at})" if index is not None else at)
    elif line is not None:
        parts.append(f"line {line}")
    elif index is not None:
        parts.append(f"record {index}")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


# Appended to every load error that `skip_bad_lines` would get past, so the way on is in the message itself.
SKIP_HINT = (" (to leave such records out and load the rest: `--skip-bad-lines` in the CLI, "
             "\"Skip bad lines\" on the app's Data page)")


class FieldError(ValueError):
    """A record is malformed in one field; the loader adds the file and line."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LoadError(Exception):
    """A file or a record cannot be loaded; `str(err)` is the full user-facing message."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 index: int | None = None, field: str | None = None, byte: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.index = index
        self.field = field
        self.byte = byte
        where = describe_location(path=path, line=line, index=index, field=field, byte=byte)
        super().__init__(f"{where}: {message}" if where else message)


class NotADataset(LoadError):
    """The file holds no records (empty, an empty array, a sidecar document): in a folder or glob it is left out
    with a notice rather than failing the load; alone it is an error."""


@dataclass(frozen=True)
class SkippedRecord:
    """One record left out under `skip_bad_lines`, reported back to the user."""

    file: str
    line: int | None
    index: int | None
    error: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line if self.line is not None else self.index,
                "error": self.error}
