"""The two programs that run inside the user's containers: Templates/fair-model.py (stores a trained
model in a registry as an OCI artifact and fetches it back), checked against Debian's real
docker-registry in its auth modes, and Templates/model-server.py (the Open Inference Protocol server),
checked over real HTTP. Both are run with the system python3 and nothing else, as in the image."""
import gzip
import hashlib
import http.client
import io
import json
import os
import select
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import REPO

FAIR_MODEL = REPO / "Templates" / "fair-model.py"
MODEL_SERVER = REPO / "Templates" / "model-server.py"
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
ARTIFACT_TYPE = "application/vnd.fair.model.v1"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FAIR_", "PYTHON")) and k != "SOURCE_DATE_EPOCH"}
    env.update(extra or {})
    return env


def fair_model(*args, registry=None, env=None, timeout=60):
    """Runs fair-model.py; with the registry's credentials in the environment unless env says."""
    extra = {}
    if registry is not None and registry.mode != "none":
        extra = {"FAIR_REGISTRY_USERNAME": registry.username, "FAIR_REGISTRY_PASSWORD": registry.password}
    extra.update(env or {})
    return subprocess.run([PYTHON, str(FAIR_MODEL), *map(str, args)], capture_output=True, text=True,
                          env=clean_env(extra), timeout=timeout)


def push(registry, directory, repository="models/linear", *extra, check=True, **kwargs):
    result = fair_model("push", "--registry", registry.host, "--repository", repository, "--dir", directory,
                        *extra, registry=registry, **kwargs)
    if check:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return json.loads(result.stdout)
    return result


def pull(registry, reference, directory, repository="models/linear", check=True, **kwargs):
    result = fair_model("pull", "--registry", registry.host, "--repository", repository, "--reference", reference,
                        "--dir", directory, registry=registry, **kwargs)
    if check:
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)
    return result


def assert_clean_failure(result, *needles):
    """Exit 1, one error line naming what went wrong, no traceback, nothing on stdout."""
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def write_model(directory, w=2.0, b=0.5, metrics='{"loss": 0.0125, "epochs": 3}'):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.json").write_text(json.dumps({"w": w, "b": b}))
    if metrics is not None:
        (directory / "metrics.json").write_text(metrics)
    (directory / "weights").mkdir(exist_ok=True)
    (directory / "weights" / "layer0.bin").write_bytes(bytes(range(256)) * 40)
    script = directory / "weights" / "convert.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o775)
    os.symlink("../model.json", directory / "weights" / "model-link.json")
    return directory


def tree(directory):
    """{relative path: bytes, or ('link', target), or 'dir'} of everything under directory."""
    result = {}
    for path in sorted(Path(directory).rglob("*")):
        name = str(path.relative_to(directory))
        if path.is_symlink():
            result[name] = ("link", os.readlink(path))
        elif path.is_dir():
            result[name] = "dir"
        else:
            result[name] = path.read_bytes()
    return result


def layer_of(registry, repository, reference):
    status, digest, body = registry.manifest(repository, reference)
    assert status == 200, body
    manifest = json.loads(body)
    return digest, manifest, registry.read_blob(manifest["layers"][0]["digest"])


def upload_blob(registry, repository, data):
    status, headers, body = registry.api("POST", f"/v2/{repository}/blobs/uploads/")
    assert status == 202, body
    location = urlsplit(headers["location"])
    separator = "&" if location.query else "?"
    path = f"{location.path}?{location.query}" if location.query else location.path
    status, _, body = registry.api("PUT", f"{path}{separator}digest={sha256(data)}", body=data,
                                   headers={"Content-Type": "application/octet-stream"})
    assert status == 201, body
    return {"digest": sha256(data), "size": len(data)}


def push_by_hand(registry, repository, tag, layer, artifact_type=ARTIFACT_TYPE):
    """A manifest like fair-model.py's, around any layer bytes; returns its digest."""
    upload_blob(registry, repository, b"{}")
    blob = upload_blob(registry, repository, layer)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
                "layers": [{"mediaType": LAYER_TYPE, **blob}]}
    if artifact_type:
        manifest["artifactType"] = artifact_type
    data = json.dumps(manifest).encode()
    status, _, body = registry.api("PUT", f"/v2/{repository}/manifests/{tag}", body=data,
                                   headers={"Content-Type": MANIFEST_TYPE})
    assert status == 201, body
    return sha256(data)


