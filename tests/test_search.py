"""Searchers on synthetic backends with a known optimum; backend specs; the inherited sampler."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from adwp.backend import (
    BackendContext,
    EnsembleBackend,
    TableBackend,
    list_backends,
    load_backend,
)
from adwp.errors import AdwpError, ArchitectureError
from adwp.samplers import InheritedSampler, get_sampler
from adwp.search import (
    CategoricalASNG,
    CategoricalEncoding,
    CountingBackend,
    ImportanceSamplingSearch,
    LayerAssignmentSearch,
    RandomSearch,
    RegularizedEvolution,
    children,
    pareto_front,
)
from adwp.search.importance_sampling import _utilities
from adwp.spaces import Architecture, get_space

MACRO = get_space("macro")
TARGET = MACRO.sample(np.random.default_rng(3))


class MatchBackend:
    """Counts decisions shared with ``TARGET``: its unique optimum is ``TARGET``."""

    def __init__(self) -> None:
        self.calls = 0

    def score(self, archs):
        self.calls += len(archs)
        out = []
        for arch in archs:
            matches = 0
            for stage, want in zip(arch.stages, TARGET.stages):
                matches += len(stage) == len(want)
                for layer, target in zip(stage, want):
                    matches += layer.kernel == target.kernel
                    matches += layer.width == target.width
                    matches += layer.skip == target.skip
            out.append(matches)
        return np.array(out, dtype=float)


class SizeBackend:
    """Concave in #params (sqrt of the normalised count): bigger is better, gains diminish."""

    def __init__(self, space) -> None:
        self.space = space
        self.low, self.high = space.params(space.smallest()), space.params(space.largest())

    def score(self, archs):
        return np.array(
            [math.sqrt((self.space.params(a) - self.low) / (self.high - self.low)) for a in archs]
        )


class SeparableDepthBackend:
    """Sum over stages of ``w_s * log(1 + d_s)``: separable and concave in every stage's depth,
    so adding layers greedily is optimal and the inheritance relation holds at every depth."""

    weights = (1.0, 2.0, 3.5)

    def score(self, archs):
        return np.array(
            [sum(w * math.log1p(d) for w, d in zip(self.weights, a.depths)) for a in archs]
        )


def brute_force_best(space, backend, depth):
    options = space.assignments(depth)
    scores = backend.score([space.from_depths(a) for a in options])
    return options[int(np.argmax(scores))]


# -- encoding ----------------------------------------------------------------------------------


def test_encoding_round_trip_and_active_mask() -> None:
    encoding = CategoricalEncoding(MACRO)
    assert len(encoding) == 3 * (1 + 4 * 3)
    rng = np.random.default_rng(0)
    for arch in MACRO.sample_many(20, rng):
        x = encoding.encode(arch)
        assert encoding.decode(x) == arch
        assert encoding.active(x).sum() == 3 + 3 * sum(arch.depths)
    la = CategoricalEncoding(get_space("layer-assignment"))
    # single-choice decisions dropped
    assert [v.name for v in la.variables] == ["stage0_depth", "stage1_depth", "stage2_depth"]


# -- backends ------------------------------------------------------------------------------------


