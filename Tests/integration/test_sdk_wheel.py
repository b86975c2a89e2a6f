"""The Python SDK as a wheel (scripts/sdk-wheel, which scripts/release runs next to the binary):
the same bytes from two builds, every module of python/fair in it, and, installed offline into a
fresh venv outside the checkout, an `import fair` that drives the fair binary."""
import hashlib
import os
import subprocess
import sys
import zipfile

from conftest import REPO, fair_binary


def build(out):
    done = subprocess.run([str(REPO / "scripts" / "sdk-wheel"), str(out)], capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"})
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    assert os.path.dirname(path) == str(out) and os.path.isfile(path), done.stdout
    return path


def test_the_wheel_is_reproducible_complete_and_installs_offline(tmp_path):
    first, second = build(tmp_path / "one"), build(tmp_path / "two")
    version = subprocess.run([fair_binary(), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert os.path.basename(first) == f"fair-{version}-py3-none-any.whl", "the SDK's version is fair's"
    digest = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1], "two builds of one commit give the same bytes"
    with zipfile.ZipFile(first) as wheel:
        names = set(wheel.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in wheel.infolist()}
    expected = {f"fair/{name}" for name in os.listdir(REPO / "python" / "fair") if name.endswith(".py") or name == "py.typed"}
    assert {n for n in names if n.startswith("fair/")} == expected
    assert f"fair-{version}.dist-info/METADATA" in names and not any("tests" in n for n in names)
    assert all(modes[n] == 0o644 for n in expected), modes

    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    done = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-index", "--disable-pip-version-check", first],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # Outside the checkout, with the binary named by FAIR_BIN: the installed package, driving fair.
    script = ("import fair, sys\n"
              "print(fair.__version__, fair.__file__)\n"
              "try:\n    fair.build('/nonexistent/project')\n"
              "except fair.FairError as error:\n    print('error:', error)\n")
    done = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "FAIR_BIN": fair_binary(), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == version and lines[0].split()[1].startswith(str(venv)), lines
    assert lines[1].startswith("error:") and "/nonexistent/project" in lines[1], lines
    help_text = subprocess.run([python, "-m", "fair.execute", "--help"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert help_text.returncode == 0 and "--failure-file" in help_text.stdout
