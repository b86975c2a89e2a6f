"""`fair train NOTEBOOK --execute`: the notebook runs with a real Jupyter kernel in the training pod
(nbclient and ipykernel installed into the image's deps layer), papermill-style parameters land
after the cell tagged `parameters`, and the executed notebook (outputs and a matplotlib PNG
included) is stored with the model; a failing cell fails the Job and is named."""
import json
import re

import pytest

from conftest import Fair, fair_binary
from server_harness import FairServer


def cell(source, tags=()):
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": list(tags)}, "outputs": [], "source": source}


def write_notebook(path, cells):
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 4,
                                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("execute") / "data").start()
    yield server
    server.stop()


def test_an_executed_notebook_is_stored_with_its_outputs(server, base_image, tmp_path):
    project = tmp_path / "sweep"
    project.mkdir()
    (project / "requirements.txt").write_text("matplotlib==3.10.3\n")
    write_notebook(project / "sweep.ipynb", [
        cell("alpha = 0.1\nsteps = 3", tags=["parameters"]),
        cell("import json, os\nvalues = [alpha * i for i in range(steps)]\nprint('values', values)"),
        cell("import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n%matplotlib inline\n"
             "plt.plot(values)\nplt.show()"),
        cell("with open(os.path.join(os.environ['FAIR_MODEL_DIR'], 'model.json'), 'w') as f:\n    json.dump({'alpha': alpha}, f)"),
    ])
    fair = Fair(tmp_path / "home")
    env = {"KUBECONFIG": str(server.kubeconfig)}
    report = json.loads(fair.run("train", project / "sweep.ipynb", "--execute", "-p", "alpha", "0.5", "--base", f"oci-archive:{base_image}",
                                 "--output-format", "json", env=env, timeout=1200).stdout)
    assert report["state"] == "complete", report
    fair.run("models", "pull", "sweep:v1", "--output", tmp_path / "model", env=env)
    # --notebook: the executed notebook alone, the same bytes as in the model directory.
    pulled = fair.run("models", "pull", "sweep", "--notebook", "--output", tmp_path / "sweep.ipynb", env=env)
    assert pulled.stdout.strip() == str(tmp_path / "sweep.ipynb")
    assert (tmp_path / "sweep.ipynb").read_bytes() == (tmp_path / "model" / "notebook.ipynb").read_bytes()
    again = fair.run("models", "pull", "sweep", "--notebook", "--output", tmp_path / "sweep.ipynb", env=env, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr, again.stderr
    executed = json.loads((tmp_path / "model" / "notebook.ipynb").read_text())
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in executed["cells"]]
    assert sources[1] == "# Parameters\nalpha = 0.5\n" and executed["cells"][1]["metadata"]["tags"] == ["injected-parameters"]
    printed = "".join("".join(o.get("text", "")) for o in executed["cells"][2]["outputs"])
    assert printed == "values [0.0, 0.5, 1.0]\n", printed
    images = [o["data"]["image/png"] for o in executed["cells"][3]["outputs"] if "image/png" in o.get("data", {})]
    assert images and len(images[0]) > 1000, executed["cells"][3]["outputs"]
    assert json.loads((tmp_path / "model" / "model.json").read_text()) == {"alpha": 0.5}


def test_a_failing_cell_fails_the_job_and_is_named(server, base_image, tmp_path):
    project = tmp_path / "broken"
    project.mkdir()
    write_notebook(project / "broken.ipynb", [cell("x = 1"), cell("print('before')"), cell("1 / 0"), cell("print('never')")])
    fair = Fair(tmp_path / "home")
    result = fair.run("train", project / "broken.ipynb", "--execute", "--base", f"oci-archive:{base_image}",
                      env={"KUBECONFIG": str(server.kubeconfig)}, check=False, timeout=1200)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "cell 3 failed: ZeroDivisionError" in output, output[-3000:]
    # The notebook as far as it ran is kept, under the Job's failed tag, never as a version.
    hint = re.search(r"fair models pull (broken:failed-[a-z0-9-]+) --notebook", result.stderr)
    assert hint, result.stderr[-3000:]
    env = {"KUBECONFIG": str(server.kubeconfig)}
    fair.run("models", "pull", hint.group(1), "--notebook", "--output", tmp_path / "failed.ipynb", env=env)
    executed = json.loads((tmp_path / "failed.ipynb").read_text())
    outputs = [cell["outputs"] for cell in executed["cells"]]
    assert "".join(outputs[1][0]["text"]) == "before\n", outputs
    assert outputs[2][0]["output_type"] == "error" and outputs[2][0]["ename"] == "ZeroDivisionError", outputs[2]
    assert outputs[3] == [], "the cells after the failing one did not run"
    listed = json.loads(fair.run("models", "list", "--output-format", "json", env=env).stdout)
    assert [row for row in listed if row["name"] == "broken"] in ([], [{"name": "broken", "versions": []}]), listed
    shown = fair.run("models", "show", hint.group(1), env=env).stdout
    assert "failed:  cell 3 failed: ZeroDivisionError: division by zero" in shown, shown
    (project / "predict.py").write_text("def predict(instances):\n    return instances\n")
    (project / "fair.yaml").write_text("entrypoint: broken.ipynb\nserve:\n  predict: predict.py:predict\n")
    served = fair.run("serve", hint.group(1), project, env=env, check=False)
    assert served.returncode != 0 and "holds a failed run's outputs" in served.stderr, served.stderr[-2000:]


def test_execute_needs_a_notebook_and_p_needs_execute(server, tmp_path):
    project = tmp_path / "script"
    project.mkdir()
    (project / "train.py").write_text("print(1)\n")
    fair = Fair(tmp_path / "home")
    env = {"KUBECONFIG": str(server.kubeconfig)}
    result = fair.run("train", project, "--execute", env=env, check=False)
    assert result.returncode != 0 and "--execute runs a notebook, but the entrypoint is train.py" in result.stderr
    result = fair.run("train", project, "-p", "alpha", "1", env=env, check=False)
    assert result.returncode != 0 and "-p sets a notebook's parameters: it needs --execute" in result.stderr
