"""The SDK against a fake fair command (no server): the command lines it builds, how it reads
results and failures, streaming, functions sent as projects, notebooks, metrics and magics."""
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import pytest

import fair
from fair import _cli, functions, notebook
from fair.serving import to_instances

MODEL = {"repository": "models/fit", "version": "v3", "digest": "sha256:" + "a" * 64,
         "reference": "127.0.0.1:5000/models/fit:v3", "size": 120}


def report(state="complete", **extra):
    return {"job": "proj-abcde", "namespace": "default", "image": "img", "state": state, "attempts": 1,
            "timings": {"build": 0.1, "push": 0.1, "total": 1.0}, **extra}


def test_train_builds_the_command_line_and_reads_the_model(fake, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").write_text("print('hi')\n")
    fake.answer("train", stdout=report(model=MODEL), stderr=["epoch 1\n"])
    run = fair.train(project, cpu="500m", memory="1Gi", gpu=1, env={"A": 1}, secrets=["s"], mounts=["pvc:data:/data"],
                     name="proj-abcde", namespace="ml", kubeconfig=tmp_path / "kc", base="oci-archive:/b.tar", quiet=True,
                     workers=3)
    arguments = fake.calls[-1]["arguments"]
    assert arguments[:6] == ["train", str(project), "--name", "proj-abcde", "--output-format", "json"]
    for flag, value in [("--cpu", "500m"), ("--memory", "1Gi"), ("--gpu", "1"), ("--env", "A=1"), ("--secret", "s"),
                        ("--mount", "pvc:data:/data"), ("--namespace", "ml"), ("--kubeconfig", str(tmp_path / "kc")),
                        ("--base", "oci-archive:/b.tar"), ("--workers", "3")]:
        assert arguments[arguments.index(flag) + 1] == value, flag
    assert "--detach" not in arguments
    assert run.name == "proj-abcde"
    assert run.model == fair.Model(name="fit", version="v3", digest=MODEL["digest"], reference=MODEL["reference"], size=120)
    assert run.model.spec == "fit:v3"
    assert run.project == str(project)


def test_a_generated_job_name_is_one_kubernetes_takes(fake, tmp_path):
    project = tmp_path / "My_Project 2"
    project.mkdir()
    fake.answer("train", stdout=report())
    fair.train(project, quiet=True, wait=False)
    arguments = fake.calls[-1]["arguments"]
    name = arguments[arguments.index("--name") + 1]
    assert name.startswith("my-project-2-") and len(name) == len("my-project-2-") + 5, name
    assert "--detach" in arguments


def test_a_failed_training_raises_with_the_reason_and_the_last_lines(fake, tmp_path):
    fake.answer("train", stdout=report("failed", reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit"),
                stderr=["Traceback (most recent call last):\n", "ZeroDivisionError: division by zero\n"], status=1)
    with pytest.raises(fair.TrainingFailed) as failure:
        fair.train(tmp_path, quiet=True)
    assert failure.value.reason == "BackoffLimitExceeded"
    assert failure.value.last_lines[-1] == "ZeroDivisionError: division by zero"
    assert "BackoffLimitExceeded" in str(failure.value)


def test_a_failed_notebook_run_names_its_stored_outputs_and_models_notebook_pulls_them(fake, tmp_path):
    stored = {"repository": "models/sweep", "failed": "cell 3 failed: ZeroDivisionError: division by zero",
              "tag": "failed-sweep-abcde", "digest": "sha256:" + "b" * 64, "reference": "r/models/sweep:failed-sweep-abcde"}
    fake.answer("train", stdout=report("failed", reason="BackoffLimitExceeded", message="", model=stored), status=1)
    with pytest.raises(fair.TrainingFailed) as failure:
        fair.train(tmp_path, quiet=True)
    assert failure.value.outputs == "sweep:failed-sweep-abcde"
    assert "fair.models.notebook('sweep:failed-sweep-abcde')" in str(failure.value)
    fake.answer("models", stdout=str(tmp_path / "nb.ipynb"))
    path = fair.models.notebook(failure.value.outputs, tmp_path / "nb.ipynb", registry="127.0.0.1:5000")
    assert path == str(tmp_path / "nb.ipynb")
    assert fake.calls[-1]["arguments"][:5] == ["models", "pull", "sweep:failed-sweep-abcde", "--notebook", "--output"]
    # A run that failed without storing anything has no outputs to name.
    fake.answer("train", stdout=report("failed", reason="BackoffLimitExceeded", message=""), status=1)
    with pytest.raises(fair.TrainingFailed) as failure:
        fair.train(tmp_path, quiet=True)
    assert failure.value.outputs is None


def test_a_command_error_raises_with_the_commands_message(fake, tmp_path):
    fake.answer("train", stderr=["error: fair.yaml: unknown key 'entrypiont' (did you mean 'entrypoint'?)\n"], status=1)
    with pytest.raises(fair.CommandFailed) as failure:
        fair.train(tmp_path, quiet=True)
    assert failure.value.message == "fair.yaml: unknown key 'entrypiont' (did you mean 'entrypoint'?)"
    assert failure.value.status == 1


def test_no_fair_command_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("FAIR_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(fair.FairNotFound, match="not on PATH"):
        fair.train(tmp_path)
    monkeypatch.setenv("FAIR_BIN", str(tmp_path / "missing"))
    with pytest.raises(fair.FairNotFound, match="FAIR_BIN"):
        fair.models.list()


def test_output_arrives_while_the_command_runs(fake):
    fake.answer("logs", stderr=["first line\n", 1.5, "second\n"])
    seen = []
    started = time.monotonic()
    _cli.run(["logs", "x"], sink=lambda text: seen.append((time.monotonic() - started, text)))
    ended = time.monotonic() - started
    assert seen[0][1] == "first line\n"
    assert seen[0][0] < ended - 1.0, (seen, ended)


def test_a_partial_line_and_multibyte_text_pass_through_whole(fake):
    fake.answer("logs", stderr=["progress 10%\r", 0.3, "progress 100%\r", "naïve ✓ done\n"])
    seen = []
    done = _cli.run(["logs", "x"], sink=seen.append)
    assert "".join(seen) == "progress 10%\rprogress 100%\rnaïve ✓ done\n"
    assert done.last_lines[-1] == "naïve ✓ done"


def test_interrupting_stops_following_and_says_how_to_resume(fake, tmp_path):
    fake.answer("train", stderr=["training\n", 30])
    seen = []
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _train_with_sink(tmp_path, seen)
    assert time.monotonic() - started < 10
    assert "fair.TrainRun('long-run').wait()" in "".join(seen)


def _train_with_sink(project, seen):
    from fair import training
    original = training.default_sink
    training.default_sink = lambda: seen.append
    try:
        return fair.train(project, name="long-run")
    finally:
        training.default_sink = original


GRID = 3


def helper(x):
    return x * GRID


def fit(xs, offset=0.0):
    return [math.floor(helper(x)) + offset for x in xs]


def run_project(directory, model_dir):
    env = {**os.environ, "FAIR_MODEL_DIR": str(model_dir)}
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "main.py"], cwd=directory, env=env, check=True, capture_output=True)
    found, value = functions.load_result(str(model_dir))
    assert found
    return value


def test_a_function_becomes_a_project_that_returns_its_value(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    requirements = functions.write_project(fit, ([1.5, 2.0],), {"offset": 0.5}, str(project), use_cloudpickle=False)
    script = (project / "main.py").read_text()
    assert "def helper(x):" in script and "import math" in script
    assert requirements == []
    assert run_project(project, tmp_path / "model") == [4.5, 6.5]


def test_a_function_with_cloudpickle_when_installed(tmp_path):
    pytest.importorskip("cloudpickle")
    project = tmp_path / "p"
    project.mkdir()
    scale = 10
    requirements = functions.write_project(lambda xs: [x * scale for x in xs], ([1, 2],), {}, str(project), use_cloudpickle=True)
    assert any(line.startswith("cloudpickle==") for line in requirements)
    assert run_project(project, tmp_path / "model") == [10, 20]


def test_what_cannot_be_sent_by_source_says_why(tmp_path):
    factor = 2

    def closure(x):
        return x * factor

    with pytest.raises(fair.FairError, match="factor"):
        functions.write_project(closure, (1,), {}, str(tmp_path), use_cloudpickle=False)
    with pytest.raises(fair.FairError, match="lambda"):
        functions.write_project(lambda x: x, (1,), {}, str(tmp_path), use_cloudpickle=False)


def test_train_of_a_function_sends_its_project(fake, tmp_path):
    fake.answer("train", stdout=report(model=MODEL))
    run = fair.train(fit, args=([1.0],), quiet=True)
    call = fake.calls[-1]
    assert call["arguments"][call["arguments"].index("--name") + 1].startswith("fit-")
    assert call["files"]["fair.yaml"] == "name: fit\nentrypoint: main.py\n"
    if functions._has_cloudpickle():
        assert "import cloudpickle" in call["files"]["main.py"]
        assert call["files"]["requirements.txt"].startswith("cloudpickle==")
    else:
        assert "def fit(xs, offset=0.0):" in call["files"]["main.py"]
    assert run.project is None
    with pytest.raises(TypeError, match="function entry"):
        fair.train(tmp_path, args=(1,))


def test_requirements_are_pinned_and_leave_out_the_standard_library():
    assert functions.pinned_requirements(["os", "json", "fair", "__main__"]) == []
    pytest_version = __import__("importlib.metadata").metadata.version("pytest")
    assert functions.pinned_requirements(["pytest"]) == [f"pytest=={pytest_version}"]


def test_a_numpy_argument_requires_numpy(tmp_path):
    numpy = pytest.importorskip("numpy")
    payload = pickle.dumps(numpy.arange(3), protocol=4)
    assert "numpy" in functions._pickled_modules(payload)


def test_the_current_notebook_comes_from_jupyters_session_name(fake, tmp_path, monkeypatch):
    book = tmp_path / "analysis.ipynb"
    book.write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(book))
    assert notebook.current_notebook() == str(book)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", "some/dir/analysis.ipynb")
    assert notebook.current_notebook() == str(book), "the kernel runs in the notebook's directory"
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(fair.NotebookNotFound, match="notebook="):
        fair.train()
    fake.answer("train", stdout=report())
    fair.train(notebook=book, quiet=True)
    assert fake.calls[-1]["arguments"][1] == str(book)


def test_in_the_training_pod_the_notebooks_run_ends_at_train(fake, monkeypatch, capsys):
    monkeypatch.setenv("FAIR_MODEL_DIR", "/model")
    with pytest.raises(SystemExit) as ended:
        fair.train(base="oci-archive:/b.tar")
    assert ended.value.code == 0
    assert fake.calls == []
    assert "the notebook's run ends here" in capsys.readouterr().err


def test_log_metric_appends_json_lines(tmp_path, monkeypatch, capsys):
    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("FAIR_METRICS_FILE", str(path))
    fair.log_metric("loss", 0.5, step=1)
    fair.log_metric("loss", float("nan"), step=2)
    fair.log_metric("accuracy", 1)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["name"], r["value"], r.get("step")) for r in rows] == [("loss", 0.5, 1), ("loss", "nan", 2), ("accuracy", 1.0, None)]
    assert all(isinstance(r["time"], float) for r in rows)
    for bad in [("", 1), ("x", "high"), ("x", True)]:
        with pytest.raises(ValueError):
            fair.log_metric(*bad)
    with pytest.raises(ValueError, match="step"):
        fair.log_metric("x", 1, step=1.5)
    monkeypatch.delenv("FAIR_METRICS_FILE")
    fair.log_metric("loss", 0.25, step=3)
    assert "metric loss=0.25 step=3" in capsys.readouterr().err


