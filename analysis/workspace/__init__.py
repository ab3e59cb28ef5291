"""Stage 2: a dataset's folder (canonical rows, load info) and its curation database."""