def _write_table(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_table_backend_averages_seeds_and_names_unknown_archs(tmp_path: Path) -> None:
    a, b = "k3w100s1|k3w100s1|k3w100s1", "k3w100s1|k3w100s1|k3w100s1,k3w100s1"
    table = _write_table(
        tmp_path / "gt.jsonl",
        [
            {"arch": a, "seed": 0, "val_acc": 0.5},
            {"arch": a, "seed": 1, "val_acc": 0.7},
            {"arch": b, "seed": 0, "val_acc": 0.9},
        ],
    )
    backend = load_backend(f"table:{table}")
    assert isinstance(backend, TableBackend)
    np.testing.assert_allclose(backend.score([Architecture.from_string(b), a]), [0.9, 0.6])
    with pytest.raises(ArchitectureError, match=r"k3w100s1\|k3w100s1,k3w100s1\|.* is not in table"):
        backend.score(["k3w100s1|k3w100s1,k3w100s1|k3w100s1"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hypernet", "must look like KIND:ARGUMENT"),
        ("nope:x", "unknown backend kind 'nope'.*hypernet, proxy, supernet, table"),
        ("proxy:bogus", "unknown proxy 'bogus'; available: grad_norm"),
        ("table:/no/such.jsonl", "ground-truth table not found"),
        ("hypernet:/no/such.pt", "checkpoint not found"),
    ],
)
def test_backend_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(AdwpError, match=message):
        load_backend(spec, BackendContext(space=MACRO))


class ConstantBackend:
    def __init__(self, values, space=None) -> None:
        self.values = values
        if space is not None:
            self.space = space

    def score(self, archs):
        return self.values[: len(archs)]


def test_ensemble_backend_averages_its_members() -> None:
    archs = MACRO.sample_many(3, np.random.default_rng(0))
    ensemble = EnsembleBackend([MatchBackend(), SizeBackend(MACRO), ConstantBackend([1, 2, 3])])
    expected = np.mean(
        [MatchBackend().score(archs), SizeBackend(MACRO).score(archs), [1, 2, 3]], axis=0
    )
    np.testing.assert_allclose(ensemble.score(archs), expected)
    assert ensemble.space is MACRO  # the one member that has a space gives it
    assert EnsembleBackend([MatchBackend()]).space is None


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([], "needs at least one backend"),
        ([MatchBackend(), "table:gt.jsonl"], "ensemble member 'table:gt.jsonl' has no score"),
        (
            [ConstantBackend([1.0], MACRO), ConstantBackend([1.0], get_space("macro", depths=[1]))],
            "ensemble members score different spaces",
        ),
    ],
)
def test_ensemble_backend_refuses_bad_members(members: list, message: str) -> None:
    with pytest.raises(AdwpError, match=message):
        EnsembleBackend(members)


def test_ensemble_backend_checks_each_members_scores() -> None:
    archs = MACRO.sample_many(2, np.random.default_rng(0))
    with pytest.raises(AdwpError, match="returned \\(1,\\) scores for 2 architectures"):
        EnsembleBackend([MatchBackend(), ConstantBackend([1.0])]).score(archs)
    with pytest.raises(AdwpError, match="is nan"):
        EnsembleBackend([ConstantBackend([1.0, float("nan")])]).score(archs)


def test_proxy_backend_from_spec_scores_the_space() -> None:
    from adwp.data import get_dataset

    data = get_dataset("digits")
    space = get_space("macro", in_channels=1, num_classes=10, image_size=8)
    backend = load_backend("proxy:naswot", BackendContext(space=space, data=data))
    scores = backend.score([space.smallest(), space.largest()])
    assert scores.shape == (2,) and np.isfinite(scores).all()
    assert set(list_backends()) >= {"hypernet", "supernet", "table", "proxy"}


def test_counting_backend_counts_distinct_architectures() -> None:
    inner = MatchBackend()
    counter = CountingBackend(inner)
    archs = MACRO.sample_many(3, np.random.default_rng(0))
    counter.score(archs + archs[:2])
    counter.score(archs)
    assert (counter.evaluations, counter.queries, inner.calls) == (3, 8, 3)


def test_pareto_front() -> None:
    records = [
        {"score": 0.5, "params": 10},
        {"score": 0.4, "params": 20},  # dominated
        {"score": 0.8, "params": 30},
        {"score": 0.8, "params": 40},  # dominated (same score, bigger)
        {"score": 0.9, "params": 50},
    ]
    assert [r["params"] for r in pareto_front(records)] == [10, 30, 50]


# -- layer assignment --------------------------------------------------------------------------


def test_children() -> None:
    assert children((1, 4, 2), (1, 2, 3, 4)) == [(2, 4, 2), (1, 4, 3)]


