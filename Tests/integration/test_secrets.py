"""Secrets on the bundled server, checked with kubectl and real pods: created from manifests
(test_protobuf_bodies.py covers kubectl's `create secret`), never printed, read by
pods as env and files, and used as imagePullSecrets against Debian's docker-registry with htpasswd."""
import base64
import json
import os
import stat
import subprocess

import pytest

from conftest import Fair, FIXTURES
from server_harness import wait_for

VALUE = "s3cr3t-value-7Qx"


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    """The plain-Python fixture in the embedded registry (its image has python3)."""
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/examples/secrets:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/secrets@{built['digest']}"


def create(cluster, manifest, check=True):
    return cluster.kubectl("create", "-f", "-", input=manifest, check=check)


def pod_phase(cluster, name):
    return json.loads(cluster.kubectl("get", "pod", name, "-o", "json").stdout)["status"].get("phase")


def waiting_reason(cluster, name):
    statuses = json.loads(cluster.kubectl("get", "pod", name, "-o", "json").stdout)["status"].get("containerStatuses", [])
    return (statuses[0]["state"].get("waiting") or {}).get("reason") if statuses else None


def test_secrets_are_stored_from_manifests_and_never_printed(cluster, tmp_path):
    create(cluster, f"""
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{token: {VALUE}}}
data: {{user: {base64.b64encode(b"me").decode()}}}
""")
    stored = json.loads(cluster.kubectl("get", "secret", "creds", "-o", "json").stdout)
    assert stored["type"] == "Opaque" and "stringData" not in stored
    assert base64.b64decode(stored["data"]["token"]).decode() == VALUE
    assert base64.b64decode(stored["data"]["user"]).decode() == "me"

    # docker-registry and tls Secrets as kubectl would make them.
    config = json.dumps({"auths": {"registry.example:5000": {"username": "u", "password": VALUE}}})
    create(cluster, f"""
apiVersion: v1
kind: Secret
metadata: {{name: pull}}
type: kubernetes.io/dockerconfigjson
data: {{.dockerconfigjson: {base64.b64encode(config.encode()).decode()}}}
""")
    key, cert = tmp_path / "tls.key", tmp_path / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=example", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    manifest = cluster.kubectl("create", "secret", "tls", "site", f"--cert={cert}", f"--key={key}",
                               "--dry-run=client", "-o", "yaml").stdout
    create(cluster, manifest)

    table = cluster.kubectl("get", "secrets").stdout
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert table.split()[:4] == ["NAME", "TYPE", "DATA", "AGE"], table
    assert lines["creds"][1:3] == ["Opaque", "2"]
    assert lines["pull"][1:3] == ["kubernetes.io/dockerconfigjson", "1"]
    assert lines["site"][1:3] == ["kubernetes.io/tls", "2"]
    described = cluster.kubectl("describe", "secret", "creds").stdout
    assert f"token:  {len(VALUE)} bytes" in described, described
    for text in (table, described, cluster.kubectl("get", "secrets", "-o", "wide").stdout):
        assert VALUE not in text and base64.b64encode(VALUE.encode()).decode() not in text


def test_invalid_secrets_are_refused_naming_the_field_not_the_value(cluster):
    bad = create(cluster, f"""
apiVersion: v1
kind: Secret
metadata: {{name: bad}}
data: {{token: "{VALUE}!!"}}
""", check=False)
    assert bad.returncode != 0 and "data[token]" in bad.stderr and VALUE not in bad.stderr, bad.stderr
    tls = create(cluster, "apiVersion: v1\nkind: Secret\nmetadata: {name: half}\ntype: kubernetes.io/tls\n"
                          "stringData: {tls.crt: x}\n", check=False)
    assert "data[tls.key]: Required value" in tls.stderr, tls.stderr
    create(cluster, "apiVersion: v1\nkind: Secret\nmetadata: {name: frozen}\nimmutable: true\nstringData: {a: b}\n")
    patched = cluster.kubectl("patch", "secret", "frozen", "-p", '{"stringData":{"a":"c"}}', check=False)
    assert patched.returncode != 0 and "field is immutable when `immutable` is set" in patched.stderr, patched.stderr
    cluster.kubectl("label", "secret", "frozen", "team=ml")  # metadata still changes


