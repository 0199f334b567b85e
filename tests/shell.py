"""What tests read off an IPython shell with the extension loaded: its magics and their conversations."""

from __future__ import annotations

from typing import Any


def magics(ip: Any) -> Any:
    """The shell's `ClaudeMagics` instance."""
    return ip.magics_manager.registry["ClaudeMagics"]


def chat(ip: Any, name: str = "default") -> Any:
    """The shell's conversation `name`."""
    return magics(ip).session.conversations.get(name)
