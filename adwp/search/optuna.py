"""Optuna adapter: search an adwp space with an Optuna study, any ranking backend as objective.

The space is exposed define-by-run as categorical parameters, one per decision of
:meth:`adwp.spaces.SearchSpace.decisions`, named after it and suggested in the space's order, and
only while the decision matters: on ``macro`` every stage ``s`` suggests ``stage{s}_depth``, then
for each of that stage's layers ``i`` ``stage{s}_layer{i}_kernel``, ``stage{s}_layer{i}_width``
and ``stage{s}_layer{i}_skip``; on ``nb201`` the six edges ``0->1`` ... ``2->3`` suggest an
operation each. A decision with a single allowed value is not suggested, so ``trial.params``
holds only real decisions; :func:`architecture_from_params` fills fixed values back in.

Example:
    >>> space = get_space("macro")
    >>> study = run_study(backend, space, n_trials=50)  # any RankingBackend
    >>> best = architecture_from_params(study.best_params, space)

Optuna is an optional dependency, needed only when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adwp.backend import RankingBackend
from adwp.errors import AdwpError, ArchitectureError
from adwp.spaces import Decision, SearchSpace

try:
    import optuna
except ImportError as exc:  # pragma: no cover - depends on the environment
    # A one-line AdwpError lets the CLI report the fix instead of printing a traceback.
    raise AdwpError(
        "the Optuna adapter needs optuna, which is not installed: pip install optuna"
    ) from exc

__all__ = ["OptunaObjective", "architecture_from_params", "run_study", "suggest_architecture"]

# Picks the value of a decision (a trial's suggestion or a lookup in recorded params).
_Chooser = Callable[[Decision], Any]


def _genotype(space: SearchSpace, choose: _Chooser) -> list[int]:
    # One walk over the decisions serves both suggesting and rebuilding, so the parameter names
    # and their order cannot drift apart between the two.
    genotype: list[int] = []
    for decision in space.decisions():
        if len(decision.choices) == 1 or not decision.is_active(genotype):
            genotype.append(0)
            continue
        value = choose(decision)
        matches = [j for j, choice in enumerate(decision.choices) if choice == value]
        if not matches:
            raise ArchitectureError(
                f"{decision.name}: {value!r} not in allowed {list(decision.choices)}"
            )
        genotype.append(matches[0])
    return genotype


def suggest_architecture(trial: optuna.trial.BaseTrial, space: SearchSpace) -> Any:
    """Suggests an architecture of ``space`` through ``trial``, define-by-run.

    Every decision that matters given the earlier ones (a macro layer's kernel only when its
    stage is deep enough) suggests a categorical named after it among its choices. Decisions
    with a single allowed value are not suggested (they are fixed).

    Some spaces reject combinations of allowed values (``layer-assignment``: stage depths whose
    sum lies outside ``min_total_depth`` to ``max_total_depth``). Such a trial raises
    :class:`optuna.TrialPruned`, so the study records it as ``PRUNED`` and the backend never
    scores it.

    Args:
        trial: An Optuna trial (a live ``Trial`` or a ``FixedTrial``).
        space: Any search space.

    Returns:
        The suggested architecture, validated against ``space``.

    Raises:
        optuna.TrialPruned: If the suggested genotype is not an architecture of ``space``.
    """

    def choose(decision: Decision) -> Any:
        return trial.suggest_categorical(decision.name, list(decision.choices))

    try:
        return space.from_genotype(_genotype(space, choose))
    except ArchitectureError as exc:
        raise optuna.TrialPruned(f"not in the {space.name} space: {exc}") from None


def architecture_from_params(params: Mapping[str, Any], space: SearchSpace) -> Any:
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

    def choose(decision: Decision) -> Any:
        if decision.name not in params:
            raise ArchitectureError(
                f"params lack {decision.name!r} (allowed {list(decision.choices)})"
            )
        return params[decision.name]

    return space.from_genotype(_genotype(space, choose))


class OptunaObjective:
    """Optuna objective that scores suggested architectures with an adwp ranking backend.

    Backend scores are higher-is-better, so create the study with ``direction="maximize"``.
    Each trial stores the user attributes ``arch`` (canonical string), ``params`` and ``flops``.

    Args:
        backend: Any ranking backend (``score(archs) -> np.ndarray``, higher is better).
        space: The search space to suggest from.
    """

    def __init__(self, backend: RankingBackend, space: SearchSpace) -> None:
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
    space: SearchSpace,
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
