"""Third-party Kubernetes clients from PyPI, each in a venv of its own under .build/client-venvs/NAME,
for the tests that drive `fair server` with them (test_clients_*.py).

    python3 Tests/integration/client_venvs.py prepare [NAME ...]   # all of them when no name is given

installs them in parallel (scripts/test starts this in the background, early, so it overlaps the
build). A venv is ready when NAME/.ready holds the hash of its requirements; a failed install leaves
NAME/.failed with pip's error (tried again by the next `prepare`), and the tests of that client are
then reported as skipped with it. pip's whole output is in NAME.log.
While one process installs a venv it holds NAME.lock, so a test that needs that venv waits for the
install instead of starting another. A test run without the background step installs what it needs
itself, on first use.

Clients without a pinned version are "the newest": the background step installs them again when
their venv is more than a week old.

It also has what the client tests run with: a busybox image for the server's embedded registry, and
a way to run a script with a client's Python and get its result back as JSON (the pytest fixtures
are in client_cluster.py).
"""
import concurrent.futures
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENVS = Path(os.environ.get("FAIR_CLIENT_VENVS") or REPO / ".build" / "client-venvs")

# name -> (pip requirements, seconds the install may take). kubernetes 10.0.1 (2019) runs with a
# urllib3 of its time (<2), as its users had it.
NEWEST_MAX_AGE = 7 * 24 * 3600
CLIENTS = {
    "kubernetes-10": (["kubernetes==10.0.1", "urllib3<2"], 600),
    "kubernetes-31": (["kubernetes==31.0.0"], 600),
    "kubernetes-latest": (["kubernetes"], 600),
    "kr8s": (["kr8s"], 600),
    "pykube-ng": (["pykube-ng"], 600),
    "lightkube": (["lightkube"], 600),
    "airflow": (["apache-airflow", "apache-airflow-providers-cncf-kubernetes"], 1200),
    # A real Jupyter kernel for the Python SDK's notebook tests (the SDK itself is installed from
    # python/ by the test, so it is always this checkout's).
    "notebook": (["nbclient", "nbformat", "ipykernel", "numpy"], 600),
}


def spec_hash(name):
    requirements, _ = CLIENTS[name]
    return hashlib.sha256(json.dumps(requirements).encode()).hexdigest()[:16]


def venv_dir(name):
    return VENVS / name


def _state(name):
    """("ready", versions) | ("failed", error) | (None, None) when never installed for this spec."""
    directory = venv_dir(name)
    ready, failed = directory / ".ready", directory / ".failed"
    if ready.exists():
        info = json.loads(ready.read_text())
        if info.get("spec") == spec_hash(name) and (directory / "bin" / "python").exists():
            return "ready", info
    if failed.exists():
        info = json.loads(failed.read_text())
        if info.get("spec") == spec_hash(name):
            return "failed", info["error"]
    return None, None


def _stale(name):
    """An unpinned client's venv older than NEWEST_MAX_AGE: a newer release may be out."""
    unpinned = any(not any(sign in requirement for sign in "=<>!~") for requirement in CLIENTS[name][0])
    ready = venv_dir(name) / ".ready"
    return unpinned and time.time() - ready.stat().st_mtime > NEWEST_MAX_AGE


