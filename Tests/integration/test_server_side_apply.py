"""Server-side apply (PATCH with Content-Type application/apply-patch+yaml) checked against what
kube-apiserver 1.32 and sigs.k8s.io/structured-merge-diff v4.4.2 do: managedFields, conflicts and
their messages, shared ownership, --force-conflicts, removal of dropped fields, associative and atomic
lists, Update managers (kubectl create/patch/label/set/scale), dry run, request checks, and the
examples of the Kubernetes documentation page "Server-Side Apply"
(kubernetes/website content/en/docs/reference/using-api/server-side-apply.md and the manifests under
content/en/examples/application/ssa/). Driven by kubectl 1.32 and by raw HTTP; every test works in a
namespace of its own and judges stored objects (a node-less server: no pod ever runs)."""
import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import fair_binary
from server_harness import FairServer

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
# kubectl's own text after the server's conflict message (staging/src/k8s.io/kubectl/pkg/cmd/apply/apply.go);
# kubectl adds it only when the answer is a 409 with reason Conflict.
KUBECTL_CONFLICT_HINT = "Please review the fields above--they currently have other managers. Here\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("ssa") / "data", extra=["--no-node"]).start()
    yield server
    server.stop()


@pytest.fixture
def ns(server):
    name = f"ssa-{uuid.uuid4().hex[:10]}"
    status, body = http(server, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status == 201, body
    return name


def http(server, method, path, body=None, content_type="application/json", headers=()):
    """(status, parsed JSON body) of one request with the cluster's token. A str body goes as is
    (YAML for apply), a dict or list as JSON."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, method=method, data=data)
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", f"Bearer {server.token}")
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30, context=server.ssl_context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def cm_path(ns, name):
    return f"/api/v1/namespaces/{ns}/configmaps/{name}"


def deploy_path(ns, name):
    return f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"


def get(server, path):
    status, obj = http(server, "GET", path)
    assert status == 200, obj
    return obj


def configmap(name, data=None, labels=None, **metadata):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}}
    if labels is not None:
        obj["metadata"]["labels"] = labels
    if data is not None:
        obj["data"] = data
    return obj


def apply(server, ns, manifest, *flags, check=True):
    """kubectl apply --server-side of a manifest (YAML text, or a dict sent as JSON)."""
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    return server.kubectl("apply", "--server-side", "-n", ns, "-f", "-", *flags, input=text, check=check)


def managed(obj, *managers):
    """An object's managedFields as {(manager, operation): fieldsV1}, with the subresource as a third
    member of the key when the entry has one. With `managers`, only their entries: a Deployment also
    gets entries from the server's own controllers, which these tests do not judge."""
    result = {}
    for entry in obj["metadata"].get("managedFields", []):
        if managers and entry["manager"] not in managers:
            continue
        key = (entry["manager"], entry["operation"]) + ((entry["subresource"],) if entry.get("subresource") else ())
        assert key not in result, f"two managedFields entries for {key}: {obj['metadata']['managedFields']}"
        result[key] = entry["fieldsV1"]
    return result


def entry_of(obj, manager, operation):
    [entry] = [e for e in obj["metadata"].get("managedFields", []) if (e["manager"], e["operation"]) == (manager, operation)]
    return entry


def assert_conflict(result, message):
    """kubectl apply refused with a conflict: the server's message, then kubectl's hint, exit 1."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}\n{KUBECTL_CONFLICT_HINT}"), result.stderr


# The documentation's ConfigMap example ("Field management" and "Operations in scope"): applied by
# kubectl, its Apply entry holds exactly the applied fields.
TEST_CM = configmap("test-cm", {"key": "some value"}, labels={"test-label": "test"})
TEST_CM_FIELDS = {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}

# content/en/examples/application/ssa/nginx-deployment.yaml
NGINX_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app.kubernetes.io/name: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: nginx
  template:
    metadata:
      labels:
        app.kubernetes.io/name: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
"""
# content/en/examples/application/ssa/nginx-deployment-no-replicas.yaml
NGINX_DEPLOYMENT_NO_REPLICAS = NGINX_DEPLOYMENT.replace("  replicas: 3\n", "")
assert NGINX_DEPLOYMENT_NO_REPLICAS != NGINX_DEPLOYMENT
# The page's inline nginx-deployment-replicas-only.yaml ("Transferring ownership").
NGINX_DEPLOYMENT_REPLICAS_ONLY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
spec:
  replicas: 3
"""
NGINX_CONTAINER = 'k:{"name":"nginx"}'
# The selector is a LabelSelector (+structType=atomic): owned whole, as "f:selector": {}. Containers
# are a map list keyed by name: an item has a "." member for the item itself.
NO_REPLICAS_FIELDS = {
    "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
    "f:spec": {"f:selector": {},
               "f:template": {"f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
                              "f:spec": {"f:containers": {NGINX_CONTAINER: {".": {}, "f:image": {}, "f:name": {}}}}}},
}
NGINX_FIELDS = {**NO_REPLICAS_FIELDS, "f:spec": {"f:replicas": {}, **NO_REPLICAS_FIELDS["f:spec"]}}


def deployment(name="nginx-deployment", **spec):
    """A partial Deployment, as a second manager applies one: only the fields it has an opinion on.
    No spec at all when none is given: an empty map in an applied configuration is itself owned."""
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}}
    if spec:
        obj["spec"] = spec
    return obj


def containers(*items):
    return {"template": {"spec": {"containers": list(items)}}}


def template_fields(containers_fields):
    return {"f:spec": {"f:template": {"f:spec": {"f:containers": containers_fields}}}}


# --- Creating and re-applying ------------------------------------------------------------------

def test_apply_creates_the_object_with_one_apply_entry_and_get_hides_it(server, ns):
    result = apply(server, ns, TEST_CM)
    assert result.stdout == "configmap/test-cm serverside-applied\n"
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "some value"} and stored["metadata"]["labels"] == {"test-label": "test"}
    [entry] = stored["metadata"]["managedFields"]
    # name, namespace, apiVersion and kind are never in a set; no "." for struct or map fields.
    assert set(entry) == {"manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"}, entry
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["fieldsType"]) == ("kubectl", "Apply", "v1", "FieldsV1")
    assert re.fullmatch(TIME, entry["time"]), entry
    assert entry["fieldsV1"] == TEST_CM_FIELDS

    # `kubectl get` omits managedFields unless --show-managed-fields is given (the page's note).
    shown = json.loads(server.kubectl("get", "configmap", "test-cm", "-n", ns, "-o", "json").stdout)
    assert "managedFields" not in shown["metadata"] and shown["data"] == stored["data"]
    shown = json.loads(server.kubectl("get", "configmap", "test-cm", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
    assert shown["metadata"]["managedFields"] == stored["metadata"]["managedFields"]


def test_reapplying_the_same_configuration_writes_nothing(server, ns):
    apply(server, ns, TEST_CM)
    before = get(server, cm_path(ns, "test-cm"))
    # kube-apiserver does not write an unchanged object: same resourceVersion, same entry time.
    assert apply(server, ns, TEST_CM).stdout == "configmap/test-cm serverside-applied\n"
    assert get(server, cm_path(ns, "test-cm")) == before

    # A changed value is written, and the same manager keeps one entry with the same fields.
    apply(server, ns, configmap("test-cm", {"key": "other value"}, labels={"test-label": "test"}))
    after = get(server, cm_path(ns, "test-cm"))
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    assert after["data"] == {"key": "other value"}
    assert managed(after) == {("kubectl", "Apply"): TEST_CM_FIELDS}


def test_apply_of_the_documented_minimal_intent_changes_nothing(server, ns):
    # "Serialization": {"apiVersion": "v1", "kind": "ConfigMap"} as the body of an apply patch of a
    # ConfigMap "would make a no-change update". An empty intent gives its manager no entry.
    apply(server, ns, TEST_CM)
    before = get(server, cm_path(ns, "test-cm"))
    status, body = http(server, "PATCH", cm_path(ns, "test-cm") + "?fieldManager=nobody",
                        '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap"\n}', content_type=APPLY)
    assert status == 200, body
    assert body == before
    assert get(server, cm_path(ns, "test-cm")) == before


# --- Conflicts -----------------------------------------------------------------------------------

def test_a_conflicting_apply_is_refused_and_changes_nothing(server, ns):
    apply(server, ns, TEST_CM)
    before = get(server, cm_path(ns, "test-cm"))
    result = apply(server, ns, configmap("test-cm", {"key": "new value"}), "--field-manager=other", check=False)
    assert_conflict(result, 'Apply failed with 1 conflict: conflict with "kubectl": .data.key')
    assert get(server, cm_path(ns, "test-cm")) == before

    # The Status itself (k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go): causes of
    # reason FieldManagerConflict, no name or kind in the details.
    status, body = http(server, "PATCH", cm_path(ns, "test-cm") + "?fieldManager=other",
                        configmap("test-cm", {"key": "new value"}), content_type=APPLY)
    assert status == 409
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'Apply failed with 1 conflict: conflict with "kubectl": .data.key',
                    "reason": "Conflict",
                    "details": {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"',
                                            "field": ".data.key"}]},
                    "code": 409}
    assert get(server, cm_path(ns, "test-cm")) == before


def test_several_conflicts_are_listed_by_manager(server, ns):
    apply(server, ns, TEST_CM)
    result = apply(server, ns, configmap("test-cm", {"key": "new value"}, labels={"test-label": "other"}),
                   "--field-manager=other", check=False)
    assert_conflict(result, 'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .data.key\n- .metadata.labels.test-label')

    # Two owners, one of them an Update manager: managers in sorted order, each with its paths.
    apply(server, ns, configmap("pair", {"a": "1", "b": "1"}))
    server.kubectl("patch", "configmap", "pair", "-n", ns, "--type=merge", "-p", '{"data":{"b":"2"}}')
    message = ('Apply failed with 2 conflicts: conflicts with "kubectl":\n- .data.a\n'
               'conflicts with "kubectl-patch" using v1:\n- .data.b')
    assert_conflict(apply(server, ns, configmap("pair", {"a": "9", "b": "9"}), "--field-manager=other", check=False), message)
    status, body = http(server, "PATCH", cm_path(ns, "pair") + "?fieldManager=other",
                        configmap("pair", {"a": "9", "b": "9"}), content_type=APPLY)
    assert status == 409 and body["reason"] == "Conflict" and body["message"] == message
    assert sorted(body["details"]["causes"], key=lambda cause: cause["field"]) == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"', "field": ".data.a"},
        {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl-patch" using v1', "field": ".data.b"}]
    assert get(server, cm_path(ns, "pair"))["data"] == {"a": "1", "b": "2"}


def test_applying_the_same_value_shares_ownership(server, ns):
    apply(server, ns, TEST_CM)
    apply(server, ns, configmap("test-cm", {"key": "some value"}), "--field-manager=other")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "some value"}
    assert managed(stored) == {("kubectl", "Apply"): TEST_CM_FIELDS, ("other", "Apply"): {"f:data": {"f:key": {}}}}
    # "Any subsequent attempt to change the value of the shared field, by any of the appliers,
    # results in a conflict."
    assert_conflict(apply(server, ns, configmap("test-cm", {"key": "changed"}), "--field-manager=other", check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl": .data.key')
    assert_conflict(apply(server, ns, configmap("test-cm", {"key": "changed"}, labels={"test-label": "test"}), check=False),
                    'Apply failed with 1 conflict: conflict with "other": .data.key')
    assert get(server, cm_path(ns, "test-cm")) == stored


def test_force_conflicts_takes_the_fields_and_empty_entries_disappear(server, ns):
    apply(server, ns, TEST_CM)
    apply(server, ns, configmap("test-cm", {"key": "forced"}), "--field-manager=other", "--force-conflicts")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "forced"}
    # The conflicting field leaves kubectl's set; the label stays kubectl's.
    assert managed(stored) == {("kubectl", "Apply"): {"f:metadata": {"f:labels": {"f:test-label": {}}}},
                               ("other", "Apply"): {"f:data": {"f:key": {}}}}
    # Now kubectl's own configuration conflicts with the new owner.
    assert_conflict(apply(server, ns, TEST_CM, check=False), 'Apply failed with 1 conflict: conflict with "other": .data.key')

    # Forcing the label too leaves kubectl nothing: its entry is removed, not kept empty.
    apply(server, ns, configmap("test-cm", {"key": "forced"}, labels={"test-label": "taken"}), "--field-manager=other",
          "--force-conflicts")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["metadata"]["labels"] == {"test-label": "taken"}
    assert managed(stored) == {("other", "Apply"): {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}}


def test_the_documented_ways_to_resolve_a_conflict_without_force(server, ns):
    apply(server, ns, TEST_CM)
    assert_conflict(apply(server, ns, configmap("test-cm", {"key": "mine", "own": "x"}), "--field-manager=other", check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl": .data.key')
    # "Don't overwrite value, give up management claim": leave the field out.
    apply(server, ns, configmap("test-cm", {"own": "x"}), "--field-manager=other")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "some value", "own": "x"}
    assert managed(stored) == {("kubectl", "Apply"): TEST_CM_FIELDS, ("other", "Apply"): {"f:data": {"f:own": {}}}}
    # "Don't overwrite value, become shared manager": take the live value.
    apply(server, ns, configmap("test-cm", {"key": "some value", "own": "x"}), "--field-manager=other")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "some value", "own": "x"}
    assert managed(stored) == {("kubectl", "Apply"): TEST_CM_FIELDS,
                               ("other", "Apply"): {"f:data": {"f:key": {}, "f:own": {}}}}


# --- Fields left out of a configuration ------------------------------------------------------------

def test_a_dropped_field_is_removed_from_the_object(server, ns):
    apply(server, ns, configmap("drop", {"a": "1", "b": "2"}, labels={"x": "1"}))
    apply(server, ns, configmap("drop", {"a": "1"}))
    stored = get(server, cm_path(ns, "drop"))
    assert stored["data"] == {"a": "1"}
    assert "labels" not in stored["metadata"]
    assert managed(stored) == {("kubectl", "Apply"): {"f:data": {"f:a": {}}}}


def test_transferring_ownership_between_managers(server, ns):
    # "Transferring ownership between managers": share the field, then the old owner leaves it out;
    # the value stays because the other manager still owns it.
    apply(server, ns, configmap("handover", {"a": "1", "b": "2"}))
    apply(server, ns, configmap("handover", {"b": "2"}), "--field-manager=new-owner")
    apply(server, ns, configmap("handover", {"a": "1"}))
    stored = get(server, cm_path(ns, "handover"))
    assert stored["data"] == {"a": "1", "b": "2"}
    assert managed(stored) == {("kubectl", "Apply"): {"f:data": {"f:a": {}}}, ("new-owner", "Apply"): {"f:data": {"f:b": {}}}}
    # The new sole owner changes it without a conflict.
    apply(server, ns, configmap("handover", {"b": "3"}), "--field-manager=new-owner")
    assert get(server, cm_path(ns, "handover"))["data"] == {"a": "1", "b": "3"}


def test_finalizers_are_a_set_merged_between_managers(server, ns):
    apply(server, ns, configmap("guarded", {"k": "v"}, finalizers=["example.com/first"]))
    apply(server, ns, configmap("guarded", finalizers=["example.com/second"]), "--field-manager=other")
    stored = get(server, cm_path(ns, "guarded"))
    assert stored["metadata"]["finalizers"] == ["example.com/first", "example.com/second"]
    # Set items are named by value ("v:"), each owned by whoever applied it.
    assert managed(stored) == {
        ("kubectl", "Apply"): {"f:data": {"f:k": {}}, "f:metadata": {"f:finalizers": {'v:"example.com/first"': {}}}},
        ("other", "Apply"): {"f:metadata": {"f:finalizers": {'v:"example.com/second"': {}}}}}
    apply(server, ns, configmap("guarded", {"k": "v"}))
    assert get(server, cm_path(ns, "guarded"))["metadata"]["finalizers"] == ["example.com/second"]


# --- Update managers (POST, PUT and non-apply PATCH) ---------------------------------------------------

def test_an_update_takes_the_field_and_a_later_apply_conflicts_with_it(server, ns):
    # The page's second example: an Update by kube-controller-manager changed data.key, which moved
    # the field to it; "if this update has instead been attempted using Server-Side Apply, the request
    # would have failed". kubectl patch --field-manager names the Update manager as the example does.
    apply(server, ns, TEST_CM)
    server.kubectl("patch", "configmap", "test-cm", "-n", ns, "--type=merge", "-p", '{"data":{"key":"new value"}}',
                   "--field-manager=kube-controller-manager")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "new value"} and stored["metadata"]["labels"] == {"test-label": "test"}
    assert managed(stored) == {("kubectl", "Apply"): {"f:metadata": {"f:labels": {"f:test-label": {}}}},
                               ("kube-controller-manager", "Update"): {"f:data": {"f:key": {}}}}
    update = entry_of(stored, "kube-controller-manager", "Update")
    assert (update["apiVersion"], update["fieldsType"]) == ("v1", "FieldsV1") and re.fullmatch(TIME, update["time"])
    # Entries are sorted by operation first: Apply before Update.
    assert [entry["operation"] for entry in stored["metadata"]["managedFields"]] == ["Apply", "Update"]

    assert_conflict(apply(server, ns, TEST_CM, check=False),
                    'Apply failed with 1 conflict: conflict with "kube-controller-manager" using v1: .data.key')
    assert get(server, cm_path(ns, "test-cm")) == stored


def test_kubectl_create_is_an_update_by_kubectl_create(server, ns):
    server.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(configmap("made", {"key": "created"}, labels={"team": "a"})))
    stored = get(server, cm_path(ns, "made"))
    # An Update owns what it changed; a map it brought into being also gets its "." member.
    created_fields = {"f:data": {".": {}, "f:key": {}}, "f:metadata": {"f:labels": {".": {}, "f:team": {}}}}
    assert managed(stored) == {("kubectl-create", "Update"): created_fields}
    assert_conflict(apply(server, ns, configmap("made", {"key": "applied"}), check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.key')
    # The same values: shared, and the creator keeps its entry as it was.
    apply(server, ns, configmap("made", {"key": "created"}, labels={"team": "a"}))
    assert managed(get(server, cm_path(ns, "made"))) == {
        ("kubectl-create", "Update"): created_fields,
        ("kubectl", "Apply"): {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:team": {}}}}}


def test_kubectl_patch_and_label_take_fields_from_the_applier(server, ns):
    apply(server, ns, TEST_CM)
    server.kubectl("patch", "configmap", "test-cm", "-n", ns, "--type=merge", "-p", '{"data":{"key":"patched"}}')
    stored = get(server, cm_path(ns, "test-cm"))
    assert managed(stored) == {("kubectl", "Apply"): {"f:metadata": {"f:labels": {"f:test-label": {}}}},
                               ("kubectl-patch", "Update"): {"f:data": {"f:key": {}}}}
    assert_conflict(apply(server, ns, TEST_CM, check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.key')

    # kubectl label takes the label; kubectl's Apply entry, left with nothing, disappears.
    server.kubectl("label", "configmap", "test-cm", "-n", ns, "test-label=relabelled", "--overwrite")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["metadata"]["labels"] == {"test-label": "relabelled"}
    assert managed(stored) == {("kubectl-patch", "Update"): {"f:data": {"f:key": {}}},
                               ("kubectl-label", "Update"): {"f:metadata": {"f:labels": {"f:test-label": {}}}}}
    assert_conflict(apply(server, ns, TEST_CM, check=False),
                    'Apply failed with 2 conflicts: conflicts with "kubectl-label" using v1:\n- .metadata.labels.test-label\n'
                    'conflicts with "kubectl-patch" using v1:\n- .data.key')

    # Forcing takes both back and empties both Update entries.
    apply(server, ns, TEST_CM, "--force-conflicts")
    stored = get(server, cm_path(ns, "test-cm"))
    assert stored["data"] == {"key": "some value"} and stored["metadata"]["labels"] == {"test-label": "test"}
    assert managed(stored) == {("kubectl", "Apply"): TEST_CM_FIELDS}


def test_an_update_without_field_manager_is_named_after_the_user_agent(server, ns):
    apply(server, ns, TEST_CM)
    status, body = http(server, "PATCH", cm_path(ns, "test-cm"), {"data": {"key": "robot"}}, content_type=MERGE,
                        headers=[("User-Agent", "ssa-robot/2.0 (linux/amd64) build/abc")])
    assert status == 200, body
    assert managed(body) == {("kubectl", "Apply"): {"f:metadata": {"f:labels": {"f:test-label": {}}}},
                             ("ssa-robot", "Update"): {"f:data": {"f:key": {}}}}
    # An update that changes nothing records nothing and writes nothing.
    status, again = http(server, "PATCH", cm_path(ns, "test-cm"), {"data": {"key": "robot"}}, content_type=MERGE,
                         headers=[("User-Agent", "other-robot/1.0")])
    assert status == 200 and again == body


def test_clearing_managed_fields_as_documented(server, ns):
    # "Clearing managedFields": a patch that sets the list to one empty entry strips them all.
    apply(server, ns, TEST_CM)
    status, body = http(server, "PATCH", cm_path(ns, "test-cm"), {"metadata": {"managedFields": [{}]}}, content_type=MERGE)
    assert status == 200, body
    assert "managedFields" not in body["metadata"]
    assert "managedFields" not in get(server, cm_path(ns, "test-cm"))["metadata"]
    # With no managedFields left, non-apply writes are not tracked until the next apply
    # (skipNonAppliedManager in k8s.io/apimachinery/pkg/util/managedfields/internal).
    status, body = http(server, "PATCH", cm_path(ns, "test-cm") + "?fieldManager=patcher", {"data": {"key": "patched"}},
                        content_type=MERGE)
    assert status == 200 and body["data"] == {"key": "patched"} and "managedFields" not in body["metadata"]
    # That apply first gives every existing field to an Update manager "before-first-apply", so a
    # different value conflicts with it, and the live value is shared.
    assert_conflict(apply(server, ns, TEST_CM, check=False),
                    'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.key')
    apply(server, ns, configmap("test-cm", {"key": "patched"}, labels={"test-label": "test"}))
    stored = get(server, cm_path(ns, "test-cm"))
    assert managed(stored) == {
        ("kubectl", "Apply"): TEST_CM_FIELDS,
        ("before-first-apply", "Update"): {"f:data": {".": {}, "f:key": {}}, "f:metadata": {"f:labels": {".": {}, "f:test-label": {}}}}}

    # The page's JSON patch form does the same.
    status, body = http(server, "PATCH", cm_path(ns, "test-cm"),
                        [{"op": "replace", "path": "/metadata/managedFields", "value": [{}]}], content_type=JSON_PATCH)
    assert status == 200, body
    assert "managedFields" not in get(server, cm_path(ns, "test-cm"))["metadata"]


# --- Deployments: the documentation's nginx example, associative and atomic lists -----------------------

def test_the_documented_deployment_is_created_by_apply(server, ns):
    result = apply(server, ns, NGINX_DEPLOYMENT)
    assert result.stdout == "deployment.apps/nginx-deployment serverside-applied\n"
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 3
    assert [(c["name"], c["image"]) for c in stored["spec"]["template"]["spec"]["containers"]] == [("nginx", "nginx:1.14.2")]
    # Defaults are set on the created object but owned by no one.
    assert stored["spec"]["revisionHistoryLimit"] == 10
    assert stored["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert managed(stored, "kubectl") == {("kubectl", "Apply"): NGINX_FIELDS}
    assert entry_of(stored, "kubectl", "Apply")["apiVersion"] == "apps/v1"


def test_containers_merge_by_name_between_managers(server, ns):
    apply(server, ns, NGINX_DEPLOYMENT)
    sidecar = deployment(**containers({"name": "sidecar", "image": "busybox:1.36"}))
    apply(server, ns, sidecar, "--field-manager=sidecar-injector")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert [(c["name"], c["image"]) for c in stored["spec"]["template"]["spec"]["containers"]] == [
        ("nginx", "nginx:1.14.2"), ("sidecar", "busybox:1.36")]
    sidecar_fields = template_fields({'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}})
    assert managed(stored, "kubectl", "sidecar-injector") == {("kubectl", "Apply"): NGINX_FIELDS,
                                                              ("sidecar-injector", "Apply"): sidecar_fields}
    # kubectl's configuration does not name the sidecar: re-applying it leaves the sidecar alone.
    apply(server, ns, NGINX_DEPLOYMENT)
    assert [c["name"] for c in get(server, deploy_path(ns, "nginx-deployment"))["spec"]["template"]["spec"]["containers"]] == [
        "nginx", "sidecar"]
    # Ownership is per field of an item: another image for kubectl's container conflicts on that field.
    result = apply(server, ns, deployment(**containers({"name": "sidecar", "image": "busybox:1.36"},
                                                       {"name": "nginx", "image": "nginx:1.16.1"})),
                   "--field-manager=sidecar-injector", check=False)
    assert_conflict(result, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.template.spec.containers[name="nginx"].image')
    # A manager that stops naming its item removes it; its emptied entry goes too.
    apply(server, ns, deployment(), "--field-manager=sidecar-injector")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert [c["name"] for c in stored["spec"]["template"]["spec"]["containers"]] == ["nginx"]
    assert managed(stored, "kubectl", "sidecar-injector") == {("kubectl", "Apply"): NGINX_FIELDS}


def test_env_and_ports_merge_item_by_item_inside_a_container(server, ns):
    base = deployment(selector={"matchLabels": {"app": "web"}},
                      template={"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2",
                                                         "env": [{"name": "A", "value": "1"}],
                                                         "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}})
    apply(server, ns, base)
    apply(server, ns, deployment(**containers({"name": "nginx", "env": [{"name": "B", "value": "2"}],
                                               "ports": [{"containerPort": 8080, "protocol": "TCP"}]})),
          "--field-manager=metrics")
    [container] = get(server, deploy_path(ns, "nginx-deployment"))["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.14.2"
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 8080, "protocol": "TCP"}]
    # env is keyed by name, ports by containerPort and protocol (key fields in name order).
    assert managed(get(server, deploy_path(ns, "nginx-deployment")), "metrics") == {("metrics", "Apply"): template_fields({
        NGINX_CONTAINER: {".": {}, "f:name": {},
                          "f:env": {'k:{"name":"B"}': {".": {}, "f:name": {}, "f:value": {}}},
                          "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}, "f:protocol": {}}}}})}
    # Changing kubectl's env item is a conflict on that item's field only.
    result = apply(server, ns, deployment(**containers({"name": "nginx", "env": [{"name": "A", "value": "changed"}]})),
                   "--field-manager=metrics", check=False)
    assert_conflict(result, 'Apply failed with 1 conflict: conflict with "kubectl": '
                            '.spec.template.spec.containers[name="nginx"].env[name="A"].value')


def test_an_atomic_list_is_owned_and_replaced_whole(server, ns):
    base = deployment(selector={"matchLabels": {"app": "web"}},
                      template={"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "args": ["--first", "--second"]}]}})
    apply(server, ns, base)
    kubectl_fields = managed(get(server, deploy_path(ns, "nginx-deployment")), "kubectl")[("kubectl", "Apply")]
    # args is +listType=atomic: one member for the whole list, nothing per item.
    assert kubectl_fields["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        NGINX_CONTAINER: {".": {}, "f:args": {}, "f:image": {}, "f:name": {}}}

    tuned = deployment(**containers({"name": "nginx", "args": ["--third"]}))
    assert_conflict(apply(server, ns, tuned, "--field-manager=tuner", check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl": .spec.template.spec.containers[name="nginx"].args')
    apply(server, ns, tuned, "--field-manager=tuner", "--force-conflicts")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    # Replaced, not merged item by item.
    assert stored["spec"]["template"]["spec"]["containers"][0]["args"] == ["--third"]
    owners = managed(stored, "kubectl", "tuner")
    assert owners[("kubectl", "Apply")]["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        NGINX_CONTAINER: {".": {}, "f:image": {}, "f:name": {}}}
    assert owners[("tuner", "Apply")] == template_fields({NGINX_CONTAINER: {".": {}, "f:args": {}, "f:name": {}}})
    assert_conflict(apply(server, ns, base, check=False),
                    'Apply failed with 1 conflict: conflict with "tuner": .spec.template.spec.containers[name="nginx"].args')


def test_kubectl_set_image_conflicts_using_apps_v1(server, ns):
    apply(server, ns, NGINX_DEPLOYMENT)
    server.kubectl("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.16.1", "-n", ns)
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.16.1"
    assert managed(stored, "kubectl-set") == {("kubectl-set", "Update"): template_fields({NGINX_CONTAINER: {"f:image": {}}})}
    assert entry_of(stored, "kubectl-set", "Update")["apiVersion"] == "apps/v1"
    assert_conflict(apply(server, ns, NGINX_DEPLOYMENT, check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl-set" using apps/v1: '
                    '.spec.template.spec.containers[name="nginx"].image')


# --- "Transferring ownership" of replicas, with kubectl scale standing in for the HPA controller ------------------
# kubectl scale sends a merge patch to the scale subresource without fieldManager, so its manager is
# kubectl's User-Agent prefix, "kubectl", recorded as an Update with subresource "scale" and the
# Deployment's apiVersion (k8s.io/apimachinery/pkg/util/managedfields/scalehandler.go).

SCALE_OWNER = ("kubectl", "Update", "scale")
REPLICAS = {"f:spec": {"f:replicas": {}}}


def replicas(server, ns):
    return get(server, deploy_path(ns, "nginx-deployment"))["spec"]["replicas"]


def test_dropping_replicas_without_a_handover_falls_back_to_the_default(server, ns):
    # The race the page warns of: nobody else owns replicas, so it is removed and defaulted to 1.
    apply(server, ns, NGINX_DEPLOYMENT)
    apply(server, ns, NGINX_DEPLOYMENT_NO_REPLICAS)
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 1
    assert managed(stored, "kubectl") == {("kubectl", "Apply"): NO_REPLICAS_FIELDS}


def test_replicas_conflict_once_the_controller_owns_them_then_can_be_dropped(server, ns):
    # The basic solution: keep replicas until the controller writes them; the next apply conflicts,
    # and then the field can leave the configuration without a change.
    apply(server, ns, NGINX_DEPLOYMENT)
    server.kubectl("scale", "deployment", "nginx-deployment", "-n", ns, "--replicas=5")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 5
    assert managed(stored, "kubectl") == {("kubectl", "Apply"): NO_REPLICAS_FIELDS, SCALE_OWNER: REPLICAS}
    scale_entry = [e for e in stored["metadata"]["managedFields"] if e.get("subresource") == "scale"][0]
    assert scale_entry["apiVersion"] == "apps/v1"

    assert_conflict(apply(server, ns, NGINX_DEPLOYMENT, check=False),
                    'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas')
    assert replicas(server, ns) == 5
    apply(server, ns, NGINX_DEPLOYMENT_NO_REPLICAS)
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 5
    assert managed(stored, "kubectl") == {("kubectl", "Apply"): NO_REPLICAS_FIELDS, SCALE_OWNER: REPLICAS}


def test_replicas_handover_through_a_private_field_manager(server, ns):
    # The advanced solution, step by step as the page gives it.
    apply(server, ns, NGINX_DEPLOYMENT)
    apply(server, ns, NGINX_DEPLOYMENT_REPLICAS_ONLY, "--field-manager=handover-to-hpa", "--validate=false")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert managed(stored, "kubectl", "handover-to-hpa") == {("kubectl", "Apply"): NGINX_FIELDS,
                                                             ("handover-to-hpa", "Apply"): REPLICAS}
    # Now replicas can leave the user's manifest: the temporary manager keeps it at 3, not 1.
    apply(server, ns, NGINX_DEPLOYMENT_NO_REPLICAS)
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 3
    assert managed(stored, "kubectl", "handover-to-hpa") == {("kubectl", "Apply"): NO_REPLICAS_FIELDS,
                                                             ("handover-to-hpa", "Apply"): REPLICAS}
    # "Whenever the HPA controller sets the replicas field to a new value, the temporary field
    # manager will no longer own any fields and will be automatically deleted."
    server.kubectl("scale", "deployment", "nginx-deployment", "-n", ns, "--replicas=5")
    stored = get(server, deploy_path(ns, "nginx-deployment"))
    assert stored["spec"]["replicas"] == 5
    assert managed(stored, "kubectl", "handover-to-hpa") == {("kubectl", "Apply"): NO_REPLICAS_FIELDS, SCALE_OWNER: REPLICAS}
    # The user's manifest keeps applying cleanly and leaves the controller's value alone.
    apply(server, ns, NGINX_DEPLOYMENT_NO_REPLICAS)
    assert replicas(server, ns) == 5


# --- Dry run ---------------------------------------------------------------------------------------------

def test_server_dry_run_apply_changes_nothing(server, ns):
    apply(server, ns, TEST_CM)
    before = get(server, cm_path(ns, "test-cm"))
    result = apply(server, ns, configmap("test-cm", {"key": "dry value"}, labels={"test-label": "test"}),
                   "--dry-run=server", "-o", "json", "--show-managed-fields")
    # The answer is the object as it would be...
    would_be = json.loads(result.stdout)
    assert would_be["data"] == {"key": "dry value"}
    assert managed(would_be) == {("kubectl", "Apply"): TEST_CM_FIELDS}
    # ...and nothing is stored.
    assert get(server, cm_path(ns, "test-cm")) == before

    result = apply(server, ns, configmap("never-made", {"k": "v"}), "--dry-run=server")
    assert result.stdout == "configmap/never-made serverside-applied (server dry run)\n"
    status, body = http(server, "GET", cm_path(ns, "never-made"))
    assert status == 404, body

    # A dry run still finds conflicts.
    result = apply(server, ns, configmap("test-cm", {"key": "other"}), "--field-manager=other", "--dry-run=server", check=False)
    assert_conflict(result, 'Apply failed with 1 conflict: conflict with "kubectl": .data.key')
    assert get(server, cm_path(ns, "test-cm")) == before


# --- Raw HTTP: YAML bodies, status codes, request checks --------------------------------------------------

YAML_CM = """\
# YAML, not JSON: a comment, a block scalar, plain scalars
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-yaml
  labels:
    origin: raw-http
data:
  script: |
    echo one
    echo two
  plain: just text
"""


def test_a_yaml_body_creates_with_201_then_updates_with_200(server, ns):
    path = cm_path(ns, "from-yaml") + "?fieldManager=raw-yaml"
    status, created = http(server, "PATCH", path, YAML_CM, content_type=APPLY)
    assert status == 201, created
    assert created["data"] == {"script": "echo one\necho two\n", "plain": "just text"}
    assert managed(created) == {("raw-yaml", "Apply"): {"f:data": {"f:plain": {}, "f:script": {}},
                                                        "f:metadata": {"f:labels": {"f:origin": {}}}}}
    assert get(server, cm_path(ns, "from-yaml")) == created

    status, same = http(server, "PATCH", path, YAML_CM, content_type=APPLY)
    assert status == 200 and same == created

    # Parameters of the Content-Type are ignored, as kube-apiserver strips them.
    status, changed = http(server, "PATCH", path, YAML_CM.replace("just text", "other text"),
                           content_type=APPLY + "; charset=utf-8")
    assert status == 200, changed
    assert changed["data"]["plain"] == "other text"
    assert changed["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]


def test_apply_requires_a_valid_field_manager(server, ns):
    status, body = http(server, "PATCH", cm_path(ns, "unnamed"), YAML_CM.replace("from-yaml", "unnamed"), content_type=APPLY)
    assert status == 422
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                    "reason": "Invalid",
                    "details": {"group": "meta.k8s.io", "kind": "PatchOptions",
                                "causes": [{"reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
                                            "field": "fieldManager"}]},
                    "code": 422}
    assert http(server, "GET", cm_path(ns, "unnamed"))[0] == 404

    status, body = http(server, "PATCH", cm_path(ns, "unnamed") + "?fieldManager=" + "m" * 129,
                        YAML_CM.replace("from-yaml", "unnamed"), content_type=APPLY)
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'

    # force belongs to apply alone.
    apply(server, ns, TEST_CM)
    status, body = http(server, "PATCH", cm_path(ns, "test-cm") + "?force=true", {"data": {"key": "x"}}, content_type=MERGE)
    assert status == 422 and body["reason"] == "Invalid"
    assert body["message"] == 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'
    assert get(server, cm_path(ns, "test-cm"))["data"] == {"key": "some value"}


def test_apply_bodies_that_are_refused(server, ns):
    apply(server, ns, TEST_CM)
    before = get(server, cm_path(ns, "test-cm"))
    path = cm_path(ns, "test-cm") + "?fieldManager=other"
    refused = [
        # "when using the Apply operation you cannot define managedFields in the body"
        (dict(TEST_CM, metadata={**TEST_CM["metadata"], "managedFields": [{"manager": "x", "operation": "Apply"}]}),
         "metadata.managedFields must be nil"),
        # (no data: a changed value would be a conflict with kubectl first)
        (configmap("elsewhere"), "the name of the object (elsewhere) does not match the name on the URL (test-cm)"),
        ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "test-cm"}}, "invalid object type: /v1, Kind=Secret"),
    ]
    for body, message in refused:
        status, answer = http(server, "PATCH", path, body, content_type=APPLY)
        assert (status, answer.get("reason"), answer.get("message")) == (400, "BadRequest", message), answer
    assert get(server, cm_path(ns, "test-cm")) == before


def test_kubectl_moves_a_client_side_applied_object_to_server_side_apply(server, ns):
    # kubectl apply --server-side on an object made by client-side apply first rewrites its
    # managedFields itself (a JSON patch: kubectl-client-side-apply's fields become kubectl's apply
    # fields), so the move neither conflicts nor leaves fields behind that the new config drops.
    server.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(configmap("moved", {"key": "one", "other": "two"})))
    before = get(server, cm_path(ns, "moved"))
    assert set(managed(before)) == {("kubectl-client-side-apply", "Update")}, managed(before)
    apply(server, ns, configmap("moved", {"key": "one"}))
    after = get(server, cm_path(ns, "moved"))
    assert after["data"] == {"key": "one"}
    owners = managed(after)
    assert owners[("kubectl", "Apply")] == {"f:data": {"f:key": {}}}, owners
    assert ("kubectl-client-side-apply", "Update") not in owners, owners