def test_layer_assignment_search_finds_the_optimum_at_every_depth() -> None:
    space = get_space("layer-assignment")
    backend = SeparableDepthBackend()
    result = LayerAssignmentSearch(backend, space).run(3, 12)
    for level in result.levels:
        assert level.best == brute_force_best(space, backend, level.depth), level.depth
    assert result.levels[0].evaluations == 1  # only (1, 1, 1) has total depth 3
    assert all(level.evaluations <= 3 for level in result.levels[1:])  # children of one
    assert result.evaluations == sum(level.evaluations for level in result.levels)
    out = result.to_dict()
    assert [d["depth"] for d in out["depths"]] == list(range(3, 13))
    assert set(out["depths"][0]) >= {"depth", "best", "assignment", "evaluations"}
    assert out["depths"][-1]["best"]["arch"] == "|".join([",".join(["k3w100s1"] * 4)] * 3)


def test_beam_search_scores_the_children_of_every_kept_assignment() -> None:
    space = get_space("layer-assignment")
    result = LayerAssignmentSearch(SeparableDepthBackend(), space, beam=3).run(5, 6)
    kept = result.levels[0].kept
    assert len(kept) == 3
    expected = set(itertools.chain.from_iterable(children(a, space.depths) for a in kept))
    assert {a for a, _ in result.levels[1].candidates} == expected


def test_architecture_dataset_reports_inheritance() -> None:
    space = get_space("layer-assignment")
    result = LayerAssignmentSearch(SeparableDepthBackend(), space).architecture_dataset(3, 7)
    assert result.evaluations == 32  # every assignment of total depth 3..7
    assert result.levels[0].inherits is None
    assert all(level.inherits and level.parent_rank == 1 for level in result.levels[1:])

    class Contrary:  # wants depth in the first stage at depth 4, in the last one afterwards
        def score(self, archs):
            return np.array([a.depths[0] * (sum(a.depths) == 4) + a.depths[2] for a in archs])

    levels = LayerAssignmentSearch(Contrary(), space).architecture_dataset(3, 6).levels
    assert levels[1].best == (2, 1, 1)
    assert levels[2].best == (1, 1, 3) and levels[2].inherits is False
    assert levels[2].parent_rank > 1


def test_layer_assignment_search_checks_its_range_and_beam() -> None:
    space = get_space("layer-assignment", min_total_depth=3, max_total_depth=7)
    with pytest.raises(
        ArchitectureError, match=r"3\.\.9 must lie within the space's total depths 3\.\.7"
    ):
        LayerAssignmentSearch(SeparableDepthBackend(), space).run(3, 9)
    with pytest.raises(ArchitectureError, match="beam must be a positive integer"):
        LayerAssignmentSearch(SeparableDepthBackend(), space, beam=0)


# -- importance sampling ---------------------------------------------------------------------


def test_utilities_follow_asng_rule_for_equal_weights() -> None:
    f = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.0, 6.0, 5.0])
    u = _utilities(f, np.full(8, 1 / 8))
    assert u.tolist() == [0, -1, 0, -1, 1, 0, 1, 0]  # best 2 (lambda/4) +1, worst 2 -1
    assert _utilities(np.array([1.0, 1.0]), np.array([0.5, 0.5])).tolist() == [0, 0]  # a tie
    assert _utilities(np.array([2.0, 1.0]), np.array([0.5, 0.5])).tolist() == [1, -1]


def test_asng_keeps_valid_probabilities() -> None:
    dist = CategoricalASNG(np.array([2, 3, 4]))
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = dist.sample(2, rng)
        dist.update(x, np.array([1.0, -1.0]) * 0.5)
    sums = np.where(dist.mask, dist.theta, 0).sum(axis=1)
    np.testing.assert_allclose(sums, 1.0)
    assert (dist.theta[dist.mask] >= dist.theta_min.repeat([2, 3, 4]) - 1e-12).all()


def test_importance_sampling_finds_the_known_optimum() -> None:
    result = ImportanceSamplingSearch(
        MatchBackend(), MACRO, coefficients=[0.0], samples=4, seed=0
    ).run(300)
    assert result.per_coefficient[0].mode.arch == TARGET
    assert result.per_coefficient[0].best.arch == TARGET == result.best.arch
    assert result.evaluations <= 300 * 4 + 1