def test_serve_and_predict(fake, tmp_path):
    fake.answer("serve", stdout={"service": "fit", "namespace": "default", "model": "fit", "version": "v3",
                                 "predict": "https://127.0.0.1:6443/api/v1/namespaces/default/services/fit:http/proxy/v1/models/fit:predict"})
    fake.answer("predict", stdout=[[1.0], [2.0]])
    run = fair.TrainRun("fit-abcde", model=fair.Model("fit", "v3"), project=str(tmp_path), base="oci-archive:/b.tar")
    endpoint = fair.serve(run, replicas=2, quiet=True)
    arguments = fake.calls[-1]["arguments"]
    assert arguments[:3] == ["serve", "fit:v3", str(tmp_path)]
    assert arguments[arguments.index("--replicas") + 1] == "2" and arguments[arguments.index("--base") + 1] == "oci-archive:/b.tar"
    assert endpoint.url.endswith("/fit:predict") and endpoint.model == "fit:v3"
    assert endpoint.predict([[1], [2]]) == [[1.0], [2.0]]
    assert json.loads(fake.calls[-1]["stdin"]) == {"instances": [[1], [2]]}
    assert fake.calls[-1]["arguments"][:4] == ["predict", "fit", "--file", "-"]


def test_serve_with_a_predict_function_sends_its_project(fake):
    fake.answer("serve", stdout={"service": "fit", "model": "fit", "version": "v3"})

    fair.serve("fit:v3", predict=predict_double, quiet=True)
    files = fake.calls[-1]["files"]
    assert files["fair.yaml"] == "name: fit\nentrypoint: predict.py\nserve:\n  predict: predict.py:predict_double\n"
    assert "def predict_double(model_dir, instances):" in files["predict.py"]


