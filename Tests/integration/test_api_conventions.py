"""Kubernetes API behaviour that real clients depend on, each checked against what kube-apiserver
answers: query parsing before authentication, boolean parameters, trailing slashes, legacy watch
paths, Status bodies, size limits, finalizers, Job selectors, DELETE responses, body checks."""
import json
import os
import socket
import ssl
import stat
import time
import urllib.request

import pytest

from conftest import fair_binary
from server_harness import FairServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("conventions") / "data", extra=["--no-node"]).start()
    yield server
    server.stop()


def request(server, method, path, body=None, content_type="application/json", token=True, raw=False, timeout=30):
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(server.url + path, method=method, data=data)
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {server.token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=server.ssl_context) as response:
            payload = response.read()
            return response.status, payload if raw else json.loads(payload or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        return error.code, payload if raw else json.loads(payload or b"null")


def raw_request(server, target, headers=()):
    """One HTTP/1.1 request written byte for byte (urllib would normalise the target)."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
        with context.wrap_socket(plain, server_hostname="127.0.0.1") as conn:
            lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers, "", ""]
            conn.sendall("\r\n".join(lines).encode("latin-1"))
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def configmap(name, data=None, **metadata):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}, "data": data or {"k": "v"}}


# 1. Query strings are parsed defensively, before authentication, and never crash the server.
@pytest.mark.parametrize("query", ["?=", "?&", "?&&=&", "?=x", "?a==", "?%", "?%zz=%", "?watch", "?==&=="])
def test_malformed_queries_are_answered_and_the_server_stays_up(server, query):
    status, body = raw_request(server, "/healthz" + query)
    assert status == 200 and body == b"ok"
    status, _ = raw_request(server, "/api/v1/namespaces" + query)
    assert status == 401  # authentication still decides, and the server is still there
    assert server.process.poll() is None


# 9. Boolean parameters as kube-apiserver reads them (the Python client sends `True`).
@pytest.mark.parametrize("spelling", ["True", "true", "1", "TRUE", "t"])
def test_watch_true_in_any_spelling_streams_events(server, spelling):
    status, listing = request(server, "GET", "/api/v1/namespaces/default/configmaps")
    assert status == 200
    status, body = request(server, "GET", f"/api/v1/namespaces/default/configmaps?watch={spelling}&timeoutSeconds=1&resourceVersion={listing['metadata']['resourceVersion']}",
                           raw=True)
    assert status == 200
    # A watch answers newline-delimited events (none here), never a List.
    assert b'"kind":"ConfigMapList"' not in body


@pytest.mark.parametrize("spelling", ["False", "false", "0", "f"])
def test_watch_false_lists(server, spelling):
    status, body = request(server, "GET", f"/api/v1/namespaces/default/configmaps?watch={spelling}")
    assert status == 200 and body["kind"] == "ConfigMapList"


# 10. Trailing slashes.
@pytest.mark.parametrize("path", ["/version/", "/api/", "/apis/", "/api/v1/", "/apis/apps/v1/", "/api/v1/namespaces/"])
def test_trailing_slashes_are_served(server, path):
    status, body = request(server, "GET", path)
    assert status == 200, body
    status_without, body_without = request(server, "GET", path.rstrip("/"))
    assert body == body_without


# 11. Legacy watch paths.
def test_legacy_watch_path_streams_events_of_that_namespace(server):
    request(server, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "legacy"}})
    status, created = request(server, "POST", "/api/v1/namespaces/legacy/configmaps", configmap("seen"))
    assert status == 201
    status, body = request(server, "GET", "/api/v1/watch/namespaces/legacy/configmaps?timeoutSeconds=1", raw=True)
    assert status == 200
    events = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
    # Every namespace also holds the cluster's CA (kube-root-ca.crt), as on any cluster.
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events
            if e["object"]["metadata"]["name"] != "kube-root-ca.crt"] == [("ADDED", "seen")]
    status, body = request(server, "GET", "/api/v1/watch/namespaces/legacy/configmaps/seen?timeoutSeconds=1", raw=True)
    assert status == 200 and json.loads(body.splitlines()[0])["object"]["metadata"]["uid"] == created["metadata"]["uid"]
    status, body = request(server, "GET", "/apis/apps/v1/watch/deployments?timeoutSeconds=1", raw=True)
    assert status == 200 and b"DeploymentList" not in body


# 12. Status bodies: kube-apiserver's shape and field order, details on every 404.
def test_not_found_status_has_details_in_kube_field_order(server):
    status, body = request(server, "GET", "/api/v1/namespaces/default/configmaps/missing", raw=True)
    assert status == 404
    assert body.decode().strip() == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                                     '"message":"configmaps \\"missing\\" not found","reason":"NotFound",'
                                     '"details":{"name":"missing","kind":"configmaps"},"code":404}')
    status, body = request(server, "GET", "/apis/apps/v1/namespaces/default/deployments/gone")
    assert body["details"] == {"name": "gone", "group": "apps", "kind": "deployments"}


def test_unknown_paths_answer_kube_not_found_with_empty_details(server):
    for path in ["/api/v1/widgets", "/apis/nothing.example/v1", "/api/v1/namespaces/default/pods/x/nonsense"]:
        status, body = request(server, "GET", path, raw=True)
        assert status == 404
        assert body.decode().strip() == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                                         '"message":"the server could not find the requested resource","reason":"NotFound",'
                                         '"details":{},"code":404}')


def test_invalid_status_lists_causes(server):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"}, "spec": {"containers": [{"name": "", "image": ""}]}}
    status, body = request(server, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 422 and body["reason"] == "Invalid"
    assert {c["field"] for c in body["details"]["causes"]} == {"spec.containers[0].name", "spec.containers[0].image"}
    assert all(c["reason"] == "FieldValueRequired" for c in body["details"]["causes"])


# 6. Sizes: request bodies, stored objects, patches that grow, the watch window.
def test_request_body_over_3_mib_is_413(server):
    big = configmap("huge", {"a": "x" * (3 << 20)})
    status, body = request(server, "POST", "/api/v1/namespaces/default/configmaps", big)
    assert status == 413 and body["reason"] == "RequestEntityTooLarge" and body["kind"] == "Status"
    assert server.process.poll() is None


def test_object_over_1_5_mib_is_413(server):
    # A Pod: nothing in its validation caps an env value, so only the store's limit is in the way
    # (a ConfigMap's own 1 MiB limit answers 422 before).
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "large"},
           "spec": {"containers": [{"name": "c", "image": "x:1", "env": [{"name": "A", "value": "x" * (2 << 20)}]}]}}
    status, body = request(server, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 413 and body["reason"] == "RequestEntityTooLarge"
    status, _ = request(server, "GET", "/api/v1/namespaces/default/pods/large")
    assert status == 404
    status, body = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("large", {"a": "x" * (2 << 20)}))
    assert status == 422 and body["details"]["causes"][0]["field"] == "data", body


def test_json_patch_of_copies_cannot_grow_an_object_past_the_limit(server):
    status, _ = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("seed", {"a": "x" * 1000}))
    assert status == 201
    # Each op doubles the annotation map: 40 doublings of 1 kB would be a terabyte.
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "x" * 1000}}]
    ops += [{"op": "copy", "from": "/metadata/annotations", "path": f"/metadata/annotations/c{i}"} for i in range(40)]
    started = time.monotonic()
    status, body = request(server, "PATCH", "/api/v1/namespaces/default/configmaps/seed", ops,
                           content_type="application/json-patch+json")
    assert status == 413, body
    assert time.monotonic() - started < 10
    status, stored = request(server, "GET", "/api/v1/namespaces/default/configmaps/seed")
    assert "annotations" not in stored["metadata"]


def test_watch_window_is_bounded_in_bytes(server):
    metrics = lambda: request(server, "GET", "/metrics", raw=True)[1].decode()
    value = "x" * (1 << 20)
    request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("churn", {"a": value}))
    for i in range(100):
        status, _ = request(server, "PATCH", "/api/v1/namespaces/default/configmaps/churn",
                            {"data": {"a": value[:-1] + str(i % 10)}}, content_type="application/merge-patch+json")
        assert status == 200
    request(server, "DELETE", "/api/v1/namespaces/default/configmaps/churn")
    window = [line for line in metrics().splitlines() if line.startswith("fair_apiserver_watch_window_bytes ")]
    assert window, metrics()
    assert float(window[0].split()[1]) <= 64 << 20


# 5. The store is for the server's user alone.
def test_data_directory_and_store_are_private(server):
    data = server.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ["store.db", "store.db-wal"]:
        path = data / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


# 13. Annotation keys with dots survive the controllers (checked here through the API).
def test_dotted_annotation_keys_round_trip(server):
    keys = {"deployment.kubernetes.io/revision": "3", "deployment.kubernetes.io/desired-replicas": "2",
            "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    status, _ = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("dots", annotations=keys))
    assert status == 201
    status, _ = request(server, "PATCH", "/api/v1/namespaces/default/configmaps/dots",
                        {"metadata": {"annotations": {"deployment.kubernetes.io/max-replicas": "3"}}},
                        content_type="application/merge-patch+json")
    status, stored = request(server, "GET", "/api/v1/namespaces/default/configmaps/dots")
    assert stored["metadata"]["annotations"] == {**keys, "deployment.kubernetes.io/max-replicas": "3"}


# 14. Jobs get a generated selector and the labels that match it.
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "select"},
       "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox:1"}], "restartPolicy": "Never"}}}}


def test_job_selector_and_template_labels_are_generated(server):
    status, job = request(server, "POST", "/apis/batch/v1/namespaces/default/jobs", JOB)
    assert status == 201
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"] == {
        "controller-uid": uid, "batch.kubernetes.io/controller-uid": uid,
        "job-name": "select", "batch.kubernetes.io/job-name": "select"}
    described = server.kubectl("describe", "job", "select").stdout
    assert f"batch.kubernetes.io/controller-uid={uid}" in described


def test_manual_selector_is_honoured_and_required(server):
    manual = json.loads(json.dumps(JOB))
    manual["metadata"]["name"] = "manual"
    manual["spec"]["manualSelector"] = True
    status, body = request(server, "POST", "/apis/batch/v1/namespaces/default/jobs", manual)
    assert status == 422 and body["details"]["causes"][0]["field"] == "spec.selector"
    manual["spec"]["selector"] = {"matchLabels": {"team": "a"}}
    manual["spec"]["template"]["metadata"] = {"labels": {"team": "a"}}
    status, job = request(server, "POST", "/apis/batch/v1/namespaces/default/jobs", manual)
    assert status == 201
    assert job["spec"]["selector"] == {"matchLabels": {"team": "a"}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"team": "a"}


# 16. Finalizers hold a delete until they are removed.
def test_finalizers_hold_deletion_until_removed(server):
    status, _ = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("held", finalizers=["example.com/cleanup"]))
    assert status == 201
    status, body = request(server, "DELETE", "/api/v1/namespaces/default/configmaps/held")
    assert status == 200 and body["kind"] == "ConfigMap" and body["metadata"]["deletionTimestamp"]
    status, stored = request(server, "GET", "/api/v1/namespaces/default/configmaps/held")
    assert status == 200 and stored["metadata"]["deletionTimestamp"] and stored["metadata"]["deletionGracePeriodSeconds"] == 0
    # No new finalizer may be added while it is being deleted.
    status, body = request(server, "PATCH", "/api/v1/namespaces/default/configmaps/held",
                           {"metadata": {"finalizers": ["example.com/cleanup", "example.com/more"]}},
                           content_type="application/merge-patch+json")
    assert status == 422
    status, body = request(server, "PATCH", "/api/v1/namespaces/default/configmaps/held",
                           {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    assert status == 200
    status, _ = request(server, "GET", "/api/v1/namespaces/default/configmaps/held")
    assert status == 404


def test_watch_sees_finalized_object_deleted(server):
    status, created = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("watched", finalizers=["a/b"]))
    request(server, "DELETE", "/api/v1/namespaces/default/configmaps/watched")
    request(server, "PATCH", "/api/v1/namespaces/default/configmaps/watched", {"metadata": {"finalizers": []}},
            content_type="application/merge-patch+json")
    status, body = request(server, "GET", f"/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dwatched&resourceVersion={created['metadata']['resourceVersion']}", raw=True)
    kinds = [json.loads(line)["type"] for line in body.decode().splitlines() if line.strip()]
    assert kinds == ["MODIFIED", "DELETED"]


# 20. DELETE answers per resource as kube-apiserver does.
def test_delete_returns_the_object_or_a_status_per_resource(server):
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gone"}, "spec": {"ports": [{"port": 80}]}}
    status, created = request(server, "POST", "/api/v1/namespaces/default/services", service)
    assert status == 201
    status, body = request(server, "DELETE", "/api/v1/namespaces/default/services/gone")
    assert status == 200 and body["kind"] == "Service" and body["metadata"]["uid"] == created["metadata"]["uid"]
    status, created = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("status-me"))
    status, body = request(server, "DELETE", "/api/v1/namespaces/default/configmaps/status-me", raw=True)
    assert status == 200
    assert body.decode().strip() == ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",'
                                     f'"details":{{"name":"status-me","kind":"configmaps","uid":"{created["metadata"]["uid"]}"}},"code":200}}')


# 17. Bodies that do not belong to the path are refused.
def test_kind_and_api_version_must_match_the_path(server):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "notacm"}, "spec": {"containers": [{"name": "a", "image": "b"}]}}
    status, body = request(server, "POST", "/api/v1/namespaces/default/configmaps", pod)
    assert status == 400, body
    status, _ = request(server, "GET", "/api/v1/namespaces/default/configmaps/notacm")
    assert status == 404
    deployment = {"apiVersion": "apps/v9", "kind": "Deployment", "metadata": {"name": "v9"}}
    status, body = request(server, "POST", "/apis/apps/v1/namespaces/default/deployments", deployment)
    assert status == 400 and "apps/v9" in body["message"]


def test_numeric_resource_version_is_compared(server):
    status, created = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("numeric"))
    stale = dict(created)
    stale["metadata"] = dict(created["metadata"], resourceVersion=1)
    status, body = request(server, "PUT", "/api/v1/namespaces/default/configmaps/numeric", stale)
    assert status == 409, body


def test_bad_resource_version_on_list_is_400(server):
    status, body = request(server, "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=abc")
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = request(server, "GET", "/api/v1/namespaces/default/configmaps?limit=ten")
    assert status == 400


# 18. Defaults kubectl describe shows, and the init-container status column.
def test_probe_and_container_defaults(server):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probed"},
           "spec": {"containers": [{"name": "a", "image": "busybox:1", "ports": [{"containerPort": 80}],
                                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]}}
    status, created = request(server, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 201
    probe = created["spec"]["containers"][0]["readinessProbe"]
    assert (probe["timeoutSeconds"], probe["periodSeconds"], probe["successThreshold"], probe["failureThreshold"]) == (1, 10, 1, 3)
    assert probe["httpGet"]["scheme"] == "HTTP"
    assert created["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"
    described = server.kubectl("describe", "pod", "probed").stdout
    assert "timeout=1s period=10s #success=1 #failure=3" in described


def test_failed_init_container_shows_init_error(server):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "initfail"},
           "spec": {"initContainers": [{"name": "setup", "image": "busybox:1"}],
                    "containers": [{"name": "main", "image": "busybox:1"}], "restartPolicy": "Never"}}
    request(server, "POST", "/api/v1/namespaces/default/pods", pod)
    status = {"status": {"phase": "Failed", "conditions": [{"type": "Initialized", "status": "False"}],
                         "initContainerStatuses": [{"name": "setup", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}],
                         "containerStatuses": [{"name": "main", "state": {"waiting": {"reason": "PodInitializing"}}}]}}
    code, _ = request(server, "PATCH", "/api/v1/namespaces/default/pods/initfail/status", status,
                      content_type="application/merge-patch+json")
    assert code == 200
    line = server.kubectl("get", "pod", "initfail", "--no-headers").stdout
    assert line.split()[2] == "Init:Error", line


def test_field_types_are_checked_against_the_kubernetes_schema(server):
    status, body = request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap("typed", {"a": 1}))
    assert status == 422 and body["reason"] == "Invalid", body
    assert [c["field"] for c in body["details"]["causes"]] == ["data[a]"] or [c["field"] for c in body["details"]["causes"]] == ["data.a"], body
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typed"},
           "spec": {"containers": [{"name": "a", "image": "b", "ports": [{"containerPort": "80"}]}]}}
    status, body = request(server, "POST", "/api/v1/namespaces/default/pods", pod)
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "spec.containers[0].ports[0].containerPort"
    assert 'must be of type integer: "string"' in body["details"]["causes"][0]["message"]
    for name in ["typed"]:
        assert request(server, "GET", f"/api/v1/namespaces/default/configmaps/{name}")[0] == 404
    # Unknown fields still round-trip, and an IntOrString takes either.
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "typed", "x-extra": {"kept": True}},
               "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"name": "b", "port": 81, "targetPort": 8081}]}}
    status, created = request(server, "POST", "/api/v1/namespaces/default/services", service)
    assert status == 201, created
    assert created["metadata"]["x-extra"] == {"kept": True}


def test_field_selectors_name_only_the_fields_a_kind_declares(server):
    """As kube-apiserver's field label conversion: metadata.name/namespace for every kind, the
    kind's own fields (pods: spec.nodeName, status.phase, …; events: involvedObject.*), and a
    400 naming any other field rather than a silently empty list."""
    for name, data in (("fs-a", {"k": "a"}), ("fs-b", {"k": "b"})):
        assert request(server, "POST", "/api/v1/namespaces/default/configmaps", configmap(name, data))[0] == 201
    status, body = request(server, "GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dfs-a")
    assert status == 200 and [item["metadata"]["name"] for item in body["items"]] == ["fs-a"]
    status, body = request(server, "GET", "/api/v1/namespaces/default/configmaps?fieldSelector=data.k%3Da")
    assert status == 400, body
    assert body["reason"] == "BadRequest" and body["message"] == "field label not supported: data.k"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fs-pod"},
           "spec": {"nodeName": "nowhere", "containers": [{"name": "c", "image": "x"}]}}
    assert request(server, "POST", "/api/v1/namespaces/default/pods", pod)[0] == 201
    status, body = request(server, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnowhere,status.phase%3DPending")
    assert status == 200 and [item["metadata"]["name"] for item in body["items"]] == ["fs-pod"]
    assert request(server, "GET", "/api/v1/pods?fieldSelector=spec.containers%3Dx")[0] == 400
    assert request(server, "GET", "/api/v1/events?fieldSelector=involvedObject.name%3Dfs-pod")[0] == 200
    # kubectl's own use: `kubectl get pods --field-selector`.
    listed = server.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=nowhere", "-o", "name").stdout.split()
    assert listed == ["pod/fs-pod"]
    refused = server.kubectl("get", "pods", "--field-selector", "spec.bogus=1", check=False)
    assert refused.returncode != 0 and "field label not supported: spec.bogus" in refused.stderr


def test_kubectl_explain_prints_kubernetes_own_descriptions(server):
    """/openapi/v3 serves Kubernetes' own schemas of the served kinds (from its OpenAPI
    definitions, generated by scripts/generate-openapi-schemas.py), so `kubectl explain` prints
    what it prints against any cluster."""
    explained = server.kubectl("explain", "pod.spec.containers.image").stdout
    assert "FIELD: image <string>" in explained
    assert "Container image name." in explained and "https://kubernetes.io/docs/concepts/containers/images" in explained
    strategy = server.kubectl("explain", "deployment.spec.strategy").stdout
    assert "GROUP:      apps" in strategy and "The deployment strategy to use to replace existing pods" in strategy
    assert "backoffLimit" in server.kubectl("explain", "job.spec").stdout
    status, document = request(server, "GET", "/openapi/v3/api/v1")
    assert status == 200
    pod = document["components"]["schemas"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "version": "v1", "kind": "Pod"}]
    containers = document["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name" and containers["type"] == "array"
    patch = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]["requestBody"]["content"]
    assert "application/strategic-merge-patch+json" in patch
    status, swagger = request(server, "GET", "/openapi/v2")
    assert status == 200 and swagger["swagger"] == "2.0"
    spec = swagger["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"}]
    # The same definitions check what is stored: a wrong type is a 422 naming the field.
    refused = server.kubectl("create", "-f", "-", check=False,
                             input="apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: \"x\"}\n")
    assert refused.returncode != 0
    assert 'The Pod "bad" is invalid: spec.containers: Invalid value: "x"' in refused.stderr, refused.stderr


def test_kubectl_applies_a_list_validated_against_the_protobuf_openapi_v2(server):
    """kubectl checks the items of a `kind: List` itself, against /openapi/v2 in gnostic's
    protobuf (what it asks there): a List applies, and a wrong field in one item is named."""
    applied = server.kubectl("apply", "-f", "-", input="""apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed-a}, data: {x: "1"}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed-b}}
