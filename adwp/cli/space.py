"""``adwp space``: describe a search space."""

from __future__ import annotations

import argparse
import json

from adwp.cli._common import add_space_option_flag, non_negative_int, space_options
from adwp.usecases import describe_space


def add_parser(sub: argparse._SubParsersAction, space_help: str) -> None:
    space = sub.add_parser("space", help="describe a search space")
    space.add_argument("--space", default="macro", help=space_help)
    add_space_option_flag(space)
    space.add_argument("--json", action="store_true", help="print JSON")
    space.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the example architecture"
    )
    space.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = describe_space(args.space, seed=args.seed, **space_options(args))
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:>15}: {value}")
    return 0
