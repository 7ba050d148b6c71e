"""PyTorch, imported only when asked for: the import, the device, its description.

PyTorch is the optional extra ``clusterspy[deep]``; nothing in clusterspy
imports it at import time.
"""

from __future__ import annotations

import os
import platform

__all__ = ["describe_device", "require_torch", "resolve_device"]

INSTALL_HINT = 'pip install "clusterspy[deep]"'


def require_torch(feature="This"):
    """PyTorch, or an ``ImportError`` that says which extra installs it.

    Examples
    --------
    >>> from clusterspy._torch import require_torch
    >>> try:
    ...     torch = require_torch("learn_features")
    ... except ImportError as error:
    ...     assert "clusterspy[deep]" in str(error)
    """
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{feature} needs PyTorch, which is not installed: {INSTALL_HINT}"
        ) from error
    return torch


def resolve_device(device=None):
    """A ``torch.device``: ``device`` as given, or CUDA when there is one, else CPU.

    Examples
    --------
    >>> from clusterspy._torch import resolve_device
    >>> resolve_device("cpu").type
    'cpu'
    """
    torch = require_torch("A torch device")
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"`device` must be None, 'cpu', 'cuda' or 'cuda:N', not {device!r}."
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"`device` is {str(device)!r} but CUDA is not available.")
    return device


def describe_device(device):
    """The device's name and memory, as recorded in the provenance (JSON-safe).

    Examples
    --------
    >>> from clusterspy._torch import describe_device, resolve_device
    >>> sorted(describe_device(resolve_device("cpu")))
    ['device', 'memory_bytes', 'name', 'torch']
    """
    torch = require_torch("A torch device")
    if device.type == "cuda":
        index = (
            device.index if device.index is not None else torch.cuda.current_device()
        )
        props = torch.cuda.get_device_properties(index)
        return {
            "device": f"cuda:{index}",
            "name": props.name,
            "memory_bytes": int(props.total_memory),
            "torch": torch.__version__,
        }
    return {
        "device": str(device),
        "name": _cpu_name(),
        "memory_bytes": _physical_memory(),
        "torch": torch.__version__,
    }


def _cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _physical_memory():
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None
