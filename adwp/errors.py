"""Exceptions raised by adwp for bad user input.

Every error a user can cause (an architecture outside the space, a corrupt checkpoint, a missing
data folder, a malformed ground-truth row) derives from :class:`AdwpError`, so the CLI can turn it
into a one-line message and a non-zero exit code without a traceback.
"""

from __future__ import annotations

__all__ = [
    "AdwpError",
    "ArchitectureError",
    "CheckpointError",
    "DataError",
    "DataNotFoundError",
    "RegistryError",
]


class AdwpError(Exception):
    """Base class of every user-facing adwp error."""


class ArchitectureError(AdwpError, ValueError):
    """An architecture string, JSON form or choice is not valid for a search space."""


class CheckpointError(AdwpError):
    """A checkpoint file is missing, corrupt, or does not match what was asked for."""


class DataError(AdwpError):
    """A data set is unknown, missing on disk, or malformed."""


class DataNotFoundError(DataError):
    """A data set's files are not in the folder given (and were not asked to be downloaded)."""


class RegistryError(AdwpError, ValueError):
    """A name given to a registry (:mod:`adwp.registry`) is malformed or already taken."""
