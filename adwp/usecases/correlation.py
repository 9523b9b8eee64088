"""Rank correlation of scores against a ground truth: what ``adwp correlate`` does."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adwp.errors import AdwpError
from adwp.io import ScoresFile, read_flops, read_scores

__all__ = ["CONTROLS", "CorrelationResult", "correlate"]

CONTROLS = ("params", "flops")
"""The named controls of :func:`correlate`; anything else is a scores file."""


@dataclass(frozen=True)
class CorrelationResult:
    """How well scores rank architectures against a ground truth.

    Attributes:
        reports: One report per scores file (:func:`adwp.metrics.correlation_report`, with
            ``scores_file`` naming it): the correlations, their noise ceilings, the top-k
            statistics, ``pairs`` (the per-architecture score and truth), ``warnings``.
        comparison: With several scores files: their paired bootstrap comparison
            (:func:`adwp.metrics.compare_scores`, with ``files``); else None.
        score_label: What the first file's scores are, for axis labels.
    """

    reports: tuple[Mapping[str, Any], ...]
    comparison: Mapping[str, Any] | None = None
    score_label: str = "score"

    @property
    def warnings(self) -> list[str]:
        """The reports' warnings (few pairs...), each prefixed with its scores file when
        several are compared."""
        return [
            f"{report['scores_file']}: {warning}" if self.comparison else warning
            for report in self.reports
            for warning in report["warnings"]
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``adwp correlate --output``: the report, or with several scores files
        ``{"reports": [...], "comparison": {...}}``."""
        if self.comparison is None:
            return dict(self.reports[0])
        return {"reports": [dict(r) for r in self.reports], "comparison": dict(self.comparison)}


def file_labels(paths: Sequence[str]) -> list[str]:
    """Short names of scores files: their file names, or their paths where names repeat."""
    names = [Path(p).name for p in paths]
    if len(set(paths)) < len(paths):
        raise AdwpError("a scores file is given twice to --scores")
    return names if len(set(names)) == len(names) else list(paths)


def _known_sizes(files: Sequence[ScoresFile], table: Any) -> dict[str, float]:
    """#params from the truth's params column, overridden by the scores files' params lists."""
    sizes = dict(table.params or {})
    for file in files:
        sizes.update(file.params)
    return sizes


def _space_flops(file: ScoresFile) -> dict[str, float]:
    """FLOPs of a scores file's architectures computed in the space it names (``"space":
    NAME`` or ``{"name": NAME, "options": {...}}``); empty if it names none."""
    named = file.data.get("space")
    if named is None:
        return {}
    from adwp.spaces import get_space

    if isinstance(named, str):
        named = {"name": named}
    if not isinstance(named, dict) or not isinstance(named.get("options", {}), dict):
        raise AdwpError(
            f"{file.path}: 'space' must be a name or {{'name': ..., 'options': {{...}}}}"
        )
    try:
        space = get_space(str(named.get("name")), **named.get("options", {}))
        return {arch: float(space.flops(space.validate(arch))) for arch in file.scores}
    except AdwpError as exc:
        raise AdwpError(f"{file.path}: flops in its space: {exc}") from None


def _control(
    choice: str | None, files: Sequence[ScoresFile], table: Any, truth: str, key: str
) -> tuple[dict[str, float] | None, str]:
    """The control: ``{arch: value}`` and its name; None for the default (#params where known).

    ``params`` come from the scores files and the truth's params column; ``flops`` from the
    scores files' flops lists, the space a file names, or the truth's flops column; anything
    else names a scores file whose scores are the control.
    """
    if choice is None:
        return None, "params"
    if choice == "params":
        sizes = _known_sizes(files, table)
        if not sizes:
            raise AdwpError(
                f"--control params: no #params in the scores files (a 'params' list) nor in "
                f"{truth} (a 'params' column)"
            )
        return sizes, "params"
    if choice == "flops":
        from adwp.errors import DataError
        from adwp.groundtruth import read_truth

        flops: dict[str, float] = {}
        # A table without a flops column is fine: the scores files may have them.
        with contextlib.suppress(DataError):
            flops.update(read_truth(truth, key=key, metric="flops").mean())
        for file in files:
            listed = read_flops(file)
            flops.update(_space_flops(file) if listed is None else listed)
        if not flops:
            raise AdwpError(
                f"--control flops: no FLOPs in the scores files (a 'flops' list, as rank writes, "
                f"or a 'space' to compute them in) nor in {truth} (a 'flops' column)"
            )
        return flops, "flops"
    if not Path(choice).exists():
        raise AdwpError(
            f"--control {choice!r}: not one of {', '.join(CONTROLS)} and no such scores file"
        )
    return read_scores(choice).scores, Path(choice).name


