"""`fair.train()` and the run it gives back."""
from __future__ import annotations

import os
import random
import re
import shutil
import string
import sys
import tempfile
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _cli, _options, functions, models
from ._options import PathLike
from ._output import Sink, default_sink, quiet_sink
from .errors import CommandFailed, FairError, TrainingFailed
from .models import Model
from .notebook import current_notebook, inside_training_pod

Entry = Union[None, PathLike, Callable[..., Any]]


class TrainRun:
    """A training Job that `fair.train()` started (or `TrainRun("NAME")` for one started before).

    `status` asks the cluster where it is; `wait()` follows its output until it ends; `model` is
    the stored model once it completed; `result` a function entry's return value."""

    def __init__(self, name: str, *, namespace: Optional[str] = None, kubeconfig: Optional[PathLike] = None,
                 context: Optional[str] = None, registry: Optional[str] = None, model: Optional[Model] = None,
                 report: Optional[Dict[str, Any]] = None, project: Optional[str] = None, base: Optional[str] = None) -> None:
        self.name = name
        self.namespace = namespace
        self.kubeconfig = kubeconfig
        self.context = context
        self.registry = registry
        self.report: Dict[str, Any] = dict(report or {})
        self.project = project
        self.base = base
        self._model = model
        self._pulled: Optional[str] = None

    def __repr__(self) -> str:
        model = f", model={self._model.spec}" if self._model else ""
        return f"TrainRun({self.name!r}{model})"

    def _cluster(self) -> List[str]:
        return _options.cluster(self.kubeconfig, self.context, self.namespace)

    @property
    def status(self) -> str:
        """`running`, `complete`, `failed` (and `pending`), as `fair status` says now."""
        return str(self._status().get("state", "unknown")).lower()

    def _status(self) -> Dict[str, Any]:
        """`fair status --output-format json` (which exits 1 for a failed Job, after its report)."""
        done = _cli.run(["status", self.name, "--output-format", "json", *self._cluster()], sink=quiet_sink)
        if not isinstance(done.result, dict):
            done.check()
            raise FairError(f"fair status {self.name} printed no report")
        return done.result

    def wait(self, *, quiet: bool = False) -> "TrainRun":
        """Follows the output until the Job ends; raises `TrainingFailed` when it failed."""
        sink = quiet_sink if quiet else default_sink()
        try:
            _cli.run(["logs", self.name, "--follow", *self._cluster()], sink=sink, stream_stdout=True)
        except KeyboardInterrupt:
            _say_how_to_resume(self.name, sink)
            raise
        status = self._status()
        self.report.update({k: v for k, v in status.items() if k != "model"})
        if str(status.get("state", "")).lower() == "failed":
            raise TrainingFailed(self.name, str(status.get("reason", "Failed")), str(status.get("message", "")), [])
        reference = status.get("model")
        if isinstance(reference, str) and self._model is None:
            self._model = _model_from_reference(reference)
        return self

    def logs(self, *, follow: bool = False) -> Optional[str]:
        """The training output: printed as it comes with `follow=True`, else returned as text."""
        if follow:
            try:
                _cli.run(["logs", self.name, "--follow", *self._cluster()], sink=default_sink(), stream_stdout=True)
            except KeyboardInterrupt:
                _say_how_to_resume(self.name, default_sink())
                raise
            return None
        chunks: List[str] = []
        _cli.run(["logs", self.name, *self._cluster()], sink=chunks.append, stream_stdout=True).check()
        return "".join(chunks)

    @property
    def model(self) -> Optional[Model]:
        """The stored model version (name, version, digest), once the run completed."""
        return self._model

    def _model_directory(self) -> str:
        if self._model is None:
            raise FairError(f"training {self.name} stored no model (yet): wait() for it first")
        if self._pulled is None:
            self._pulled = models.pull(self._model, registry=self.registry, kubeconfig=self.kubeconfig, context=self.context)
        return self._pulled

    @property
    def result(self) -> Any:
        """What the trained function returned (a function entry only)."""
        found, value = functions.load_result(self._model_directory())
        if not found:
            raise FairError(f"training {self.name} was not a function's: it has no return value")
        return value

    def notebook(self) -> str:
        """The path of the executed notebook (`execute=True`), outputs included, pulled with the model.
        (A failed run's notebook: `fair.models.notebook(error.outputs)` on the `TrainingFailed`.)"""
        path = os.path.join(self._model_directory(), "notebook.ipynb")
        if not os.path.exists(path):
            raise FairError(f"training {self.name} stored no executed notebook (train a notebook with execute=True)")
        return path

    @property
    def metrics(self) -> List[Dict[str, Any]]:
        """Every metric logged with `fair.log_metric` (dicts with name, value, step, time)."""
        return models.read_metrics(self._model_directory())

    def metrics_frame(self) -> Any:
        """The metrics as a pandas DataFrame (pandas needed)."""
        try:
            import pandas  # type: ignore[import-not-found, import-untyped, unused-ignore]
        except ImportError as error:
            raise FairError("metrics_frame() needs pandas; run.metrics gives the same rows as dicts") from error
        return pandas.DataFrame(self.metrics)

    def plot(self, *names: str) -> Any:
        """One line per metric over its steps (matplotlib needed); shown inline in Jupyter."""
        from .plots import plot_metrics
        return plot_metrics(self.metrics, names, title=self._model.spec if self._model else self.name)

    def delete(self) -> None:
        """Deletes the Job and its pods (the stored model stays)."""
        _cli.run(["delete", self.name, *self._cluster()]).check()


