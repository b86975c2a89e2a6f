"""Which notebook this kernel runs: what `fair.train()` with no entry trains."""
from __future__ import annotations

import os
from typing import Any, Optional

from .errors import NotebookNotFound


def current_notebook(explicit: Optional[str] = None) -> str:
    """The running notebook's path: `explicit` when given; else the one Jupyter Server names in
    `JPY_SESSION_NAME` (absolute, or relative to the kernel's directory); else VS Code's
    `__vsc_ipynb_file__`. The notebook is trained as last saved."""
    candidates = []
    if explicit:
        candidates.append(explicit)
    else:
        session = os.environ.get("JPY_SESSION_NAME")
        if session:
            candidates += [session, os.path.basename(session)]
        vscode = _user_namespace().get("__vsc_ipynb_file__")
        if isinstance(vscode, str):
            candidates.append(vscode)
    for candidate in candidates:
        path = os.path.abspath(os.path.expanduser(candidate))
        if os.path.isfile(path) and path.endswith(".ipynb"):
            return path
    if explicit:
        raise NotebookNotFound(f"notebook={explicit!r}: no such .ipynb file")
    if candidates:
        raise NotebookNotFound(f"this kernel's notebook ({candidates[0]}) is not a file here; pass notebook='path/to/notebook.ipynb'")
    raise NotebookNotFound("fair.train() with no entry trains the current notebook, but this kernel does not say which "
                           "notebook it runs (no JPY_SESSION_NAME, no __vsc_ipynb_file__); pass notebook='path/to/notebook.ipynb' "
                           "or an entry (a directory, a .py or .ipynb file, or a function)")


def inside_training_pod() -> bool:
    """Whether this is the training container itself (it has `$FAIR_MODEL_DIR`): the notebook that
    called `fair.train()` is then running remotely, and must not start another training."""
    return bool(os.environ.get("FAIR_MODEL_DIR"))


def _user_namespace() -> dict[str, Any]:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found, attr-defined, unused-ignore]
    except ImportError:
        return {}
    ip = get_ipython()
    namespace = getattr(ip, "user_ns", None)
    return namespace if isinstance(namespace, dict) else {}
