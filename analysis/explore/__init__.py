"""Looking at rows: per-row stats, browse filters, word diffs. Pure helpers for the Overview/Browse/Duplicates pages."""
