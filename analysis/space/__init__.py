"""Stage 3a, the embedding space: embedders, kNN index, 2-D projection, topics, coverage,
and the pipeline that ties them together."""