def test_importance_sampling_complexity_does_not_grow_with_the_coefficient() -> None:
    coefficients = [0.0, 0.6, 1.5, 4.0]
    search = ImportanceSamplingSearch(
        SizeBackend(MACRO), MACRO, coefficients=coefficients, samples=4, seed=1
    )
    result = search.run(150)
    params = [picks.best.params for picks in result.per_coefficient]
    assert params == sorted(params, reverse=True), params
    assert params[0] > 4 * params[-1]
    assert [picks.coefficient for picks in result.per_coefficient] == coefficients
    assert result.samples == 150 * 4 * 4
    front = result.pareto()
    assert all(a.params < b.params and a.score < b.score for a, b in itertools.pairwise(front))


def test_importance_sampling_is_reproducible_and_has_an_independent_baseline() -> None:
    def run(seed: int, pool: bool = True):
        search = ImportanceSamplingSearch(
            SizeBackend(MACRO), MACRO, coefficients=[0.0, 1.0], samples=3, pool=pool, seed=seed
        )
        return search.run(10).to_dict()

    assert run(5) == run(5)
    assert run(5) != run(6)
    independent = run(5, pool=False)
    assert independent["pooled"] is False and len(independent["per_coefficient"]) == 2


def test_importance_sampling_on_a_constrained_subspace_returns_members() -> None:
    space = get_space("layer-assignment", min_total_depth=3, max_total_depth=7)
    result = ImportanceSamplingSearch(
        SeparableDepthBackend(), space, coefficients=[0.0], samples=4, seed=0
    ).run(30)
    assert space.contains(result.per_coefficient[0].mode.arch)


def test_importance_sampling_rejects_bad_settings() -> None:
    with pytest.raises(AdwpError, match="samples"):
        ImportanceSamplingSearch(MatchBackend(), MACRO, samples=1)
    with pytest.raises(AdwpError, match="complexity must be one of"):
        ImportanceSamplingSearch(MatchBackend(), MACRO, complexity="latency")
    with pytest.raises(AdwpError, match="at least one complexity coefficient"):
        ImportanceSamplingSearch(MatchBackend(), MACRO, coefficients=[])


# -- random search and evolution ---------------------------------------------------------------


def test_random_search_finds_the_optimum_of_a_small_space() -> None:
    space = get_space("layer-assignment", min_total_depth=3, max_total_depth=6)
    backend = SeparableDepthBackend()
    result = RandomSearch(backend, space, seed=0).run(100)
    best = max(space.enumerate(), key=lambda a: backend.score([a])[0])
    assert result.best.arch == best
    assert result.evaluations == space.size() == 20
    assert result.to_dict() == RandomSearch(backend, space, seed=0).run(100).to_dict()
    history = result.history
    assert all(b["best_so_far"] >= a["best_so_far"] for a, b in itertools.pairwise(history))


def test_regularized_evolution_finds_the_known_optimum() -> None:
    result = RegularizedEvolution(MatchBackend(), MACRO, seed=0).run(3000)
    assert result.best.arch == TARGET
    assert result.queries == 3000
    again = RegularizedEvolution(MatchBackend(), MACRO, seed=0).run(300).to_dict()
    assert again == RegularizedEvolution(MatchBackend(), MACRO, seed=0).run(300).to_dict()


def test_mutation_changes_exactly_one_active_decision() -> None:
    evolution = RegularizedEvolution(MatchBackend(), MACRO, seed=0)
    rng = np.random.default_rng(0)
    for arch in MACRO.sample_many(20, rng):
        x = evolution.encoding.encode(arch)
        child = evolution.mutate(x, rng)
        changed = np.flatnonzero(child != x)
        assert len(changed) == 1 and evolution.encoding.active(x)[changed[0]]
        assert evolution.encoding.decode(child) != arch


