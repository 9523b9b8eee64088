"""Conformance checks for search spaces and ranking backends, in the spirit of scikit-learn's
``check_estimator``.

:func:`check_space` checks everything the library asks of a search space
(:class:`adwp.spaces.SearchSpace` and the rules its docstring adds); :func:`check_backend`
checks what searchers ask of a ranking backend. Each rule that fails raises an
:class:`AssertionError` whose one-line message starts with the rule's name::

    from adwp.testing import check_space

    check_space(MySpace())  # AssertionError: round-trip: ... if a rule is broken

Use them in the tests of a space or backend registered from outside the package.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from adwp.errors import AdwpError, ArchitectureError

__all__ = ["BACKEND_RULES", "SPACE_RULES", "check_backend", "check_space"]

# Architectures a check draws besides the smallest and the largest.
_DRAWS = 4
_GARBAGE = "not an architecture \u2603"


def _fail(rule: str, reason: str) -> AssertionError:
    return AssertionError(f"{rule}: {' '.join(reason.split())}")


def _examples(space: Any) -> list[Any]:
    """The smallest, the largest and a few drawn architectures of ``space``, distinct."""
    drawn = space.sample_many(min(_DRAWS, space.size()), np.random.default_rng(0))
    return list(dict.fromkeys([space.smallest(), space.largest(), *drawn]))


# -- space rules ---------------------------------------------------------------------------------


def _protocol(space: Any) -> None:
    from adwp.spaces import SearchSpace

    if not isinstance(space, SearchSpace):
        wanted = {*SearchSpace.__annotations__, *(m for m in vars(SearchSpace) if m[0] != "_")}
        members = [m for m in wanted if not hasattr(space, m)]
        raise _fail("protocol", f"{type(space).__name__} lacks {', '.join(sorted(members))}")
    if not isinstance(space.name, str) or not space.name:
        raise _fail("protocol", f"name must be a non-empty string, got {space.name!r}")


def _data_shape(space: Any) -> None:
    from adwp.spaces import DATA_SHAPE

    for option in DATA_SHAPE:
        value = getattr(space, option)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _fail("data-shape", f"{option} must be a positive integer, got {value!r}")


def _constructor(space: Any) -> None:
    from adwp.spaces import DATA_SHAPE

    config = space.config()
    try:
        text = json.dumps(config)
    except (TypeError, ValueError) as exc:
        raise _fail("constructor", f"config() is not JSON-ready: {exc}") from None
    parameters = inspect.signature(type(space)).parameters
    missing = [option for option in DATA_SHAPE if option not in parameters]
    if missing:
        raise _fail("constructor", f"{type(space).__name__}() takes no {', '.join(missing)}")
    try:
        rebuilt = type(space)(**json.loads(text))
    except (TypeError, AdwpError) as exc:
        raise _fail("constructor", f"{type(space).__name__}(**config()) fails: {exc}") from None
    if rebuilt.config() != config:
        raise _fail("constructor", f"{type(space).__name__}(**config()) has another config")
    shape = {option: getattr(space, option) + 1 for option in ("in_channels", "num_classes")}
    other = type(space)(**{**config, **shape})
    for option, value in shape.items():
        if getattr(other, option) != value:
            raise _fail("constructor", f"{option}={value} gives a space with another {option}")


def _choices(space: Any) -> None:
    choices = space.choices()
    if not isinstance(choices, dict) or not choices:
        raise _fail("choices", f"choices() must be a non-empty dict, got {choices!r:.80}")
    for name, values in choices.items():
        if not isinstance(name, str) or not isinstance(values, list) or not values:
            raise _fail("choices", f"choices()[{name!r}] must be a non-empty list")
    try:
        json.dumps(choices)
    except (TypeError, ValueError) as exc:
        raise _fail("choices", f"choices() is not JSON-ready: {exc}") from None


def _decisions(space: Any) -> None:
    from adwp.spaces import Decision

    decisions = space.decisions()
    if not isinstance(decisions, tuple) or not decisions:
        raise _fail("decisions", "decisions() must be a non-empty tuple of Decision")
    names = [d.name for d in decisions if isinstance(d, Decision)]
    if len(names) < len(decisions):
        raise _fail("decisions", "decisions() must hold Decision objects only")
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise _fail("decisions", f"decision names repeat: {', '.join(twice)}")
    for index, decision in enumerate(decisions):
        if decision.parent is not None and decision.parent[0] >= index:
            raise _fail("decisions", f"{decision.name}'s parent does not come before it")


def _round_trip(space: Any) -> None:
    from adwp.spaces import active_decisions

    decisions = space.decisions()
    for arch in _examples(space):
        genotype = tuple(space.genotype(arch))
        if len(genotype) != len(decisions):
            raise _fail("round-trip", f"genotype of {arch} has {len(genotype)} indices")
        for index, decision in zip(genotype, decisions):
            if not 0 <= index < len(decision.choices):
                raise _fail("round-trip", f"{decision.name} index {index} is out of range")
        inactive = ~active_decisions(decisions, genotype)
        if any(genotype[i] != 0 for i in np.flatnonzero(inactive)):
            raise _fail("round-trip", f"genotype of {arch} is not 0 at its inactive decisions")
        if space.from_genotype(genotype) != arch:
            raise _fail("round-trip", f"from_genotype(genotype(a)) != a for {arch}")
        if space.validate(arch.to_string()) != arch or not space.contains(arch):
            raise _fail("round-trip", f"validate(a.to_string()) != a for {arch}")
        if hash(space.validate(arch.to_string())) != hash(arch):
            raise _fail("round-trip", f"equal architectures hash differently: {arch}")
        if type(arch).from_dict(json.loads(json.dumps(arch.to_dict()))) != arch:
            raise _fail("round-trip", f"from_dict(a.to_dict()) != a for {arch}")


def _refuses(space: Any) -> None:
    for bad in (_GARBAGE, None):
        try:
            space.validate(bad)
        except ArchitectureError as exc:
            if "\n" in str(exc).strip():
                raise _fail("refuses", f"validate({bad!r}) error is not one line") from None
            continue
        raise _fail("refuses", f"validate({bad!r}) accepts it; raise ArchitectureError")
    if space.contains(_GARBAGE):
        raise _fail("refuses", f"contains({_GARBAGE!r}) is True")


def _sampling(space: Any) -> None:
    size = space.size()
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _fail("sampling", f"size() must be a positive integer, got {size!r}")
    first = space.sample(np.random.default_rng(3))
    if space.sample(np.random.default_rng(3)) != first or not space.contains(first):
        raise _fail("sampling", "sample(rng) must be a valid architecture decided by rng's seed")
    n = min(_DRAWS, size)
    drawn = space.sample_many(n, np.random.default_rng(0))
    if len(drawn) != n or len(set(drawn)) != n:
        raise _fail("sampling", f"sample_many({n}) must give {n} distinct architectures")


def _sizes(space: Any) -> None:
    examples = _examples(space)
    for measure in (space.params, space.flops):
        for arch in examples:
            value = measure(arch)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise _fail("sizes", f"{measure.__name__}({arch}) = {value!r}, not an integer > 0")
    params = [space.params(a) for a in examples]
    ends = (space.params(space.smallest()), space.params(space.largest()))
    if ends != (min(params), max(params)):
        raise _fail("sizes", "smallest() and largest() must have the fewest and most params")


def _networks(space: Any) -> None:
    import torch

    for arch in (space.smallest(), space.largest()):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = space.build(arch)
        if not isinstance(net, torch.nn.Module):
            raise _fail("networks", f"build({arch}) is a {type(net).__name__}, not an nn.Module")
        trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
        if trainable != space.params(arch):
            raise _fail(
                "networks",
                f"build({arch}) has {trainable} trainable parameters, params() says "
                f"{space.params(arch)}",
            )
        images = torch.zeros(2, space.in_channels, space.image_size, space.image_size)
        net.eval()
        with torch.no_grad():
            logits = net(images)
        if tuple(logits.shape) != (2, space.num_classes):
            raise _fail(
                "networks", f"build({arch}) maps 2 images to {tuple(logits.shape)}, not logits"
            )
        sites = getattr(net, "relu_code_sites", None)
        if not callable(sites) or not all(isinstance(m, torch.nn.Module) for m in sites()):
            raise _fail("networks", f"build({arch}) has no relu_code_sites() listing modules")


def _relaxation(space: Any) -> None:
    from adwp.spaces import DifferentiableSpace

    if not isinstance(space, DifferentiableSpace):
        return
    decisions = space.decisions()
    first = decisions[0].choices
    differ = [d.name for d in decisions if d.choices != first]
    if differ:
        raise _fail(
            "relaxation", f"decisions {', '.join(differ)} have other choices than the first"
        )
    if tuple(space.mixed_shape()) != (len(decisions), len(first)):
        raise _fail(
            "relaxation", f"mixed_shape() {space.mixed_shape()} is not (decisions, choices)"
        )


#: Every rule of :func:`check_space`, by name, in the order they are checked.
SPACE_RULES: dict[str, Callable[[Any], None]] = {
    "protocol": _protocol,
    "data-shape": _data_shape,
    "constructor": _constructor,
    "choices": _choices,
    "decisions": _decisions,
    "round-trip": _round_trip,
    "refuses": _refuses,
    "sampling": _sampling,
    "sizes": _sizes,
    "networks": _networks,
    "relaxation": _relaxation,
}


def check_space(space: Any) -> None:
    """Checks that ``space`` keeps the search-space contract, rule by rule.

    The rules (:data:`SPACE_RULES`): ``protocol`` (the members of
    :class:`adwp.spaces.SearchSpace`), ``data-shape`` (positive ``in_channels``,
    ``num_classes``, ``image_size``), ``constructor`` (takes the data shape; ``config()`` is
    JSON and rebuilds the space), ``choices``, ``decisions`` (unique names, parents first),
    ``round-trip`` (genotype, string and dict forms of architectures), ``refuses`` (a bad
    architecture is an :class:`ArchitectureError` of one line), ``sampling``, ``sizes``
    (params and FLOPs; the smallest and largest are so), ``networks`` (``build`` gives a module
    of ``params()`` parameters, logits of the right shape and ``relu_code_sites()``) and
    ``relaxation`` (a differentiable space's decisions share their choices).

    Args:
        space: The search space instance.

    Raises:
        AssertionError: ``"RULE: reason"`` for the first rule broken.
    """
    for rule, check in SPACE_RULES.items():
        try:
            check(space)
        except AssertionError:
            raise
        except Exception as exc:  # a crash inside a rule is that rule broken
            raise _fail(rule, f"{type(exc).__name__}: {exc}") from exc


# -- backend rules -------------------------------------------------------------------------------


def _scores(backend: Any, archs: Sequence[Any], rule: str) -> np.ndarray:
    from adwp.backend import checked_scores

    allow_missing = getattr(backend, "missing", "error") == "skip"
    try:
        return checked_scores(backend.score(list(archs)), archs, allow_missing=allow_missing)
    except AdwpError as exc:
        raise _fail(rule, str(exc)) from None


def _backend_protocol(backend: Any, archs: Sequence[Any]) -> None:
    from adwp.backend import RankingBackend

    if not isinstance(backend, RankingBackend):
        raise _fail("protocol", f"{type(backend).__name__} has no score(archs) method")


def _backend_scores(backend: Any, archs: Sequence[Any]) -> None:
    _scores(backend, archs, "scores")
    empty = np.asarray(backend.score([]))
    if empty.shape != (0,):
        raise _fail("scores", f"score([]) must be empty, got shape {empty.shape}")


def _backend_repeatable(backend: Any, archs: Sequence[Any]) -> None:
    first = _scores(backend, archs, "repeatable")
    again = _scores(backend, archs, "repeatable")
    if not np.array_equal(first, again, equal_nan=True):
        raise _fail("repeatable", "scoring the same architectures twice gives other scores")


def _backend_order(backend: Any, archs: Sequence[Any]) -> None:
    # A batch-relative score (a rank combination) depends on the other architectures scored.
    if getattr(backend, "batch_relative", False):
        return
    forward = _scores(backend, archs, "order")
    backward = _scores(backend, list(archs)[::-1], "order")
    if not np.array_equal(forward, backward[::-1], equal_nan=True):
        raise _fail("order", "scores are not in input order (reversed input, other scores)")
    one = _scores(backend, list(archs)[:1], "order")
    if not np.array_equal(one, forward[:1], equal_nan=True):
        raise _fail("order", "an architecture's score depends on the others scored with it")


#: Every rule of :func:`check_backend`, by name, in the order they are checked.
BACKEND_RULES: dict[str, Callable[[Any, Sequence[Any]], None]] = {
    "protocol": _backend_protocol,
    "scores": _backend_scores,
    "repeatable": _backend_repeatable,
    "order": _backend_order,
}


def check_backend(backend: Any, archs: Sequence[Any] | None = None) -> None:
    """Checks that ``backend`` keeps the ranking-backend contract, rule by rule.

    The rules (:data:`BACKEND_RULES`): ``protocol`` (a ``score(archs)`` method), ``scores``
    (one finite float per architecture, NaN only for a backend that skips what it lacks; none
    for none), ``repeatable`` (the same scores again) and ``order`` (scores in input order, each
    independent of the others scored with it, unless the backend is ``batch_relative``).

    Args:
        backend: The backend.
        archs: Architectures to score (at least two); default the smallest, the largest and a few
            drawn architectures of ``backend.space``.

    Raises:
        AssertionError: ``"RULE: reason"`` for the first rule broken.
    """
    if archs is None:
        space = getattr(backend, "space", None)
        if space is None:
            raise _fail("protocol", "the backend has no space: give the architectures to score")
        archs = _examples(space)
    archs = list(archs)
    if len(archs) < 2:
        raise _fail("protocol", f"give at least two architectures to score, got {len(archs)}")
    for rule, check in BACKEND_RULES.items():
        try:
            check(backend, archs)
        except AssertionError:
            raise
        except Exception as exc:  # a crash inside a rule is that rule broken
            raise _fail(rule, f"{type(exc).__name__}: {exc}") from exc
