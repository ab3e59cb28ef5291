"""Stage 5: training files: diverse/stratified selection, nested subsets, train/eval splits in trainer formats."""
