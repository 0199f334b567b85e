"""claude_magic: `%%claude` puts Claude into Jupyter."""

from __future__ import annotations

__version__ = "0.1.0"