def test_a_pod_reads_a_secret_as_env_and_as_files(cluster, python_image):
    create(cluster, f"""
apiVersion: v1
kind: Secret
metadata: {{name: app-creds}}
stringData: {{token: {VALUE}, db.url: "postgres://db/x"}}
""")
    script = ("import os, stat\n"
              "print('env', os.environ['TOKEN'], os.environ['S_db.url'])\n"
              "p = '/creds/tok'\n"
              "print('file', open(p).read(), oct(stat.S_IMODE(os.stat(p).st_mode)))\n"
              "print('all', sorted(os.listdir('/all')))\n")
    create(cluster, f"""
apiVersion: v1
kind: Pod
metadata: {{name: reader}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: {python_image}
    command: ["python3", "-c", {json.dumps(script)}]
    env:
    - name: TOKEN
      valueFrom: {{secretKeyRef: {{name: app-creds, key: token}}}}
    envFrom:
    - {{prefix: S_, secretRef: {{name: app-creds}}}}
    volumeMounts:
    - {{name: one, mountPath: /creds, readOnly: true}}
    - {{name: all, mountPath: /all}}
  volumes:
  - name: one
    secret: {{secretName: app-creds, items: [{{key: token, path: tok, mode: 0400}}]}}
  - name: all
    secret: {{secretName: app-creds}}
""")
    wait_for(lambda: pod_phase(cluster, "reader") in ("Succeeded", "Failed"), timeout=180, what="the reader pod")
    logs = cluster.kubectl("logs", "reader").stdout
    assert pod_phase(cluster, "reader") == "Succeeded", logs
    assert f"env {VALUE} postgres://db/x" in logs, logs
    assert f"file {VALUE} 0o400" in logs, logs
    assert "all ['db.url', 'token']" in logs, logs


def test_a_pod_waits_for_a_missing_secret_and_no_event_or_log_carries_a_value(cluster, python_image):
    create(cluster, f"""
apiVersion: v1
kind: Pod
metadata: {{name: early}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: {python_image}
    command: ["python3", "-c", "import os; print('got', len(os.environ['LATE']))"]
    env:
    - name: LATE
      valueFrom: {{secretKeyRef: {{name: late, key: k}}}}
""")
    wait_for(lambda: waiting_reason(cluster, "early") == "CreateContainerConfigError", timeout=120, what="the config error")
    create(cluster, f"apiVersion: v1\nkind: Secret\nmetadata: {{name: late}}\nstringData: {{k: {VALUE}}}\n")
    wait_for(lambda: pod_phase(cluster, "early") == "Succeeded", timeout=180, what="the pod to run once the secret exists")
    assert f"got {len(VALUE)}" in cluster.kubectl("logs", "early").stdout
    events = cluster.kubectl("get", "events", "-o", "json").stdout
    described = cluster.kubectl("describe", "pod", "early").stdout
    for text in (events, described, cluster.log_path.read_text()):
        assert VALUE not in text


def test_the_store_holding_secrets_is_private(cluster):
    files = sorted(cluster.data_dir.glob("store.db*"))
    assert [path.name for path in files][:1] == ["store.db"], files
    for path in files:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600, f"{path} is {oct(mode)}"


def test_image_pull_secrets_pull_from_a_private_registry_and_nothing_else_does(cluster, python_image, make_registry, fair,
                                                                               docker_config):
    registry = make_registry("htpasswd")
    # Copy the image into the private registry, logged in as its user.
    fair.run("login", registry.host, "-u", registry.username, "--password-stdin", input=registry.password)
    fair.run("pull", python_image, "--output", fair.home / "image.tar", env=cluster.registry_env)
    private = f"{registry.host}/team/model:v1"
    fair.run("push", fair.home / "image.tar", private)
    auth = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    config = json.dumps({"auths": {registry.host: {"auth": auth}}})
    create(cluster, f"""
apiVersion: v1
kind: Secret
metadata: {{name: regcred}}
type: kubernetes.io/dockerconfigjson
data: {{.dockerconfigjson: {base64.b64encode(config.encode()).decode()}}}
""")
    pod = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
  {secrets}
  containers:
  - name: main
    image: {image}
    imagePullPolicy: IfNotPresent
    command: ["python3", "-c", "print('private image ran')"]
"""
    create(cluster, pod.format(name="with-secret", secrets="imagePullSecrets: [{name: regcred}]", image=private))
    wait_for(lambda: pod_phase(cluster, "with-secret") == "Succeeded", timeout=180, what="the pod with the pull secret")
    assert "private image ran" in cluster.kubectl("logs", "with-secret").stdout
    # The image is on the node now; a pod without the secret still may not have it.
    create(cluster, pod.format(name="without", secrets="", image=private))
    wait_for(lambda: waiting_reason(cluster, "without") in ("ErrImagePull", "ImagePullBackOff"), timeout=120,
             what="the pod without the pull secret to be refused")
    message = json.loads(cluster.kubectl("get", "pod", "without", "-o", "json").stdout)["status"]["containerStatuses"][0]
    assert "unauthorized" in json.dumps(message).lower() or "401" in json.dumps(message), message
    assert pod_phase(cluster, "without") == "Pending"
