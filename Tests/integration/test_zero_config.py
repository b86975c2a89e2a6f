"""A project without fair.yaml works as `python train.py` would: the script named on the command
line, else train.py, main.py or the only script; requirements.txt when present; the base from
FAIR_BASE, the user's fair config, or the official Python image (with a way out when offline)."""
import json

from conftest import podman_load_and_run, skopeo_inspect


def test_a_directory_with_only_train_py_builds_and_runs(fair, base_image, tmp_path, podman_storage):
    project = tmp_path / "bare"
    project.mkdir()
    (project / "train.py").write_text("import sys\nprint('trained with', sys.argv[1:])\n")
    (project / "helper.py").write_text("X = 1\n")
    out = tmp_path / "bare.tar"
    built = fair.build_json(project, "--output", out, env={"FAIR_BASE": f"oci-archive:{base_image}"})
    assert built["tag"] == "bare:latest"
    assert [layer["source"] for layer in built["layers"]] == ["base", "code"]
    assert skopeo_inspect(f"oci-archive:{out}", config=True)["config"]["Entrypoint"] == ["python3", "/app/train.py"]
    assert "trained with []" in podman_load_and_run(out, podman_storage).stdout


def test_a_script_or_notebook_named_on_the_command_line_is_the_entrypoint(fair, tmp_path):
    project = tmp_path / "several"
    project.mkdir()
    (project / "prepare.py").write_text("print('prepare')\n")
    (project / "analysis.ipynb").write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": ["print('from the notebook')"], "outputs": [], "execution_count": None}]}))
    for name, script in [("prepare.py", "prepare.py"), ("analysis.ipynb", "analysis.py")]:
        out = tmp_path / f"{name}.tar"
        fair.build_json(project / name, "--base", "scratch", "--output", out)
        assert skopeo_inspect(f"oci-archive:{out}", config=True)["config"]["Entrypoint"] == ["python3", f"/app/{script}"]


def test_without_a_script_to_choose_the_error_lists_them(fair, tmp_path):
    project = tmp_path / "ambiguous"
    project.mkdir()
    (project / "a.py").write_text("")
    (project / "b.py").write_text("")
    result = fair.run("build", project, "--base", "scratch", "--output", tmp_path / "x.tar", check=False)
    assert result.returncode != 0
    assert "no train.py, main.py or single script" in result.stderr and "a.py, b.py" in result.stderr, result.stderr
    assert not (tmp_path / "x.tar").exists()


def test_the_users_fair_config_names_the_default_base(fair, base_image, tmp_path):
    project = tmp_path / "configured"
    project.mkdir()
    (project / "main.py").write_text("print('main')\n")
    config = tmp_path / "config-home" / "fair"
    config.mkdir(parents=True)
    (config / "config.yaml").write_text(f"base: oci-archive:{base_image}\n")
    built = fair.build_json(project, "--output", tmp_path / "c.tar",
                            env={"XDG_CONFIG_HOME": str(tmp_path / "config-home"), "FAIR_BASE": ""})
    assert built["layers"][0]["source"] == "base"


def test_without_a_base_or_a_network_the_error_says_how_to_make_one(fair, tmp_path):
    project = tmp_path / "offline"
    project.mkdir()
    (project / "train.py").write_text("print(1)\n")
    # An unroutable registry stands for the official image when there is no network.
    result = fair.run("build", project, "--output", tmp_path / "o.tar", check=False,
                      env={"FAIR_BASE": "", "XDG_CONFIG_HOME": str(tmp_path / "none"), "HTTPS_PROXY": "http://127.0.0.1:9",
                           "https_proxy": "http://127.0.0.1:9"})
    assert result.returncode != 0
    assert "python:3." in result.stderr and "fair base create --output base.tar" in result.stderr, result.stderr
