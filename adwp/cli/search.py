"""``adwp search``: search a space with a ranking backend, a differentiable searcher, or a
trained generator's gradient."""

from __future__ import annotations

import argparse
from typing import Any

from adwp.cli import _common as common
from adwp.errors import AdwpError
from adwp.io import check_writable, write_json
from adwp.registry import GRADIENT_ESTIMATORS, PRETRAINED, PROXIES
from adwp.usecases import SEARCH_DEFAULTS, search, search_methods


def add_parser(sub: argparse._SubParsersAction) -> None:
    methods = search_methods()
    backend_searchers, differentiable = methods["backend"], methods["differentiable"]
    generator_searchers = methods["generator"]
    proxies = ", ".join(PROXIES.list())
    pretrained = common.listing(PRETRAINED.list())
    from adwp.backend import MISSING

    search = sub.add_parser(
        "search",
        help="search the space with a ranking backend",
        description=f"adwp search {'|'.join(backend_searchers)} "
        "--backend SPEC ... --seed S --output OUT.json [--plot FIG.png]. SPEC: hypernet:CKPT, "
        "supernet:CKPT, table:GT.jsonl (or .csv; see --key, --metric) or proxy:NAME, NAME one "
        f"of {proxies}. Or a differentiable search, trained here: adwp search "
        f"{'|'.join(differentiable)} --space nb201 "
        "--dataset cifar10 --data-root DIR [--truth CSV --key COL --metric COL] --epochs E "
        "--seed S --output OUT.json [--plot FIG.png]; or through a trained hypernetwork, no "
        "weight trained: adwp search hypernet-gradient --generator CKPT|NAME --data-root DIR "
        "[...] --output OUT.json.",
    )
    search.add_argument(
        "method",
        choices=[*backend_searchers, *differentiable, *generator_searchers],
        help="the searcher; each group of flags below says which method it is for",
    )
    search.add_argument(
        "--backend",
        default=None,
        help=f"required by {common.listing(backend_searchers).replace(' or ', ' and ')}: "
        "KIND:ARGUMENT, e.g. hypernet:run.pt",
    )
    search.add_argument(
        "--seed",
        type=common.non_negative_int,
        default=0,
        help="seed of every random choice; the same seed gives the same output",
    )
    search.add_argument("--output", required=True, help="result JSON")
    search.add_argument("--plot", default=None, help="PNG figure")
    search.add_argument(
        "--quiet", action="store_true", help="no progress bar, status lines or summary"
    )
    search.add_argument(
        "--dataset",
        default=None,
        help="data set of proxy backends (default mnist5k); table: backends read no images and "
        "load it only when given, to shape the space (#params, FLOPs) like its images",
    )
    search.add_argument("--data-root", default=None, help="folder of on-disk data sets")
    common.add_data_flags(search)
    search.add_argument("--device", default="auto", help=common.DEVICE_HELP)
    common.add_threads_flag(search)
    search.add_argument("--space", default=None, help="space to search (default: the backend's)")
    common.add_space_option_flag(search)
    search.add_argument(
        "--truth", default=None, help="ground-truth table drawn in the plot (.csv or .jsonl)"
    )
    search.add_argument(
        "--key",
        default=None,
        metavar="COLUMN",
        help="table: backends and --truth: " + common.KEY_HELP,
    )
    search.add_argument(
        "--metric",
        default=None,
        metavar="COLUMN",
        help="table: backends and --truth: " + common.METRIC_HELP,
    )
    search.add_argument(
        "--missing",
        choices=list(MISSING),
        default=None,
        help="table: backends only: what to do with an architecture the table lacks. error "
        "(default): stop with an error naming it; skip: draw another one instead (not counted "
        "as an evaluation; random, evolution and importance-sampling give up after 1000 such "
        "draws in a row, layer-assignment leaves it out)",
    )
    search.add_argument(
        "--cache",
        default=None,
        help="JSONL file keeping every backend score: a killed search re-run with the same seed "
        "and cache resumes where it was and gives the same output",
    )
    relaxed = search.add_argument_group(", ".join([*differentiable, *generator_searchers]))
    relaxed.add_argument(
        "--epochs", type=int, default=SEARCH_DEFAULTS["epochs"], help="epochs (default 10)"
    )
    relaxed.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        help="steps per epoch (default 100; hypernet-gradient 20)",
    )
    relaxed.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="images per batch (default 64; hypernet-gradient 128)",
    )
    relaxed.add_argument(
        "--second-order",
        action="store_true",
        help=f"{', '.join(differentiable)}: architecture gradient through a virtual weight step",
    )
    relaxed.add_argument(
        "--checkpoint",
        default=None,
        help="file the search state is written to after every epoch; a killed search re-run "
        "with it continues and ends with the same architecture",
    )
    through = search.add_argument_group("hypernet-gradient")
    through.add_argument(
        "--generator",
        default=None,
        metavar="CKPT|NAME",
        help="required by hypernet-gradient: the trained weight generator, a checkpoint of "
        f"adwp train or a shipped evaluator's name ({pretrained}); its data set is searched on "
        "(give --data-root)",
    )
    through.add_argument(
        "--estimator",
        choices=GRADIENT_ESTIMATORS.list(),
        default=None,
        help="gradient estimator of the architecture draws (default soft)",
    )
    through.add_argument(
        "--final-weights-only",
        action="store_true",
        help="use the generator's final weights, not its snapshots in turn",
    )
    layer = search.add_argument_group("layer-assignment")
    layer.add_argument(
        "--min-depth",
        type=int,
        default=None,
        help="required by layer-assignment: start total depth (other methods: limits a "
        "layer-assignment --space)",
    )
    layer.add_argument(
        "--max-depth", type=int, default=None, help="required by layer-assignment: last total depth"
    )
    layer.add_argument(
        "--beam", type=int, default=SEARCH_DEFAULTS["beam"], help="assignments kept per depth"
    )
    layer.add_argument(
        "--exhaustive",
        action="store_true",
        help="architecture-dataset mode: score every assignment of every depth",
    )
    sampling = search.add_argument_group("importance-sampling")
    sampling.add_argument(
        "--coefficients",
        default=None,
        help="required by importance-sampling: the complexity coefficients eps, one "
        "distribution each, e.g. 0,0.1,0.3",
    )
    sampling.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="required by importance-sampling: ASNG iterations (each scores --samples "
        "architectures per coefficient)",
    )
    sampling.add_argument(
        "--samples", type=int, default=SEARCH_DEFAULTS["samples"], help="lambda per distribution"
    )
    sampling.add_argument(
        "--complexity",
        choices=["params", "flops"],
        default=SEARCH_DEFAULTS["complexity"],
        help="complexity measure of the objective: #params (default) or FLOPs, min-max "
        "normalised over the space",
    )
    sampling.add_argument(
        "--pick",
        choices=["best", "mode"],
        default=SEARCH_DEFAULTS["pick"],
        help="pick shown per coefficient in the table and plot. best (default): the evaluated "
        "architecture of highest score - eps * complexity; mode: the distribution's most "
        "likely architecture. The JSON keeps both.",
    )
    sampling.add_argument(
        "--independent",
        action="store_true",
        help="no importance sampling: K independent single-distribution runs (the baseline)",
    )
    budget = search.add_argument_group("random and evolution")
    budget.add_argument(
        "--budget",
        type=int,
        default=None,
        help="required by random and evolution: architectures to propose",
    )
    budget.add_argument(
        "--population",
        type=int,
        default=SEARCH_DEFAULTS["population"],
        help="evolution: population size, the architectures kept alive (default 20)",
    )
    budget.add_argument(
        "--tournament",
        type=int,
        default=SEARCH_DEFAULTS["tournament"],
        help="evolution: architectures drawn from the population to pick each parent, the "
        "best of them (default 5)",
    )
    search.set_defaults(func=run)