def predict_double(model_dir, instances):
    return [helper(x) for x in instances]


def test_instances_from_lists_arrays_and_frames():
    assert to_instances(([1, 2], [3, 4])) == [[1, 2], [3, 4]]
    with pytest.raises(fair.FairError, match="instances"):
        to_instances("1,2")
    numpy = pytest.importorskip("numpy")
    assert to_instances(numpy.array([[1.5, 2.0]])) == [[1.5, 2.0]]


def test_models_list_and_show(fake):
    fake.answer("models list", stdout=[{"name": "fit", "versions": ["v1", "v2"]}])
    fake.answer("models show", stdout={"name": "fit", "version": "v2", "digest": "sha256:b", "size": 9,
                                       "annotations": {"dev.fair.job": "j"}, "metrics": {"loss": 0.1}})
    listed = fair.models.list()
    assert listed[0].name == "fit" and listed[0].latest == "v2"
    shown = fair.models.show("fit")
    assert shown.metrics == {"loss": 0.1} and shown.annotations == {"dev.fair.job": "j"}
    assert fake.calls[-1]["arguments"][:3] == ["models", "show", "fit"]


def test_cell_magic_trains_the_cell(fake):
    from fair.magics import fair_train_cell, fair_line
    fake.answer("train", stdout=report(model=MODEL))
    run = fair_train_cell("--name mycell --cpu 1 --env A=b --requirements numpy==2.2.6", "print('from a cell')\n")
    call = fake.calls[-1]
    assert call["files"]["train.py"] == "print('from a cell')\n"
    assert call["files"]["requirements.txt"] == "numpy==2.2.6\n"
    assert call["files"]["fair.yaml"].startswith("name: mycell\n")
    assert "A=b" in call["arguments"] and run.model.version == "v3"
    with pytest.raises(ValueError, match="fair_train"):
        fair_train_cell("--no-such-option", "")
    fake.answer("models list", stdout="NAME  LATEST  VERSIONS", stderr=[])
    fair_line("models list")
    assert fake.calls[-1]["arguments"] == ["models", "list"]


