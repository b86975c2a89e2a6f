"""Bad input: one actionable `error:` line, a non-zero exit, and nothing left behind."""
import json
import os
import signal
import subprocess
import tarfile
import time

import pytest

from conftest import run


def assert_fails(result, *fragments):
    assert result.returncode != 0, f"expected failure, got success:\n{result.stdout}"
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, f"expected one error line, got:\n{result.stderr}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert "Fatal error" not in result.stderr and "Stack dump" not in result.stderr
    return lines[0]


def assert_nothing_written(directory):
    leftovers = [name for name in os.listdir(directory) if name.endswith(".tar") or ".tmp-" in name]
    assert leftovers == [], f"partial output left behind: {leftovers}"


def write_project(directory, yaml_text, files=None):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fair.yaml").write_text(yaml_text)
    for name, content in (files or {"train.py": "print('hi')\n"}).items():
        (directory / name).write_text(content)
    return directory


def build(fair, directory, out_dir, *extra):
    return fair.run("build", directory, "--base", "scratch", "--output", out_dir / "out.tar", *extra, check=False)


def test_missing_project_directory(fair, tmp_path):
    assert_fails(build(fair, tmp_path / "nope", tmp_path), "nope", "does not exist")
    assert_nothing_written(tmp_path)


def test_missing_fair_yaml_and_nothing_to_run(fair, tmp_path):
    # Without fair.yaml the project is inferred; with no script in it there is nothing to run.
    (tmp_path / "p").mkdir()
    assert_fails(build(fair, tmp_path / "p", tmp_path), "no fair.yaml, and no train.py, main.py or single script")
    assert_nothing_written(tmp_path)


def test_a_named_fair_yaml_that_is_missing(fair, tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "train.py").write_text("print(1)\n")
    result = fair.run("build", tmp_path / "p", "--file", tmp_path / "p" / "other.yaml", "--base", "scratch",
                      "--output", tmp_path / "out.tar", check=False)
    assert result.returncode != 0 and "other.yaml" in result.stderr and "not found" in result.stderr, result.stderr
    assert not (tmp_path / "out.tar").exists()


def test_invalid_yaml_names_the_line(fair, tmp_path):
    p = write_project(tmp_path / "p", "name: x\nentrypoint: train.py\nenv: [unclosed\n")
    assert_fails(build(fair, p, tmp_path), "fair.yaml:", "invalid YAML")


def test_unknown_key_names_key_line_and_suggestion(fair, tmp_path):
    p = write_project(tmp_path / "p", "name: x\nentrypoint: train.py\nrequirments: r.txt\n")
    line = assert_fails(build(fair, p, tmp_path), "fair.yaml:3", 'unknown key "requirments"', 'did you mean "requirements"')
    assert line


def test_unknown_key_in_a_section(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\ntrain:\n  cpus: 2\n")
    assert_fails(build(fair, p, tmp_path), "fair.yaml:3", 'unknown key "train.cpus"', 'did you mean "cpu"')


def test_wrong_type_names_field_and_line(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n\nargs: 5\n")
    assert_fails(build(fair, p, tmp_path), "fair.yaml:3", "args", "expected a list")


def test_missing_entrypoint_field(fair, tmp_path):
    p = write_project(tmp_path / "p", "name: x\n")
    assert_fails(build(fair, p, tmp_path), "entrypoint", "required")


def test_entrypoint_not_found(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: missing.py\n")
    assert_fails(build(fair, p, tmp_path), "entrypoint missing.py not found")
    assert_nothing_written(tmp_path)


def test_entrypoint_excluded_by_fairignore(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n", {"train.py": "print(1)\n", ".fairignore": "*.py\n"})
    assert_fails(build(fair, p, tmp_path), "excluded by .fairignore")


def test_malformed_fairignore_names_line(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n", {"train.py": "print(1)\n", ".fairignore": "# ok\ndata/[abc\n"})
    assert_fails(build(fair, p, tmp_path), ".fairignore:2")


def test_notebook_that_is_not_json(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.ipynb\n", {"train.ipynb": "{ not json"})
    assert_fails(build(fair, p, tmp_path), "train.ipynb", "not valid JSON")
    assert_nothing_written(tmp_path)


def test_base_archive_that_is_not_an_oci_image(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n")
    plain_tar = tmp_path / "plain.tar"
    with tarfile.open(plain_tar, "w") as archive:
        archive.add(p / "train.py", arcname="train.py")
    result = fair.run("build", p, "--base", f"oci-archive:{plain_tar}", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "plain.tar", "not an OCI image", "index.json")

    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello\n")
    result = fair.run("build", p, "--base", f"oci-archive:{text_file}", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "notes.txt", "not an OCI image")

    result = fair.run("build", p, "--base", f"oci-archive:{tmp_path / 'absent.tar'}", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "absent.tar", "does not exist", "fair base create")
    assert not (tmp_path / "out.tar").exists()


def test_base_tag_that_does_not_exist(fair, base_image, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n")
    result = fair.run("build", p, "--base", f"oci-archive:{base_image}:nope", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, 'no image tagged "nope"', "fair-base:bookworm")


def test_unreachable_registry_base_is_explained(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n")
    result = fair.run("build", p, "--base", "python:3.11", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "cannot reach registry docker.io", "resolve")
    result = fair.run("build", p, "--base", "Not A Reference", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "Not A Reference", "oci-archive:PATH")
    assert_nothing_written(tmp_path)


def test_pip_failure_shows_pips_reason(fair, base_image, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n",
                      {"train.py": "print(1)\n", "requirements.txt": "fair-no-such-package-0123456789==1.0\n"})
    result = fair.run("build", p, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "out.tar", check=False)
    assert_fails(result, "installing requirements failed", "fair-no-such-package-0123456789")
    assert_nothing_written(tmp_path)


def test_invalid_compression_options(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n")
    assert_fails(build(fair, p, tmp_path, "--level", "12"), "--level", "12", "1...9")
    assert_fails(build(fair, p, tmp_path, "--compression", "lz4"), "--compression", "lz4")
    assert_fails(build(fair, p, tmp_path, "--tag", "Bad Name"), "--tag")
    assert_nothing_written(tmp_path)


def test_full_disk_leaves_nothing_behind(fair, base_image, project, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small)
    try:
        result = fair.run("build", project("plain-python"), "--base", f"oci-archive:{base_image}",
                          "--output", small / "out.tar", check=False)
        assert_fails(result, "no space left on device")
        assert os.listdir(small) == [], f"left behind: {os.listdir(small)}"
    finally:
        run("umount", small)


def test_interrupted_build_leaves_nothing_behind(fair, tmp_path):
    p = write_project(tmp_path / "p", "entrypoint: train.py\n")
    with open(p / "big.bin", "wb") as f:
        f.write(os.urandom(1 << 20) * 400)  # 400 MiB: long enough to interrupt mid-way
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "FAIR_HOME": str(fair.home)}
    process = subprocess.Popen([fair.binary, "build", p, "--base", "scratch", "--output", out_dir / "out.tar"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert process.poll() is None, "build finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert os.listdir(out_dir) == []
    scratch = fair.home / "tmp"
    assert not scratch.exists() or os.listdir(scratch) == []


def test_base_create_without_root_says_so(fair, tmp_path):
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", fair.binary, "base", "create",
         "--output", "/tmp/never-written-base.tar"],
        env={**os.environ, "FAIR_HOME": "/tmp/never-used-fair-home"}, capture_output=True, text=True, timeout=60)
    assert_fails(result, "needs root")
    assert not os.path.exists("/tmp/never-written-base.tar")
