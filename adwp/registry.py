"""One registry shape for every seam of adwp: spaces, data sets, weight generators, samplers,
encoders, proxies, backends, searchers, pretrained evaluators and score metrics.

Each seam is a :class:`Registry`. A built-in entry registers itself where it is defined, with
the registry's decorator (``@PROXIES.register("synflow")``); user code registers its own entries
the same way, or by a call (``PROXIES.register("mine", my_proxy)``), before using them by name::

    from adwp.registry import PROXIES

    @PROXIES.register("ones", description="scores every network 1")
    def ones(net, images, labels):
        return 1.0

A registry knows the names of its built-in entries and the module defining each without
importing it, so that listing names (the command line's choices and help) costs no torch import;
the module is imported the first time one of its entries is asked for.

This module imports nothing heavy, and nothing of adwp besides its errors.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from adwp.errors import AdwpError, DataError, RegistryError

__all__ = [
    "BACKENDS",
    "DATASETS",
    "DIFFERENTIABLE_SEARCHERS",
    "ENCODERS",
    "GENERATORS",
    "GRADIENT_ESTIMATORS",
    "PRETRAINED",
    "PROXIES",
    "REGISTRIES",
    "SAMPLERS",
    "SCORE_METRICS",
    "SEARCHERS",
    "SPACES",
    "Entry",
    "Registry",
]

T = TypeVar("T")
_V = TypeVar("_V")
# Characters that separate a name from what follows it on the command line: ``KIND:ARGUMENT``
# backend specs, ``NAME:ARGUMENT`` samplers, comma-separated proxy lists.
_SEPARATORS = (":", ",")
_MISSING: Any = object()


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered entry.

    Attributes:
        name: The name it is registered under.
        value: What was registered (a class, a factory, a function, a record).
        options: The keyword options given to :meth:`Registry.register` (e.g. ``description``,
            or the command-line flags a searcher needs).
    """

    name: str
    value: T
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The ``description`` option, else the first line of the value's docstring."""
        given = self.options.get("description")
        if given:
            return str(given)
        doc = getattr(self.value, "__doc__", None) or ""
        return doc.strip().split("\n", 1)[0]


class Registry(Generic[T]):
    """Names to entries of one kind, such as the search spaces.

    Args:
        kind: What an entry is, in error messages: ``"search space"``, ``"proxy"``.
        builtins: ``{name: module}`` of the built-in entries, each registered when its module is
            imported; the module is imported when the entry is first asked for.
        error: The error an unknown name raises (a subclass of :class:`AdwpError`, such as
            :class:`DataError` for data sets).
    """

    def __init__(
        self,
        kind: str,
        builtins: Mapping[str, str] | None = None,
        error: type[AdwpError] = AdwpError,
    ) -> None:
        self.kind = kind
        self.error = error
        self._builtins = dict(builtins or {})
        self._entries: dict[str, Entry[T]] = {}

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self.list())})"

    @overload
    def register(self, name: str, /, **options: Any) -> Callable[[_V], _V]: ...

    @overload
    def register(self, name: str, value: _V, /, **options: Any) -> _V: ...

    def register(self, name: str, value: Any = _MISSING, /, **options: Any) -> Any:
        """Registers ``value`` under ``name``; without ``value``, returns a decorator that does.

        Args:
            name: The name users select it by: non-empty, without whitespace, ``:`` or ``,``.
            value: The entry (a class, factory, function or record).
            **options: Facts about the entry kept with it (see :meth:`info`), e.g.
                ``description="..."``.

        Returns:
            ``value`` unchanged, or a decorator returning its argument unchanged.

        Raises:
            RegistryError: If the name is malformed or already registered.
        """
        self._check_name(name)
        if value is _MISSING:

            def decorate(entry: _V) -> _V:
                self._add(name, entry, options)
                return entry

            return decorate
        self._add(name, value, options)
        return value

    def unregister(self, name: str) -> None:
        """Removes an entry (tests and plugins that replace one).

        Raises:
            The registry's error, if no entry has that name.
        """
        self._load(name)
        if name not in self._entries:
            raise self._unknown(name)
        del self._entries[name]
        self._builtins.pop(name, None)

    def get(self, name: str) -> T:
        """The entry registered under ``name``.

        Raises:
            The registry's error (an :class:`AdwpError`), naming the available entries, if no
            entry has that name.
        """
        return self.info(name).value

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def info(self, name: str) -> Entry[T]:
        """The entry registered under ``name`` with its options and description.

        Raises:
            The registry's error, naming the available entries, if no entry has that name.
        """
        self._load(name)
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise self._unknown(name) from None

    def check(self, name: str) -> str:
        """Returns ``name`` if an entry has it (without importing a built-in's module).

        Raises:
            The registry's error, naming the available entries, if none has.
        """
        if name not in self:
            raise self._unknown(name)
        return name

    def list(self) -> list[str]:
        """The registered names (the built-ins included, imported or not), sorted."""
        return sorted({*self._entries, *self._builtins})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._builtins)

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())

    def _check_name(self, name: object) -> None:
        if (
            not isinstance(name, str)
            or not name
            or name != "".join(name.split())
            or any(sep in name for sep in _SEPARATORS)
        ):
            raise RegistryError(
                f"{self.kind} name must be a non-empty string without whitespace, ':' or ',', "
                f"got {name!r}"
            )

    def _add(self, name: str, value: Any, options: dict[str, Any]) -> None:
        # A built-in's module registers it when imported; a user's entry of the same name is
        # refused as a duplicate, so the built-in is loaded first to be found.
        self._load(name)
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = Entry(name, value, dict(options))

    def _load(self, name: object) -> None:
        module = self._builtins.get(name) if isinstance(name, str) else None
        # A module that is being imported is registering its entries itself.
        if module is not None and name not in self._entries and module not in sys.modules:
            importlib.import_module(module)

    def _unknown(self, name: object) -> AdwpError:
        available = ", ".join(self.list()) or "none"
        return self.error(f"unknown {self.kind} {name!r}; available: {available}")


