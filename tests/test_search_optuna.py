"""Optuna adapter: real studies on a synthetic backend, round trips and total-depth pruning."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from adwp.errors import ArchitectureError
from adwp.search.optuna import (
    OptunaObjective,
    architecture_from_params,
    run_study,
    suggest_architecture,
)
from adwp.spaces import Architecture, get_space

N_TRIALS = 16


class SyntheticBackend:
    """Rewards 3x3 kernels everywhere and two layers per stage; remembers what it scored."""

    def __init__(self) -> None:
        self.scored: list[Architecture] = []

    @staticmethod
    def value(arch: Architecture) -> float:
        kernel3 = np.mean([layer.kernel == 3 for layer in arch.layers])
        depth2 = sum(d == 2 for d in arch.depths)
        return float(kernel3 + depth2)

    def score(self, archs: Sequence[Architecture]) -> np.ndarray:
        self.scored.extend(archs)
        return np.array([self.value(a) for a in archs], dtype=float)


@pytest.fixture(scope="module")
def macro():
    return get_space("macro")


@pytest.fixture(scope="module")
def macro_study(macro):
    backend = SyntheticBackend()
    return run_study(backend, macro, n_trials=N_TRIALS, seed=0), backend


def _archs(study: optuna.Study) -> list[str | None]:
    return [t.user_attrs.get("arch") for t in study.trials]


def test_macro_study_completes_valid_trials(macro, macro_study):
    study, backend = macro_study
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == len(study.trials) == N_TRIALS
    assert len(backend.scored) == N_TRIALS
    for trial in complete:
        arch = Architecture.from_string(trial.user_attrs["arch"])
        assert macro.contains(arch)
        assert trial.user_attrs["params"] == macro.params(arch)
        assert trial.user_attrs["flops"] == macro.flops(arch)
        assert trial.value == pytest.approx(SyntheticBackend.value(arch))
        # Every trial's params rebuild its own architecture, not only the best one's.
        assert architecture_from_params(trial.params, macro) == arch


def test_best_trial_round_trips_and_matches_backend(macro, macro_study):
    study, _ = macro_study
    best = study.best_trial
    arch = architecture_from_params(best.params, macro)
    assert arch.to_string() == best.user_attrs["arch"]
    assert architecture_from_params(study.best_params, macro) == arch
    assert study.best_value == pytest.approx(SyntheticBackend.value(arch))
    assert study.best_value == max(t.value for t in study.trials)


def test_params_name_the_active_decisions_only(macro, macro_study):
    study, _ = macro_study
    for trial in study.trials:
        arch = Architecture.from_string(trial.user_attrs["arch"])
        expected = {f"stage{s}_depth" for s in range(macro.num_stages)}
        for s, depth in enumerate(arch.depths):
            for i in range(depth):
                expected |= {f"stage{s}_layer{i}_{f}" for f in ("kernel", "width", "skip")}
        assert set(trial.params) == expected


def test_same_seed_same_sequence(macro, macro_study):
    study, _ = macro_study
    again = run_study(SyntheticBackend(), macro, n_trials=N_TRIALS, seed=0)
    assert _archs(again) == _archs(study)
    other = run_study(SyntheticBackend(), macro, n_trials=N_TRIALS, seed=1)
    assert _archs(other) != _archs(study)


def test_custom_sampler_and_quiet_restores_verbosity(macro):
    before = optuna.logging.get_verbosity()
    study = run_study(
        SyntheticBackend(), macro, n_trials=4, sampler=optuna.samplers.RandomSampler(seed=3)
    )
    assert isinstance(study.sampler, optuna.samplers.RandomSampler)
    assert len(study.trials) == 4
    assert optuna.logging.get_verbosity() == before


def test_layer_assignment_prunes_out_of_range_depths():
    space = get_space("layer-assignment", min_total_depth=3, max_total_depth=5)
    backend = SyntheticBackend()
    study = run_study(backend, space, n_trials=20, seed=0)
    assert len(study.trials) == 20
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert pruned, "expected some out-of-range assignments among 20 trials"
    assert complete, "expected some in-range assignments among 20 trials"
    assert len(pruned) + len(complete) == 20
    # Pruned trials are out of range and never reached the backend.
    for trial in pruned:
        total = sum(trial.params[f"stage{s}_depth"] for s in range(space.num_stages))
        assert not 3 <= total <= 5
        assert "arch" not in trial.user_attrs
        with pytest.raises(ArchitectureError, match="total depth"):
            architecture_from_params(trial.params, space)
    assert len(backend.scored) == len(complete)
    assert all(space.contains(a) for a in backend.scored)
    for trial in complete:
        # Only the depths vary; fixed per-layer choices are not suggested.
        assert set(trial.params) == {f"stage{s}_depth" for s in range(space.num_stages)}
        arch = architecture_from_params(trial.params, space)
        assert arch.to_string() == trial.user_attrs["arch"]
        assert space.contains(arch)


def test_fixed_trial_and_missing_params(macro):
    params = {"stage0_depth": 1, "stage1_depth": 1, "stage2_depth": 1}
    for s in range(3):
        params |= {f"stage{s}_layer0_kernel": 5, f"stage{s}_layer0_width": 0.5}
        params[f"stage{s}_layer0_skip"] = s == 1
    arch = suggest_architecture(optuna.trial.FixedTrial(params), macro)
    assert arch.to_string() == "k5w50s0|k5w50s1|k5w50s0"
    assert architecture_from_params(params, macro) == arch
    del params["stage2_layer0_width"]
    with pytest.raises(ArchitectureError, match="stage2_layer0_width"):
        architecture_from_params(params, macro)
    space = get_space("layer-assignment", min_total_depth=3, max_total_depth=5)
    backend = SyntheticBackend()
    objective = OptunaObjective(backend, space)
    with pytest.raises(optuna.TrialPruned, match="sum to 12"):
        objective(optuna.trial.FixedTrial({f"stage{s}_depth": 4 for s in range(3)}))
    assert objective(optuna.trial.FixedTrial({f"stage{s}_depth": 1 for s in range(3)})) == 1.0
    assert [a.to_string() for a in backend.scored] == ["k3w100s1|k3w100s1|k3w100s1"]
