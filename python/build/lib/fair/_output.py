"""Where a command's progress and a training's output go while a call runs: into the running
Jupyter cell as it is written (ipykernel sends what is flushed), else to the terminal's stderr."""
from __future__ import annotations

import sys
from typing import Callable, TextIO

Sink = Callable[[str], None]


def in_jupyter() -> bool:
    """Whether this runs in an IPython kernel (Jupyter, VS Code, nbclient)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        from IPython import get_ipython  # type: ignore[import-not-found, attr-defined, unused-ignore]
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and hasattr(ip, "kernel")


def default_sink() -> Sink:
    """The cell's output in Jupyter (stdout, which ipykernel routes to the cell), stderr elsewhere."""
    stream: TextIO = sys.stdout if in_jupyter() else sys.stderr

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


def quiet_sink(_: str) -> None:
    """Drops the output (`quiet=True`)."""
