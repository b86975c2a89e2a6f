"""`fair server` driven by lightkube (the newest from PyPI, in a venv of its own): create, list,
watch, follow logs, delete, and its typed error for a missing object. Pods run a static busybox
image from the server's embedded registry."""
import json

import pytest

from client_cluster import cluster, namespace  # noqa: F401  (fixtures)
from client_venvs import client_python


@pytest.fixture(scope="module")
def lightkube_client():
    return client_python("lightkube")


PRELUDE = r'''
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.core_v1 import Container, PodSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod
NS = ARGS.get("ns")
kube = Client(config=KubeConfig.from_file(ARGS["kubeconfig"]))

def printing(count, pause):
    return f"i=1; while [ $i -le {count} ]; do echo line-$i; i=$((i+1)); sleep {pause}; done"

def pod_object(name, script):
    return Pod(metadata=ObjectMeta(name=name, namespace=NS, labels={"app": "lightkube"}),
               spec=PodSpec(restartPolicy="Never", terminationGracePeriodSeconds=1,
                            containers=[Container(name="main", image=ARGS["image"], command=["sh", "-c", script])]))

def wait_phase(name, phases, timeout=120):
    deadline = time.monotonic() + timeout
    phase = None
    while time.monotonic() < deadline:
        phase = kube.get(Pod, name, namespace=NS).status.phase
        if phase in phases:
            break
        time.sleep(0.25)
    return phase

def failure():
    return traceback.format_exc()[-3000:]
'''


def run(client, cluster, script, **args):
    return client.run(PRELUDE + script, timeout=180, kubeconfig=cluster.kubeconfig, image=cluster.image, **args)


CREATE_LIST_LOGS_DELETE = r'''
result = {}
try:
    kube.create(Namespace(metadata=ObjectMeta(name=NS)))
    created = kube.create(pod_object("printer", printing(6, 1)))
    result["created"] = [created.metadata.name, created.metadata.namespace, bool(created.metadata.uid)]
    result["listed"] = [p.metadata.name for p in kube.list(Pod, namespace=NS)]
    result["by_label"] = [p.metadata.name for p in kube.list(Pod, namespace=NS, labels={"app": "lightkube"})]
    result["phase_before"] = wait_phase("printer", ("Running", "Succeeded", "Failed"))
    started = time.monotonic()
    result["followed"] = [(line, round(time.monotonic() - started, 2)) for line in kube.log("printer", namespace=NS, follow=True)]
    result["phase_after"] = wait_phase("printer", ("Succeeded", "Failed"))
    kube.delete(Pod, "printer", namespace=NS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            kube.get(Pod, "printer", namespace=NS)
            time.sleep(0.25)
        except ApiError as error:
            result["after_delete"] = [error.status.code, error.status.reason]
            break
    try:
        kube.get(ConfigMap, "missing", namespace=NS)
    except ApiError as error:
        result["missing"] = {"code": error.status.code, "reason": error.status.reason,
                             "message": error.status.message,
                             "details": [error.status.details.name, error.status.details.kind] if error.status.details else None}
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_create_list_follow_logs_and_delete_a_pod(lightkube_client, cluster, namespace):
    result = run(lightkube_client, cluster, CREATE_LIST_LOGS_DELETE, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    assert result["created"] == ["printer", namespace, True], explain
    assert result["listed"] == ["printer"] and result["by_label"] == ["printer"], explain
    assert result["phase_before"] == "Running", explain
    assert [line for line, _ in result["followed"]] == [f"line-{i}\n" for i in range(1, 7)], explain
    times = [at for _, at in result["followed"]]
    assert times[-1] - times[0] >= 3, f"the lines did not arrive as they were printed: {explain}"
    assert result["phase_after"] == "Succeeded", explain
    assert result["after_delete"] == [404, "NotFound"], explain
    assert result["missing"] == {"code": 404, "reason": "NotFound", "message": 'configmaps "missing" not found',
                                 "details": ["missing", "configmaps"]}, explain


WATCH = r'''
result = {"events": [], "resumed": []}

