"""`fair server`'s API against the real kubectl and the official Python client."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import fair_binary
from server_harness import FairServer

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  containers:
  - name: main
    image: 127.0.0.1/demo:v1
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: 127.0.0.1/web:v1
        env:
        - name: MODE
          value: "{mode}"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("server") / "data").start()
    yield server
    server.stop()


def api(server, method, path, body=None, content_type="application/json", token=True):
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {server.token}")
    try:
        with urllib.request.urlopen(request, timeout=30, context=server.ssl_context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_kubeconfig_pins_the_servers_certificate(server):
    import base64
    import yaml
    config = yaml.safe_load(server.kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == server.url
    assert base64.b64decode(cluster["certificate-authority-data"]).decode() == server.ca_file.read_text()
    assert oct(server.kubeconfig.stat().st_mode & 0o777) == "0o600"


def test_discovery_and_system_namespaces(server):
    version = json.loads(server.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["major"] == "1"
    names = server.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)
    resources = server.kubectl("api-resources", "-o", "name").stdout.split()
    assert {"pods", "nodes", "deployments.apps", "jobs.batch", "replicasets.apps", "services"} <= set(resources)


def test_requests_need_the_token(server):
    status, body = api(server, "GET", "/api/v1/namespaces/default/pods", token=False)
    assert status == 401 and body["kind"] == "Status" and body["reason"] == "Unauthorized"
    assert urllib.request.urlopen(server.url + "/healthz", context=server.ssl_context).read() == b"ok"


def test_create_get_describe_and_delete_a_pod(server, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.format(name="alpha", app="web"))
    assert "pod/alpha created" in server.kubectl("create", "-f", manifest).stdout
    pod = json.loads(server.kubectl("get", "pod", "alpha", "-o", "json").stdout)
    assert pod["metadata"]["uid"] and pod["metadata"]["creationTimestamp"]
    assert pod["status"]["phase"] == "Pending"
    assert pod["spec"]["restartPolicy"] == "Always"
    assert "name: alpha" in server.kubectl("get", "pod", "alpha", "-o", "yaml").stdout
    assert "alpha" in server.kubectl("describe", "pod", "alpha").stdout
    # Server-side printing: the columns kubectl shows for pods on any cluster.
    header, row = server.kubectl("get", "pods", "alpha").stdout.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], header
    assert row.split()[:2] == ["alpha", "0/1"], row
    assert server.kubectl("get", "pods", "alpha", "-o", "wide").stdout.splitlines()[0].split()[5:7] == ["IP", "NODE"]
    duplicate = server.kubectl("create", "-f", manifest, check=False)
    assert duplicate.returncode != 0 and "AlreadyExists" in duplicate.stderr or "already exists" in duplicate.stderr
    assert 'pod "alpha" deleted' in server.kubectl("delete", "pod", "alpha").stdout
    missing = server.kubectl("get", "pod", "alpha", check=False)
    assert missing.returncode != 0 and 'pods "alpha" not found' in missing.stderr


def test_apply_create_then_update_and_scale(server, tmp_path):
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(DEPLOYMENT.format(replicas=2, mode="a"))
    assert "deployment.apps/web created" in server.kubectl("apply", "-f", manifest).stdout
    manifest.write_text(DEPLOYMENT.format(replicas=3, mode="b"))
    assert "deployment.apps/web configured" in server.kubectl("apply", "-f", manifest).stdout
    deployment = json.loads(server.kubectl("get", "deployment", "web", "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "b"}]
    assert deployment["metadata"]["generation"] == 2
    assert "deployment.apps/web scaled" in server.kubectl("scale", "deployment", "web", "--replicas=5").stdout
    assert json.loads(server.kubectl("get", "deploy", "web", "-o", "json").stdout)["spec"]["replicas"] == 5
    server.kubectl("delete", "-f", manifest)


def test_invalid_objects_get_field_causes(server, tmp_path):
    status, body = api(server, "POST", "/api/v1/namespaces/default/pods",
                       {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"}, "spec": {"containers": []}})
    assert status == 422 and body["reason"] == "Invalid"
    fields = {cause["field"] for cause in body["details"]["causes"]}
    assert fields == {"metadata.name", "spec.containers"}


def test_stale_resource_version_is_a_conflict(server):
    status, created = api(server, "POST", "/api/v1/namespaces/default/configmaps",
                          {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}})
    assert status == 201
    first = dict(created, data={"a": "2"})
    status, updated = api(server, "PUT", "/api/v1/namespaces/default/configmaps/settings", first)
    assert status == 200 and int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    stale = dict(created, data={"a": "3"})
    status, body = api(server, "PUT", "/api/v1/namespaces/default/configmaps/settings", stale)
    assert status == 409 and body["reason"] == "Conflict"
    status, patched = api(server, "PATCH", "/api/v1/namespaces/default/configmaps/settings", {"data": {"b": "x"}},
                          content_type="application/merge-patch+json")
    assert status == 200 and patched["data"] == {"a": "2", "b": "x"}
    status, patched = api(server, "PATCH", "/api/v1/namespaces/default/configmaps/settings",
                          [{"op": "replace", "path": "/data/a", "value": "9"}], content_type="application/json-patch+json")
    assert status == 200 and patched["data"]["a"] == "9"


def test_status_subresource_is_separate_from_spec(server, tmp_path):
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD.format(name="statused", app="s"))
    server.kubectl("create", "-f", manifest)
    status, pod = api(server, "GET", "/api/v1/namespaces/default/pods/statused")
    pod["status"]["phase"] = "Running"
    status, through_main = api(server, "PUT", "/api/v1/namespaces/default/pods/statused", pod)
    assert status == 200 and through_main["status"]["phase"] == "Pending", "status changes through the main resource are ignored"
    status, through_status = api(server, "PUT", "/api/v1/namespaces/default/pods/statused/status", dict(through_main, status={"phase": "Running"}))
    assert status == 200 and through_status["status"]["phase"] == "Running"
    server.kubectl("delete", "pod", "statused")


def test_selectors_and_watch_with_kubectl(server, tmp_path):
    for name, app in [("s1", "sel"), ("s2", "sel"), ("s3", "other")]:
        (tmp_path / f"{name}.yaml").write_text(POD.format(name=name, app=app))
        server.kubectl("create", "-f", tmp_path / f"{name}.yaml")
    assert server.kubectl("get", "pods", "-l", "app=sel", "-o", "name").stdout.split() == ["pod/s1", "pod/s2"]
    assert server.kubectl("get", "pods", "-l", "app in (other)", "-o", "name").stdout.split() == ["pod/s3"]
    assert "pod/s3" in server.kubectl("get", "pods", "--field-selector", "metadata.name=s3", "-o", "name").stdout

    watcher = subprocess.Popen(["kubectl", "--kubeconfig", str(server.kubeconfig), "get", "pods", "-w", "-l", "app=late",
                                "-o", "name"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    (tmp_path / "late.yaml").write_text(POD.format(name="late", app="late"))
    server.kubectl("create", "-f", tmp_path / "late.yaml")
    time.sleep(1.5)
    watcher.send_signal(signal.SIGINT)
    output, _ = watcher.communicate(timeout=10)
    assert "pod/late" in output
    server.kubectl("delete", "pods", "-l", "app in (sel,other,late)")
    assert server.kubectl("get", "pods", "-l", "app in (sel,other,late)", "-o", "name").stdout.strip() == ""


def test_cascading_delete_through_owner_references(server):
    status, owner = api(server, "POST", "/apis/apps/v1/namespaces/default/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "owner"},
        "spec": {"selector": {"matchLabels": {"app": "o"}},
                 "template": {"metadata": {"labels": {"app": "o"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
    assert status == 201
    reference = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "owner", "uid": owner["metadata"]["uid"], "controller": True}]
    status, replicaset = api(server, "POST", "/apis/apps/v1/namespaces/default/replicasets", {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "owner-1", "labels": {"app": "o"}, "ownerReferences": reference},
        "spec": {"selector": {"matchLabels": {"app": "o"}},
                 "template": {"metadata": {"labels": {"app": "o"}}, "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}})
    assert status == 201
    rs_reference = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "owner-1", "uid": replicaset["metadata"]["uid"]}]
    status, _ = api(server, "POST", "/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "owned-pod", "labels": {"app": "o"}, "ownerReferences": rs_reference},
        "spec": {"containers": [{"name": "c", "image": "x:1"}]}})
    assert status == 201
    server.kubectl("delete", "deployment", "owner")
    assert api(server, "GET", "/apis/apps/v1/namespaces/default/replicasets/owner-1")[0] == 404
    # The pod was bound to the server's node: it is deleted gracefully, and gone once its node
    # agent has stopped it.
    status, pod = api(server, "GET", "/api/v1/namespaces/default/pods/owned-pod")
    assert status == 404 or pod["metadata"].get("deletionTimestamp"), pod
    deadline = time.monotonic() + 30
    while api(server, "GET", "/api/v1/namespaces/default/pods/owned-pod")[0] != 404:
        assert time.monotonic() < deadline, "the owned pod was never removed"
        time.sleep(0.2)


def test_python_client_list_create_and_watch_resume(server):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import client, config, watch
    config.load_kube_config(config_file=str(server.kubeconfig))
    core = client.CoreV1Api()
    for index in range(5):
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"py-{index}", labels={"py": "yes"})))
    first = core.list_namespaced_config_map("default", label_selector="py=yes", limit=2)
    assert len(first.items) == 2 and first.metadata._continue
    rest = core.list_namespaced_config_map("default", label_selector="py=yes", limit=10, _continue=first.metadata._continue)
    assert [item.metadata.name for item in first.items + rest.items] == [f"py-{index}" for index in range(5)]

    resume_from = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-late", labels={"py": "yes"})))
    core.delete_namespaced_config_map("py-0", "default")
    seen = []
    stream = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=resume_from, timeout_seconds=2)
    for event in stream:
        seen.append((event["type"], event["object"].metadata.name))
    assert seen[:2] == [("ADDED", "py-late"), ("DELETED", "py-0")]


def test_acknowledged_writes_survive_kill_9(tmp_path):
    server = FairServer(fair_binary(), tmp_path / "data").start()
    acknowledged = []
    stop = threading.Event()

    def burst():
        index = 0
        while not stop.is_set():
            try:
                status, _ = api(server, "POST", "/api/v1/namespaces/default/configmaps",
                                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"burst-{index}"}})
            except Exception:
                return
            if status == 201:
                acknowledged.append(f"burst-{index}")
            index += 1

    threads = [threading.Thread(target=burst) for _ in range(1)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) > 20
    server.start()
    try:
        status, listed = api(server, "GET", "/api/v1/namespaces/default/configmaps")
        names = {item["metadata"]["name"] for item in listed["items"]}
        missing = [name for name in acknowledged if name not in names]
        assert missing == [], f"{len(missing)} acknowledged objects lost"
    finally:
        server.stop()


def test_embedded_registry_takes_fair_push_and_skopeo(server, tmp_path):
    from conftest import FIXTURES, Fair, run
    fair = Fair(tmp_path / "home")
    (tmp_path / "home").mkdir()
    out = tmp_path / "plain.tar"
    built = json.loads(fair.run("build", FIXTURES / "plain-python", "--base", "scratch", "--output", out,
                                "--output-format", "json").stdout)
    pushed = json.loads(fair.run("push", out, f"{server.registry}/examples/plain:v1", "--output-format", "json",
                                 env=server.registry_env).stdout)
    assert pushed["digest"] == built["digest"]
    inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{server.registry}/examples/plain:v1").stdout)
    assert inspected["Digest"] == built["digest"]
    copy = tmp_path / "copy"
    run("skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{server.registry}/examples/plain:v1", f"oci:{copy}:v1")
    run("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", server.registry_creds("examples/copied"),
        f"oci:{copy}:v1", f"docker://{server.registry}/examples/copied:v1")
    again = json.loads(fair.run("push", out, f"{server.registry}/examples/plain:v1", "--output-format", "json",
                                env=server.registry_env).stdout)
    assert again["bytesUploaded"] == 0


def test_metrics_count_requests_by_verb_and_resource(server):
    api(server, "GET", "/api/v1/namespaces/default/pods")
    request = urllib.request.Request(server.url + "/metrics")
    request.add_header("Authorization", f"Bearer {server.token}")
    text = urllib.request.urlopen(request, context=server.ssl_context).read().decode()
    assert 'fair_apiserver_request_total{verb="GET",resource="pods",code="200"}' in text
    assert 'fair_apiserver_request_duration_seconds_bucket{verb="GET",resource="pods",le="+Inf"}' in text
    assert "fair_apiserver_watchers" in text
