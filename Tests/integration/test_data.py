"""`fair data push` and `fair data pull` against the bundled server, and the API server's pod proxy
they go through: kubectl-free HTTP through `pods/NAME:PORT/proxy/` reaches a pod's server and is
decided by RBAC; a directory of 1,000 files and one 500 MB file goes into a claim and back byte for
byte (modes too) while fair stays under 150 MB of memory; a second push sends only what is missing;
a pod reading the claim afterwards sees the files; a bad target fails with a clear message."""
import hashlib
import json
import os
import random
import ssl
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import Fair
from server_harness import wait_for

MAX_RSS_KB = 150 * 1024


@pytest.fixture(scope="module")
def fair(tmp_path_factory):
    return Fair(tmp_path_factory.mktemp("fair-home"))


@pytest.fixture(scope="module")
def env(cluster, base_image):
    """fair finds the cluster through its kubeconfig; the data pod's image is the base image
    fair builds on, which it pushes to the cluster's registry the first time."""
    return {"KUBECONFIG": str(cluster.kubeconfig), "FAIR_BASE": f"oci-archive:{base_image}"}


def kubectl_json(cluster, *args):
    return json.loads(cluster.kubectl(*args, "-o", "json").stdout)


def make_claim(cluster, name):
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}))


def run_measured(fair, env, *args, timeout=900):
    """Runs fair under /usr/bin/time: (completed process, peak resident set size in KB)."""
    rss_file = Path(fair.home) / f"rss-{time.monotonic_ns()}"
    result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), fair.binary, *map(str, args)],
                            env={**os.environ, "FAIR_HOME": str(fair.home), **env}, capture_output=True, text=True, timeout=timeout)
    return result, int(rss_file.read_text().strip().splitlines()[-1])


def transfer(fair, env, *args):
    result, rss = run_measured(fair, env, "data", *args, "--output-format", "json")
    assert result.returncode == 0, f"fair data {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout), rss


def tree(root):
    """{relative path: (sha256, permission bits)} of every regular file under root."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            files[str(path.relative_to(root))] = (digest.hexdigest(), stat.S_IMODE(path.lstat().st_mode))
    return files


def no_data_pods_left(cluster):
    """Neither the pods nor the Secrets with their transfers' tokens stay behind."""
    wait_for(lambda: not kubectl_json(cluster, "get", "pods", "-l", "app.kubernetes.io/name=fair-data")["items"],
             timeout=60, what="the data pods to go")
    wait_for(lambda: not kubectl_json(cluster, "get", "secrets", "-l", "app.kubernetes.io/name=fair-data")["items"],
             timeout=60, what="the data pods' token Secrets to go")


# --- pods/proxy ------------------------------------------------------------------------------

ECHO_SERVER = r'''
import http.server, json, os
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path, "body": self.rfile.read(length).decode(),
                           "authorization": self.headers.get("Authorization")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((os.environ["POD_IP"], 8080), Handler).serve_forever()
'''


