"""Searching a space: what ``adwp search`` does.

Three kinds of searcher run here, each named by its method:

- the searchers of :data:`adwp.registry.SEARCHERS`, which rank architectures with a backend
  (``KIND:ARGUMENT``, :data:`adwp.registry.BACKENDS`);
- the differentiable searchers of :data:`adwp.registry.DIFFERENTIABLE_SEARCHERS`, which train
  their own network;
- ``hypernet-gradient``, which steps through a trained weight generator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from adwp.errors import AdwpError
from adwp.io import check_writable
from adwp.registry import BACKENDS, DIFFERENTIABLE_SEARCHERS, SEARCHERS
from adwp.usecases import _runners
from adwp.usecases._common import check_space_options, data_shape, load_data, reshaped
from adwp.usecases._search_job import SearchJob, SearchRun, backend_kind

__all__ = ["GENERATOR_SEARCHERS", "SEARCH_DEFAULTS", "SearchRun", "search", "search_methods"]

GENERATOR_SEARCHERS = ("hypernet-gradient",)
"""Searchers that step through a trained weight generator rather than rank with a backend."""

SEARCH_DEFAULTS: Mapping[str, Any] = {
    # random and evolution
    "budget": None,
    "population": 20,
    "tournament": 5,
    # layer-assignment (min_depth and max_depth also limit a layer-assignment space)
    "min_depth": None,
    "max_depth": None,
    "beam": 1,
    "exhaustive": False,
    # importance-sampling
    "coefficients": None,
    "iterations": None,
    "samples": 4,
    "complexity": "params",
    "pick": "best",
    "independent": False,
    # differentiable and hypernet-gradient (None: the method's own default)
    "epochs": 10,
    "steps_per_epoch": None,
    "batch_size": None,
    "second_order": False,
    "checkpoint": None,
    "generator": None,
    "estimator": None,
    "final_weights_only": False,
}
"""The settings :func:`search` takes besides its common arguments, with their defaults; each
method reads its own (a registered searcher: the ``needs`` and ``settings`` options of its
entry)."""


def search_methods() -> dict[str, list[str]]:
    """The methods :func:`search` runs, by kind: ``backend``, ``differentiable``,
    ``generator``; entries registered by user code included."""
    return {
        "backend": SEARCHERS.list(),
        "differentiable": DIFFERENTIABLE_SEARCHERS.list(),
        "generator": list(GENERATOR_SEARCHERS),
    }


def search(
    method: str,
    backend: str | None = None,
    *,
    seed: int = 0,
    space: str | None = None,
    space_options: Mapping[str, Any] | None = None,
    dataset: str | None = None,
    data_root: str | None = None,
    data_options: Mapping[str, Any] | None = None,
    device: str = "auto",
    truth: str | None = None,
    key: str | None = None,
    metric: str | None = None,
    missing: str | None = None,
    cache: str | None = None,
    plot: str | os.PathLike[str] | None = None,
    quiet: bool = True,
    **settings: Any,
) -> SearchRun:
    """Searches a space with a ranking backend, a differentiable searcher, or a trained
    generator's gradient.

    Args:
        method: A searcher of :func:`search_methods`.
        backend: ``KIND:ARGUMENT`` ranking backend of a backend searcher (``hypernet:run.pt``,
            ``table:gt.jsonl``, ``proxy:synflow``).
        seed: Seed of every random choice: the same seed gives the same result.
        space: Space to search (default: the backend's; ``macro`` for proxies and tables,
            ``nb201`` for differentiable searchers).
        space_options: Its options.
        dataset: Data set of proxy backends and differentiable searchers; a table backend
            reads no images and loads it only when given, to shape the space like its images.
        data_root: Folder of on-disk data sets.
        data_options: Options of the data set's loader.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
        truth: Ground-truth table drawn in the plot (and, for gradient searchers, the found
            architecture's value in it).
        key: Key column of a table backend and of ``truth``.
        metric: Metric column of a table backend and of ``truth``.
        missing: A table backend's policy for architectures it lacks (``error``, ``skip``).
        cache: JSONL file keeping every backend score, so a killed search resumes.
        plot: PNG figure of the search.
        quiet: No progress bar or status lines.
        **settings: The method's own settings, named in :data:`SEARCH_DEFAULTS` (e.g.
            ``budget=100`` for random search).

    Returns:
        What the search found, with what :meth:`SearchRun.to_dict` writes.

    Raises:
        AdwpError: In one line, if an argument is wrong or a file cannot be read.
    """
    unknown = sorted(set(settings) - set(SEARCH_DEFAULTS))
    if unknown:
        raise AdwpError(
            f"unknown search setting {unknown[0]!r}; known: {', '.join(SEARCH_DEFAULTS)}"
        )
    check_writable(plot, "--plot")
    job = SearchJob(
        method=method,
        backend=backend,
        seed=seed,
        space=space,
        space_options=check_space_options(space_options, "--space-option"),
        dataset=dataset,
        data_root=data_root,
        data_options=dict(data_options or {}),
        device=device,
        truth=None if truth is None else str(truth),
        key=key,
        metric=metric,
        plot=None if plot is None else str(plot),
        quiet=quiet,
        settings={**SEARCH_DEFAULTS, **settings},
    )
    if method in GENERATOR_SEARCHERS:
        return _runners.hypernet_gradient(job)
    if method in DIFFERENTIABLE_SEARCHERS:
        return _runners.differentiable(job)
    SEARCHERS.check(method)
    if backend is None:
        raise AdwpError(f"{method} search needs --backend")
    # Checked before the backend loads, so a forgotten setting is reported at once.
    needs: Sequence[str] = SEARCHERS.info(method).options.get("needs", ())
    if any(job.settings.get(name) is None for name in needs):
        flags = " and ".join("--" + n.replace("_", "-") for n in needs)
        raise AdwpError(f"{method} search needs {flags}")
    reads = backend_kind(str(backend).partition(":")[0])[0]
    if missing is not None and reads != "table":
        raise AdwpError(f"--missing applies to table: backends only, not {backend!r}")
    for flag, value in (("--key", key), ("--metric", metric)):
        if value is not None and not (reads == "table" or truth):
            raise AdwpError(f"{flag} names a column of table: backends and --truth tables only")
    ranking, base = _backend_and_space(job, missing)
    return _runners.backend_search(job, ranking, base, cache)


def _backend_and_space(job: SearchJob, missing: str | None) -> tuple[Any, Any]:
    """The backend of ``job.backend`` and the space to search (the backend's, or
    ``job.space``), limited to the total depths of ``min_depth``/``max_depth`` where it has
    such a limit."""
    from adwp.backend import BackendContext, load_backend
    from adwp.spaces import DepthLimitedSpace, get_space

    spec = str(job.backend)
    kind, sep, argument = spec.partition(":")
    if not sep or not argument or kind not in BACKENDS:
        load_backend(spec)  # refuses it, naming the kinds
    data = base = None
    dataset = job.dataset or "mnist5k"
    reads = backend_kind(kind)[0]
    if reads != "checkpoint":
        name = "macro" if job.space is None else job.space
        if reads == "table" and job.dataset is None:
            # A table needs no images: the space keeps its own default shape.
            base = get_space(name, **job.space_options)
        else:
            # Proxies (and tables given a data set) carry no space: shape it like the data set.
            data = load_data(dataset, root=job.data_root, options=job.data_options, quiet=job.quiet)
            base = get_space(name, **data_shape(data), **job.space_options)
    context = BackendContext(
        space=base,
        data=data,
        dataset=dataset,
        data_root=job.data_root,
        device=job.device,
        seed=job.seed,
        missing=missing or "error",
        table_key=job.key or "arch",
        table_metric=job.metric or "val_acc",
    )
    backend = load_backend(spec, context)
    if base is None:
        base = reshaped(backend.space, job.space, job.space_options)
    # A searcher that takes the depth range itself (layer-assignment) walks it; for any other, the
    # range limits the space, e.g. to the depths a table covers.
    walks_depths = "min_depth" in SEARCHERS.info(job.method).options.get("needs", ())
    if isinstance(base, DepthLimitedSpace) and not walks_depths:
        base = base.with_total_depth(job.settings["min_depth"], job.settings["max_depth"])
    return backend, base
