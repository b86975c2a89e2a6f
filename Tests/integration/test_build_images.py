"""fair build on a real Python base image, checked with skopeo, umoci and podman (runc)."""
import json
import os
import stat

from conftest import podman_load_and_run, run, skopeo_inspect, umoci_unpack


def test_plain_project_is_a_valid_image_with_expected_files(fair, base_image, project, tmp_path):
    directory = project("plain-python")
    out = tmp_path / "plain.tar"
    result = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--output", out)

    assert result["tag"] == "linear-regression:latest"
    assert [layer["source"] for layer in result["layers"]] == ["base", "code"]
    inspected = skopeo_inspect(f"oci-archive:{out}")
    assert inspected["Digest"] == result["digest"]
    assert inspected["Architecture"] == "amd64" and inspected["Os"] == "linux"
    assert inspected["Labels"]["team"] == "fair-examples"
    assert inspected["Labels"]["dev.fair.entrypoint"] == "/app/train.py"
    assert inspected["Labels"]["dev.fair.python.version"] == "3.11"
    assert "LEARNING_RATE=0.05" in inspected["Env"]

    config = skopeo_inspect(f"oci-archive:{out}", config=True)
    assert config["config"]["Entrypoint"] == ["python3", "/app/train.py"]
    assert config["config"]["Cmd"] == ["--epochs", "200"]
    assert config["config"]["WorkingDir"] == "/app"
    assert config["created"] == "1980-01-01T00:00:00Z"
    assert len(config["rootfs"]["diff_ids"]) == 2
    assert config["history"][-1]["created_by"].startswith("fair build: copy")

    rootfs = umoci_unpack(out, "linear-regression:latest", tmp_path / "unpacked")
    app = rootfs / "app"
    assert (app / "train.py").read_bytes() == (directory / "train.py").read_bytes()
    assert (app / "data" / "points.csv").read_bytes() == (directory / "data" / "points.csv").read_bytes()
    assert stat.S_IMODE(os.stat(app / "train.py").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(app / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(app / "fairdemo").st_mode) == 0o755
    assert not (app / "scratch").exists(), ".fairignore'd directory must not be in the image"
    assert (rootfs / "usr" / "bin" / "python3").exists(), "base layer must be unpacked below the code"


def test_plain_project_runs_under_podman_with_runc(fair, base_image, project, tmp_path, podman_storage):
    out = tmp_path / "plain.tar"
    fair.build_json(project("plain-python"), "--base", f"oci-archive:{base_image}", "--output", out)
    result = podman_load_and_run(out, podman_storage)
    assert "trained on 21 points for 200 epochs" in result.stdout
    assert "w=2.97 b=1.03 loss=0.0003" in result.stdout


def test_requirements_go_into_a_cached_deps_layer(fair, base_image, project, tmp_path, podman_storage):
    directory = project("with-requirements")
    first = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "a.tar")
    assert [layer["source"] for layer in first["layers"]] == ["base", "deps", "code"]
    assert first["layers"][1]["cached"] is False

    # Unchanged requirements: the deps layer comes from the cache, and the image is identical.
    second = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "b.tar")
    assert second["layers"][1]["cached"] is True
    assert second["digest"] == first["digest"]
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()

    config = skopeo_inspect(f"oci-archive:{tmp_path / 'a.tar'}", config=True)
    env = dict(item.split("=", 1) for item in config["config"]["Env"])
    assert env["PYTHONPATH"].split(":")[0] == "/opt/fair/site-packages"
    rootfs = umoci_unpack(tmp_path / "a.tar", "numpy-regression:latest", tmp_path / "unpacked")
    assert (rootfs / "opt/fair/site-packages/numpy/__init__.py").is_file()
    assert not list((rootfs / "opt/fair/site-packages/numpy").glob("__pycache__")), "pip must not leave .pyc files"
    f2py = (rootfs / "opt/fair/site-packages/bin/f2py").read_text().splitlines()[0]
    assert f2py == "#!/usr/bin/env python3", "console scripts must use the image's Python, not the build machine's"

    result = podman_load_and_run(tmp_path / "a.tar", podman_storage)
    assert "numpy 2.2.6" in result.stdout
    assert "w=4.00 b=-2.00" in result.stdout


def test_notebook_project_runs_its_converted_script(fair, base_image, project, tmp_path, podman_storage):
    out = tmp_path / "nb.tar"
    fair.build_json(project("notebook"), "--base", f"oci-archive:{base_image}", "--output", out)
    config = skopeo_inspect(f"oci-archive:{out}", config=True)
    assert config["config"]["Entrypoint"] == ["python3", "/app/train.py"]
    assert config["config"]["Labels"]["dev.fair.source"] == "train.ipynb"

    rootfs = umoci_unpack(out, "notebook-regression:latest", tmp_path / "unpacked")
    script = (rootfs / "app" / "train.py").read_text()
    assert "%matplotlib" not in script.replace("# dropped: %matplotlib", "")
    assert "# %% [cell 2]" in script
    assert (rootfs / "app" / "train.ipynb").is_file()

    result = podman_load_and_run(out, podman_storage)
    assert result.stdout.strip().splitlines()[-1] == "notebook mean=5.0"