def hostile_layer(*entries):
    """A tar+gzip layer of (TarInfo fields, content) pairs, written without any sanitising."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for fields, content in entries:
            info = tarfile.TarInfo(fields.pop("name"))
            for key, value in fields.items():
                setattr(info, key, value)
            if content is not None:
                info.size = len(content)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# fair-model.py push / pull


@pytest.mark.parametrize("registry", ["none", "htpasswd", "token"], indirect=True)
def test_push_versions_annotations_and_pull_in_each_auth_mode(registry, tmp_path):
    model = write_model(tmp_path / "model")
    first = push(registry, model, "models/linear", "--annotation", "dev.fair.run=run-42",
                 "--annotation", "dev.fair.note=a=b")
    assert first["version"] == "v1"
    assert first["repository"] == "models/linear"
    assert first["reference"] == f"{registry.host}/models/linear:v1"
    assert sorted(registry.tags("models/linear")) == ["latest", "v1"]

    digest, manifest, layer = layer_of(registry, "models/linear", "v1")
    assert digest == first["digest"]
    assert registry.manifest("models/linear", "latest")[1] == first["digest"]
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == MANIFEST_TYPE
    assert manifest["artifactType"] == ARTIFACT_TYPE
    assert manifest["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert (manifest["config"]["digest"], manifest["config"]["size"]) == (EMPTY_DIGEST, 2)
    assert registry.read_blob(EMPTY_DIGEST) == b"{}"
    [descriptor] = manifest["layers"]
    assert descriptor["mediaType"] == LAYER_TYPE
    assert descriptor["annotations"] == {"org.opencontainers.image.title": "model.tar.gz"}
    assert descriptor["size"] == first["size"] == len(layer)
    assert sha256(layer) == descriptor["digest"]
    annotations = manifest["annotations"]
    assert annotations["dev.fair.run"] == "run-42"
    assert annotations["dev.fair.note"] == "a=b"
    assert json.loads(annotations["dev.fair.model.metrics"]) == {"loss": 0.0125, "epochs": 3}
    assert " " not in annotations["dev.fair.model.metrics"]  # compact JSON text
    created = annotations["org.opencontainers.image.created"]
    assert time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    assert abs(time.mktime(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())) < 120

    second = push(registry, model)
    assert second["version"] == "v2"
    assert sorted(registry.tags("models/linear")) == ["latest", "v1", "v2"]
    assert registry.manifest("models/linear", "latest")[1] == second["digest"]

    # Pull by version, by latest and by digest: the same files, bytes, modes and links.
    expected = tree(model)
    for reference in ("v1", "latest", first["digest"]):
        out = tmp_path / f"pulled-{reference.replace(':', '-')}"
        pulled = pull(registry, reference, out)
        assert pulled["files"] == 4  # model.json, metrics.json, layer0.bin, convert.sh
        assert pulled["digest"] == (second["digest"] if reference == "latest" else first["digest"])
        assert tree(out) == expected
        assert os.stat(out / "weights" / "convert.sh").st_mode & 0o777 == 0o755
        assert os.stat(out / "model.json").st_mode & 0o777 == 0o644


def test_static_bearer_token_and_relative_upload_locations(make_registry, tmp_path):
    model = write_model(tmp_path / "model")
    # FAIR_REGISTRY_TOKEN alone: anonymous callers get no access from this token server, so a
    # push that succeeds used the token given.
    token = make_registry("token")
    bearer = token.auth_header("PUT", "/v2/models/linear/manifests/v1").split(" ", 1)[1]
    result = fair_model("push", "--registry", token.host, "--repository", "models/linear", "--dir", model,
                        env={"FAIR_REGISTRY_TOKEN": bearer})
    assert result.returncode == 0, result.stderr
    assert sorted(token.tags("models/linear")) == ["latest", "v1"]
    result = fair_model("pull", "--registry", token.host, "--repository", "models/linear", "--reference", "v1",
                        "--dir", tmp_path / "out", env={"FAIR_REGISTRY_TOKEN": bearer})
    assert result.returncode == 0, result.stderr
    assert tree(tmp_path / "out") == tree(model)
    assert_clean_failure(fair_model("push", "--registry", token.host, "--repository", "models/linear", "--dir",
                                    model), "HTTP 401")

    # A registry that answers uploads with relative Locations.
    relative = make_registry(relative_urls=True)
    assert push(relative, model)["version"] == "v1"
    pull(relative, "latest", tmp_path / "out-relative")
    assert tree(tmp_path / "out-relative") == tree(model)


def test_layer_is_deterministic_and_normalised(make_registry, tmp_path):
    registry = make_registry()
    a = write_model(tmp_path / "a")
    b = tmp_path / "b"
    # The same files, written in another order, at other times, with other modes.
    (b / "weights").mkdir(parents=True)
    os.symlink("../model.json", b / "weights" / "model-link.json")
    (b / "weights" / "convert.sh").write_text("#!/bin/sh\necho hi\n")
    (b / "weights" / "convert.sh").chmod(0o700)
    (b / "weights" / "layer0.bin").write_bytes((a / "weights" / "layer0.bin").read_bytes())
    (b / "metrics.json").write_text((a / "metrics.json").read_text())
    (b / "model.json").write_text((a / "model.json").read_text())
    (b / "model.json").chmod(0o600)
    for path in b.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_234_567_890, 1_234_567_890))

    first = push(registry, a, "models/same")
    second = push(registry, b, "models/same")
    assert (first["version"], second["version"]) == ("v1", "v2")
    _, manifest_a, layer = layer_of(registry, "models/same", "v1")
    _, manifest_b, _ = layer_of(registry, "models/same", "v2")
    assert manifest_a["layers"][0]["digest"] == manifest_b["layers"][0]["digest"]

    assert layer[:2] == b"\x1f\x8b" and layer[4:8] == b"\0\0\0\0"  # gzip: no mtime
    assert not layer[3] & 0x08  # gzip: no file name
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:gz") as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == ["metrics.json", "model.json", "weights", "weights/convert.sh", "weights/layer0.bin",
                     "weights/model-link.json"]
    for member in members:
        assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (0, 0, "", "", 0)
    modes = {m.name: m.mode for m in members}
    assert modes["model.json"] == 0o644 and modes["weights"] == 0o755 and modes["weights/convert.sh"] == 0o755
    link = next(m for m in members if m.name == "weights/model-link.json")
    assert link.issym() and link.linkname == "../model.json"

    # SOURCE_DATE_EPOCH sets the entries' mtime (and so changes the digest).
    third = push(registry, a, "models/same", env={"SOURCE_DATE_EPOCH": "1700000000"})
    _, manifest_c, layer_c = layer_of(registry, "models/same", third["version"])
    assert manifest_c["layers"][0]["digest"] != manifest_a["layers"][0]["digest"]
    with tarfile.open(fileobj=io.BytesIO(layer_c), mode="r:gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1_700_000_000}


def test_invalid_metrics_are_skipped_with_a_warning(make_registry, tmp_path):
    registry = make_registry()
    model = write_model(tmp_path / "model", metrics="{not json")
    result = push(registry, model, check=False)
    assert result.returncode == 0, result.stderr
    assert "metrics.json is not valid JSON" in result.stderr
    _, manifest, _ = layer_of(registry, "models/linear", "v1")
    assert "dev.fair.model.metrics" not in manifest["annotations"]
    assert "org.opencontainers.image.created" in manifest["annotations"]


def test_logged_metrics_give_each_metrics_last_value_as_the_annotation(make_registry, tmp_path):
    """fair.log_metric's metrics.jsonl (no metrics.json): the last value of each metric is the
    annotation; a line cut short is passed over; the series itself is stored in the layer."""
    registry = make_registry()
    model = write_model(tmp_path / "model", metrics=None)
    (model / "metrics.jsonl").write_text('{"name":"loss","value":0.9,"step":0}\n{"name":"acc","value":0.5,"step":0}\n'
                                         '{"name":"loss","value":0.4,"step":1}\n{"name":"loss","val')
    push(registry, model)
    _, manifest, layer = layer_of(registry, "models/linear", "v1")
    assert json.loads(manifest["annotations"]["dev.fair.model.metrics"]) == {"loss": 0.4, "acc": 0.5}
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:gz") as tar:
        assert "metrics.jsonl" in tar.getnames()
    # A metrics.json written by the script wins.
    (model / "metrics.json").write_text('{"rmse": 0.2}')
    push(registry, model)
    _, manifest, _ = layer_of(registry, "models/linear", "v2")
    assert json.loads(manifest["annotations"]["dev.fair.model.metrics"]) == {"rmse": 0.2}


def test_pull_refuses_a_tampered_layer_a_foreign_artifact_and_a_missing_digest(make_registry, tmp_path):
    registry = make_registry()
    pushed = push(registry, write_model(tmp_path / "model"))
    _, manifest, layer = layer_of(registry, "models/linear", "v1")

    # Another artifact type (here: none, as in a container image) is not a model.
    push_by_hand(registry, "models/image", "v1", layer, artifact_type=None)
    out = tmp_path / "out-image"
    assert_clean_failure(pull(registry, "v1", out, repository="models/image", check=False), "is not a fair model")
    assert not out.exists()

    # A manifest digest the registry does not have.
    out = tmp_path / "out-missing"
    missing = "sha256:" + "0" * 64
    assert_clean_failure(pull(registry, missing, out, check=False), "HTTP 404", "models/linear", registry.host)
    assert not out.exists()

    # The stored layer's bytes changed behind the registry's back (same length): refused, nothing written.
    path = registry.blob_path(manifest["layers"][0]["digest"])
    path.write_bytes(layer[:100] + bytes(b ^ 0xFF for b in layer[100:200]) + layer[200:])
    out = tmp_path / "out-tampered"
    error = assert_clean_failure(pull(registry, pushed["digest"], out, check=False), "nothing extracted")
    assert manifest["layers"][0]["digest"] in error
    assert not out.exists()


HOSTILE = {
    "dot-dot": [({"name": "ok.txt"}, b"fine"), ({"name": "../evil"}, b"owned")],
    "absolute": [({"name": "{outside}/evil"}, b"owned")],
    "symlink-out-then-file": [({"name": "escape", "type": tarfile.SYMTYPE, "linkname": "{outside}"}, None),
                              ({"name": "escape/evil"}, b"owned")],
    "relative-symlink-out": [({"name": "up", "type": tarfile.SYMTYPE, "linkname": "../.."}, None),
                             ({"name": "up/evil"}, b"owned")],
    "symlink-chain": [({"name": "sub", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
                      ({"name": "sub/root", "type": tarfile.SYMTYPE, "linkname": ".."}, None),
                      ({"name": "parent", "type": tarfile.SYMTYPE, "linkname": "sub/root/.."}, None)],
    "hardlink-out": [({"name": "passwd", "type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}, None)],
    "device": [({"name": "null", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, None)],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_pull_refuses_hostile_layers_and_writes_nothing(case, make_registry, tmp_path):
    registry = make_registry()
    outside = tmp_path / "outside"
    outside.mkdir()
    entries = [({k: v.format(outside=outside) if isinstance(v, str) else v for k, v in fields.items()}, content)
               for fields, content in HOSTILE[case]]
    push_by_hand(registry, "models/hostile", "v1", hostile_layer(*entries))
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    result = pull(registry, "v1", out, repository="models/hostile", check=False)
    assert_clean_failure(result, "refusing the model layer")
    assert not out.exists()
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "outside"]
    assert list(out.parent.iterdir()) == []


def test_push_refuses_empty_dirs_and_links_out(make_registry, tmp_path):
    registry = make_registry()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(push(registry, empty, check=False),
                         f"the training script wrote nothing to $FAIR_MODEL_DIR ({empty})")
    (empty / "only-a-dir").mkdir()
    assert_clean_failure(push(registry, empty, check=False), "wrote nothing to $FAIR_MODEL_DIR")
    assert_clean_failure(push(registry, tmp_path / "missing", check=False), "wrote nothing to $FAIR_MODEL_DIR")
    # What `fair train` runs: a script that keeps no model is not a failure, and nothing is stored.
    assert push(registry, empty, "models/linear", "--allow-empty") == {"repository": "models/linear", "stored": False}
    assert push(registry, tmp_path / "missing", "models/linear", "--allow-empty")["stored"] is False

    linked = write_model(tmp_path / "linked")
    os.symlink("/etc/passwd", linked / "passwd")
    assert_clean_failure(push(registry, linked, check=False), "passwd is a symlink to /etc/passwd")
    assert registry.tags("models/linear") is None  # nothing was pushed


def test_clear_errors_for_a_down_registry_bad_credentials_and_bad_arguments(make_registry, tmp_path):
    model = write_model(tmp_path / "model")
    down = make_registry()
    down.stop()
    started = time.monotonic()
    assert_clean_failure(push(down, model, check=False), f"cannot reach registry {down.host}")
    assert time.monotonic() - started < 15  # a few short retries, then give up

    guarded = make_registry("htpasswd")
    result = push(guarded, model, check=False, env={"FAIR_REGISTRY_PASSWORD": "wrong"})
    assert_clean_failure(result, guarded.host, "models/linear", "HTTP 401")
    anonymous = fair_model("pull", "--registry", guarded.host, "--repository", "models/linear", "--reference", "v1",
                           "--dir", tmp_path / "out")
    assert_clean_failure(anonymous, "HTTP 401")

    token = make_registry("token")
    result = push(token, model, check=False, env={"FAIR_REGISTRY_PASSWORD": "wrong"})
    assert_clean_failure(result, "HTTP 401")
    assert not (tmp_path / "out").exists()

    for bad in (["push", "--registry", down.host, "--repository", "Models/Upper", "--dir", model],
                ["push", "--registry", down.host, "--repository", "models/x", "--dir", model,
                 "--annotation", "novalue"],
                ["pull", "--registry", down.host, "--repository", "models/x", "--dir", model, "--reference", "v1:bad"],
                ["pull", "--registry", down.host, "--repository", "models/x", "--dir", model]):
        result = fair_model(*bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert "Traceback" not in result.stderr and "usage:" in result.stderr


# ---------------------------------------------------------------------------------------------
# model-server.py

LINEAR = '''
import json, os

def predict(model_dir, instances):
    with open(os.path.join(model_dir, "model.json")) as f:
        m = json.load(f)
    out = []
    for x in instances:
        if isinstance(x, list):
            x = sum(x)
        if x < 0:
            raise ValueError("negative input " + str(x))
        out.append(m["w"] * x + m["b"])
    return out

def shout(model_dir, instances):
    return [str(x).upper() for x in instances]

def nan(model_dir, instances):
    return [float("nan") for x in instances]

def wrong_length(model_dir, instances):
    return [1]
'''

PACKAGE_INIT = ""
PACKAGE_HELPERS = '''
def scale(row, factor):
    return [v * factor for v in row]
'''
PACKAGE_MODEL = '''
import json, os
from mlpkg.helpers import scale

class Vector:
    def __init__(self, values):
        self.values = values
    def tolist(self):
        return list(self.values)

LOADS = []

def load(model_dir):
    LOADS.append(model_dir)
    with open(os.path.join(model_dir, "model.json")) as f:
        return {"factor": json.load(f)["w"], "loads": LOADS}

def predict(model, instances):
    assert len(model["loads"]) == 1
    return Vector([scale(row if isinstance(row, list) else [row], model["factor"]) for row in instances])
'''


class Served:
    def __init__(self, process, url):
        self.process, self.url = process, url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def call(self, method, path, body=None, headers=None, connection=None):
        connection = connection or self.connection
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        assert response.getheader("Content-Length") == str(len(data))
        return response.status, (json.loads(data) if data else None)


@pytest.fixture
def model_app(tmp_path):
    app, model = tmp_path / "app", tmp_path / "model"
    (app / "mlpkg").mkdir(parents=True)
    (app / "linear.py").write_text(LINEAR)
    (app / "mlpkg" / "__init__.py").write_text(PACKAGE_INIT)
    (app / "mlpkg" / "helpers.py").write_text(PACKAGE_HELPERS)
    (app / "mlpkg" / "model.py").write_text(PACKAGE_MODEL)
    (app / "broken.py").write_text("import no_such_module_anywhere\n")
    (app / "failing_load.py").write_text("def load(d):\n    raise RuntimeError('weights missing')\n"
                                         "def predict(m, i):\n    return i\n")
    write_model(model, w=2.0, b=0.5)
    return app, model


def server_env(app, model, predict, **extra):
    return clean_env({"FAIR_APP_DIR": str(app), "FAIR_MODEL_DIR": str(model), "FAIR_PREDICT": predict,
                      "FAIR_MODEL_NAME": "linear", "PORT": "0", "FAIR_BIND": "127.0.0.1", **extra})


@pytest.fixture
def serve(model_app, tmp_path):
    """serve(predict, **env) -> a Served model server, ready; stopped at teardown."""
    processes = []

    def start(predict, **extra):
        app, model = model_app
        stderr = open(tmp_path / f"server-{len(processes)}.err", "w+")
        process = subprocess.Popen([PYTHON, str(MODEL_SERVER)], stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env=server_env(app, model, predict, **extra), cwd=tmp_path)
        processes.append((process, stderr))
        ready, _, _ = select.select([process.stdout], [], [], 10)
        assert ready, "the model server printed nothing within 10 s"
        line = process.stdout.readline().strip()
        if not line.startswith("serving model linear (version "):
            stderr.seek(0)
            pytest.fail(f"unexpected first line {line!r}; stderr:\n{stderr.read()}")
        served = Served(process, line.rsplit(" on ", 1)[1])
        served.stderr = stderr
        deadline = time.monotonic() + 10
        while served.call("GET", "/v2/health/ready")[0] != 200:
            assert time.monotonic() < deadline, "the model server never became ready"
            time.sleep(0.05)
        return served

    yield start
    for process, stderr in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        process.stdout.close()
        stderr.close()


def test_model_server_endpoints_and_predictions(serve):
    server = serve("linear.py:predict", FAIR_MODEL_VERSION="v3")
    assert server.url.startswith("http://127.0.0.1:")
    call = server.call
    socket_before = server.connection.sock

    assert call("GET", "/v2/health/live") == (200, {"live": True})
    assert call("GET", "/v2/health/ready") == (200, {"ready": True})
    assert call("GET", "/healthz")[0] == 200
    status, metadata = call("GET", "/v2")
    assert status == 200 and metadata["name"] == "fair-model-server" and metadata["extensions"] == []
    assert isinstance(metadata["version"], str) and metadata["version"]
    assert call("GET", "/v2/models/linear") == (200, {"name": "linear", "versions": ["v3"], "platform": "python",
                                                     "inputs": [], "outputs": []})
    assert call("GET", "/v2/models/linear/ready") == (200, {"name": "linear", "ready": True})
    assert call("GET", "/v1/models/linear") == (200, {"name": "linear", "ready": True})

    # v1: w=2, b=0.5
    assert call("POST", "/v1/models/linear:predict", {"instances": [1, 2, 3.5]}) == (
        200, {"predictions": [2.5, 4.5, 7.5]})
    assert call("POST", "/v1/models/linear:predict", {"instances": []}) == (200, {"predictions": []})

    # v2: shape [N] -> N scalars; shape [N, k] -> N rows (sums 3 and 7), flat or nested data.
    status, body = call("POST", "/v2/models/linear/infer",
                        {"id": "req-1", "inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]}]})
    assert status == 200
    assert body == {"model_name": "linear", "model_version": "v3", "id": "req-1",
                    "outputs": [{"name": "predict", "shape": [3], "datatype": "FP64", "data": [2.5, 4.5, 6.5]}]}
    for data in ([1, 2, 3, 4], [[1, 2], [3, 4]]):
        status, body = call("POST", "/v2/models/linear/infer",
                            {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT64", "data": data}]})
        assert status == 200, body
        assert "id" not in body
        assert body["outputs"] == [{"name": "predict", "shape": [2], "datatype": "FP64", "data": [6.5, 14.5]}]
    assert call("POST", "/v2/models/linear/versions/v3/infer",
                {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [10]}]})[1]["outputs"][0]["data"] \
        == [20.5]

    # Bad bodies: 400, naming the field.
    bad = [
        ("/v1/models/linear:predict", b"{not json", "not valid JSON"),
        ("/v1/models/linear:predict", [1, 2], "JSON object"),
        ("/v1/models/linear:predict", {"inputs": [1]}, '"instances"'),
        ("/v1/models/linear:predict", {"instances": 3}, '"instances" must be a list'),
        ("/v2/models/linear/infer", {"instances": [1]}, '"inputs"'),
        ("/v2/models/linear/infer", {"inputs": []}, '"inputs"'),
        ("/v2/models/linear/infer", {"inputs": ["x"]}, '"inputs[0]"'),
        ("/v2/models/linear/infer", {"inputs": [{"name": "x", "shape": "3", "data": [1, 2, 3]}]},
         '"inputs[0].shape"'),
        ("/v2/models/linear/infer", {"inputs": [{"name": "x", "shape": [3], "data": 5}]}, '"inputs[0].data"'),
        ("/v2/models/linear/infer", {"inputs": [{"name": "x", "shape": [2, 2], "data": [1, 2, 3]}]},
         '"inputs[0].data" has 3 elements but "inputs[0].shape" [2, 2] needs 4'),
    ]
    for path, body, needle in bad:
        status, answer = call("POST", path, body)
        assert status == 400, (path, body, answer)
        assert needle in answer["error"], (needle, answer)

    # predict raising: 500 with its message, the traceback on the server's stderr.
    status, answer = call("POST", "/v1/models/linear:predict", {"instances": [1, -4]})
    assert status == 500
    assert answer == {"error": "predict failed: ValueError: negative input -4"}
    status, answer = call("POST", "/v2/models/linear/infer",
                          {"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [-1]}]})
    assert status == 500 and "negative input -1" in answer["error"]

    # Unknown models, paths and methods.
    assert call("GET", "/v2/models/other") == (404, {"error": "model other not found; this server serves linear"})
    assert call("POST", "/v1/models/other:predict", {"instances": [1]})[0] == 404
    assert call("POST", "/v2/models/other/infer", {"inputs": []})[0] == 404
    assert call("GET", "/v2/models/linear/versions/v9")[0] == 404
    assert call("GET", "/nothing/here")[0] == 404
    status, answer = call("GET", "/v1/models/linear:predict")
    assert status == 405 and "POST" in answer["error"]
    assert call("DELETE", "/v2/models/linear")[0] == 405

    # Every request so far went over one kept-alive connection.
    assert server.connection.sock is socket_before

    # A body over 64 MiB: 413 without reading it, and that connection is closed.
    big = http.client.HTTPConnection(server.host, server.port, timeout=10)
    big.putrequest("POST", "/v1/models/linear:predict")
    big.putheader("Content-Length", str(65 * 1024 * 1024))
    big.endheaders()
    response = big.getresponse()
    assert response.status == 413 and "64 MiB" in json.loads(response.read())["error"]
    assert response.getheader("Connection") == "close"
    big.close()

    # Still serving, and the traceback of the failed predict was logged; no per-request lines.
    assert call("POST", "/v1/models/linear:predict", {"instances": [0]}) == (200, {"predictions": [0.5]})
    assert call("GET", "/v2/health/ready") == (200, {"ready": True})
    assert server.process.poll() is None
    server.stderr.seek(0)
    log = server.stderr.read()
    assert "Traceback" in log and "ValueError: negative input -4" in log
    assert '"GET /v2/health/ready' not in log


def test_model_server_load_dotted_module_and_inferred_types(serve):
    server = serve("mlpkg.model:predict")
    call = server.call
    # load() ran once and its result (factor = w = 2) is what predict got; tolist() is used.
    assert call("POST", "/v1/models/linear:predict", {"instances": [[1, 2], [3, 4]]}) == (
        200, {"predictions": [[2.0, 4.0], [6.0, 8.0]]})
    status, body = call("POST", "/v2/models/linear/infer",
                        {"inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [1, 2, 3]}]})
    assert status == 200
    assert body["outputs"] == [{"name": "predict", "shape": [3, 1], "datatype": "FP64", "data": [2.0, 4.0, 6.0]}]
    assert "model_version" not in body
    assert call("GET", "/v2/models/linear")[1]["versions"] == []

    strings = serve("linear.py:shout")
    status, body = strings.call("POST", "/v2/models/linear/infer",
                                {"inputs": [{"name": "t", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}]})
    assert body["outputs"] == [{"name": "predict", "shape": [2], "datatype": "BYTES", "data": ["A", "B"]}]

    nan = serve("linear.py:nan")
    status, body = nan.call("POST", "/v1/models/linear:predict", {"instances": [1]})
    assert status == 500 and "not JSON" in body["error"]
    short = serve("linear.py:wrong_length")
    status, body = short.call("POST", "/v1/models/linear:predict", {"instances": [1, 2]})
    assert status == 500 and "1 predictions for 2 instances" in body["error"]
    assert nan.call("GET", "/v2/health/live") == (200, {"live": True})


@pytest.mark.parametrize("predict, message", [
    ("", "FAIR_PREDICT is not set"),
    ("missing.py:predict", "no file"),
    ("linear.py:nope", "has no function 'nope'"),
    ("broken.py:predict", "importing broken.py failed"),
    ("no_such_pkg.mod:predict", "importing no_such_pkg.mod failed"),
    ("failing_load.py:predict", "load("),
])
def test_model_server_exits_when_the_model_cannot_be_had(predict, message, model_app):
    app, model = model_app
    result = subprocess.run([PYTHON, str(MODEL_SERVER)], capture_output=True, text=True, timeout=20,
                            env=server_env(app, model, predict))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "model-server: error:" in result.stderr


def test_a_failure_the_training_reports_stores_its_outputs_under_the_failed_tag_only(make_registry, tmp_path):
    registry = make_registry("none")
    model = write_model(tmp_path / "model")
    first = push(registry, model)
    assert first["version"] == "v1"
    failed = tmp_path / "failed"
    failed.mkdir()
    (failed / "notebook.ipynb").write_text('{"cells": []}')
    (failed / ".fair-failure").write_text(json.dumps({"reason": "cell 3 failed:\nZeroDivisionError: division by zero", "detail": "x"}))
    result = push(registry, failed, "models/linear", "--failure-file", failed / ".fair-failure", "--failed-tag", "failed-job-1", check=False)
    assert result.returncode == 1
    assert "fair-model: error: cell 3 failed: ZeroDivisionError: division by zero" in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == "cell 3 failed: ZeroDivisionError: division by zero" and report["tag"] == "failed-job-1"
    # Never a version, never latest: serving and `fair models list` see only v1.
    assert sorted(registry.tags("models/linear")) == ["failed-job-1", "latest", "v1"]
    assert registry.manifest("models/linear", "latest")[1] == first["digest"]
    _, manifest, _ = layer_of(registry, "models/linear", "failed-job-1")
    assert manifest["annotations"]["dev.fair.model.failed"] == report["failed"]
    pulled = pull(registry, "failed-job-1", tmp_path / "pulled")
    assert sorted(os.listdir(tmp_path / "pulled")) == ["notebook.ipynb"], "the failure report itself is not stored"
    assert pulled["digest"] == report["digest"]

    # Only the report, no outputs: nothing stored, the step still fails with the reason.
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / ".fair-failure").write_text("not json")
    result = push(registry, bare, "models/linear", "--failure-file", bare / ".fair-failure", "--failed-tag", "failed-job-2",
                  "--allow-empty", check=False)
    assert result.returncode == 1 and "the training reported a failure" in result.stderr, result.stderr
    assert "failed-job-2" not in registry.tags("models/linear")
    # Without a report, the file's absence changes nothing: the next version.
    assert push(registry, model, "models/linear", "--failure-file", model / ".fair-failure", "--failed-tag", "failed-job-3")["version"] == "v2"


def test_only_the_storing_rank_stores_and_after_runs_the_training_first(make_registry, tmp_path):
    registry = make_registry("none")
    model = write_model(tmp_path / "model")
    # A worker that is not rank 0 stores nothing and says so.
    result = push(registry, model, "models/ranked", "--rank", "2", "--store-from-rank", "0", check=False)
    assert result.returncode == 0 and result.stdout == "", result
    assert "rank 2: the model is stored by rank 0" in result.stderr
    assert not registry.tags("models/ranked")
    assert push(registry, model, "models/ranked", "--rank", "0", "--store-from-rank", "0")["version"] == "v1"

    # --after: the training runs first (its output passes through), the model only after it succeeded.
    fresh = tmp_path / "fresh"
    training = f"import pathlib; pathlib.Path({str(fresh)!r}).mkdir(); (pathlib.Path({str(fresh)!r}) / 'w.txt').write_text('7'); print('trained')"
    result = push(registry, fresh, "models/after", "--after", "--", PYTHON, "-c", training, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "trained"
    assert json.loads(result.stdout.splitlines()[-1])["version"] == "v1"
    failing = push(registry, tmp_path / "never", "models/after", "--after", PYTHON, "-c", "import sys; sys.exit(3)", check=False)
    assert failing.returncode == 3 and failing.stdout == "", failing
    assert sorted(registry.tags("models/after")) == ["latest", "v1"], "a failed training stores nothing"
    missing = push(registry, fresh, "models/after", "--after", "/no/such/program", check=False)
    assert missing.returncode == 127 and "cannot run /no/such/program" in missing.stderr