def _size_columns(truth: str | os.PathLike[str], key: str) -> list[ScoresFile]:
    """The truth table's own #params and FLOPs columns (named ``params`` and ``flops`` in any
    case) as scores files: the size baselines a benchmark's table carries."""
    from adwp.truth.tables import read_truth, table_columns

    columns = [c for c in table_columns(truth) if c.lower() in CONTROLS and c != key]
    if not columns:
        raise AdwpError(
            f"give --scores: {truth} has no params or flops column to rank by instead "
            f"(its columns: {', '.join(table_columns(truth)) or 'none'})"
        )
    return [
        ScoresFile(
            f"{column} (table)",
            read_truth(truth, key=key, metric=column).mean(),
            {},
            f"{column} in the table",
            {},
        )
        for column in columns
    ]


def correlate(
    truth: str | os.PathLike[str],
    scores: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
    *,
    key: str = "arch",
    metric: str = "val_acc",
    control: str | None = None,
    bins: int = 4,
    top_k: Sequence[int] = (10, 50, 100),
    top_percent: float = 5.0,
    resamples: int = 1000,
    seed: int = 0,
    max_unmatched: float = 0.01,
    plot: str | os.PathLike[str] | None = None,
) -> CorrelationResult:
    """Rank correlations of scores files against a ground-truth table.

    Args:
        truth: Ground-truth table, CSV or JSONL.
        scores: A scores file (:func:`adwp.io.read_scores`), or several, compared on the
            architectures they share by a paired bootstrap. None: the table's own ``params`` and
            ``flops`` columns (in any case, e.g. NAS-Bench-Macro's ``Params`` and ``FLOPs``).
        key: The table's column of architecture keys.
        metric: The table's column ranked against.
        control: What the partial tau and the binned tau control for: ``"params"`` (None: where
            #params are known), ``"flops"``, or another scores file.
        bins: Quantile bins of the control.
        top_k: k of the mean truth of the top k.
        top_percent: P of the share of the true top P% among the top P% by score.
        resamples: Bootstrap resamples.
        seed: Bootstrap seed.
        max_unmatched: Largest share of the scored architectures that may be missing from the
            truth.
        plot: PNG scatter of score against truth (one scores file only).

    Raises:
        AdwpError: In one line, if an argument is wrong, a file cannot be read, or the truth
            lacks too many of the scored architectures.
    """
    from adwp.groundtruth import read_truth
    from adwp.metrics import compare_scores, correlation_report

    paths = [str(scores)] if isinstance(scores, (str, os.PathLike)) else [str(p) for p in scores]
    table = read_truth(truth, key=key, metric=metric)
    if paths:
        files = [read_scores(path) for path in paths]
    else:
        files = _size_columns(truth, key)
        paths = [file.path for file in files]
    if plot and len(paths) > 1:
        raise AdwpError("--plot draws one scores file; give a single --scores or leave out --plot")
    if bins < 2:
        raise AdwpError(f"--bins must be at least 2 (4: quartiles), got {bins}")
    if not 0 < top_percent <= 100:
        raise AdwpError(f"--top-percent must be in (0, 100], got {top_percent:g}")
    if resamples < 1:
        raise AdwpError(f"--resamples must be at least 1, got {resamples}")
    if not top_k or min(top_k) < 1:
        raise AdwpError(f"--top-k must be positive integers (e.g. 10,50,100), got {top_k!r}")
    given, control_name = _control(control, files, table, str(truth), key)
    options = {
        "metric": metric,
        "n_resamples": resamples,
        "seed": seed,
        "control": given,
        "control_name": control_name,
        "bins": bins,
        "top_k": list(top_k),
        "top_percent": top_percent,
    }
    # #params belong to the architectures: one file's list serves every file.
    sizes: dict[str, float] = {}
    for file in files:
        sizes.update(file.params)
    for file in files:
        # Before any work: a truth missing many of the scored architectures is the wrong table.
        table.check_covers(file.scores, max_unmatched)
    reports = []
    for file in files:
        report = correlation_report(table.rows(), file.scores, params=sizes or None, **options)
        reports.append({"scores_file": file.path, **report})
    comparison = None
    if len(files) > 1:
        labels = file_labels(paths)
        means = table.mean()
        if given is None:
            # #params, as in each report, where they are known for every architecture.
            given = _known_sizes(files, table)
            common = set(means).intersection(*(file.scores for file in files))
            given = given if common <= set(given) else None
        comparison = compare_scores(
            {label: file.scores for label, file in zip(labels, files)},
            means,
            control=given,
            control_name=control_name,
            n_resamples=resamples,
            seed=seed,
        )
        comparison["files"] = dict(zip(labels, paths))
    result = CorrelationResult(tuple(reports), comparison, files[0].description)
    if plot:
        from adwp.plots import plot_correlation

        title = f"{Path(paths[0]).name} vs {Path(truth).name}"
        plot_correlation(
            reports[0], plot, score_label=result.score_label, title=title, seeded=table.seeded
        )
    return result