def test_evolution_rejects_a_budget_below_the_population() -> None:
    with pytest.raises(AdwpError, match=r"budget must be an integer >= the population \(20\)"):
        RegularizedEvolution(MatchBackend(), MACRO).run(5)


# -- inherited sampler -------------------------------------------------------------------------


def test_inherited_sampler_concentrates_on_the_region() -> None:
    sampler = get_sampler("inherited:3-5", MACRO)
    assert isinstance(sampler, InheritedSampler)
    region = get_space("layer-assignment", min_total_depth=3, max_total_depth=5)
    draws = sampler.sample(400, np.random.default_rng(0))
    inside = [region.contains(a) for a in draws]
    assert 0.68 < np.mean(inside) < 0.82  # share 0.75 (a uniform macro draw is almost never inside)
    assert all(MACRO.contains(a) for a in draws)
    depths = {sum(a.depths) for a, ok in zip(draws, inside) if ok}
    assert depths == {3, 4, 5}
    assert draws == get_sampler("inherited:3-5", MACRO).sample(400, np.random.default_rng(0))
    all_region = get_sampler("inherited:3-5:1", MACRO).sample(50, np.random.default_rng(0))
    assert all(region.contains(a) for a in all_region)


def test_sandwich_sampler_puts_the_extremes_in_every_meta_batch() -> None:
    sampler = get_sampler("sandwich", MACRO)
    draws = sampler.sample(6, np.random.default_rng(0))
    assert draws[:2] == [MACRO.largest(), MACRO.smallest()]
    assert all(MACRO.contains(a) for a in draws) and len(set(draws[2:])) == 4
    assert draws == sampler.sample(6, np.random.default_rng(0))
    assert sampler.sample(1, np.random.default_rng(0)) == [MACRO.largest()]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("inherited:3..7", "must look like MIN-MAX or MIN-MAX:SHARE"),
        ("inherited:3-7:lots", "must look like MIN-MAX or MIN-MAX:SHARE"),
        ("inherited:3-7:1.5", r"share must be in \[0, 1\]"),
        ("inherited:3-20", r"must lie within \[3, 12\]"),
        ("uniform:3", "takes no argument"),
        ("sandwich:2", "must be smallest or largest"),
        ("uniform:2", "takes no argument"),
        (
            "greedy",
            "unknown sampler 'greedy'; available: distinct, inherited, sandwich, stratified, "
            "uniform",
        ),
    ],
)
def test_sampler_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(AdwpError, match=message):
        get_sampler(spec, MACRO)


# -- cached backend (resume) -------------------------------------------------------------------


class CountingMatch(MatchBackend):
    pass


def test_cached_backend_replays_scores_and_resumes(tmp_path: Path) -> None:
    from adwp.backend import CachedBackend

    plain = RegularizedEvolution(MatchBackend(), MACRO, seed=4).run(200).to_dict()
    cache = tmp_path / "scores.jsonl"
    first = CountingMatch()
    # A search "killed" after 80 proposals: its scores are on disk.
    RegularizedEvolution(CachedBackend(first, cache, "match"), MACRO, seed=4).run(80)
    stored = len(cache.read_text().splitlines())
    assert stored == first.calls
    second = CountingMatch()
    resumed = RegularizedEvolution(CachedBackend(second, cache, "match"), MACRO, seed=4).run(200)
    assert resumed.to_dict() == plain  # same result as an uninterrupted run
    assert second.calls == len(cache.read_text().splitlines()) - stored  # only new architectures
    third = CountingMatch()
    RegularizedEvolution(CachedBackend(third, cache, "match"), MACRO, seed=4).run(200)
    assert third.calls == 0