def _parse_coefficients(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise AdwpError(
            f"--coefficients must be comma-separated numbers (e.g. 0,0.1,0.3), got {text!r}"
        ) from None
    if not values:
        raise AdwpError("--coefficients needs at least one number")
    return values


def run(args: argparse.Namespace) -> int:
    check_writable(args.output, "--output")
    check_writable(args.plot, "--plot")
    settings: dict[str, Any] = {name: getattr(args, name) for name in SEARCH_DEFAULTS}
    settings["coefficients"] = _parse_coefficients(args.coefficients)
    result = search(
        args.method,
        args.backend,
        seed=args.seed,
        space=args.space,
        space_options=common.space_options(args),
        dataset=args.dataset,
        data_root=args.data_root,
        data_options=common.data_options(args),
        device=args.device,
        truth=args.truth,
        key=args.key,
        metric=args.metric,
        missing=args.missing,
        cache=args.cache,
        plot=args.plot,
        quiet=args.quiet,
        **settings,
    )
    path = write_json(args.output, result.to_dict())
    if args.quiet:
        return 0
    out = result.record
    if args.method not in search_methods()["backend"]:
        found = f" ({out['truth']} in the table)" if out.get("truth") is not None else ""
        print(f"{args.method}: {out['arch']}{found}; wrote {path}")
        return 0
    print(f"{result.heading:>10}  {'score':>8}  {'params':>10}  architecture")
    for key, pick in result.rows:
        print(f"{key!s:>10}  {pick['score']:8.4f}  {pick['params']:>10,}  {pick['arch']}")
    skipped = f", {out['skipped']} not in the table" if out.get("skipped") else ""
    print(f"{out['evaluations']} backend evaluations{skipped}; wrote {path}")
    return 0
