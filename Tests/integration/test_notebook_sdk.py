"""The Python SDK (python/, installed with pip) in a real Jupyter kernel (nbclient + ipykernel from
PyPI) against a real `fair server`: a notebook that trains itself with `fair.train()`, serves the
model and predicts on a numpy array; a notebook function trained with its arguments, its return
value back; the `%%fair_train` and `%fair` magics; and training output that reaches the cell while
the call is still running."""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from client_venvs import client_python
from conftest import fair_binary
from server_harness import FairServer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("notebook") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kernel_python(tmp_path_factory):
    """The notebook venv's python, with this checkout's SDK installed by pip into a directory of
    the test's own (on the kernel's PYTHONPATH)."""
    python = client_python("notebook")
    target = tmp_path_factory.mktemp("sdk")
    # pip builds in the source tree (build/, *.egg-info): it gets a copy, never the checkout.
    source = tmp_path_factory.mktemp("sdk-source") / "python"
    shutil.copytree(os.path.join(REPO, "python"), source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([python.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(target), str(source)], check=True, timeout=300)
    assert (target / "fair" / "__init__.py").exists()
    return python, str(target)


# Runs NOTEBOOK with nbclient, recording when each stream output reached the client, and prints
# what the cells printed and those times as JSON.
RUNNER = r'''
import json, sys, time
import nbformat
from nbclient import NotebookClient

path = sys.argv[1]
arrivals = []

class Recording(NotebookClient):
    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            arrivals.append([time.time(), cell_index, msg["content"]["text"]])
        return super().output(outs, msg, display_id, cell_index)

book = nbformat.read(path, as_version=4)
client = Recording(book, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}})
error = None
try:
    client.execute()
except Exception as failure:
    error = str(failure)[-3000:]
texts = []
for cell in book.cells:
    if cell.cell_type == "code":
        texts.append("".join(output.get("text", "") for output in cell.get("outputs", [])))
print("NOTEBOOK " + json.dumps({"error": error, "cells": texts, "arrivals": arrivals}))
'''


def notebook(path, *cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    book = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                       "source": source} for i, source in enumerate(cells)],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(book))
    return path


def execute(kernel_python, server, path, base_image):
    python, sdk = kernel_python
    env = {**os.environ, "PYTHONPATH": sdk, "FAIR_BIN": fair_binary(), "KUBECONFIG": str(server.kubeconfig),
           "JPY_SESSION_NAME": str(path), "BASE": f"oci-archive:{base_image}", "FAIR_HOME": str(path.parent.parent / f"fair-home-{path.stem}"),
           "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([python.python, "-c", RUNNER, str(path), str(path.parent)], capture_output=True, text=True,
                          timeout=1200, env=env)
    line = next((l for l in done.stdout.splitlines() if l.startswith("NOTEBOOK ")), None)
    assert line, f"the runner printed nothing:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(line[len("NOTEBOOK "):])
    assert result["error"] is None, result["error"] + "\n" + server.log_path.read_text(errors="replace")[-2000:]
    return result


TRAIN_CELL = '''import json, os, statistics, sys, time
values = [2.0, 4.0, 6.0, 9.0]
mean = statistics.mean(values)
print("TRAINING-STARTED", flush=True)
for step in range(3):
    fair.log_metric("mean", mean + step, step=step)
    time.sleep(1.5)
if os.environ.get("FAIR_MODEL_DIR"):
    with open(os.path.join(os.environ["FAIR_MODEL_DIR"], "model.json"), "w") as f:
        json.dump({"mean": mean}, f)
print("TRAINING-DONE", flush=True)'''

PREDICT_CELL = '''def predict(model_dir, instances):
    with open(os.path.join(model_dir, "model.json")) as f:
        mean = json.load(f)["mean"]
    return [mean * row[0] for row in instances]'''


def test_a_notebook_trains_itself_serves_and_predicts(server, kernel_python, base_image, tmp_path):
    # A notebook's project is its directory, and the model is named after it (no fair.yaml here).
    path = notebook(tmp_path / "mean-model" / "train-mean.ipynb",
                    "import fair",
                    TRAIN_CELL,
                    PREDICT_CELL,
                    'run = fair.train(base=os.environ.get("BASE"), name="mean-nb")\nprint("RETURNED", time.time(), run.model.spec)',
                    'endpoint = fair.serve(run, predict=predict)\nimport numpy as np\n'
                    'print("PREDICTIONS", json.dumps(endpoint.predict(np.array([[1.0], [2.0]])).tolist()))\n'
                    'print("METRICS", json.dumps([(m["name"], m["value"], m["step"]) for m in run.metrics]))\n'
                    'endpoint.delete()')
    result = execute(kernel_python, server, path, base_image)
    cells = result["cells"]
    assert "TRAINING-DONE" in cells[3] and "the notebook's run ends here" in cells[3], cells[3]
    assert "mean-model:v1" in cells[3]
    predictions = json.loads(cells[4].split("PREDICTIONS ", 1)[1].splitlines()[0])
    assert predictions == [5.25, 10.5]
    metrics = json.loads(cells[4].split("METRICS ", 1)[1].splitlines()[0])
    assert metrics == [["mean", 5.25, 0], ["mean", 6.25, 1], ["mean", 7.25, 2]]
    # Streaming: the training's first line reached the client well before train() returned.
    returned = float(cells[3].split("RETURNED ", 1)[1].split()[0])
    # (The kernel ran the training cell itself first, as a user does; only cell 3's output counts.)
    started = next(t for t, cell, text in result["arrivals"] if cell == 3 and "TRAINING-STARTED" in text)
    assert started < returned - 3, (started, returned)


def test_a_notebook_function_is_trained_and_its_value_comes_back(server, kernel_python, base_image, tmp_path):
    path = notebook(tmp_path / "functions.ipynb",
                    "import fair, json, os",
                    "def slope(points):\n    n = len(points)\n    mx = sum(x for x, _ in points) / n\n    my = sum(y for _, y in points) / n\n"
                    "    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points), mx, my\n\n"
                    "def fit(points):\n    m, mx, my = slope(points)\n    print(f'fitting {len(points)} points', flush=True)\n"
                    "    return [round(m, 6), round(my - m * mx, 6)]",
                    "data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 7.0)]\n"
                    "run = fair.train(fit, args=(data,), base=os.environ['BASE'])\nprint('RESULT', json.dumps(run.result))")
    cells = execute(kernel_python, server, path, base_image)["cells"]
    assert "fitting 4 points" in cells[2], cells[2]
    assert json.loads(cells[2].split("RESULT ", 1)[1].splitlines()[0]) == [2.0, 1.0]


def test_the_magics_train_a_cell_and_run_commands(server, kernel_python, base_image, tmp_path):
    path = notebook(tmp_path / "magics.ipynb",
                    "%load_ext fair",
                    f"%%fair_train --base oci-archive:{base_image} --name cellrun\n"
                    "import os\nprint('cell training', flush=True)\n"
                    "open(os.path.join(os.environ['FAIR_MODEL_DIR'], 'weights.txt'), 'w').write('42')",
                    "%fair models list")
    cells = execute(kernel_python, server, path, base_image)["cells"]
    assert "cell training" in cells[1], cells[1]
    listed = cells[2]
    assert any(line.split()[:2] == ["cellrun", "v1"] for line in listed.splitlines()), listed
