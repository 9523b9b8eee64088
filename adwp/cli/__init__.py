"""Command-line interface: ``adwp space | train | rank | groundtruth | correlate | search``.

One module per command (:mod:`adwp.cli.space`, :mod:`adwp.cli.train`, :mod:`adwp.cli.rank`,
:mod:`adwp.cli.groundtruth`, :mod:`adwp.cli.correlate`, :mod:`adwp.cli.search`), each with an
``add_parser`` and a ``run`` that parses, calls the library (:mod:`adwp.usecases`) and prints.

Errors a user can cause end in a one-line message on stderr and exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from adwp.cli import correlate, groundtruth, rank, search, space, train
from adwp.cli._common import listing, set_threads
from adwp.errors import AdwpError
from adwp.registry import DATASETS, SPACES

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser of the ``adwp`` command.

    Choices and the names in help texts come from :mod:`adwp.registry`, so that entries
    registered by user code before the parser is built are offered too.
    """
    dataset_help = "data set: " + listing(DATASETS.list(), "mnist5k")
    space_help = "search space: " + listing(SPACES.list(), "macro")
    parser = argparse.ArgumentParser(
        prog="adwp", description="Zero-finetune architecture ranking with a hypernetwork."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    space.add_parser(sub, space_help)
    train.add_parser(sub, dataset_help, space_help)
    rank.add_parser(sub)
    groundtruth.add_parser(sub, dataset_help, space_help)
    correlate.add_parser(sub)
    search.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        Exit status.
    """
    args = build_parser().parse_args(argv)
    try:
        set_threads(args)
        return args.func(args)
    except AdwpError as exc:
        print("adwp: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adwp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (``adwp rank ... | head -3``): nothing to report.
        # Python would complain again when it flushes stdout at exit, so that goes nowhere.
        # Without a file descriptor behind stdout (replaced in-process) nothing is left to flush.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a process killed by SIGPIPE, what `set -o pipefail` expects
    except OSError as exc:
        # The file system refusing (full disk, no permission): the user's to fix, not a bug.
        print(f"adwp: error: {exc}", file=sys.stderr)
        return 1