""").stdout
    assert "configmap/listed-a created" in applied and "configmap/listed-b created" in applied
    assert json.loads(server.kubectl("get", "configmap", "listed-a", "-o", "json").stdout)["data"] == {"x": "1"}
    refused = server.kubectl("apply", "-f", "-", check=False, input="""apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: listed-c}, bogus: 3}
""")
    assert refused.returncode != 0
    assert 'unknown field "bogus" in io.k8s.api.core.v1.ConfigMap' in refused.stderr, refused.stderr
    assert server.kubectl("get", "configmap", "listed-c", check=False).returncode != 0


def test_a_kind_added_by_one_file_is_served_like_the_others(server):
    """PriorityClass is one file in Sources/FairKube/Kinds and one line in the catalog: discovery,
    create, get with its columns, explain and its checks follow from it."""
    status, groups = request(server, "GET", "/apis")
    assert "scheduling.k8s.io" in [group["name"] for group in groups["groups"]]
    status, resources = request(server, "GET", "/apis/scheduling.k8s.io/v1")
    assert status == 200
    [listed] = [r for r in resources["resources"] if r["name"] == "priorityclasses"]
    assert listed["kind"] == "PriorityClass" and listed["namespaced"] is False and listed["shortNames"] == ["pc"]
    server.kubectl("create", "-f", "-", input="apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
                                              "metadata: {name: training-high}\nvalue: 100000\ndescription: long jobs\n")
    table = server.kubectl("get", "pc", "training-high").stdout.splitlines()
    assert table[0].split() == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    assert table[1].split()[:3] == ["training-high", "100000", "false"] and table[1].split()[-1] == "PreemptLowerPriority"
    explained = server.kubectl("explain", "priorityclass.value").stdout
    assert "FIELD: value <integer>" in explained and "actual priority that pods receive" in explained
    missing = server.kubectl("create", "-f", "-", check=False,
                             input="apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: nothing}\n")
    assert missing.returncode != 0 and "value: Required value" in missing.stderr, missing.stderr