def proxy_request(cluster, path, token=None, method="GET", body=None):
    request = urllib.request.Request(f"{cluster.url}{path}", method=method, data=body)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_pods_proxy_reaches_a_pods_server_as_rbac_allows(cluster, fair, env, base_image):
    pushed = fair.run("push", base_image, f"{cluster.registry}/examples/echo:v1", "--output-format", "json", env=env)
    image = f"{cluster.registry}/examples/echo@{json.loads(pushed.stdout)['digest']}"
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "echo"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
            "name": "main", "image": image, "command": ["python3", "-u", "-c", ECHO_SERVER],
            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1}}]}}))
    cluster.kubectl("wait", "--for=condition=Ready", "pod/echo", "--timeout=120s", timeout=130)

    # The administrator: the request reaches the pod (path, query, method and body as sent), the
    # token does not.
    status, answer = proxy_request(cluster, "/api/v1/namespaces/default/pods/echo:8080/proxy/a%20b/c?x=1", cluster.token)
    assert status == 200 and answer["path"] == "/a%20b/c?x=1" and answer["authorization"] is None, answer
    status, answer = proxy_request(cluster, "/api/v1/namespaces/default/pods/http:echo:http/proxy/post", cluster.token,
                                   method="POST", body=b"payload")
    assert status == 200 and (answer["method"], answer["body"]) == ("POST", "payload"), answer
    # No port: the first one the pod declares, as kube-apiserver picks it.
    assert proxy_request(cluster, "/api/v1/namespaces/default/pods/echo/proxy/", cluster.token)[0] == 200

    # No credential: 401. An account no role binds: kube's 403, naming the subresource.
    assert proxy_request(cluster, "/api/v1/namespaces/default/pods/echo/proxy/")[0] == 401
    cluster.kubectl("create", "serviceaccount", "idle")
    idle = cluster.kubectl("create", "token", "idle").stdout.strip()
    status, refusal = proxy_request(cluster, "/api/v1/namespaces/default/pods/echo:8080/proxy/", idle)
    assert status == 403 and refusal["reason"] == "Forbidden", refusal
    assert refusal["message"] == ('pods "echo" is forbidden: User "system:serviceaccount:default:idle" cannot get resource '
                                  '"pods/proxy" in API group "" in the namespace "default"'), refusal
    # Bound to a role that may get pods/proxy: GET passes, POST (create) does not.
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "proxy-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]}]}))
    cluster.kubectl("create", "rolebinding", "idle-proxy", "--role=proxy-reader", "--serviceaccount=default:idle")
    assert proxy_request(cluster, "/api/v1/namespaces/default/pods/echo:8080/proxy/", idle)[0] == 200
    status, refusal = proxy_request(cluster, "/api/v1/namespaces/default/pods/echo:8080/proxy/", idle, method="POST", body=b"x")
    assert status == 403 and "cannot create resource \"pods/proxy\"" in refusal["message"], refusal
    # A pod that is not there.
    status, missing = proxy_request(cluster, "/api/v1/namespaces/default/pods/nothing/proxy/", cluster.token)
    assert status == 404 and missing["message"] == 'pods "nothing" not found', missing
    cluster.kubectl("delete", "pod", "echo", "--wait=false")


# --- fair data -------------------------------------------------------------------------------

def write_dataset(root, big_mib):
    """1,000 small files of random content in nested directories (names with spaces and
    non-ASCII among them, modes 644, 755 and 600), and one big file of `big_mib` MiB."""
    rng = random.Random(1000)
    names = ["with space.txt", "résumé é ü.bin", "データ/日本語 ファイル.txt", "emoji 🙂/a b c.json"]
    for index in range(1000):
        if index < len(names):
            relative = Path("odd names") / names[index]
        else:
            relative = Path(f"d{index % 10}") / f"e{index % 7}" / f"file-{index:04d}.bin"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randrange(0, 8192)))
        path.chmod([0o644, 0o755, 0o600][index % 3])
    if big_mib:
        big = root / "big" / "weights.bin"
        big.parent.mkdir()
        block = bytearray(os.urandom(1 << 20))
        with open(big, "wb") as handle:
            for counter in range(big_mib):
                block[:8] = counter.to_bytes(8, "little")
                handle.write(block)


def test_a_thousand_files_and_500_mb_go_into_a_claim_and_back_byte_for_byte(cluster, fair, env, tmp_path):
    make_claim(cluster, "dataset")
    source, back = tmp_path / "source", tmp_path / "back"
    source.mkdir()
    write_dataset(source, big_mib=500)
    expected = tree(source)
    assert len(expected) == 1001

    pushed, push_rss = transfer(fair, env, "push", source, "pvc:dataset:sets/one")
    assert (pushed["files"], pushed["transferredFiles"], pushed["unchangedFiles"]) == (1001, 1001, 0), pushed
    assert pushed["bytes"] == sum((source / path).stat().st_size for path in expected)
    pulled, pull_rss = transfer(fair, env, "pull", "pvc:dataset:sets/one", back)
    assert (pulled["files"], pulled["transferredFiles"]) == (1001, 1001), pulled

    assert tree(back) == expected  # every file, its bytes and its mode
    print(f"\npush: {pushed['bytes'] / 1e6:.0f} MB in {pushed['seconds']:.1f}s ({pushed['bytesPerSecond'] / 1e6:.0f} MB/s), "
          f"peak RSS {push_rss / 1024:.0f} MiB; pull: {pulled['seconds']:.1f}s ({pulled['bytesPerSecond'] / 1e6:.0f} MB/s), "
          f"peak RSS {pull_rss / 1024:.0f} MiB")
    assert 0 < push_rss < MAX_RSS_KB, f"fair data push peaked at {push_rss} KB"
    assert 0 < pull_rss < MAX_RSS_KB, f"fair data pull peaked at {pull_rss} KB"
    no_data_pods_left(cluster)


