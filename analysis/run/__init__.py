"""Execution engines beside the local one: Ray Data stages and background jobs."""
