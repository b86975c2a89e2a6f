"""StatefulSets and DaemonSets on the bundled server, driven with kubectl: a StatefulSet's pods
come up one at a time in ordinal order with stable names, each with its own claim; a deleted pod
comes back under its name to the data it wrote; `kubectl get`/`scale` work as against any
cluster; a DaemonSet runs one pod on every node, the server's own and two `fair node`s."""
import json
import time
from pathlib import Path

import pytest

from conftest import fair_binary, Fair, FIXTURES
from server_harness import FairNode, wait_for


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/examples/sets:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/sets@{built['digest']}"


def get(cluster, *args):
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def apply(cluster, manifest):
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def is_ready(pod):
    return pod.get("status", {}).get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


# Writes the pod's ordinal (and the hostname it was given) to its claim the first time, and on
# every start says whether it found it there.
IDENTITY = """
import os, socket, time
name = os.environ["POD_NAME"]
path = "/data/identity"
found = os.path.exists(path)
if not found:
    with open(path, "w") as f:
        f.write(name.rsplit("-", 1)[1] + " " + socket.gethostname())
print(("found " if found else "wrote ") + open(path).read(), flush=True)
time.sleep(3600)
"""


def stateful_set(image, replicas=3):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"}, "spec": {
        "replicas": replicas, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": image, "command": ["python3", "-u", "-c", IDENTITY],
                            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}


def claim_file(cluster, claim):
    """What the pod wrote to its claim, read from the volume's directory; None until then."""
    bound = get(cluster, "pvc", claim)
    if bound["status"].get("phase") != "Bound":
        return None
    path = Path(get(cluster, "pv", bound["spec"]["volumeName"])["spec"]["hostPath"]["path"]) / "identity"
    return path.read_text() if path.exists() else None


