"""Registry of search spaces: ``register_space``, ``get_space``, ``list_spaces``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from adwp.errors import AdwpError, ArchitectureError
from adwp.registry import SPACES

__all__ = [
    "DATA_SHAPE",
    "get_space",
    "layer_assignment_region",
    "list_spaces",
    "parse_in_space",
    "register_space",
    "space_options",
]

# Space options that a data set sets (its images' channels and size, its classes), never a user.
DATA_SHAPE = ("in_channels", "num_classes", "image_size")
_F = TypeVar("_F", bound=Callable[..., Any])


def register_space(name: str, **options: Any) -> Callable[[_F], _F]:
    """Class or factory decorator that makes a search space available by name.

    The space must keep the contract of :class:`adwp.spaces.SearchSpace`, which
    :func:`adwp.testing.check_space` checks rule by rule.

    Args:
        name: Registry key, e.g. ``"macro"``.
        **options: Facts kept with the entry (:meth:`adwp.registry.Registry.info`), e.g.
            ``description``.

    Returns:
        A decorator returning its argument unchanged.

    Raises:
        RegistryError: If the name is malformed or already registered.
    """
    return SPACES.register(name, **options)


def get_space(name: str, **options: Any) -> Any:
    """Builds a registered search space.

    Args:
        name: Registry key.
        **options: Constructor options of that space (e.g. ``in_channels``, ``num_classes``,
            ``image_size``, ``base_widths``).

    Returns:
        The search space instance.

    Raises:
        AdwpError: If the name is unknown or an option is not accepted.
    """
    allowed = space_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise AdwpError(
            f"search space {name!r} has no option {', '.join(map(repr, unknown))}; "
            f"its options: {', '.join(allowed)}"
        )
    try:
        return SPACES.get(name)(**options)
    except TypeError as exc:
        raise AdwpError(f"bad options for search space {name!r}: {exc}") from None


def space_options(name: str) -> dict[str, Any]:
    """The options a registered space's constructor takes, with their defaults.

    Args:
        name: Registry key.

    Returns:
        ``{option: default}`` in declaration order (``inspect.Parameter.empty`` where there is
        no default), e.g. ``{"in_channels": 3, ..., "cells_per_stage": 5}`` for ``nb201``.

    Raises:
        AdwpError: If the name is unknown.
    """
    parameters = inspect.signature(SPACES.get(name)).parameters.values()
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: p.default for p in parameters if p.kind in keyword}


def layer_assignment_region(space: Any, low: int | None = None, high: int | None = None) -> Any:
    """The layer-assignment space of a space, shaped like it: the region the layer-assignment
    search walks and the ``inherited`` sampler trains.

    A space offers one by registering an :class:`adwp.spaces.AssignmentSpace` with the option
    ``region_of``, the names of the spaces it is the region of (``layer-assignment`` for
    ``macro``, ``nbmacro-assignment`` for ``nbmacro``); it is built with the options of ``space``
    it takes. An assignment space is its own region.

    Args:
        space: A space.
        low: Smallest total depth (None: the region's own).
        high: Largest total depth (None: the region's own).

    Raises:
        ArchitectureError: If no registered region is of ``space``'s kind (naming the kinds that
            have one), or the depths lie outside the region.
    """
    from adwp.spaces.protocol import AssignmentSpace

    if not isinstance(space, AssignmentSpace):
        name = getattr(space, "name", type(space).__name__)
        of = {region: SPACES.info(region).options.get("region_of", ()) for region in list_spaces()}
        found = [region for region, kinds in of.items() if name in kinds]
        if not found:
            kinds = sorted(k for listed in of.values() for k in listed)
            raise ArchitectureError(
                f"space {name!r} has no layer-assignment region; the spaces that have one: "
                f"{', '.join(kinds) or 'none'}"
            )
        allowed = space_options(found[0])
        space = get_space(found[0], **{k: v for k, v in space.config().items() if k in allowed})
    return space if low is None and high is None else space.with_total_depth(low, high)


def list_spaces() -> list[str]:
    """Returns the registered space names, sorted."""
    return SPACES.list()


def parse_in_space(text: str, parse: Callable[[str], Any], space: Any) -> Any:
    """Parses an architecture string of ``space``; a string of another space is named as such.

    A string of another space fails in the parser's own terms (an NB201 cell is an "empty stage"
    to the macro parser); when the architectures of other registered spaces read the string, the
    error names those spaces.

    Args:
        text: The string.
        parse: ``space``'s string parser.
        space: The space the string should belong to (its ``name`` and an example are shown).

    Returns:
        What ``parse`` returns.

    Raises:
        ArchitectureError: The parser's error, or one naming the spaces the string belongs to.
    """
    try:
        return parse(text)
    except ArchitectureError:
        own = type(space.smallest())
        others = []
        for name in list_spaces():
            # Spaces sharing this space's kind of architecture read strings alike.
            kind = type(get_space(name).smallest())
            if kind is own or not hasattr(kind, "from_string"):
                continue
            try:
                kind.from_string(text)
            except AdwpError:
                continue
            others.append(name)
        if not others:
            raise
        raise ArchitectureError(
            f"{text!r} is an architecture string of the {' or '.join(others)} space, not of "
            f"this {space.name} space (whose strings look like {space.smallest().to_string()!r})"
        ) from None