def _install(name, python):
    requirements, limit = CLIENTS[name]
    directory = venv_dir(name)
    if directory.exists():
        shutil.rmtree(directory)
    log = VENVS / f"{name}.log"
    started = time.monotonic()

    def fail(error):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ".failed").write_text(json.dumps({"spec": spec_hash(name), "error": error}))
        return "failed", error

    with open(log, "w") as out:
        created = subprocess.run([python, "-m", "venv", str(directory)], stdout=out, stderr=subprocess.STDOUT)
        if created.returncode != 0:
            return fail(f"python -m venv failed ({created.returncode}); see {log}")
        command = [str(directory / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                   "--progress-bar", "off", *requirements]
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        try:
            pip = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=limit)
        except subprocess.TimeoutExpired:
            return fail(f"pip install {' '.join(requirements)} did not finish within {limit} s; "
                        f"last lines of {log}:\n{_tail(log)}")
    if pip.returncode != 0:
        return fail(f"pip install {' '.join(requirements)} failed ({pip.returncode}):\n{_tail(log)}")
    frozen = subprocess.run([str(directory / "bin" / "python"), "-m", "pip", "freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True).stdout
    versions = dict(line.split("==", 1) for line in frozen.splitlines() if "==" in line)
    info = {"spec": spec_hash(name), "versions": versions, "seconds": round(time.monotonic() - started)}
    (directory / ".ready").write_text(json.dumps(info))
    return "ready", info


def _tail(path, lines=25):
    text = [line for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    return "\n".join(text[-lines:])[-4000:]


def prepare(name, python=None, retry_failed=False):
    """Makes sure venv NAME is installed (or its failure recorded); waits for another process that
    is installing it. Returns ("ready", info) or ("failed", error). A recorded failure is tried
    again only with retry_failed (the background step of scripts/test does, once per run)."""
    VENVS.mkdir(parents=True, exist_ok=True)
    with open(VENVS / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state, info = _state(name)
        if state == "ready" and retry_failed and _stale(name):
            state = None
        if state == "ready" or (state == "failed" and not retry_failed):
            return state, info
        return _install(name, python or sys.executable)


def prepare_all(names, python=None):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = dict(zip(names, pool.map(lambda n: prepare(n, python, retry_failed=True), names)))
    for name, (state, info) in results.items():
        if state == "ready":
            print(f"client venv {name}: "
                  + ", ".join(p + "==" + str(info["versions"].get(p)) for p in _main_packages(name))
                  + f" (installed in {info.get('seconds', 0)} s)")
        else:
            print(f"client venv {name}: FAILED: {info.splitlines()[0] if info else ''}")
    return results


def _main_packages(name):
    return [requirement.split("=")[0].split("<")[0].split(">")[0] for requirement in CLIENTS[name][0]
            if not requirement.startswith(("urllib3", "setuptools"))]


# ---------------------------------------------------------------------------------------------
# What the tests use.

def client_python(name):
    """The python of client venv NAME, installing it if needed; skips the test when it cannot be
    installed, with pip's error."""
    import pytest
    state, info = prepare(name, os.environ.get("FAIR_CLIENT_PYTHON") or _host_python())
    if state != "ready":
        pytest.skip(f"client venv {name} could not be installed: {info}")
    return ClientPython(name, venv_dir(name) / "bin" / "python", info["versions"])


def _host_python():
    # The venv's own python when the tests run in one: its base interpreter makes the client venvs.
    return getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable


PRELUDE = r'''
import json, os, sys, time, traceback
ARGS = json.loads(os.environ["FAIR_CLIENT_ARGS"])
def emit(value):
    sys.stdout.write("\nFAIR-RESULT " + json.dumps(value, default=str) + "\n")
    sys.stdout.flush()
'''


class ClientResult(dict):
    pass


class ClientPython:
    def __init__(self, name, python, versions):
        self.name = name
        self.python = str(python)
        self.versions = versions

    def run(self, script, timeout=120, env=None, **args):
        """Runs SCRIPT (which ends by calling emit(value)) with ARGS; returns value. A script that
        raises or emits nothing fails the test with its output."""
        full_env = dict(os.environ, FAIR_CLIENT_ARGS=json.dumps(args, default=str), PYTHONUNBUFFERED="1")
        full_env.pop("PYTHONPATH", None)
        full_env.update(env or {})
        try:
            result = subprocess.run([self.python, "-c", PRELUDE + script], capture_output=True, text=True,
                                    timeout=timeout, env=full_env)
        except subprocess.TimeoutExpired as expired:
            raise AssertionError(f"[{self.name}] the client script did not finish within {timeout} s;\n"
                                 f"stdout:\n{_text(expired.stdout)[-3000:]}\nstderr:\n{_text(expired.stderr)[-5000:]}")
        for line in reversed(result.stdout.splitlines()):
            if line.startswith("FAIR-RESULT "):
                return json.loads(line[len("FAIR-RESULT "):])
        raise AssertionError(f"[{self.name}] the client script failed ({result.returncode}) before its result;\n"
                             f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-6000:]}")


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def busybox_image(registry, token, directory, repository="clients/busybox", tag="v1"):
    """A one-layer image with the host's static busybox (and its applets as links) pushed to the
    embedded registry with skopeo (pushing takes a token for the repository); returns its reference
    by digest."""
    import gzip
    busybox = shutil.which("busybox")
    if not busybox or "statically linked" not in subprocess.run(["file", "-L", busybox], capture_output=True,
                                                                    text=True).stdout:
        raise RuntimeError("a static busybox is needed (Debian package busybox-static; scripts/setup installs it)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    layer = directory / "layer.tar"
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    with tarfile.open(layer, "w") as tar:
        for folder in ("bin", "tmp", "etc", "proc", "sys", "dev"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(info)
        info = tar.gettarinfo(busybox, "bin/busybox")
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        with open(busybox, "rb") as data:
            tar.addfile(info, data)
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        for path, content in (("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n"), ("etc/group", b"root:x:0:\n")):
            import io
            info = tarfile.TarInfo(path)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    raw = layer.read_bytes()
    gz = gzip.compress(raw, mtime=0)
    blobs = directory / "image" / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    layer_digest, layer_size = put(gz)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()
    config_digest, config_size = put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": config_digest, "size": config_size},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": layer_digest, "size": layer_size}]}).encode()
    manifest_digest, manifest_size = put(manifest)
    (directory / "image" / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "image" / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    copied = subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"--dest-creds=fair:{token}", f"oci:{directory / 'image'}:{tag}",
                             f"docker://{registry}/{repository}:{tag}"], capture_output=True, text=True, timeout=300)
    if copied.returncode != 0:
        raise RuntimeError(f"skopeo copy to the embedded registry failed:\n{copied.stderr}")
    return f"{registry}/{repository}@{manifest_digest}"


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "prepare":
        sys.exit(__doc__)
    names = sys.argv[2:] or list(CLIENTS)
    unknown = [name for name in names if name not in CLIENTS]
    if unknown:
        sys.exit(f"unknown client venvs: {', '.join(unknown)} (known: {', '.join(CLIENTS)})")
    prepare_all(names)