def test_read_metrics_from_a_model_directory(tmp_path):
    from fair.models import read_metrics
    (tmp_path / "metrics.jsonl").write_text('{"name":"loss","value":1.0,"step":0}\nnot json\n{"name":"loss","value":0.5,"step":1}\n')
    assert [r["value"] for r in read_metrics(str(tmp_path))] == [1.0, 0.5]
    other = tmp_path / "only-last"
    other.mkdir()
    (other / "metrics.json").write_text('{"rmse": 0.2}')
    assert read_metrics(str(other)) == [{"name": "rmse", "value": 0.2}]


def test_waiting_on_a_run_follows_its_logs_and_reads_its_status(fake):
    fake.answer("logs", stdout="epoch 1\nepoch 2", stderr=[])
    fake.answer("status", stdout={"job": "j", "state": "Complete", "model": "127.0.0.1:5000/models/fit:v4"})
    seen = []
    from fair import training
    original = training.default_sink
    training.default_sink = lambda: seen.append
    try:
        run = fair.TrainRun("j").wait()
    finally:
        training.default_sink = original
    assert "epoch 2" in "".join(seen)
    assert run.model.spec == "fit:v4" and run.status == "complete"
    fake.answer("status", stdout={"job": "j", "state": "Failed", "reason": "BackoffLimitExceeded", "message": "m"}, status=1)
    with pytest.raises(fair.TrainingFailed, match="BackoffLimitExceeded"):
        fair.TrainRun("j").wait(quiet=True)
    assert fair.TrainRun("j").status == "failed"
    fake.answer("delete", stderr=["deleted job j in namespace default\n"])
    fair.TrainRun("j", namespace="ml").delete()
    assert fake.calls[-1]["arguments"] == ["delete", "j", "--namespace", "ml"]


def test_models_compare(fake):
    fake.answer("models compare", stdout={"models": ["fit:v1", "fit:v2"], "metrics": {"loss": [0.5, 0.25], "acc": [None, 0.9]}})
    compared = fair.models.compare("fit:v1", fair.Model("fit", "v2"))
    assert compared.models == ["fit:v1", "fit:v2"]
    assert compared.metrics == {"loss": [0.5, 0.25], "acc": [None, 0.9]}
    assert fake.calls[-1]["arguments"][:4] == ["models", "compare", "fit:v1", "fit:v2"]


def test_execute_passes_the_parameters(fake, tmp_path):
    book = tmp_path / "sweep.ipynb"
    book.write_text("{}")
    fake.answer("train", stdout=report())
    fair.train(book, execute=True, parameters={"alpha": 0.5, "name": "a b"}, quiet=True)
    arguments = fake.calls[-1]["arguments"]
    assert arguments[arguments.index("--execute") + 1:arguments.index("--execute") + 7] == ["-p", "alpha", "0.5", "-p", "name", "a b"]
    with pytest.raises(TypeError, match="execute=True"):
        fair.train(book, parameters={"alpha": 1})
