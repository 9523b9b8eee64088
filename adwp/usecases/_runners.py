"""The runners of :func:`adwp.usecases.search`: how each searcher is built from a
:class:`~adwp.usecases._search_job.SearchJob`, run, drawn and summarised.

A backend searcher runs through its own runner where it has one (``_BACKEND_RUNNERS``), else
through ``_run_registered``, which builds any searcher of :data:`adwp.registry.SEARCHERS` from
its entry's ``needs`` and ``settings`` options.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from adwp.errors import AdwpError
from adwp.registry import PRETRAINED, SEARCHERS
from adwp.usecases._common import data_shape, load_data, reading_status
from adwp.usecases._search_job import SearchJob, SearchRun

Rows = list[tuple[str, dict[str, Any]]]


def _run_layer_assignment(job: SearchJob, backend: Any, base: Any, table: Any) -> tuple[Any, Rows]:
    from adwp.search.layer_assignment import LayerAssignmentSearch, layer_assignment_space_like

    settings = job.settings
    search = LayerAssignmentSearch(
        backend,
        layer_assignment_space_like(base),
        beam=settings["beam"],
        seed=job.seed,
        quiet=job.quiet,
    )
    run = search.architecture_dataset if settings["exhaustive"] else search.run
    outcome = run(settings["min_depth"], settings["max_depth"])
    out = outcome.to_dict()
    if job.plot:
        from adwp.plots import plot_layer_assignment

        truth = None
        if job.truth:  # the backend's own table would only repeat the scores
            from adwp.search import truth_records

            truth = {
                "-".join(map(str, search.space.depths_of(r["arch"]))): r["score"]
                for r in truth_records(table.truth, search.space)
            }
        plot_layer_assignment(out, job.plot, truth=truth, label=job.label)
    return outcome, [(d["depth"], d["best"]) for d in out["depths"]]


def _run_importance_sampling(
    job: SearchJob, backend: Any, base: Any, table: Any
) -> tuple[Any, Rows]:
    from adwp.search.importance_sampling import ImportanceSamplingSearch

    settings = job.settings
    search = ImportanceSamplingSearch(
        backend,
        base,
        coefficients=[float(c) for c in settings["coefficients"]],
        samples=settings["samples"],
        complexity=settings["complexity"],
        pool=not settings["independent"],
        seed=job.seed,
        quiet=job.quiet,
    )
    outcome = search.run(settings["iterations"])
    out = outcome.to_dict()
    pick = settings["pick"]
    # The pick (best or mode) chooses which of the two picks per coefficient are shown.
    shown = [{"coefficient": c["coefficient"], **c[pick]} for c in out["per_coefficient"]]
    if job.plot:
        from adwp.plots import plot_pareto, plot_trajectory
        from adwp.search import truth_records

        plot_pareto(
            out["evaluated"],
            shown,
            job.plot,
            complexity=settings["complexity"],
            truth=truth_records(table.truth, base) if table is not None else None,
            label=job.label,
            pick_label=f"{pick} per eps",
        )
        trajectory_path = Path(job.plot).with_name(Path(job.plot).stem + "_trajectory.png")
        plot_trajectory(out["trajectory"], search.coefficients, trajectory_path)
    return outcome, [(f"eps={p['coefficient']:g}", p) for p in shown]


def _run_registered(job: SearchJob, backend: Any, base: Any, table: Any) -> tuple[Any, Rows]:
    """Runs a searcher of :data:`adwp.registry.SEARCHERS` as its options say (random,
    evolution, and any registered by user code)."""
    entry = SEARCHERS.info(job.method)
    settings = {name: job.settings[name] for name in entry.options.get("settings", ())}
    searcher = entry.value(backend, base, seed=job.seed, quiet=job.quiet, **settings)
    outcome = searcher.run(*(job.settings[name] for name in entry.options.get("needs", ())))
    if job.plot:
        from adwp.plots import plot_search_history

        if not hasattr(outcome, "history"):
            raise AdwpError(f"--plot: the {job.method} searcher records no history to draw")
        plot_search_history(
            outcome.history, job.plot, title=f"{job.method}: {job.backend}", label=job.label
        )
    return outcome, [("best", outcome.to_dict()["best"])]


Runner = Callable[[SearchJob, Any, Any, Any], tuple[Any, Rows]]
# Searchers whose plots and summary rows are their own; the others run as registered.
_BACKEND_RUNNERS: dict[str, Runner] = {
    "layer-assignment": _run_layer_assignment,
    "importance-sampling": _run_importance_sampling,
}
# What the labels of a runner's summary rows are.
_HEADINGS = {"layer-assignment": "depth"}


def backend_search(job: SearchJob, backend: Any, base: Any, cache: str | None) -> SearchRun:
    """Runs a backend searcher on ``backend`` over ``base`` (caching its scores in
    ``cache``)."""
    from adwp.backend import TableBackend

    columns = {"key": job.key or "arch", "metric": job.metric or "val_acc"}
    table = TableBackend(job.truth, **columns) if job.truth else None
    if isinstance(backend, TableBackend):
        backend.check_space(base)  # a table of another space would fail on every architecture
        table = table or backend
    if cache:
        from adwp.backend import CachedBackend

        backend = CachedBackend(backend, cache, job.backend)
    run = _BACKEND_RUNNERS.get(job.method, _run_registered)
    outcome, rows = run(job, backend, base, table)
    record = {"method": job.method, "backend": job.backend, "seed": job.seed}
    if job.method == "importance-sampling":
        record["pick"] = job.settings["pick"]
    record.update(outcome.to_dict())
    heading = job.settings["pick"] if "pick" in record else _HEADINGS.get(job.method, "")
    return SearchRun(job.method, record, tuple(rows), heading, outcome)


def _check_truth_columns(job: SearchJob) -> None:
    if job.truth is None and (job.key or job.metric):
        raise AdwpError("--key and --metric name columns of --truth; give --truth")


def _truth(job: SearchJob) -> dict[str, float] | None:
    """The ``job.truth`` table's mean per architecture."""
    if job.truth is None:
        return None
    from adwp.groundtruth import read_truth

    return read_truth(job.truth, key=job.key or "arch", metric=job.metric or "val_acc").mean()