def test_zstd_layers_are_accepted_by_skopeo_umoci_and_podman(fair, base_image, project, tmp_path, podman_storage):
    out = tmp_path / "zstd.tar"
    result = fair.build_json(project("plain-python"), "--base", f"oci-archive:{base_image}", "--output", out,
                             "--compression", "zstd")
    assert result["layers"][-1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"
    manifest = skopeo_inspect(f"oci-archive:{out}", raw=True)
    assert manifest["layers"][-1]["mediaType"].endswith("tar+zstd")
    # Debian 12's umoci (0.4.7) predates zstd layers, so the layer is checked with zstd and tar.
    layout = tmp_path / "layout"
    layout.mkdir()
    run("tar", "-xf", out, "-C", layout)
    layer = layout / "blobs" / "sha256" / manifest["layers"][-1]["digest"].split(":")[1]
    listing = run("sh", "-c", f"zstd -dc '{layer}' | tar -tvf -").stdout
    assert "app/train.py" in listing and "0/0" in listing
    assert "w=2.97 b=1.03" in podman_load_and_run(out, podman_storage).stdout


def test_layout_output_keeps_several_tags(fair, base_image, project, tmp_path):
    layout = tmp_path / "layout"
    one = fair.build_json(project("plain-python"), "--base", f"oci-archive:{base_image}", "--layout", layout, "--tag", "demo:one")
    two = fair.build_json(project("notebook"), "--base", f"oci-archive:{base_image}", "--layout", layout, "--tag", "demo:two")
    index = json.loads((layout / "index.json").read_text())
    names = sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"])
    assert names == ["demo:one", "demo:two"]
    assert skopeo_inspect(f"oci:{layout}:demo:one")["Digest"] == one["digest"]
    assert skopeo_inspect(f"oci:{layout}:demo:two")["Digest"] == two["digest"]
    # The built image can itself be a base: oci:DIR:TAG.
    three = fair.build_json(project("notebook"), "--base", f"oci:{layout}:demo:one", "--output", tmp_path / "three.tar")
    assert [layer["digest"] for layer in three["layers"][:2]] == [layer["digest"] for layer in one["layers"]]


def test_default_output_is_fairs_local_layout(fair, project):
    result = fair.build_json(project("plain-python"), "--base", "scratch")
    layout = fair.home / "images"
    assert result["outputs"]["layout"] == str(layout)
    assert skopeo_inspect(f"oci:{layout}:linear-regression:latest")["Digest"] == result["digest"]


def test_a_requirement_with_only_a_pure_python_sdist_is_built_into_a_wheel(fair, base_image, tmp_path, podman_storage):
    project = tmp_path / "sdist"
    project.mkdir()
    (project / "fair.yaml").write_text("name: sdist\nentrypoint: train.py\n")
    # omegaconf 2.3.0 needs antlr4-python3-runtime 4.9.*, which PyPI has as source only.
    (project / "requirements.txt").write_text("omegaconf==2.3.0\n")
    (project / "train.py").write_text(
        "import antlr4, omegaconf\n"
        "config = omegaconf.OmegaConf.create({'lr': 0.1})\n"
        "print('omegaconf', omegaconf.__version__, 'lr', config.lr)\n")
    out = tmp_path / "sdist.tar"
    result = fair.run("build", project, "--base", f"oci-archive:{base_image}", "--output", out)
    assert "built antlr4_python3_runtime-4.9.3-py3-none-any.whl from its source" in result.stderr, result.stderr
    layers = skopeo_inspect(f"oci-archive:{out}")["Layers"]
    assert len(layers) == 3  # base, deps, code
    assert "omegaconf 2.3.0 lr 0.1" in podman_load_and_run(out, podman_storage).stdout


def test_a_requirement_whose_source_needs_a_compiler_is_named(fair, base_image, tmp_path):
    project = tmp_path / "compiled"
    project.mkdir()
    (project / "fair.yaml").write_text("name: compiled\nentrypoint: train.py\n")
    (project / "train.py").write_text("print('never')\n")
    # A C extension published as source only: building it here would fit this machine, not the image.
    (project / "requirements.txt").write_text("pyyaml==5.3.1\n")
    result = fair.run("build", project, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "c.tar", check=False)
    assert result.returncode != 0
    assert "pyyaml==5.3.1" in result.stderr.lower() and ("compiler" in result.stderr or "could not be built" in result.stderr), result.stderr
