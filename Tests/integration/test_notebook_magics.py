"""A notebook that leans on IPython magics builds into an image whose script prints what Jupyter
printed, and every line fair changed or dropped is a warning in text and JSON output."""
import json
import shutil
import subprocess
import tarfile

import pytest

from conftest import podman_load_and_run

CELLS = [
    ["%%time\n", "a = 40 + 2\n"],
    ["def double(n):\n", "    return 2 * n\n", "%time b = double(a)\n"],
    ["%%capture captured\n", "print('hidden')\n", "c = a + 1\n"],
    ["%%writefile notes.txt\n", "line one\n", "line two"],
    ["with open('notes.txt') as f:\n", "    notes = f.read().splitlines()\n"],
    ["%%bash\n", "echo from-bash $((6 * 7))\n"],
    ["!echo from-shell\n", "words = !echo one two\n"],
    ["%pip install nothing-needed\n", "%matplotlib inline\n", "display(a)\n"],
    ["print('a', a, 'b', b, 'c', c)\n", "print('captured', repr(captured.stdout))\n",
     "print('notes', notes)\n", "print('words', words)\n"],
]

EXPECTED_LINES = [
    "from-bash 42",
    "from-shell",
    "42",
    "a 42 b 84 c 43",
    "captured 'hidden\\n'",
    "notes ['line one', 'line two']",
    "words ['one two']",
]


def write_notebook_project(directory):
    directory.mkdir(parents=True)
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in CELLS]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (directory / "nb.ipynb").write_text(json.dumps(notebook))
    (directory / "fair.yaml").write_text("name: magics\nentrypoint: nb.ipynb\nworkdir: /tmp/app\n")
    return directory


def assert_prints_like_jupyter(output):
    lines = output.splitlines()
    for expected in EXPECTED_LINES:
        assert expected in lines, f"{expected!r} not printed:\n{output}"
    assert "hidden" not in lines
    assert any(line.startswith("Wall time: ") for line in lines), output


def assert_warnings(warnings):
    text = "\n".join(warnings)
    assert "nb.ipynb: cell 1, line 1: `%%time`" in text
    assert "nb.ipynb: cell 2, line 3: `%time b = double(a)`" in text
    assert "nb.ipynb: cell 8, line 1: `%pip install nothing-needed` is not run" in text
    assert "requirements.txt" in text
    assert "nb.ipynb: cell 8, line 2: `%matplotlib inline` is dropped" in text


def test_notebook_magics_run_in_the_image(fair, base_image, tmp_path, podman_storage):
    project = write_notebook_project(tmp_path / "magics")
    out = tmp_path / "magics.tar"
    result = fair.run("build", project, "--base", f"oci-archive:{base_image}", "--output", out,
                      "--output-format", "json")
    assert_warnings(json.loads(result.stdout)["warnings"])
    assert_prints_like_jupyter(podman_load_and_run(out, podman_storage).stdout)


def test_notebook_script_from_a_scratch_image_runs_with_python(fair, tmp_path):
    """Without a Python base: the script fair put in the image, run by the host's python3."""
    python = shutil.which("python3")
    if python is None:
        pytest.skip("no python3 on PATH")
    project = write_notebook_project(tmp_path / "magics")
    out = tmp_path / "magics.tar"
    result = fair.run("build", project, "--base", "scratch", "--output", out)
    warning_lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert_warnings(warning_lines)

    layout = tmp_path / "layout"
    with tarfile.open(out) as archive:
        archive.extractall(layout, filter="data")
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    code_digest = manifest["layers"][-1]["digest"].split(":")[1]
    with tarfile.open(layout / "blobs" / "sha256" / code_digest) as layer:
        script = layer.extractfile("tmp/app/nb.py").read().decode()

    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "nb.py").write_text(script)
    ran = subprocess.run([python, "-I", "nb.py"], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert_prints_like_jupyter(ran.stdout)


def test_notebook_with_a_syntax_error_fails_naming_the_cell(fair, tmp_path):
    if shutil.which("python3") is None:
        pytest.skip("no python3 on PATH")
    project = tmp_path / "broken"
    project.mkdir()
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["x = 1"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["%matplotlib inline\n", "print(x"]}]
    (project / "nb.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (project / "fair.yaml").write_text("entrypoint: nb.ipynb\n")
    result = fair.run("build", project, "--base", "scratch", "--output", tmp_path / "out.tar", check=False)
    assert result.returncode != 0
    assert "error: nb.ipynb: cell 2: SyntaxError: " in result.stderr
    assert "(line 2)" in result.stderr


def test_entrypoint_symlink_out_of_the_project_is_refused(fair, tmp_path):
    (tmp_path / "secret.py").write_text("print('not part of the project')\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").symlink_to("../secret.py")
    (project / "fair.yaml").write_text("entrypoint: train.py\n")
    result = fair.run("build", project, "--base", "scratch", "--output", tmp_path / "out.tar", check=False)
    assert result.returncode != 0
    assert "error: entrypoint: train.py is outside the project directory" in result.stderr


def test_oversized_fair_yaml_is_refused_before_reading(fair, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text("print(1)\n")
    with open(project / "fair.yaml", "w") as f:
        f.write("entrypoint: train.py\n# ")
        f.write("x" * (2 << 20))
    result = fair.run("build", project, "--base", "scratch", "--output", tmp_path / "out.tar", check=False)
    assert result.returncode != 0
    assert "fair reads a fair.yaml of at most 1 MiB" in result.stderr