def collect(name, into, resource_version):
    for op, obj in kube.watch(Pod, namespace=NS, resource_version=resource_version, server_timeout=30):
        into.append({"type": op, "class": type(obj).__name__, "name": obj.metadata.name,
                     "rv": obj.metadata.resourceVersion, "phase": obj.status.phase if obj.status else None})
        if (obj.metadata.name == name and into[-1]["phase"] in ("Succeeded", "Failed")) or len(into) > 50:
            break

try:
    kube.create(Namespace(metadata=ObjectMeta(name=NS)))
    start = kube.list(Pod, namespace=NS)
    list(start)
    kube.create(pod_object("watched", "echo watched"))
    collect("watched", result["events"], start.resourceVersion)
    kube.create(pod_object("later", "echo later"))
    collect("later", result["resumed"], result["events"][-1]["rv"])
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_watch_pods_and_resume(lightkube_client, cluster, namespace):
    result = run(lightkube_client, cluster, WATCH, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    events, resumed = result["events"], result["resumed"]
    assert (events[0]["type"], events[0]["name"], events[0]["class"]) == ("ADDED", "watched", "Pod"), explain
    assert {event["type"] for event in events[1:]} <= {"MODIFIED"}, explain
    assert events[-1]["phase"] == "Succeeded", explain
    seen = {(event["name"], event["rv"]) for event in events}
    assert resumed and all((event["name"], event["rv"]) not in seen for event in resumed), explain
    assert (resumed[0]["type"], resumed[0]["name"]) == ("ADDED", "later") and resumed[-1]["phase"] == "Succeeded", explain


SERVER_SIDE_APPLY = r'''
result = {}

def config(data):
    # apiVersion and kind belong in an apply body; older lightkube releases do not add them.
    return ConfigMap(apiVersion="v1", kind="ConfigMap", metadata=ObjectMeta(name="applied", namespace=NS), data=data)

def owners(obj):
    return sorted([entry.manager, entry.operation, entry.fieldsV1] for entry in obj.metadata.managedFields)

try:
    kube.create(Namespace(metadata=ObjectMeta(name=NS)))
    created = kube.apply(config({"key": "one", "other": "kept"}), field_manager="lightkube-test")
    result["created"] = [created.data, owners(created)]
    changed = kube.apply(config({"key": "two", "other": "kept"}), field_manager="lightkube-test")
    result["changed"] = [changed.data, owners(changed), changed.metadata.resourceVersion != created.metadata.resourceVersion]
    try:
        kube.apply(config({"key": "three"}), field_manager="lightkube-rival")
        result["conflict"] = None
    except ApiError as error:
        result["conflict"] = {"code": error.status.code, "reason": error.status.reason, "message": error.status.message,
                              "causes": [[cause.reason, cause.message, cause.field] for cause in error.status.details.causes]}
    result["after_conflict"] = kube.get(ConfigMap, "applied", namespace=NS).data
    forced = kube.apply(config({"key": "three"}), field_manager="lightkube-rival", force=True)
    result["forced"] = [forced.data, owners(forced)]
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_server_side_apply_conflict_and_force(lightkube_client, cluster, namespace):
    result = run(lightkube_client, cluster, SERVER_SIDE_APPLY, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    test_fields = {"f:data": {"f:key": {}, "f:other": {}}}
    assert result["created"] == [{"key": "one", "other": "kept"}, [["lightkube-test", "Apply", test_fields]]], explain
    assert result["changed"] == [{"key": "two", "other": "kept"}, [["lightkube-test", "Apply", test_fields]], True], explain
    # A second manager changing the first one's field: 409 Conflict, as kube-apiserver words it.
    assert result["conflict"] == {
        "code": 409, "reason": "Conflict",
        "message": 'Apply failed with 1 conflict: conflict with "lightkube-test": .data.key',
        "causes": [["FieldManagerConflict", 'conflict with "lightkube-test"', ".data.key"]]}, explain
    assert result["after_conflict"] == {"key": "two", "other": "kept"}, explain
    # force=True takes the field; "other", which the rival left out, stays the first manager's.
    assert result["forced"] == [{"key": "three", "other": "kept"},
                                [["lightkube-rival", "Apply", {"f:data": {"f:key": {}}}],
                                 ["lightkube-test", "Apply", {"f:data": {"f:other": {}}}]]], explain
