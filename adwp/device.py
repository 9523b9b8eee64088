"""Choosing the torch device a run trains or scores on."""

from __future__ import annotations

import torch

from adwp.errors import AdwpError

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turns a device setting into a usable torch device, failing early if it is not usable.

    Args:
        device: ``None`` or ``"auto"`` (CUDA when available, else the CPU), ``"cpu"``, ``"cuda"``,
            ``"cuda:N"`` or a ``torch.device``.

    Returns:
        The device.

    Raises:
        AdwpError: If the name is unknown, or CUDA is asked for but absent or too few devices
            exist.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise AdwpError(
            f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    # Checked here, because torch would only fail at the first tensor moved, deep in a run.
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise AdwpError(f"device {device!r} asked for, but no CUDA device is available; use 'cpu'")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise AdwpError(
            f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA "
            "device(s) exist"
        )
    return resolved
