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


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    """A bundled `fair server` (API server, controllers, scheduler, node agent, registry) of the
    test module's own, with default options; a module that needs others defines its own."""
    from server_harness import FairServer
    server = FairServer(fair_binary(), tmp_path_factory.mktemp(request.module.__name__) / "data").start()
    yield server
    server.stop()


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


# ---------------------------------------------------------------------------------------------
# Real registries for push/pull/login/logout (see registry_harness.py). Every server a test starts
# is stopped at its teardown (a registry by its PID) and its temporary directory removed; when a
# test fails, the logs of its servers are added to the failure report.

from registry_harness import (  # noqa: E402
    BlobMirror, DockerConfig, FaultProxy, Registry, TokenServer, make_oci_layout)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for server in getattr(item, "_registry_harness_servers", ()):
            report.sections.append((f"log of {server.describe()}", server.log_tail()))


def _harness_owner(request):
    """A list of the servers of the running test (for logs on failure) and a closer for them."""
    servers = request.node.__dict__.setdefault("_registry_harness_servers", [])

    def own(server):
        servers.append(server)
        request.addfinalizer(server.close)
        return server

    return own


@pytest.fixture
def make_registry(request):
    """make_registry(mode="none", relative_urls=False, **options) -> a started Registry.
    mode: "none", "htpasswd" or "token" (with its own TokenServer, unless token_server= is given)."""
    own = _harness_owner(request)

    def make(mode="none", relative_urls=False, **options):
        registry = own(Registry(mode, relative_urls=relative_urls, **options))
        if registry.token_server is not None and registry.token_server not in request.node._registry_harness_servers:
            request.node._registry_harness_servers.append(registry.token_server)
        return registry.start()

    return make


@pytest.fixture
def registry(request, make_registry):
    """A started Registry; mode from indirect parametrization (a mode name, or a dict of
    make_registry arguments), "none" by default:
    @pytest.mark.parametrize("registry", ["none", "htpasswd", "token"], indirect=True)."""
    param = getattr(request, "param", "none")
    if isinstance(param, dict):
        return make_registry(**param)
    return make_registry(param)


@pytest.fixture
def token_server(request):
    """A started TokenServer (user "fair", password "s3cret!"); pass it to
    make_registry("token", token_server=token_server) to put a registry behind it."""
    return _harness_owner(request)(TokenServer()).start()


@pytest.fixture
def fault_proxy(request):
    """fault_proxy(upstream) -> a started FaultProxy in front of a Registry (or "host:port")."""
    own = _harness_owner(request)

    def make(upstream, **options):
        return own(FaultProxy(upstream, **options)).start()

    return make


@pytest.fixture
def blob_mirror(request):
    """blob_mirror(source_registry=None) -> a started BlobMirror on another host:port."""
    own = _harness_owner(request)

    def make(source=None, **options):
        return own(BlobMirror(source, **options)).start()

    return make


@pytest.fixture
def docker_config(tmp_path, monkeypatch):
    """A DockerConfig in a fresh directory, also set as DOCKER_CONFIG for the test (so fair and
    skopeo never read or write the machine's own ~/.docker/config.json)."""
    config = DockerConfig(tmp_path / "docker-config")
    monkeypatch.setenv("DOCKER_CONFIG", str(config.dir))
    return config


@pytest.fixture
def make_oci_image(tmp_path):
    """make_oci_image(tag="latest", layers=None, seed=0) -> an OciImage layout to push with skopeo."""
    counter = iter(range(1_000_000))

    def make(tag="latest", layers=None, seed=0, **options):
        return make_oci_layout(tmp_path / f"oci-image-{next(counter)}", tag=tag, layers=layers, seed=seed,
                               **options)

    return make
