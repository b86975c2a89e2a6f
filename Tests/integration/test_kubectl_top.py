"""`kubectl top` against a real `fair server`: metrics.k8s.io/v1beta1 answers from the node
agent's cgroup readings, the way metrics-server answers on a real cluster. A pod that spins gets
CPU in the hundreds of millicores, a pod holding 100 MiB shows about that much memory, an idle
one little of either; selectors, single objects and RBAC behave as kubectl expects."""
import json
import re
import time

import pytest
from conftest import Fair
from server_harness import wait_for

BURN = "import time\nwhile True:\n    pass\n"
HOLD = "import time\nheld = b'x' * (100 << 20)\ntime.sleep(1000000)\n"
IDLE = "import time\ntime.sleep(1000000)\n"


@pytest.fixture(scope="module")
def pods(cluster, base_image, tmp_path_factory):
    for name, program in (("burn", BURN), ("hold", HOLD), ("idle", IDLE)):
        project = tmp_path_factory.mktemp(name)
        (project / "main.py").write_text(program)
        (project / "fair.yaml").write_text(f"name: {name}\nentrypoint: main.py\n")
        built = json.loads(Fair(tmp_path_factory.mktemp("home")).run(
            "build", project, "--base", f"oci-archive:{base_image}", "--push", f"{cluster.registry}/top/{name}:v1",
            "--output-format", "json", env=cluster.registry_env).stdout)
        cluster.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "top", "role": name}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                {"name": "main", "image": f"{cluster.registry}/top/{name}@{built['digest']}"}]}}))
    for name in ("burn", "hold", "idle"):
        wait_for(lambda: cluster.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout == "Running",
                 timeout=180, what=f"pod {name} running")
    # Two readings (5 s apart) make a rate; a few more let the memory holder fill its bytes.
    wait_for(lambda: len(top_pods(cluster)) == 3, timeout=90, what="metrics of all three pods")
    time.sleep(6)
    return cluster


def top_pods(cluster, *args):
    """{name: (millicores, MiB)} from `kubectl top pod` (empty while metrics are not available yet)."""
    result = cluster.kubectl("top", "pod", "--no-headers", *args, check=False)
    rows = {}
    for line in result.stdout.splitlines():
        name, cpu, memory = line.split()[:3]
        rows[name] = (int(cpu.rstrip("m")), int(memory.rstrip("Mi")))
    return rows


def test_top_pod_shows_cpu_and_memory_as_the_pods_use_them(pods):
    rows = top_pods(pods)
    assert set(rows) == {"burn", "hold", "idle"}, rows
    burn_cpu, _ = rows["burn"]
    hold_cpu, hold_memory = rows["hold"]
    idle_cpu, idle_memory = rows["idle"]
    assert burn_cpu >= 250, rows  # a spinning loop gets most of a core, even on a busy 2-core machine
    assert idle_cpu < 50 and hold_cpu < 50, rows
    assert 95 <= hold_memory <= 140, rows  # 100 MiB held, plus the interpreter
    assert idle_memory < 40, rows


def test_top_node_shows_the_node_s_pods_together(pods):
    result = pods.kubectl("top", "node", "--no-headers")
    name, cpu, cpu_percent, memory, memory_percent = result.stdout.split()
    assert name == pods.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    assert int(cpu.rstrip("m")) >= 250 and cpu_percent.endswith("%"), result.stdout
    assert int(memory.rstrip("Mi")) >= 100 and memory_percent.endswith("%"), result.stdout


def test_selectors_single_pods_and_containers(pods):
    assert set(top_pods(pods, "-l", "role=hold")) == {"hold"}
    assert set(top_pods(pods, "idle")) == {"idle"}
    containers = pods.kubectl("top", "pod", "burn", "--containers", "--no-headers").stdout.split()
    assert containers[:2] == ["burn", "main"], containers
    missing = pods.kubectl("top", "pod", "nope", check=False)
    assert missing.returncode != 0 and 'pods "nope" not found' in missing.stderr, missing.stderr


def test_the_metrics_objects_have_metrics_server_s_shape(pods):
    item = json.loads(pods.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/hold").stdout)
    assert (item["kind"], item["apiVersion"]) == ("PodMetrics", "metrics.k8s.io/v1beta1")
    assert item["metadata"]["name"] == "hold" and item["metadata"]["labels"] == {"app": "top", "role": "hold"}
    assert re.fullmatch(r"\d+(\.\d+)?s", item["window"]), item["window"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["timestamp"]), item["timestamp"]
    [container] = item["containers"]
    assert container["name"] == "main" and re.fullmatch(r"\d+[num]?", container["usage"]["cpu"]), container
    assert re.fullmatch(r"\d+(Ki|Mi|Gi)?", container["usage"]["memory"]), container
    nodes = json.loads(pods.kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes").stdout)
    assert nodes["kind"] == "NodeMetricsList" and len(nodes["items"]) == 1, nodes
    groups = json.loads(pods.kubectl("get", "--raw", "/apis").stdout)["groups"]
    metrics = [group for group in groups if group["name"] == "metrics.k8s.io"]
    assert metrics and metrics[0]["preferredVersion"]["version"] == "v1beta1", metrics
    # Read-only: anything but get and list is refused.
    refused = pods.kubectl("delete", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/hold", check=False)
    assert refused.returncode != 0 and "does not allow this method" in refused.stderr, refused.stderr


def test_view_may_top_pods_and_nobody_else(pods):
    pods.kubectl("create", "serviceaccount", "viewer")
    pods.kubectl("create", "serviceaccount", "stranger")
    pods.kubectl("create", "rolebinding", "viewer-view", "--clusterrole=view", "--serviceaccount=default:viewer")
    viewer = pods.kubectl("create", "token", "viewer").stdout.strip()
    stranger = pods.kubectl("create", "token", "stranger").stdout.strip()
    allowed = pods.kubectl("--token", viewer, "top", "pod", "hold", "--no-headers")
    assert allowed.stdout.split()[0] == "hold"
    refused = pods.kubectl("--token", stranger, "top", "pod", "hold", check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower() and "metrics.k8s.io" in refused.stderr, refused.stderr
