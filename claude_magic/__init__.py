"""claude_magic: `%%claude` puts Claude into Jupyter.

`%load_ext claude_magic` registers the magics and imports nothing heavy: the SDK, pandas,
matplotlib and Pillow are imported when a turn first needs them.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load_ipython_extension", "unload_ipython_extension", "__version__"]


def load_ipython_extension(shell: Any) -> None:
    from .magics import ClaudeMagics
    from .options import protect_line_magics

    if "ClaudeMagics" in shell.magics_manager.registry:
        return
    # Magics.__init__ adds the instance to shell.configurables, which is what makes %config see it.
    shell.register_magics(ClaudeMagics(shell=shell))
    shell.input_transformers_cleanup.append(protect_line_magics)


def unload_ipython_extension(shell: Any) -> None:
    from .options import protect_line_magics

    magics = shell.magics_manager.registry.pop("ClaudeMagics", None)
    if magics is None:
        return
    for kind, names in magics.magics.items():
        for name in names:
            shell.magics_manager.magics[kind].pop(name, None)
    shell.configurables.remove(magics)
    if protect_line_magics in shell.input_transformers_cleanup:
        shell.input_transformers_cleanup.remove(protect_line_magics)
    magics.close()