def train(entry: Entry = None, *, args: Sequence[Any] = (), kwargs: Optional[Mapping[str, Any]] = None,
          base: Optional[str] = None, requirements: Optional[Sequence[str]] = None, cpu: Optional[str] = None,
          memory: Optional[str] = None, gpu: Optional[int] = None, env: Optional[Mapping[str, object]] = None,
          secrets: Optional[Sequence[str]] = None, mounts: Optional[Sequence[str]] = None, name: Optional[str] = None,
          wait: bool = True, kubeconfig: Optional[PathLike] = None, context: Optional[str] = None,
          namespace: Optional[str] = None, registry: Optional[str] = None, notebook: Optional[PathLike] = None,
          node_selector: Optional[Mapping[str, str]] = None, backoff_limit: Optional[int] = None,
          execute: bool = False, parameters: Optional[Mapping[str, object]] = None, quiet: bool = False,
          workers: Optional[int] = None) -> TrainRun:
    """Builds, pushes and trains, as `fair train` does, and returns the run.

    `entry` is a project directory, a `.py` or `.ipynb` file, a Python function (called in the
    pod with `args` and `kwargs`; its return value is `run.result`), or None in Jupyter: the
    current notebook as last saved (`notebook=` names it where the kernel cannot tell).

    With `wait=True` (the default) the training output streams into the cell as it is written
    and the call returns once the model is stored; a failed Job raises `fair.TrainingFailed`.
    Interrupting stops following only: the Job goes on, and `fair.TrainRun(NAME).wait()` follows
    it again. Inside the training pod itself (the notebook that called `fair.train()` runs
    there, top to bottom) the call ends the run with success: the cells above it are the
    training, the cells below it (serving, predictions) are for the notebook side only.

    `workers=N` runs N processes that train together (data-parallel): each gets RANK,
    WORLD_SIZE, MASTER_ADDR and MASTER_PORT (and TF_CONFIG), their output comes prefixed by
    rank (`[0] …`), and rank 0 stores the model.

    `execute=True` runs a notebook entry with a real kernel in the pod instead of as a script,
    with `parameters` set after its cell tagged `parameters`; `run.notebook()` is then the
    executed notebook, outputs included.
    """
    if entry is None and notebook is None and inside_training_pod():
        # The notebook is running as the training itself: what comes before this call is the
        # training, what comes after (serving, predictions, plots) is the notebook side's.
        print("fair.train(): this is the training pod; the notebook's run ends here", file=sys.stderr, flush=True)
        raise SystemExit(0)
    sink = quiet_sink if quiet else default_sink()
    staging: Optional[str] = None
    try:
        if callable(entry):
            staging = tempfile.mkdtemp(prefix="fair-function-")
            project_name = _dns_name(getattr(entry, "__name__", "function"))
            functions.write_project(entry, args, kwargs or {}, staging, requirements or ())
            with open(os.path.join(staging, "fair.yaml"), "w", encoding="utf-8") as f:
                f.write(f"name: {project_name}\nentrypoint: main.py\n")
            path = staging
        else:
            if args or kwargs:
                raise TypeError("args= and kwargs= are for a function entry; a script's arguments go in fair.yaml's args")
            if requirements:
                raise TypeError("requirements= are for a function entry; a project's go in its requirements.txt")
            path = os.fspath(entry) if entry is not None else current_notebook(os.fspath(notebook) if notebook else None)
            project_name = _dns_name(os.path.splitext(os.path.basename(os.path.abspath(path)))[0])
        job = name or f"{project_name}-{_suffix()}"
        arguments = ["train", path, "--name", job, "--output-format", "json"]
        if base:
            arguments += ["--base", base]
        for flag, value in (("--cpu", cpu), ("--memory", memory), ("--gpu", gpu), ("--registry", registry),
                            ("--backoff-limit", backoff_limit), ("--workers", workers)):
            if value is not None:
                arguments += [flag, str(value)]
        arguments += _options.pairs("--env", env) + _options.repeated("--secret", secrets) + _options.repeated("--mount", mounts)
        arguments += _options.pairs("--node-selector", node_selector) + _options.cluster(kubeconfig, context, namespace)
        if execute:
            arguments.append("--execute")
            for key, parameter in (parameters or {}).items():
                arguments += ["-p", key, repr(parameter) if not isinstance(parameter, str) else parameter]
        elif parameters:
            raise TypeError("parameters= are for execute=True")
        if not wait:
            arguments.append("--detach")
        try:
            done = _cli.run(arguments, sink=sink)
        except KeyboardInterrupt:
            _say_how_to_resume(job, sink)
            raise
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    report: Dict[str, Any] = done.result if isinstance(done.result, dict) else {}
    state = str(report.get("state", "")).lower()
    if state == "failed":
        raise TrainingFailed(str(report.get("job", job)), str(report.get("reason", "Failed")), str(report.get("message", "")),
                             done.last_lines, outputs=_failed_outputs(report.get("model")))
    if done.status != 0:
        raise CommandFailed(done.arguments, done.status, done.error_message, done.last_lines)
    model_report = report.get("model")
    model = Model.from_train_report(model_report) if isinstance(model_report, dict) and model_report.get("version") else None
    project = os.path.dirname(os.path.abspath(path)) if os.path.isfile(path) else os.path.abspath(path)
    return TrainRun(str(report.get("job", job)), namespace=report.get("namespace") or namespace, kubeconfig=kubeconfig,
                    context=context, registry=registry, model=model, report=report,
                    project=None if staging else project, base=base)


def _say_how_to_resume(job: str, sink: Sink) -> None:
    sink(f"\nstopped following training {job}; it goes on in the cluster. Follow it again with "
         f"fair.TrainRun({job!r}).wait() or `fair logs {job} --follow`.\n")


def _failed_outputs(model_report: Any) -> Optional[str]:
    """`NAME:TAG` of a failed run's stored outputs, from the model step's report."""
    if not isinstance(model_report, dict) or not model_report.get("failed") or not model_report.get("tag"):
        return None
    repository = str(model_report.get("repository", ""))
    return f"{repository[len('models/'):] if repository.startswith('models/') else repository}:{model_report['tag']}"


def _model_from_reference(reference: str) -> Optional[Model]:
    """`HOST/models/NAME:vN` as `fair status` reports it."""
    match = re.search(r"models/([^:@]+):([^:@/]+)$", reference)
    return Model(name=match.group(1), version=match.group(2), reference=reference) if match else None


def _dns_name(text: str) -> str:
    """A name Kubernetes takes: lower case, digits and dashes, starting with a letter."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "train-" + name
    return name[:40].rstrip("-")


def _suffix() -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
