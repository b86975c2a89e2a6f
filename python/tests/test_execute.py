"""fair.execute (what a training pod runs for `fair train --execute`), with a real kernel: nbclient
and ipykernel are test requirements (scripts/test installs the versions training pods get)."""
import json
import os
import subprocess
import sys

import pytest

from fair.execute import inject, parse_value

# The package under test for the `python3 -m fair.execute` children, wherever pytest runs from.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD_ENV = {**os.environ, "PYTHONPATH": PACKAGE_ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_parameters_are_injected_after_the_parameters_cell():
    book = {"nbformat": 4, "nbformat_minor": 5, "cells": [
        {"cell_type": "code", "metadata": {}, "source": "import math"},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "alpha = 0.1"},
        {"cell_type": "code", "metadata": {}, "source": "print(alpha)"}]}
    index = inject(book, [("alpha", 0.5), ("name", "run 1")])
    assert index == 2
    assert book["cells"][2]["source"] == "# Parameters\nalpha = 0.5\nname = 'run 1'\n"
    assert book["cells"][2]["metadata"]["tags"] == ["injected-parameters"]
    inject(book, [("alpha", 0.7)])
    assert [c["source"] for c in book["cells"]].count("# Parameters\nalpha = 0.7\n") == 1, "replaced, not added twice"
    with pytest.raises(ValueError, match="Python name"):
        inject(book, [("not a name", 1)])
    assert inject({"cells": []}, []) is None


def test_values_read_as_literals_else_strings():
    assert parse_value("0.5") == 0.5 and parse_value("3") == 3 and parse_value("True") is True
    assert parse_value("[1, 2]") == [1, 2] and parse_value("hello world") == "hello world" and parse_value("'x'") == "x"


def test_a_notebook_runs_with_a_real_kernel_and_a_failing_cell_is_named(tmp_path):
    import ipykernel, nbclient  # noqa: F401  (required, not skipped: this is the only real-kernel test without a server)
    def cells(*sources, tags=None):
        return [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": (tags or {}).get(i, [])},
                 "outputs": [], "source": s} for i, s in enumerate(sources)]
    book = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "cells": cells("alpha = 0.1", "print('alpha is', alpha * 2)", tags={0: ["parameters"]})}
    (tmp_path / "nb.ipynb").write_text(json.dumps(book))
    done = subprocess.run([sys.executable, "-m", "fair.execute", str(tmp_path / "nb.ipynb"), "--output", str(tmp_path / "out" / "nb.ipynb"),
                           "-p", "alpha", "2"], capture_output=True, text=True, timeout=120, env=CHILD_ENV)
    assert done.returncode == 0, done.stderr
    executed = json.loads((tmp_path / "out" / "nb.ipynb").read_text())
    assert "".join(executed["cells"][2]["outputs"][0]["text"]) == "alpha is 4\n"

    book["cells"] = cells("x = 1", "1 / 0", "print('never')")
    (tmp_path / "bad.ipynb").write_text(json.dumps(book))
    done = subprocess.run([sys.executable, "-m", "fair.execute", str(tmp_path / "bad.ipynb"), "--output", str(tmp_path / "bad-out.ipynb")],
                          capture_output=True, text=True, timeout=120, env=CHILD_ENV)
    assert done.returncode == 1
    assert "cell 2 failed: ZeroDivisionError" in done.stderr, done.stderr
    kept = json.loads((tmp_path / "bad-out.ipynb").read_text())
    assert kept["cells"][1]["outputs"][0]["output_type"] == "error", "the executed notebook is kept, error included"

    # In the training pod the failure goes to a file and the run ends 0, so the model step stores the notebook.
    done = subprocess.run([sys.executable, "-m", "fair.execute", str(tmp_path / "bad.ipynb"), "--output", str(tmp_path / "pod" / "nb.ipynb"),
                           "--failure-file", str(tmp_path / "pod" / ".fair-failure")], capture_output=True, text=True, timeout=120, env=CHILD_ENV)
    assert done.returncode == 0, done.stderr
    failure = json.loads((tmp_path / "pod" / ".fair-failure").read_text())
    assert failure["reason"] == "cell 2 failed: ZeroDivisionError: division by zero", failure
    assert "1 / 0" in failure["detail"]
    assert json.loads((tmp_path / "pod" / "nb.ipynb").read_text())["cells"][1]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert not (tmp_path / "pod" / ".fair-failure.partial").exists()
