"""`%load_ext fair`: `%fair ARGS` runs any fair command with its output in the cell, and
`%%fair_train [options]` trains the cell's code."""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import tempfile
from typing import Any, Optional

from . import _cli
from ._output import default_sink


def fair_line(line: str) -> None:
    """%fair ARGS: `fair ARGS` with its output streamed into the cell; a failure raises."""
    _cli.run(shlex.split(line), sink=default_sink(), stream_stdout=True).check()


def _train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="%%fair_train", add_help=False)
    parser.add_argument("--name")
    parser.add_argument("--base")
    parser.add_argument("--cpu")
    parser.add_argument("--memory")
    parser.add_argument("--gpu", type=int)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--secret", action="append", default=[])
    parser.add_argument("--mount", action="append", default=[])
    parser.add_argument("--requirements", action="append", default=[], help="a requirement line (repeatable)")
    parser.add_argument("--registry")
    parser.add_argument("--namespace", "-n")
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    parser.add_argument("--detach", action="store_true")
    return parser


def fair_train_cell(line: str, cell: str) -> Any:
    """%%fair_train [--name N] [--base B] [--cpu C] [--memory M] [--env K=V]… [--requirements R]…:
    the cell's code becomes train.py of a project of its own and is trained; the cell's value is the run."""
    from .training import train
    try:
        options = _train_parser().parse_args(shlex.split(line))
    except SystemExit:
        raise ValueError(f"%%fair_train {line}: {_train_parser().format_usage().strip()}") from None
    staging = tempfile.mkdtemp(prefix="fair-cell-")
    try:
        project = os.path.join(staging, options.name or "cell")
        os.makedirs(project)
        with open(os.path.join(project, "train.py"), "w", encoding="utf-8") as f:
            f.write(cell)
        with open(os.path.join(project, "fair.yaml"), "w", encoding="utf-8") as f:
            f.write(f"name: {os.path.basename(project)}\nentrypoint: train.py\n")
        if options.requirements:
            with open(os.path.join(project, "requirements.txt"), "w", encoding="utf-8") as f:
                f.write("".join(f"{line}\n" for line in options.requirements))
        env = dict(item.split("=", 1) for item in options.env if "=" in item)
        return train(project, base=options.base, cpu=options.cpu, memory=options.memory, gpu=options.gpu, env=env,
                     secrets=options.secret, mounts=options.mount, registry=options.registry, namespace=options.namespace,
                     kubeconfig=options.kubeconfig, context=options.context, wait=not options.detach)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magic_function(fair_line, "line", "fair")
    ipython.register_magic_function(fair_train_cell, "cell", "fair_train")


def unload_ipython_extension(ipython: Optional[Any]) -> None:
    """Nothing to undo: the magics stay until the kernel restarts, as IPython's own do."""
