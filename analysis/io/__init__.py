"""Loading post-training datasets into Sift's canonical table."""

from analysis.io.errors import FieldError, LoadError, SkippedRecord
from analysis.io.load import CANONICAL_COLUMNS, Dataset, FileInfo, LoadInfo, LoadOptions, load, resolve_paths
from analysis.io.normalize import KINDS, Detection, parse_mapping, render_turns

__all__ = ["CANONICAL_COLUMNS", "KINDS", "Dataset", "Detection", "FieldError", "FileInfo", "LoadError", "LoadInfo",
           "LoadOptions", "SkippedRecord", "load", "parse_mapping", "render_turns", "resolve_paths"]