def _each(module: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, module)


SPACES: Registry[Callable[..., Any]] = Registry(
    "search space",
    {
        **_each("adwp.spaces.macro", "macro", "layer-assignment"),
        "nb201": "adwp.spaces.nb201",
        "nbmacro": "adwp.spaces.nbmacro",
    },
)
"""Search spaces: a class or factory taking the space's options (``adwp.spaces``)."""

DATASETS: Registry[Callable[..., Any]] = Registry(
    "data set",
    _each("adwp.data", "mnist5k", "digits", "cifar10", "cifar100", "imagefolder"),
    error=DataError,
)
"""Data sets: ``loader(root, *, download, seed, **options) -> DataSplits`` (``adwp.data``)."""

GENERATORS: Registry[Callable[..., Any]] = Registry(
    "weight generator",
    {"hypernet": "adwp.generators.hypernet", "supernet": "adwp.generators.supernet"},
)
"""Weight generators (``TrainConfig.model``): ``cls(space, hypernet_config)`` modules."""

SAMPLERS: Registry[Callable[..., Any]] = Registry(
    "sampler",
    _each("adwp.generators.samplers", "uniform", "sandwich", "distinct", "stratified", "inherited"),
)
"""Architecture samplers of training: ``factory(space, argument=None, **options)``, ``argument``
being what follows the name after a colon (``"inherited:3-7"``)."""

ENCODERS: Registry[Callable[..., Any]] = Registry(
    "encoder",
    {
        "onehot": "encoders.onehot",
        "stochastic": "encoders.stochastic",
        "context": "encoders.context",
    },
)
"""Architecture encoders (package ``encoders``): architectures to hypernetwork input tensors."""

PROXIES: Registry[Callable[..., float]] = Registry(
    "proxy",
    _each("adwp.ranking.baselines.proxies", "grad_norm", "jacob_cov", "naswot", "snip", "synflow"),
)
"""Zero-cost proxies: ``proxy(network, images, labels) -> float``, higher is better."""

BACKENDS: Registry[Callable[..., Any]] = Registry(
    "backend kind", _each("adwp.ranking.backends", "hypernet", "supernet", "table", "proxy")
)
"""Ranking backends by spec kind: ``factory(argument, context)`` for ``KIND:ARGUMENT``."""

SEARCHERS: Registry[Callable[..., Any]] = Registry(
    "searcher",
    {
        "layer-assignment": "adwp.search.layer_assignment",
        "importance-sampling": "adwp.search.importance_sampling",
        "random": "adwp.search.random_search",
        "evolution": "adwp.search.evolution",
    },
)
"""Searchers on a ranking backend (``adwp search NAME --backend SPEC``): classes called as
``cls(backend, space, *, seed, quiet, **settings)`` whose ``run(*needs)`` returns a result with
``to_dict()`` (and ``history`` for ``--plot``). Options: ``needs``, the ``adwp search`` flags the
searcher requires, passed to ``run`` in that order; ``settings``, constructor keywords read from
the flags of the same names. ``layer-assignment`` and ``importance-sampling`` have runners of
their own in the command line, which read more flags."""

DIFFERENTIABLE_SEARCHERS: Registry[Callable[..., Any]] = Registry(
    "differentiable searcher",
    _each("adwp.search.differentiable", "darts")
    | _each("adwp.search.itnas", "itnas")
    | _each("adwp.search.entrannas", "entrannas"),
)
"""Differentiable (DARTS-family) searchers: ``factory(shape, generator, cells)`` returning their
``ArchitectureParameters`` (``adwp.search.differentiable``)."""

GRADIENT_ESTIMATORS: Registry[Callable[..., Any]] = Registry(
    "gradient estimator",
    _each("adwp.search.hypernet_gradient", "soft", "gumbel", "straight-through"),
)
"""Estimators of hypernet-gradient search: ``estimator(logits, temperature, noise)`` giving the
decision weights of one step (``adwp.search.hypernet_gradient``)."""

PRETRAINED: Registry[Any] = Registry(
    "pretrained evaluator",
    {"nb201-cifar10": "adwp.pretrained", "nbmacro-cifar10": "adwp.pretrained"},
)
"""Trained evaluators shipped with adwp: :class:`adwp.pretrained.Pretrained` records."""

SCORE_METRICS: Registry[Callable[..., float]] = Registry(
    "score metric", _each("adwp.ranking.evaluator", "accuracy", "neg_log_loss")
)
"""What an evaluator's score is: ``metric(logits, labels) -> float``, summed over the scored
images and divided by their number; higher is better."""

REGISTRIES: dict[str, Registry[Any]] = {
    "spaces": SPACES,
    "datasets": DATASETS,
    "generators": GENERATORS,
    "samplers": SAMPLERS,
    "encoders": ENCODERS,
    "proxies": PROXIES,
    "backends": BACKENDS,
    "searchers": SEARCHERS,
    "differentiable_searchers": DIFFERENTIABLE_SEARCHERS,
    "gradient_estimators": GRADIENT_ESTIMATORS,
    "pretrained": PRETRAINED,
    "score_metrics": SCORE_METRICS,
}
"""Every registry, by the name of its seam."""
