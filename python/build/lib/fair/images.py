"""`fair.build()`: the image of a project, as `fair build` makes it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import _cli
from ._options import PathLike
from ._output import default_sink, quiet_sink


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    source: str
    cached: bool


@dataclass(frozen=True)
class Image:
    """A built image: `reference` (the pushed one, else the tag), its `digest`, `layers` and any `warnings`."""
    reference: str
    digest: str
    tag: str
    platform: str
    layers: List[Layer] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    report: Dict[str, Any] = field(default_factory=dict, repr=False)


def build(path: PathLike = ".", *, base: Optional[str] = None, tag: Optional[str] = None, push: Optional[str] = None,
          output: Optional[PathLike] = None, quiet: bool = False) -> Image:
    """Builds the project at `path` (a directory, or a script or notebook in it); `push=` sends it
    to a registry reference, `output=` writes an oci-archive."""
    arguments = ["build", os.fspath(path), "--output-format", "json"]
    for flag, value in (("--base", base), ("--tag", tag), ("--push", push), ("--output", os.fspath(output) if output else None)):
        if value is not None:
            arguments += [flag, value]
    done = _cli.run(arguments, sink=quiet_sink if quiet else default_sink()).check()
    report: Dict[str, Any] = done.result if isinstance(done.result, dict) else {}
    pushed = report.get("push") or {}
    layers = [Layer(digest=str(layer.get("digest", "")), size=int(layer.get("size", 0)), source=str(layer.get("source", "")),
                    cached=bool(layer.get("cached", False))) for layer in report.get("layers", [])]
    return Image(reference=str(pushed.get("reference") or report.get("tag", "")), digest=str(report.get("digest", "")),
                 tag=str(report.get("tag", "")), platform=str(report.get("platform", "")), layers=layers,
                 warnings=[str(w) for w in report.get("warnings", [])], report=report)
