"""The models `fair train` stored: OCI artifacts under REGISTRY/models/NAME, versioned v1, v2, …"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import _cli, _options
from ._options import PathLike


@dataclass(frozen=True)
class Model:
    """One stored model version. `metrics` holds the last value of each metric (the model's
    `metrics.json`); the full series is `fair.models.metrics(model)`."""
    name: str
    version: str
    digest: str = ""
    reference: str = ""
    size: int = 0
    annotations: Dict[str, str] = field(default_factory=dict)
    metrics: Dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        """`NAME:VERSION`, as `fair serve` and `fair models` take it."""
        return f"{self.name}:{self.version}"

    @classmethod
    def from_train_report(cls, report: Dict[str, Any]) -> "Model":
        repository = str(report.get("repository", ""))
        name = repository[len("models/"):] if repository.startswith("models/") else repository
        return cls(name=name, version=str(report.get("version", "latest")), digest=str(report.get("digest", "")),
                   reference=str(report.get("reference", "")), size=int(report.get("size", 0) or 0))


@dataclass(frozen=True)
class ModelVersions:
    name: str
    versions: List[str]

    @property
    def latest(self) -> Optional[str]:
        return self.versions[-1] if self.versions else None


def _spec(model: Any) -> str:
    if isinstance(model, Model):
        return model.spec
    spec = getattr(model, "model", None)
    if isinstance(spec, Model):
        return spec.spec
    return str(model)


def list(*, registry: Optional[str] = None, kubeconfig: Optional[PathLike] = None, context: Optional[str] = None) -> List[ModelVersions]:
    """Every model with its versions, oldest first."""
    done = _cli.run(["models", "list", "--output-format", "json", *_options.registry(kubeconfig, context, registry)]).check()
    return [ModelVersions(name=row["name"], versions=[str(v) for v in row.get("versions", [])]) for row in done.result or []]


def show(model: Any, *, registry: Optional[str] = None, kubeconfig: Optional[PathLike] = None, context: Optional[str] = None) -> Model:
    """One version (`NAME`, `NAME:vN`, a `Model` or a `TrainRun`): digest, size, annotations, metrics."""
    done = _cli.run(["models", "show", _spec(model), "--output-format", "json", *_options.registry(kubeconfig, context, registry)]).check()
    found: Dict[str, Any] = done.result or {}
    return Model(name=str(found.get("name", "")), version=str(found.get("version", "")), digest=str(found.get("digest", "")),
                 size=int(found.get("size", 0) or 0), annotations={str(k): str(v) for k, v in (found.get("annotations") or {}).items()},
                 metrics=dict(found.get("metrics") or {}))


def pull(model: Any, output: Optional[PathLike] = None, *, registry: Optional[str] = None, kubeconfig: Optional[PathLike] = None,
         context: Optional[str] = None) -> str:
    """Fetches a model's files into `output` (default: a new temporary directory); returns the path."""
    directory = os.fspath(output) if output is not None else os.path.join(tempfile.mkdtemp(prefix="fair-model-"), "model")
    _cli.run(["models", "pull", _spec(model), "--output", directory, *_options.registry(kubeconfig, context, registry)],
             sink=lambda _: None).check()
    return directory


def notebook(model: Any, output: Optional[PathLike] = None, *, registry: Optional[str] = None,
             kubeconfig: Optional[PathLike] = None, context: Optional[str] = None) -> str:
    """The executed notebook stored with a model (`fair train --execute`), or with a failed run's
    outputs (`TrainingFailed.outputs`), written to `output` (default: a new temporary file);
    returns the path."""
    path = os.fspath(output) if output is not None else os.path.join(tempfile.mkdtemp(prefix="fair-notebook-"), "notebook.ipynb")
    _cli.run(["models", "pull", _spec(model), "--notebook", "--output", path, *_options.registry(kubeconfig, context, registry)],
             sink=lambda _: None).check()
    return path


def metrics(model: Any, *, registry: Optional[str] = None, kubeconfig: Optional[PathLike] = None,
            context: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every metric the training logged (`metrics.jsonl`: one dict per `log_metric` call), in order;
    a model with only `metrics.json` gives one row per metric."""
    directory = pull(model, registry=registry, kubeconfig=kubeconfig, context=context)
    return read_metrics(directory)


def read_metrics(directory: str) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = []
    series = os.path.join(directory, "metrics.jsonl")
    if os.path.exists(series):
        with open(series, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(row, dict):
                        rows.append(row)
        return rows
    last = os.path.join(directory, "metrics.json")
    if os.path.exists(last):
        with open(last, encoding="utf-8") as f:
            values = json.load(f)
        if isinstance(values, dict):
            rows = [{"name": str(k), "value": v} for k, v in values.items()]
    return rows


@dataclass(frozen=True)
class Comparison:
    """Two versions' metrics side by side: `metrics[name] == (first, second)` (None where one
    version lacks the metric). `plot()` draws both versions' series (matplotlib needed)."""
    models: List[str]
    metrics: Dict[str, List[Optional[float]]]
    registry: Optional[str] = None
    kubeconfig: Optional[PathLike] = None
    context: Optional[str] = None

    def plot(self, *names: str) -> Any:
        from .plots import plot_metrics
        rows: List[Dict[str, Any]] = []
        for spec in self.models:
            for row in metrics(spec, registry=self.registry, kubeconfig=self.kubeconfig, context=self.context):
                rows.append({**row, "name": f"{spec} {row.get('name')}"})
        wanted = [f"{spec} {name}" for spec in self.models for name in names]
        return plot_metrics(rows, wanted, title=" vs ".join(self.models))


def compare(first: Any, second: Any, *, registry: Optional[str] = None, kubeconfig: Optional[PathLike] = None,
            context: Optional[str] = None) -> Comparison:
    """Two model versions' last metric values (`fair models compare`)."""
    done = _cli.run(["models", "compare", _spec(first), _spec(second), "--output-format", "json",
                     *_options.registry(kubeconfig, context, registry)]).check()
    found: Dict[str, Any] = done.result or {}
    return Comparison(models=[str(m) for m in found.get("models", [])],
                      metrics={str(k): [None if v is None else float(v) for v in values] for k, values in (found.get("metrics") or {}).items()},
                      registry=registry, kubeconfig=kubeconfig, context=context)
