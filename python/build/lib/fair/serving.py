"""`fair.serve()` and the endpoint it gives back."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import _cli, _options, functions
from ._options import PathLike
from ._output import default_sink, quiet_sink
from .errors import FairError
from .models import Model


class Endpoint:
    """A served model: `predict(instances)` sends instances (lists, numpy arrays, DataFrames) to its
    `:predict` route and returns the predictions; `url` is that route on the API server."""

    def __init__(self, name: str, report: Dict[str, Any], *, namespace: Optional[str] = None,
                 kubeconfig: Optional[PathLike] = None, context: Optional[str] = None) -> None:
        self.name = name
        self.report = report
        self.namespace = str(report.get("namespace") or namespace or "") or None
        self.kubeconfig = kubeconfig
        self.context = context

    def __repr__(self) -> str:
        return f"Endpoint({self.name!r}, model={self.model!r})"

    @property
    def model(self) -> str:
        return f"{self.report.get('model', self.name)}:{self.report.get('version', 'latest')}"

    @property
    def url(self) -> str:
        """The `:predict` URL through the API server (the kubeconfig's credentials needed)."""
        return str(self.report.get("predict", ""))

    def predict(self, instances: Any) -> Any:
        """The model's predictions for `instances`: a list as the model returned it, or a numpy
        array when `instances` was one."""
        payload = json.dumps({"instances": to_instances(instances)}).encode()
        done = _cli.run(["predict", self.name, "--file", "-", *_options.cluster(self.kubeconfig, self.context, self.namespace)],
                        sink=quiet_sink, stdin=payload).check()
        predictions = done.result
        if _is_numpy(instances):
            import numpy  # type: ignore[import-not-found, import-untyped, unused-ignore]
            return numpy.asarray(predictions)
        return predictions

    def delete(self) -> None:
        """Removes the Deployment, its pods and its Service (the model stays stored)."""
        _cli.run(["undeploy", self.name, *_options.cluster(self.kubeconfig, self.context, self.namespace)]).check()


def to_instances(instances: Any) -> List[Any]:
    """JSON rows from a list, a numpy array (`tolist()`) or a pandas DataFrame (its rows)."""
    if hasattr(instances, "to_numpy") and hasattr(instances, "columns"):
        instances = instances.to_numpy()
    if hasattr(instances, "tolist"):
        instances = instances.tolist()
    if isinstance(instances, tuple):
        instances = list(instances)
    if not isinstance(instances, list):
        raise FairError(f"instances must be a list, a numpy array or a DataFrame, not {type(instances).__name__}")
    return instances


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def serve(model: Any, *, directory: Optional[PathLike] = None, predict: Optional[Callable[..., Any]] = None,
          replicas: Optional[int] = None, name: Optional[str] = None, cpu: Optional[str] = None, memory: Optional[str] = None,
          base: Optional[str] = None, port: Optional[int] = None, timeout: Optional[int] = None,
          secrets: Optional[Sequence[str]] = None, kubeconfig: Optional[PathLike] = None, context: Optional[str] = None,
          namespace: Optional[str] = None, registry: Optional[str] = None, quiet: bool = False) -> Endpoint:
    """Serves a stored model, as `fair serve` does, and returns its endpoint once rolled out.

    `model` is `NAME[:VERSION]`, a `Model`, or the `TrainRun` that stored it. The code that
    predicts is `predict=`, a function `predict(model_dir, instances)` of the notebook (sent as
    for `fair.train`), else the project `directory` (its fair.yaml's `serve.predict`), else the
    project the run was trained from, else the current directory."""
    from .training import TrainRun
    run = model if isinstance(model, TrainRun) else None
    if run is not None:
        if run.model is None:
            raise FairError(f"training {run.name} stored no model (yet): wait() for it first")
        spec = run.model.spec
        kubeconfig = kubeconfig if kubeconfig is not None else run.kubeconfig
        context = context or run.context
        namespace = namespace or run.namespace
        registry = registry or run.registry
        base = base or run.base
    elif isinstance(model, Model):
        spec = model.spec
    else:
        spec = str(model)
    staging: Optional[str] = None
    try:
        if predict is not None:
            staging = tempfile.mkdtemp(prefix="fair-predict-")
            write_predict_project(predict, staging, spec.split(":")[0])
            path = staging
        elif directory is not None:
            path = os.fspath(directory)
        elif run is not None and run.project:
            path = run.project
        else:
            path = "."
        arguments = ["serve", spec, path, "--output-format", "json"]
        for flag, value in (("--replicas", replicas), ("--name", name), ("--cpu", cpu), ("--memory", memory), ("--base", base),
                            ("--port", port), ("--timeout", timeout), ("--registry", registry)):
            if value is not None:
                arguments += [flag, str(value)]
        arguments += _options.repeated("--secret", secrets) + _options.cluster(kubeconfig, context, namespace)
        done = _cli.run(arguments, sink=quiet_sink if quiet else default_sink()).check()
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    report: Dict[str, Any] = done.result if isinstance(done.result, dict) else {}
    return Endpoint(str(report.get("service", name or spec.split(":")[0])), report, namespace=namespace,
                    kubeconfig=kubeconfig, context=context)


def write_predict_project(predict: Callable[..., Any], directory: str, name: str) -> None:
    """`predict.py` with the function's source and what it uses, and a fair.yaml pointing at it."""
    captured = functions.capture(predict)
    lines = ["# What fair.serve() sent: the notebook's predict function and what it uses.", "import os, pickle"]
    lines += captured.imports
    if captured.values:
        import pickle
        with open(os.path.join(directory, "globals.pickle"), "wb") as f:
            pickle.dump(captured.values, f, protocol=functions.PROTOCOL)
        lines += ["with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), \"globals.pickle\"), \"rb\") as _fair_file:",
                  "    globals().update(pickle.load(_fair_file))"]
    with open(os.path.join(directory, "predict.py"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n\n\n" + "\n\n".join(captured.sources))
    requirements = functions.pinned_requirements(captured.modules)
    if requirements:
        with open(os.path.join(directory, "requirements.txt"), "w", encoding="utf-8") as f:
            f.write("".join(f"{line}\n" for line in requirements))
    with open(os.path.join(directory, "fair.yaml"), "w", encoding="utf-8") as f:
        f.write(f"name: {name}\nentrypoint: predict.py\nserve:\n  predict: predict.py:{predict.__name__}\n")
