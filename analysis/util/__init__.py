"""Small shared helpers every stage may use: atomic files, memory release, progress, evidence spans."""
