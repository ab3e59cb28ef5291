"""Stage 4: replayable recipes and exports of the curated rows."""
