"""``python -m adwp`` runs the command-line interface."""

from adwp.cli import main

raise SystemExit(main())
