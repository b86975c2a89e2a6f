"""`fair server` driven by pykube-ng (the newest from PyPI, in a venv of its own): version, list,
create, watch (and resume), logs, server-side tables, delete. Pods run a static busybox image from
the server's embedded registry."""
import json

import pytest

from client_cluster import cluster, namespace  # noqa: F401  (fixtures)
from client_venvs import client_python


@pytest.fixture(scope="module")
def pykube_client():
    return client_python("pykube-ng")


PRELUDE = r'''
import pykube
NS = ARGS.get("ns")
api = pykube.HTTPClient(pykube.KubeConfig.from_file(ARGS["kubeconfig"]))

def printing(count, pause):
    return f"i=1; while [ $i -le {count} ]; do echo line-$i; i=$((i+1)); sleep {pause}; done"

def pod_object(name, script):
    return pykube.Pod(api, {"apiVersion": "v1", "kind": "Pod",
                            "metadata": {"name": name, "namespace": NS, "labels": {"app": "pykube"}},
                            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                     "containers": [{"name": "main", "image": ARGS["image"],
                                                     "command": ["sh", "-c", script]}]}})

def wait_phase(pod, phases, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod.reload()
        if pod.obj.get("status", {}).get("phase") in phases:
            break
        time.sleep(0.25)
    return pod.obj.get("status", {}).get("phase")

def make_namespace():
    pykube.Namespace(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}).create()

def failure():
    return traceback.format_exc()[-3000:]
'''


def run(client, cluster, script, **args):
    return client.run(PRELUDE + script, timeout=180, kubeconfig=cluster.kubeconfig, image=cluster.image, **args)


VERSION = r'''
try:
    emit({"version": list(api.version)})
except Exception:
    emit({"error": failure()})
'''


def test_version(pykube_client, cluster):
    result = run(pykube_client, cluster, VERSION)
    assert "error" not in result, (f"{result['error']}\nGET /version/ (what pykube asks for): "
                                   f"{cluster.raw('GET', '/version/')}")
    major, minor = result["version"]
    assert major == "1" and minor.rstrip("+").isdigit(), result


CREATE_LIST_LOGS_DELETE = r'''
result = {}
try:
    make_namespace()
    pod = pod_object("printer", printing(3, 0))
    pod.create()
    result["listed"] = [p.name for p in pykube.Pod.objects(api).filter(namespace=NS)]
    result["by_label"] = [p.name for p in pykube.Pod.objects(api).filter(namespace=NS, selector={"app": "pykube"})]
    result["by_other_label"] = [p.name for p in pykube.Pod.objects(api).filter(namespace=NS, selector={"app": "nope"})]
    table = pykube.Pod.objects(api).filter(namespace=NS).as_table()
    result["table_columns"] = [c["name"] for c in table.columns]
    result["table_names"] = [row["cells"][0] for row in table.rows]
    result["phase"] = wait_phase(pod, ("Succeeded", "Failed"))
    result["logs"] = pod.logs()
    result["tail"] = pod.logs(tail_lines=1)
    pod.delete()
    deadline = time.monotonic() + 60
    while pod.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    result["exists_after_delete"] = pod.exists()
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_create_list_table_logs_and_delete_a_pod(pykube_client, cluster, namespace):
    result = run(pykube_client, cluster, CREATE_LIST_LOGS_DELETE, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    assert result["listed"] == ["printer"] and result["by_label"] == ["printer"] and result["by_other_label"] == [], explain
    assert result["table_columns"][:5] == ["Name", "Ready", "Status", "Restarts", "Age"], explain
    assert result["table_names"] == ["printer"], explain
    assert result["phase"] == "Succeeded", explain
    assert result["logs"] == "line-1\nline-2\nline-3\n", explain
    assert result["tail"] == "line-3\n", explain
    assert result["exists_after_delete"] is False, explain


WATCH = r'''
result = {"events": [], "resumed": []}

def collect(query, name, into):
    for event in query:
        into.append({"type": event.type, "class": type(event.object).__name__, "name": event.object.name,
                     "rv": event.object.obj["metadata"].get("resourceVersion"),
                     "phase": event.object.obj.get("status", {}).get("phase")})
        if (event.object.name == name and into[-1]["phase"] in ("Succeeded", "Failed")) or len(into) > 50:
            break

try:
    make_namespace()
    start = pykube.Pod.objects(api).filter(namespace=NS).response["metadata"]["resourceVersion"]
    pod_object("watched", "echo watched").create()
    collect(pykube.Pod.objects(api).filter(namespace=NS).watch(since=start), "watched", result["events"])
    pod_object("later", "echo later").create()
    collect(pykube.Pod.objects(api).filter(namespace=NS).watch(since=result["events"][-1]["rv"]), "later",
            result["resumed"])
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_watch_pods_and_resume(pykube_client, cluster, namespace):
    result = run(pykube_client, cluster, WATCH, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    events, resumed = result["events"], result["resumed"]
    assert (events[0]["type"], events[0]["name"], events[0]["class"]) == ("ADDED", "watched", "Pod"), explain
    assert {event["type"] for event in events[1:]} <= {"MODIFIED"}, explain
    assert events[-1]["phase"] == "Succeeded", explain
    seen = {(event["name"], event["rv"]) for event in events}
    assert resumed and all((event["name"], event["rv"]) not in seen for event in resumed), explain
    assert (resumed[0]["type"], resumed[0]["name"]) == ("ADDED", "later") and resumed[-1]["phase"] == "Succeeded", explain
