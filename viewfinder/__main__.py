"""`python -m viewfinder COMMAND ...`: see viewfinder/cli.py."""
from viewfinder.cli import main

raise SystemExit(main())
