"""claude_magic: `%%claude` puts Claude into Jupyter.

`%load_ext claude_magic` registers the magics and imports nothing heavy: the SDK, pandas,
matplotlib and Pillow are imported when a turn first needs them. `claude_magic.map` is
`%%claude_map` from Python, and imports what it needs when it is called.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load_ipython_extension", "unload_ipython_extension", "map", "__version__"]


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


def map(  # noqa: A001 - the name the contract gives it; inside this module nothing needs the builtin
    frame: Any, template: str, *, schema: Any = None, model: str | None = None, engine: str = "auto",
    system: str | None = None,
) -> Any:
    """`%%claude_map` from Python: one request per row of `frame`, `template` a text of `{column}` names.

    Returns a Series aligned to the frame's index (a DataFrame, one typed column per field, when
    `schema` has several fields); rows that failed hold a missing value and their reasons are in
    `result.attrs["errors"]`. `schema` is a list of labels, a JSON schema dict or a pydantic model;
    `engine` is "auto" (Message Batches for over 100 distinct prompts), "live" or "batch". In IPython
    with the extension loaded it uses that kernel's settings, spending and fixture.
    """
    from pathlib import Path

    from IPython.core.getipython import get_ipython

    from .map_run import MapRequest, MapRun
    from .progress import NotebookScreen
    from .session import Session
    from .settings import Settings

    shell = get_ipython()
    magics = shell.magics_manager.registry.get("ClaudeMagics") if shell is not None else None
    session, settings = (magics.session, magics.settings()) if magics is not None else (Session(), Settings())
    watched = magics is not None and magics.cells.current_cell_id is not None
    ask = MapRequest(frame="frame", template=template, schema=None if schema is None else "schema", engine=engine,
                     model=model, system=system, job="")
    try:
        result = MapRun(session, settings, NotebookScreen(settings.display, shell, watched), Path.cwd()).run(
            ask, {"frame": frame, "schema": schema})
    finally:
        if magics is None:  # a session of its own, for this call only
            session.close()
    return None if result is None else result.value