def test_cached_backend_repairs_a_cut_row_and_refuses_other_files(tmp_path: Path) -> None:
    from adwp.backend import CachedBackend
    from adwp.errors import DataError

    cache = tmp_path / "scores.jsonl"
    archs = MACRO.sample_many(3, np.random.default_rng(0))
    CachedBackend(MatchBackend(), cache, "match").score(archs)
    whole = cache.read_text()
    cache.write_text(whole + '{"backend": "match", "arch": "k3')  # killed mid-write
    backend = MatchBackend()
    np.testing.assert_array_equal(
        CachedBackend(backend, cache, "match").score(archs), MatchBackend().score(archs)
    )
    assert backend.calls == 0 and cache.read_text() == whole
    with pytest.raises(AdwpError, match="holds scores of backend 'match', this run is 'other'"):
        CachedBackend(MatchBackend(), cache, "other")
    cache.write_text(whole + "not json\n")
    with pytest.raises(DataError, match=r"scores.jsonl:4: corrupt row"):
        CachedBackend(MatchBackend(), cache, "match")


class NaNBackend:
    def score(self, archs):
        return np.full(len(archs), np.nan)


def test_cached_backend_refuses_to_store_non_finite_scores(tmp_path: Path) -> None:
    from adwp.backend import CachedBackend

    cache = tmp_path / "scores.jsonl"
    backend = CachedBackend(NaNBackend(), cache, "nan")
    with pytest.raises(AdwpError, match=r"score of k\S+ is nan; none were written"):
        backend.score(MACRO.sample_many(3, np.random.default_rng(0)))
    assert not cache.exists() or cache.read_text() == ""


def test_numpy_integers_are_budgets_and_fractional_populations_are_not() -> None:
    from adwp.search import RandomSearch

    plain = RandomSearch(MatchBackend(), MACRO, seed=1).run(5).to_dict()
    assert RandomSearch(MatchBackend(), MACRO, seed=1).run(np.int64(5)).to_dict() == plain
    json.dumps(plain)
    evolved = RegularizedEvolution(MatchBackend(), MACRO, population=4, tournament=2, seed=1)
    assert evolved.run(np.int64(6)).to_dict() == evolved.run(6).to_dict()
    with pytest.raises(AdwpError, match=r"population must be an integer, got 2\.5"):
        RegularizedEvolution(MatchBackend(), MACRO, population=2.5, tournament=1)


# -- NB201 samplers -----------------------------------------------------------------------------


def test_sandwich_smallest_never_proposes_the_largest_cell() -> None:
    space = get_space("nb201")
    sampler = get_sampler("sandwich:smallest", space)
    draws = [a for _ in range(50) for a in sampler.sample(4, np.random.default_rng(_))]
    assert space.largest() not in draws
    assert sampler.sample(4, np.random.default_rng(0))[0] == space.smallest()
    both = get_sampler("sandwich", space).sample(4, np.random.default_rng(0))
    assert both[:2] == [space.largest(), space.smallest()]
    with pytest.raises(AdwpError, match="smallest or largest"):
        get_sampler("sandwich:middle", space)


def test_distinct_sampler_draws_computations_uniformly() -> None:
    space = get_space("nb201")
    sampler = get_sampler("distinct", space)
    draws = sampler.sample(20000, np.random.default_rng(0))
    keys = [space.isomorphism_key(a) for a in draws]
    # The all-`none` computation is 225 of the 15,625 strings (about 290 draws in 20,000 uniform
    # over strings); uniform over the 6,466 computations it is drawn about 3 times.
    dead = space.isomorphism_key(space.smallest())
    assert keys.count(dead) < 20
    assert len(set(keys)) > 6466 * 0.9
    with pytest.raises(AdwpError, match="needs a space with enumerate"):
        get_sampler("distinct", get_space("macro"))


def test_stratified_sampler_spreads_draws_over_sizes() -> None:
    space = get_space("nb201")
    sampler = get_sampler("stratified", space)
    assert len(sampler.strata) == 28  # (number of 3x3 convs, number of 1x1 convs) pairs
    draws = sampler.sample(2800, np.random.default_rng(0))
    # The largest cell is its stratum's only member: drawn about 1/28 of the time.
    assert 60 < draws.count(space.largest()) < 145
    assert len(get_sampler("stratified:4", space).strata) == 4
    with pytest.raises(AdwpError, match="number of bins"):
        get_sampler("stratified:0", space)
