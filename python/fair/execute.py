"""Runs a notebook with a real kernel, as papermill does, and keeps it executed: what
`fair train NOTEBOOK --execute` runs in the training pod (`python3 -m fair.execute`), with nbclient
and ipykernel installed in the image.

Parameters (`-p NAME VALUE`) go into a new cell tagged `injected-parameters` right after the cell
tagged `parameters` (at the top when there is none), so they override its defaults. The executed
notebook, outputs, errors and images included, is written to `--output` after every run, also a
failed one; a failing cell ends the run with status 1 and a line naming the cell and its error.

With `--failure-file FILE` a failing cell instead writes that line (and the error's last lines) to
FILE and ends with status 0: in the training pod the model step then stores the notebook as far as
it ran and fails the Job with the line, so the failed run's outputs are not lost with the pod."""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple


def parse_value(text: str) -> Any:
    """A parameter's value as Python reads a literal (numbers, booleans, None, lists, quoted
    strings); anything else is the string itself, as papermill's `-p` takes it."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def inject(notebook: Dict[str, Any], parameters: Sequence[Tuple[str, Any]]) -> Optional[int]:
    """Adds the `injected-parameters` cell; returns its index (None without parameters)."""
    if not parameters:
        return None
    for name, _ in parameters:
        if not name.isidentifier():
            raise ValueError(f"-p {name}: a parameter must be a Python name")
    cells: List[Dict[str, Any]] = notebook.setdefault("cells", [])
    source = "# Parameters\n" + "".join(f"{name} = {value!r}\n" for name, value in parameters)
    cell: Dict[str, Any] = {"cell_type": "code", "execution_count": None, "metadata": {"tags": ["injected-parameters"]},
            "outputs": [], "source": source}
    if notebook.get("nbformat", 4) >= 4 and notebook.get("nbformat_minor", 0) >= 5:
        cell["id"] = "injected-parameters"
    cells[:] = [c for c in cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    index = tagged[0] + 1 if tagged else 0
    cells.insert(index, cell)
    return index


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m fair.execute", description=__doc__)
    parser.add_argument("notebook")
    parser.add_argument("--output", required=True, help="where the executed notebook goes")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    parser.add_argument("--timeout", type=int, default=None, help="seconds a cell may run (default: no limit)")
    parser.add_argument("--kernel", default="python3")
    parser.add_argument("--failure-file", default=None,
                        help="on a failing cell, write why to FILE and exit 0 (the model step reports it)")
    args = parser.parse_args(argv)
    try:
        # nbformat's functions carry no types: Any, whether or not this Python has it.
        nbformat: Any = importlib.import_module("nbformat")
        from nbclient import NotebookClient  # type: ignore[import-not-found, import-untyped, unused-ignore]
        from nbclient.exceptions import CellExecutionError  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError as error:
        print(f"fair.execute: {error}: executing a notebook needs nbclient and ipykernel in the image "
              "(fair train --execute adds them)", file=sys.stderr)
        return 2
    book = nbformat.read(args.notebook, as_version=4)
    injected = inject(book, [(name, parse_value(value)) for name, value in args.parameter])
    book = nbformat.from_dict(book)  # the injected cell as a notebook node too
    client = NotebookClient(book, timeout=args.timeout, kernel_name=args.kernel,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}})
    status = 0
    try:
        client.execute()
    except CellExecutionError as error:
        status = 1
        failed = next((i for i, cell in enumerate(book.cells) if cell.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in cell.get("outputs", []))), None)
        number = _cell_number(book, failed, injected)
        name = getattr(error, "ename", "error")
        value = getattr(error, "evalue", "")
        line = f"cell {number} failed: {name}: {value}"
        print(f"fair.execute: {line}", file=sys.stderr)
        print(str(error)[-4000:], file=sys.stderr)
        if args.failure_file:
            _write_failure(args.failure_file, line, str(error)[-2000:])
            status = 0
    finally:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        nbformat.write(book, args.output)
    return status


def _write_failure(path: str, line: str, detail: str) -> None:
    """FILE as one JSON object, written whole (temporary file, then rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    partial = path + ".partial"
    with open(partial, "w", encoding="utf-8") as stream:
        json.dump({"reason": line, "detail": detail}, stream)
    os.replace(partial, path)


def _cell_number(book: Any, index: Optional[int], injected: Optional[int]) -> str:
    """The failing cell as the user counts it: its position among the notebook's own cells (1-based)."""
    if index is None:
        return "?"
    if injected is not None and index == injected:
        return "with the injected parameters"
    return str(index + (0 if injected is None or index < injected else -1) + 1)


if __name__ == "__main__":
    sys.exit(main())