def test_a_second_push_sends_only_what_is_missing_and_pods_see_the_files(cluster, fair, env, tmp_path):
    make_claim(cluster, "resumed")
    source = tmp_path / "source"
    source.mkdir()
    write_dataset(source, big_mib=0)
    # A push cut short: half the files made it.
    half = tmp_path / "half"
    for path in sorted(source.rglob("*"))[::2]:
        if path.is_file():
            target = half / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            target.chmod(stat.S_IMODE(path.stat().st_mode))
    first, _ = transfer(fair, env, "push", half, "pvc:resumed")
    second, _ = transfer(fair, env, "push", source, "pvc:resumed")
    assert second["transferredFiles"] == 1000 - first["files"] and second["unchangedFiles"] == first["files"], (first, second)
    # Nothing changed: nothing is sent. A changed file and a changed mode are.
    again, _ = transfer(fair, env, "push", source, "pvc:resumed")
    assert (again["transferredFiles"], again["unchangedFiles"], again["transferredBytes"]) == (0, 1000, 0), again
    (source / "odd names" / "with space.txt").write_text("changed\n")
    (source / "d1" / "e4" / "file-0011.bin").chmod(0o700)
    changed, _ = transfer(fair, env, "push", source, "pvc:resumed")
    assert (changed["transferredFiles"], changed["transferredBytes"]) == (1, len("changed\n")), changed

    # Another pod mounting the claim sees the files as they were pushed.
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "main", "image": changed["image"],
            "command": ["sh", "-c", 'cat "/data/odd names/with space.txt"; stat -c %a /data/d1/e4/file-0011.bin; '
                                    'find /data -type f | grep -vc "^$"'],
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": True}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "resumed", "readOnly": True}}]}}))
    wait_for(lambda: kubectl_json(cluster, "get", "pod", "reader")["status"].get("phase") in ("Succeeded", "Failed"),
             timeout=120, what="the reader pod to finish")
    assert cluster.kubectl("logs", "reader").stdout.split("\n") == ["changed", "700", "1000", ""]
    no_data_pods_left(cluster)


def test_bad_targets_fail_with_a_clear_message(cluster, fair, env, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    missing = fair.run("data", "push", tmp_path / "src", "pvc:missing", env=env, check=False)
    assert missing.returncode != 0
    assert "error: persistentvolumeclaim missing not found in namespace default" in missing.stderr, missing.stderr
    escaping = fair.run("data", "push", tmp_path / "src", "pvc:dataset:../../etc", env=env, check=False)
    assert escaping.returncode != 0 and "leaves the claim" in escaping.stderr, escaping.stderr
    make_claim(cluster, "empty")
    nowhere = fair.run("data", "pull", "pvc:empty:no/such/dir", tmp_path / "out", env=env, check=False)
    assert nowhere.returncode != 0 and "pvc:empty:no/such/dir: no/such/dir does not exist in the claim" in nowhere.stderr, nowhere.stderr
    unknown_image = fair.run("data", "pull", "pvc:empty", tmp_path / "out", "--image", f"{cluster.registry}/no/such:image",
                             "--timeout", "60", env=env, check=False)
    assert unknown_image.returncode != 0 and "cannot start" in unknown_image.stderr, unknown_image.stderr
    no_data_pods_left(cluster)
