"""Optuna adapter: search an adwp space with an Optuna study, any ranking backend as objective.

The space is exposed define-by-run as categorical parameters, in this order for every stage ``s``:
``stage{s}_depth``, then for each of that stage's active layers ``i``
``stage{s}_layer{i}_kernel``, ``stage{s}_layer{i}_width`` and ``stage{s}_layer{i}_skip``. A
decision with a single allowed value (e.g. every per-layer choice of ``layer-assignment``) is not
suggested, so ``trial.params`` holds only real decisions; :func:`architecture_from_params` fills
fixed values back in.

Example:
    >>> space = get_space("macro")
    >>> study = run_study(backend, space, n_trials=50)  # any RankingBackend
    >>> best = architecture_from_params(study.best_params, space)

Optuna is an optional dependency, needed only when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adwp.backend import RankingBackend
from adwp.errors import AdwpError, ArchitectureError
from adwp.spaces import Architecture, Layer, MacroSpace

try:
    import optuna
except ImportError as exc:  # pragma: no cover - depends on the environment
    # A one-line AdwpError lets the CLI report the fix instead of printing a traceback.
    raise AdwpError(
        "the Optuna adapter needs optuna, which is not installed: pip install optuna"
    ) from exc

__all__ = ["OptunaObjective", "architecture_from_params", "run_study", "suggest_architecture"]

# Picks a value for the decision ``name`` among ``options`` (a trial's suggestion or a lookup).
_Chooser = Callable[[str, Sequence[Any]], Any]


def _depth_name(stage: int) -> str:
    return f"stage{stage}_depth"


def _layer_name(stage: int, position: int, field: str) -> str:
    return f"stage{stage}_layer{position}_{field}"


def _build(space: MacroSpace, choose: _Chooser) -> Architecture:
    # One walk over the decisions serves both suggesting and rebuilding, so the parameter names
    # and their order cannot drift apart between the two.
    stages = []
    for s in range(space.num_stages):
        depth = choose(_depth_name(s), space.depths)
        layers = []
        for i in range(depth):
            layers.append(
                Layer(
                    kernel=choose(_layer_name(s, i, "kernel"), space.kernels),
                    width=choose(_layer_name(s, i, "width"), space.widths),
                    skip=choose(_layer_name(s, i, "skip"), space.skips),
                )
            )
        stages.append(tuple(layers))
    return Architecture(tuple(stages))


def _total_depth_range(space: MacroSpace) -> tuple[int, int] | None:
    # Duck-typed so any space with a total-depth limit (LayerAssignmentSpace or a subclass) is
    # handled; the per-stage categoricals cannot express that cross-stage constraint.
    low = getattr(space, "min_total_depth", None)
    high = getattr(space, "max_total_depth", None)
    if low is None or high is None:
        return None
    return int(low), int(high)


def suggest_architecture(trial: optuna.trial.BaseTrial, space: MacroSpace) -> Architecture:
    """Suggests an architecture of ``space`` through ``trial``, define-by-run.

    Every stage suggests ``stage{s}_depth`` from ``space.depths``, then each active layer ``i``
    suggests ``stage{s}_layer{i}_kernel``, ``_width`` and ``_skip`` from ``space.kernels``,
    ``space.widths`` and ``space.skips``. Decisions with a single allowed value are not
    suggested (they are fixed).

    For a space with a total-depth limit (``layer-assignment``: ``min_total_depth`` to
    ``max_total_depth``) the independently suggested stage depths may sum outside that range.
    Such a trial raises :class:`optuna.TrialPruned`, so the study records it as ``PRUNED`` and
    the backend never scores it.

    Args:
        trial: An Optuna trial (a live ``Trial`` or a ``FixedTrial``).
        space: A ``macro``-family search space.

    Returns:
        The suggested architecture, validated against ``space``.

    Raises:
        optuna.TrialPruned: If the stage depths break the space's total-depth limit.
    """

    def choose(name: str, options: Sequence[Any]) -> Any:
        if len(options) == 1:
            return options[0]
        return trial.suggest_categorical(name, list(options))

    arch = _build(space, choose)
    limits = _total_depth_range(space)
    if limits is not None:
        total = sum(arch.depths)
        if not limits[0] <= total <= limits[1]:
            raise optuna.TrialPruned(
                f"stage depths {arch.depths} sum to {total}, outside the space's total depth "
                f"{limits[0]}..{limits[1]}"
            )
    return space.validate(arch)


def architecture_from_params(params: Mapping[str, Any], space: MacroSpace) -> Architecture:
    """Rebuilds the architecture that :func:`suggest_architecture` suggested.

    The inverse of :func:`suggest_architecture`: pass ``study.best_params`` or ``trial.params``.
    Fixed (single-value) decisions may be absent; extra keys are ignored.

    Args:
        params: Parameter names to chosen values, as recorded by Optuna.
        space: The space the study searched.

    Returns:
        The architecture, validated against ``space``.

    Raises:
        ArchitectureError: If a decision is missing or the result is not in ``space`` (e.g. the
            params of a pruned ``layer-assignment`` trial).
    """

    def choose(name: str, options: Sequence[Any]) -> Any:
        if name in params:
            return params[name]
        if len(options) == 1:
            return options[0]
        raise ArchitectureError(f"params lack {name!r} (allowed {list(options)})")

    return space.validate(_build(space, choose))


class OptunaObjective:
    """Optuna objective that scores suggested architectures with an adwp ranking backend.

    Backend scores are higher-is-better, so create the study with ``direction="maximize"``.
    Each trial stores the user attributes ``arch`` (canonical string), ``params`` and ``flops``.

    Args:
        backend: Any ranking backend (``score(archs) -> np.ndarray``, higher is better).
        space: The search space to suggest from.
    """

    def __init__(self, backend: RankingBackend, space: MacroSpace) -> None:
        self.backend = backend
        self.space = space

    def __call__(self, trial: optuna.trial.BaseTrial) -> float:
        """Suggests an architecture, records it and returns its backend score.

        Args:
            trial: The Optuna trial.

        Returns:
            The backend score of the suggested architecture (to maximize).

        Raises:
            optuna.TrialPruned: For out-of-range ``layer-assignment`` depths; see
                :func:`suggest_architecture`.
        """
        arch = suggest_architecture(trial, self.space)
        # Recorded before scoring so a trial whose backend fails still shows what it tried.
        trial.set_user_attr("arch", arch.to_string())
        trial.set_user_attr("params", int(self.space.params(arch)))
        trial.set_user_attr("flops", int(self.space.flops(arch)))
        return float(self.backend.score([arch])[0])


def run_study(
    backend: RankingBackend,
    space: MacroSpace,
    n_trials: int,
    seed: int = 0,
    sampler: optuna.samplers.BaseSampler | None = None,
    quiet: bool = True,
) -> optuna.Study:
    """Searches ``space`` with a new in-memory Optuna study maximising ``backend``'s score.

    Args:
        backend: Any ranking backend, higher is better.
        space: The search space.
        n_trials: Trials to run (pruned ``layer-assignment`` trials count too).
        seed: Seed of the default ``TPESampler``; ignored when ``sampler`` is given.
        sampler: Optuna sampler to use instead of ``TPESampler(seed=seed)``.
        quiet: Silence Optuna's per-trial log lines while the study runs.

    Returns:
        The finished study (``direction="maximize"``); the best architecture is
        ``study.best_trial.user_attrs["arch"]`` or
        ``architecture_from_params(study.best_params, space)``.
    """
    if sampler is None:
        sampler = optuna.samplers.TPESampler(seed=seed)
    # Optuna's verbosity is process-wide; restore it so quiet runs do not silence the caller.
    verbosity = optuna.logging.get_verbosity()
    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        # Created inside the quiet block: creation logs a line of its own.
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(OptunaObjective(backend, space), n_trials=n_trials)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return study
