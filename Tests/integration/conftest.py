"""Shared fixtures for the integration tests: the fair binary, a real Python base image made by
`fair base create`, and helpers that run fair and the real OCI tools (skopeo, umoci, podman)."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Fixtures"


def fair_binary():
    path = os.environ.get("FAIR_BIN") or str(REPO / ".build" / "debug" / "fair")
    if not os.access(path, os.X_OK):
        pytest.exit(f"fair binary not found at {path}; build it first (scripts/test does)", returncode=2)
    return path


class Fair:
    """Runs fair with its own FAIR_HOME so tests never share caches unless they mean to."""

    def __init__(self, home):
        self.binary = fair_binary()
        self.home = home

    def run(self, *args, cwd=None, env=None, check=True, timeout=900, **kwargs):
        full_env = dict(os.environ)
        full_env["FAIR_HOME"] = str(self.home)
        full_env.pop("SOURCE_DATE_EPOCH", None)
        if env:
            full_env.update(env)
        result = subprocess.run(
            [self.binary, *map(str, args)], cwd=cwd, env=full_env, capture_output=True, text=True,
            timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(
                f"fair {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
        return result

    def build_json(self, *args, **kwargs):
        result = self.run("build", *args, "--output-format", "json", **kwargs)
        return json.loads(result.stdout)


@pytest.fixture
def fair(tmp_path):
    home = tmp_path / "fair-home"
    home.mkdir()
    return Fair(home)


@pytest.fixture(scope="session")
def base_image(tmp_path_factory):
    """A real Debian bookworm + python3 base (debootstrap), made once per test run."""
    existing = os.environ.get("FAIR_TEST_BASE")
    if existing and os.path.exists(existing):
        return existing
    directory = tmp_path_factory.mktemp("base")
    path = directory / "base.tar"
    home = directory / "home"
    home.mkdir()
    Fair(home).run("base", "create", "--output", path, timeout=1800)
    return str(path)


@pytest.fixture
def project(tmp_path):
    """Copies a fixture project into the test's own directory."""

    def copy(name):
        destination = tmp_path / "projects" / name
        if destination.exists():
            return destination
        shutil.copytree(FIXTURES / name, destination, symlinks=True)
        return destination

    return copy


def run(*args, check=True, timeout=600, **kwargs):
    result = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def skopeo_inspect(reference, raw=False, config=False):
    args = ["skopeo", "inspect"]
    if raw:
        args.append("--raw")
    if config:
        args.append("--config")
    return json.loads(run(*args, reference).stdout)


def umoci_unpack(archive, tag, destination):
    """Unpacks an oci-archive with umoci (which reads OCI layouts) and returns the rootfs path."""
    layout = destination / "layout"
    layout.mkdir(parents=True)
    run("tar", "-xf", archive, "-C", layout)
    bundle = destination / "bundle"
    run("umoci", "unpack", "--image", f"{layout}:{tag}", bundle)
    return bundle / "rootfs"


PODMAN_RUN = ["podman", "--runtime", "runc", "run", "--rm", "--network=none",
              "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@pytest.fixture(scope="session")
def podman_storage(tmp_path_factory):
    """A private podman store, so tests never touch (or depend on) the machine's images."""
    root = tmp_path_factory.mktemp("podman")
    config = root / "storage.conf"
    config.write_text(
        f'[storage]\ndriver = "vfs"\nrunroot = "{root}/run"\ngraphroot = "{root}/graph"\n')
    yield {"CONTAINERS_STORAGE_CONF": str(config)}
    subprocess.run(["podman", "system", "reset", "--force"], env={**os.environ, "CONTAINERS_STORAGE_CONF": str(config)},
                   capture_output=True, timeout=300)


def podman_load_and_run(archive, storage_env, *extra):
    env = {**os.environ, **storage_env}
    loaded = run("podman", "load", "-i", archive, env=env, timeout=600)
    image_id = None
    for line in (loaded.stdout + loaded.stderr).splitlines():
        if line.startswith("Loaded image"):
            image_id = line.split(":", 1)[1].strip().split(",")[0].strip()
    assert image_id, f"podman load printed no image name:\n{loaded.stdout}\n{loaded.stderr}"
    return run(*PODMAN_RUN, image_id, *extra, env=env, timeout=600)