def _table_reference(truth: dict[str, float] | None) -> dict[str, float] | None:
    """The truth table's best and median value, drawn beside a search's found cells."""
    if not truth:
        return None
    import numpy as np

    values = np.array(list(truth.values()), float)
    return {"table's best": float(values.max()), "table's median": float(np.median(values))}


def _finish(job: SearchJob, record: dict[str, Any], outcome: Any, truth: Any) -> SearchRun:
    """A gradient search's result, drawn where a plot is asked for."""
    if job.plot:
        from adwp.plots import plot_differentiable_search

        plot_differentiable_search(record, job.plot, reference=_table_reference(truth))
    return SearchRun(job.method, record, outcome=outcome)


def differentiable(job: SearchJob) -> SearchRun:
    """A differentiable (DARTS-family) search, trained here on ``job.dataset``."""
    from adwp.device import resolve_device
    from adwp.search.differentiable import DifferentiableConfig, DifferentiableSearch
    from adwp.spaces import get_space

    settings = job.settings
    if job.backend is not None:
        raise AdwpError(f"{job.method} search trains its own network; give no --backend")
    _check_truth_columns(job)
    for flag, name in (
        ("--generator", "generator"),
        ("--estimator", "estimator"),
        ("--final-weights-only", "final_weights_only"),
    ):
        if settings[name]:
            raise AdwpError(f"{flag} applies to hypernet-gradient search only")
    config = DifferentiableConfig(
        epochs=settings["epochs"],
        steps_per_epoch=settings["steps_per_epoch"] or DifferentiableConfig.steps_per_epoch,
        batch_size=settings["batch_size"] or DifferentiableConfig.batch_size,
        second_order=settings["second_order"],
        seed=job.seed,
    )
    truth = _truth(job)
    data = load_data(
        job.dataset or "cifar10",
        root=job.data_root,
        seed=job.seed,
        options=job.data_options,
        quiet=job.quiet,
    )
    space = get_space(job.space or "nb201", **data_shape(data), **job.space_options)
    search = DifferentiableSearch(space, data, job.method, config, resolve_device(job.device))
    outcome = search.run(checkpoint=settings["checkpoint"], truth=truth, progress=not job.quiet)
    record = {
        "method": job.method,
        "seed": job.seed,
        "space": space.config(),
        "operations": list(space.decisions()[0].choices),
        **outcome.to_dict(),
    }
    return _finish(job, record, outcome, truth)


def hypernet_gradient(job: SearchJob) -> SearchRun:
    """Gradient search through a trained weight generator (``settings["generator"]``)."""
    from adwp.device import resolve_device
    from adwp.generator import open_generator
    from adwp.search.hypernet_gradient import HypernetGradientConfig, HypernetGradientSearch

    settings = job.settings
    generator = settings["generator"]
    if job.backend is not None:
        raise AdwpError("hypernet-gradient search reads --generator CKPT|NAME, not --backend")
    if generator is None:
        raise AdwpError(
            "hypernet-gradient search needs --generator: a checkpoint of adwp train or a "
            f"shipped evaluator's name ({', '.join(PRETRAINED.list())})"
        )
    if job.space_options:
        raise AdwpError("--space-option: hypernet-gradient searches the generator's own space")
    if settings["second_order"]:
        raise AdwpError("--second-order: hypernet-gradient trains no weights to step through")
    _check_truth_columns(job)
    config = HypernetGradientConfig(
        epochs=settings["epochs"],
        steps_per_epoch=settings["steps_per_epoch"] or HypernetGradientConfig.steps_per_epoch,
        batch_size=settings["batch_size"] or HypernetGradientConfig.batch_size,
        estimator=settings["estimator"] or HypernetGradientConfig.estimator,
        snapshots=not settings["final_weights_only"],
        seed=job.seed,
    )
    opened = open_generator(generator, snapshots=config.snapshots, data_root=job.data_root)
    stored = opened.stored
    for flag, given, own in (
        ("--space", job.space, stored.space.name),
        ("--dataset", job.dataset, opened.dataset["name"]),
    ):
        if given is not None and given != own:
            raise AdwpError(f"{flag} {given}: the generator {generator} was trained on {own}")
    cache_dir = job.data_options.get("cache_dir")
    reading_status(
        opened.dataset, job.quiet, data_root=job.data_root, cache_dir=cache_dir, cache_hint=True
    )
    data = opened.load_data(**({"cache_dir": cache_dir} if cache_dir else {}))
    truth = _truth(job)
    search = HypernetGradientSearch(stored, data, config, resolve_device(job.device))
    outcome = search.run(checkpoint=settings["checkpoint"], truth=truth, progress=not job.quiet)
    record = {
        "method": job.method,
        "seed": job.seed,
        "generator": generator,
        "space": stored.space.config(),
        "operations": list(stored.space.decisions()[0].choices),
        **outcome.to_dict(),
    }
    return _finish(job, record, outcome, truth)