def test_a_stateful_set_comes_up_in_order_and_a_pod_comes_back_to_its_claim(cluster, python_image):
    apply(cluster, stateful_set(python_image))
    # Watched while it comes up: a pod exists only once every lower ordinal is Running and Ready.
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pods = {p["metadata"]["name"]: p for p in get(cluster, "pods", "-l", "app=web")["items"]}
        names = sorted(pods)
        assert names == [f"web-{i}" for i in range(len(names))], names
        for lower in names[:-1]:
            assert is_ready(pods[lower]), f"{names[-1]} exists while {lower} is not ready"
        if names and names not in seen:
            seen.append(names)
        if len(names) == 3 and all(is_ready(p) for p in pods.values()):
            break
        time.sleep(0.1)
    # Each poll saw a prefix of the ordinals whose lower pods were all ready (checked above); a
    # poll can miss a step that comes and goes between two of them, so only the ends are fixed.
    assert seen[-1] == ["web-0", "web-1", "web-2"], seen
    assert all(len(a) < len(b) for a, b in zip(seen, seen[1:])), seen
    pods = {p["metadata"]["name"]: p for p in get(cluster, "pods", "-l", "app=web")["items"]}
    created = [pods[f"web-{i}"]["metadata"]["creationTimestamp"] for i in range(3)]
    assert created == sorted(created)
    for i in range(3):
        pod = pods[f"web-{i}"]
        assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == str(i)
        assert pod["spec"]["hostname"] == f"web-{i}" and pod["spec"]["subdomain"] == "web"
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v]
        assert claims == [f"data-web-{i}"]
        assert wait_for(lambda: claim_file(cluster, f"data-web-{i}"), timeout=30, what=f"data-web-{i} written") == f"{i} web-{i}"

    status = wait_for(lambda: (s := get(cluster, "sts", "web")["status"]).get("readyReplicas") == 3 and s, timeout=30, what="status")
    assert status["replicas"] == 3 and status["currentReplicas"] == 3 and status["updatedReplicas"] == 3
    assert status["currentRevision"] == status["updateRevision"] and status["updateRevision"].startswith("web-")
    table = cluster.kubectl("get", "sts").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "AGE"] and table[1].split()[:2] == ["web", "3/3"]
    wide = cluster.kubectl("get", "statefulsets", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"] and wide[1].split()[3:] == ["main", python_image]

    # Pod web-1 deleted: it is made again under its name, on its claim, and finds what it wrote.
    before = pods["web-1"]["metadata"]["uid"]
    claim_uid = get(cluster, "pvc", "data-web-1")["metadata"]["uid"]
    cluster.kubectl("delete", "pod", "web-1", "--wait=true")
    again = wait_for(lambda: next((p for p in get(cluster, "pods", "-l", "app=web")["items"]
                                   if p["metadata"]["name"] == "web-1" and p["metadata"]["uid"] != before and is_ready(p)), None),
                     timeout=60, what="web-1 back and ready")
    assert [v["persistentVolumeClaim"]["claimName"] for v in again["spec"]["volumes"] if "persistentVolumeClaim" in v] == ["data-web-1"]
    assert get(cluster, "pvc", "data-web-1")["metadata"]["uid"] == claim_uid
    wait_for(lambda: "found 1 web-1" in cluster.kubectl("logs", "web-1").stdout, timeout=30, what="web-1 finding its data")

    # kubectl scale goes through the scale subresource; the claim of the removed pod stays.
    cluster.kubectl("scale", "sts", "web", "--replicas=2")
    wait_for(lambda: sorted(p["metadata"]["name"] for p in get(cluster, "pods", "-l", "app=web")["items"]) == ["web-0", "web-1"],
             timeout=60, what="web-2 removed")
    assert sorted(c["metadata"]["name"] for c in get(cluster, "pvc")["items"]) == ["data-web-0", "data-web-1", "data-web-2"]
    assert cluster.kubectl("get", "sts", "web", "-o", "jsonpath={.spec.replicas}").stdout == "2"
    cluster.kubectl("delete", "sts", "web", "--wait=true")
    wait_for(lambda: not get(cluster, "pods", "-l", "app=web")["items"], timeout=60, what="the set's pods gone")


def test_a_daemon_set_runs_one_pod_on_every_node(cluster, python_image, tmp_path):
    extra = [FairNode(fair_binary(), cluster.kubeconfig, name, tmp_path / name, cidr).start()
             for name, cidr in (("sets-node-1", "127.27.0.0/16"), ("sets-node-2", "127.28.0.0/16"))]
    try:
        def ready_nodes():
            nodes = get(cluster, "nodes")["items"]
            ready = {n["metadata"]["name"] for n in nodes
                     if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))}
            return len(nodes) == 3 and len(ready) == 3 and ready
        nodes = wait_for(ready_nodes, timeout=60, what="3 ready nodes")
        apply(cluster, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "agent", "image": python_image,
                                "command": ["python3", "-c", "import time; time.sleep(3600)"]}]}}}})

        def running():
            pods = get(cluster, "pods", "-l", "app=agent")["items"]
            return len(pods) == 3 and all(is_ready(p) for p in pods) and pods
        pods = wait_for(running, timeout=90, what="a running agent on each node")
        assert {p["spec"]["nodeName"] for p in pods} == nodes
        for pod in pods:
            terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]}]

        wait_for(lambda: get(cluster, "ds", "agent")["status"].get("numberAvailable") == 3, timeout=30, what="3 available")
        table = cluster.kubectl("get", "ds").stdout.splitlines()
        assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE", "SELECTOR", "AGE"]
        assert table[1].split()[:7] == ["agent", "3", "3", "3", "3", "3", "<none>"]
        wide = cluster.kubectl("get", "daemonsets", "-o", "wide").stdout.splitlines()[0].split()
        assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
        cluster.kubectl("delete", "ds", "agent", "--wait=true")
        wait_for(lambda: not get(cluster, "pods", "-l", "app=agent")["items"], timeout=60, what="the agents gone")
    finally:
        for node in extra:
            node.stop()
            node.remove_containers()
