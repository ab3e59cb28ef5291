"""`python -m analysis` is the same as the `sift` command."""

from analysis.cli import main

raise SystemExit(main())
