"""The whole bundled control plane with real containers: fair-built images in the embedded registry,
the scheduler, the controllers and node agents running them under runc, checked with kubectl."""
import json
import os
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import fair_binary, Fair, FIXTURES, run
from server_harness import FairServer, FairNode, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("cluster") / "data",
                        extra=["--node-monitor-grace-period", "6"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def trainer_image(cluster, base_image, tmp_path_factory):
    """The plain-Python fixture built on the debootstrap base and pushed to the embedded registry."""
    home = tmp_path_factory.mktemp("fair-home")
    reference = f"{cluster.registry}/examples/linear:v1"
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", reference, "--output-format", "json", env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/linear@{built['digest']}"


def apply(cluster, manifest):
    cluster.kubectl("apply", "-f", "-", input=manifest)


def job_status(cluster, name):
    return json.loads(cluster.kubectl("get", "job", name, "-o", "json").stdout)["status"]


def job_condition(cluster, name):
    for condition in job_status(cluster, name).get("conditions", []):
        if condition["status"] == "True" and condition["type"] in ("Complete", "Failed"):
            return condition
    return None


def pods(cluster, selector, namespace="default"):
    return json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout)["items"]


JOB = """
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  backoffLimit: {backoff}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: {image}
{extra}
"""


def test_node_registers_and_reports_ready(cluster):
    nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert len(nodes) == 1
    node = nodes[0]
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert int(node["status"]["capacity"]["cpu"]) == os.cpu_count()
    assert "runc" in node["status"]["nodeInfo"]["containerRuntimeVersion"]
    assert " Ready " in cluster.kubectl("get", "nodes").stdout


def test_job_from_a_fair_image_runs_under_runc_to_complete(cluster, trainer_image):
    apply(cluster, JOB.format(name="train-linear", backoff=2, image=trainer_image, extra=""))
    condition = wait_for(lambda: job_condition(cluster, "train-linear"), timeout=180, what="job train-linear to finish")
    assert condition["type"] == "Complete", condition
    status = job_status(cluster, "train-linear")
    assert status["succeeded"] == 1 and status.get("failed", 0) == 0
    [pod] = pods(cluster, "job-name=train-linear")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["podIP"].startswith("127.")
    [container] = pod["status"]["containerStatuses"]
    assert container["state"]["terminated"]["exitCode"] == 0
    assert container["containerID"].startswith("runc://")
    logs = cluster.kubectl("logs", "job/train-linear").stdout
    assert "trained on" in logs and "for 200 epochs" in logs, logs
    described = cluster.kubectl("describe", "pod", pod["metadata"]["name"]).stdout
    assert "Succeeded" in described and trainer_image.split("@")[0] in described


def test_failing_job_is_retried_backoff_limit_times_then_failed(cluster, trainer_image):
    extra = """        command: ["python3", "-c", "import sys; print('the loss went to nan'); sys.exit(3)"]"""
    apply(cluster, JOB.format(name="train-broken", backoff=2, image=trainer_image, extra=extra))
    condition = wait_for(lambda: job_condition(cluster, "train-broken"), timeout=240, what="job train-broken to fail")
    assert condition["type"] == "Failed" and condition["reason"] == "BackoffLimitExceeded", condition
    attempts = pods(cluster, "job-name=train-broken")
    assert len(attempts) == 3, [p["metadata"]["name"] for p in attempts]
    for pod in attempts:
        assert pod["status"]["phase"] == "Failed"
        assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    assert job_status(cluster, "train-broken")["failed"] == 3
    assert "the loss went to nan" in cluster.kubectl("logs", attempts[0]["metadata"]["name"]).stdout


def test_logs_follow_streams_until_the_container_exits(cluster, trainer_image):
    script = "import time\\nfor i in range(4):\\n    print(f'epoch {i}', flush=True)\\n    time.sleep(0.7)\\n"
    extra = f"""        command: ["python3", "-c", "{script}"]"""
    apply(cluster, JOB.format(name="follow-me", backoff=0, image=trainer_image, extra=extra))
    pod = wait_for(lambda: [p for p in pods(cluster, "job-name=follow-me")
                            if p["status"].get("phase") == "Running"], what="pod to run")[0]
    started = time.monotonic()
    followed = cluster.kubectl("logs", "-f", pod["metadata"]["name"], timeout=60).stdout
    assert [line for line in followed.splitlines() if line.startswith("epoch")] == [f"epoch {i}" for i in range(4)]
    assert time.monotonic() - started < 30
    tail = cluster.kubectl("logs", pod["metadata"]["name"], "--tail", "1").stdout
    assert tail.strip() == "epoch 3"


def test_logs_carry_a_time_per_line_and_honour_since_and_limit_bytes(cluster, trainer_image):
    script = ("import sys, time\\nfor i in range(6):\\n    print(f'line {i}', flush=True)\\n"
              "    print(f'err {i}', file=sys.stderr, flush=True)\\n    time.sleep(0.6)\\n")
    extra = f"""        command: ["python3", "-c", "{script}"]"""
    apply(cluster, JOB.format(name="stamped", backoff=0, image=trainer_image, extra=extra))
    condition = wait_for(lambda: job_condition(cluster, "stamped"), what="the job to finish")
    assert condition["type"] == "Complete", condition
    name = pods(cluster, "job-name=stamped")[0]["metadata"]["name"]
    plain = cluster.kubectl("logs", name).stdout.splitlines()
    assert sorted(plain) == sorted([f"line {i}" for i in range(6)] + [f"err {i}" for i in range(6)])
    stamped = cluster.kubectl("logs", name, "--timestamps").stdout.splitlines()
    times = [line.split(" ", 1)[0] for line in stamped]
    assert [line.split(" ", 1)[1] for line in stamped] == plain
    # One time per line, as written: they rise over the ~3.6 s the script ran, in each stream
    # (the two streams' writers append independently, as with any CRI runtime).
    for stream in ("line", "err"):
        own = [t for t, line in zip(times, stamped) if line.split(" ", 1)[1].startswith(stream)]
        assert len(own) == 6 and own == sorted(own) and len(set(own)) == 6, own
    from datetime import datetime
    first = datetime.fromisoformat(times[0][:26] + "+00:00")
    last = datetime.fromisoformat(times[-1][:26] + "+00:00")
    assert 2.5 < (last - first).total_seconds() < 10, times
    # sinceTime (what --since-time sends) keeps the lines written at or after it.
    # (kubectl sends whole seconds, as metav1.Time is written.)
    def when(text):
        whole, _, fraction = text.rstrip("Z").partition(".")
        return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))
    cut = sorted(times)[6][:19] + "Z"
    since = cluster.kubectl("logs", name, "--timestamps", f"--since-time={cut}").stdout.splitlines()
    assert since and all(when(line.split(" ", 1)[0]) >= when(cut) for line in since), (cut, since)
    assert len(since) == len([t for t in times if when(t) >= when(cut)]) < len(stamped)
    # sinceSeconds: the job ended a moment ago; a 1 s window after a pause holds nothing.
    time.sleep(2)
    assert cluster.kubectl("logs", name, "--since=1s").stdout == ""
    assert cluster.kubectl("logs", name, "--since=1h").stdout.splitlines() == plain
    assert cluster.kubectl("logs", name, "--limit-bytes=9").stdout == "\n".join(plain)[:9]


def test_deployment_scales_and_deletes_with_its_pods(cluster, trainer_image):
    manifest = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: sleeper}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: sleeper}}}}
  template:
    metadata: {{labels: {{app: sleeper}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: {trainer_image}
        command: ["sleep", "3600"]
        resources: {{requests: {{cpu: 100m, memory: 32Mi}}}}
"""
    apply(cluster, manifest)
    running = lambda n: len([p for p in pods(cluster, "app=sleeper") if p["status"].get("phase") == "Running"]) == n
    wait_for(lambda: running(2), what="2 sleeper pods running")
    ips = {p["status"]["podIP"] for p in pods(cluster, "app=sleeper")}
    assert len(ips) == 2
    cluster.kubectl("scale", "deployment", "sleeper", "--replicas", "3")
    wait_for(lambda: running(3), what="3 sleeper pods running")
    cluster.kubectl("rollout", "status", "deployment/sleeper", "--timeout", "60s")
    cluster.kubectl("delete", "deployment", "sleeper", "--timeout", "60s")
    wait_for(lambda: pods(cluster, "app=sleeper") == [], what="sleeper pods to be gone")
    assert cluster.kubectl("get", "replicasets", "-l", "app=sleeper", "-o", "name").stdout.strip() == ""


def hostile_layer(path, kind):
    """A tar layer that tries to write outside the root filesystem."""
    with tarfile.open(path, "w:gz") as tar:
        def add(info, data=b""):
            import io
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
        if kind == "dotdot":
            add(tarfile.TarInfo("../../../../../../tmp/" + kind + "-escaped"), b"owned\n")
        elif kind == "symlink":
            link = tarfile.TarInfo("etc-link")
            link.type = tarfile.SYMTYPE
            link.linkname = "/tmp"
            add(link)
            add(tarfile.TarInfo("etc-link/" + kind + "-escaped"), b"owned\n")
        elif kind == "device":
            device = tarfile.TarInfo("dev-sda")
            device.type = tarfile.BLKTYPE
            device.devmajor, device.devminor = 8, 0
            add(device)


def oci_image_with_layer(directory, layer):
    import hashlib
    import gzip
    directory.mkdir(parents=True)
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    layer_bytes = layer.read_bytes()
    diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer_bytes)).hexdigest()
    layer_digest, layer_size = put(layer_bytes)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/true"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_digest, config_size = put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size}]}).encode()
    manifest_digest, manifest_size = put(manifest)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest, "size": manifest_size,
         "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))


@pytest.mark.parametrize("kind", ["dotdot", "symlink", "device"])
def test_hostile_layers_are_refused_and_nothing_escapes(cluster, tmp_path, kind):
    escaped = Path("/tmp") / f"{kind}-escaped"
    if escaped.exists():
        escaped.unlink()
    layer = tmp_path / "layer.tar.gz"
    hostile_layer(layer, kind)
    oci_image_with_layer(tmp_path / "image", layer)
    reference = f"{cluster.registry}/hostile/{kind}:v1"
    run("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", cluster.registry_creds(f"hostile/{kind}"),
        f"oci:{tmp_path / 'image'}:v1", f"docker://{reference}")
    name = f"hostile-{kind}"
    cluster.kubectl("run", name, "--image", reference, "--restart", "Never")

    def waiting():
        pod = json.loads(cluster.kubectl("get", "pod", name, "-o", "json").stdout)
        for status in pod["status"].get("containerStatuses", []):
            state = status.get("state", {}).get("waiting", {})
            if state.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                return state
        return None

    state = wait_for(waiting, timeout=60, what="the image to be refused")
    assert "refus" in state.get("message", "").lower() or "escape" in state.get("message", "").lower(), state
    assert not escaped.exists()
    assert not list(Path("/").glob(f"{kind}-escaped"))
    cluster.kubectl("delete", "pod", name, "--timeout", "30s")


def test_embedded_registry_rejects_a_blob_with_a_wrong_digest(cluster):
    import hashlib
    import urllib.request
    # Pushing takes a credential for the repository; the digest check is what is tested here.
    auth = {"Authorization": f"Bearer {cluster.registry_token('hostile/wrong')}"}
    base = f"http://{cluster.registry}/v2/hostile/wrong/blobs/uploads/"
    start = urllib.request.urlopen(urllib.request.Request(base, method="POST", data=b"", headers=auth))
    location = start.headers["Location"]
    if location.startswith("/"):
        location = f"http://{cluster.registry}{location}"
    claimed = "sha256:" + hashlib.sha256(b"what was promised").hexdigest()
    separator = "&" if "?" in location else "?"
    request = urllib.request.Request(f"{location}{separator}digest={claimed}", method="PUT", data=b"something else", headers=auth)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 400
    assert b"DIGEST_INVALID" in refused.value.read()
    head = urllib.request.Request(f"http://{cluster.registry}/v2/hostile/wrong/blobs/{claimed}", method="HEAD")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(head)
    assert missing.value.code == 404


def node_of(pod):
    return pod["spec"].get("nodeName")


def test_extra_nodes_join_spread_pin_and_take_over_from_a_dead_node(cluster, trainer_image, tmp_path):
    extra = [FairNode(fair_binary(), cluster.kubeconfig, name, tmp_path / name, cidr).start()
             for name, cidr in (("extra-1", "127.21.0.0/16"), ("extra-2", "127.22.0.0/16"))]
    try:
        wait_for(lambda: len(json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]) == 3, what="3 nodes")
        # Each replica asks for more than half a machine, so no node can hold two of them.
        cpu = f"{int(os.cpu_count() * 1000 * 0.6)}m"
        deployment = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      terminationGracePeriodSeconds: 2
SELECTOR
      containers:
      - name: main
        image: IMAGE
        command: ["sleep", "3600"]
        resources: {requests: {cpu: CPU}}
"""

        def render(name, replicas, cpu, selector=""):
            return (deployment.replace("NAME", name).replace("REPLICAS", str(replicas)).replace("CPU", cpu)
                    .replace("SELECTOR", selector).replace("IMAGE", trainer_image))

        apply(cluster, render("spread", 3, cpu))
        placed = wait_for(lambda: (lambda ps: ps if len(ps) == 3 and all(p["status"].get("phase") == "Running" for p in ps) else None)(
            pods(cluster, "app=spread")), what="3 spread pods running")
        assert len({node_of(p) for p in placed}) == 3, [node_of(p) for p in placed]
        assert {p["status"]["podIP"].split(".")[1] for p in placed} == {"20", "21", "22"}

        # A fourth would not fit anywhere: the scheduler says why.
        cluster.kubectl("scale", "deployment", "spread", "--replicas", "4")
        def unschedulable():
            for pod in pods(cluster, "app=spread"):
                for condition in pod["status"].get("conditions", []):
                    if condition["type"] == "PodScheduled" and condition["status"] == "False":
                        return condition["message"]
        message = wait_for(unschedulable, what="an unschedulable pod")
        assert message.startswith("0/3 nodes are available: 3 Insufficient cpu"), message
        cluster.kubectl("delete", "deployment", "spread", "--timeout", "60s")
        wait_for(lambda: pods(cluster, "app=spread") == [], what="spread pods gone")

        pin = "      nodeSelector: {kubernetes.io/hostname: extra-1}"
        apply(cluster, render("pinned", 1, "100m", pin))
        [pinned] = wait_for(lambda: [p for p in pods(cluster, "app=pinned") if node_of(p)], what="pinned pod bound")
        assert node_of(pinned) == "extra-1"

        # Only extra-2 takes new pods while the others are cordoned; then it dies.
        for node in ("extra-1", cluster_node_name(cluster)):
            cluster.kubectl("cordon", node)
        apply(cluster, render("survivor", 2, "100m"))
        wait_for(lambda: [node_of(p) for p in pods(cluster, "app=survivor")] == ["extra-2", "extra-2"], what="survivors on extra-2")
        for node in ("extra-1", cluster_node_name(cluster)):
            cluster.kubectl("uncordon", node)
        extra[1].kill()
        assert len(extra[1].containers()) == 2, "a killed agent leaves its containers running"
        def not_ready():
            node = json.loads(cluster.kubectl("get", "node", "extra-2", "-o", "json").stdout)
            return {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] != "True"
        wait_for(not_ready, timeout=60, what="extra-2 NotReady")
        assert "NotReady" in cluster.kubectl("get", "node", "extra-2").stdout
        def moved():
            ps = [p for p in pods(cluster, "app=survivor") if p["status"].get("phase") == "Running"]
            return len(ps) == 2 and all(node_of(p) != "extra-2" for p in ps)
        wait_for(moved, timeout=90, what="survivors to come back elsewhere")
        cluster.kubectl("delete", "deployment", "pinned", "survivor", "--timeout", "60s")
        # The dead agent comes back: it removes the containers of pods no longer bound to it.
        extra[1].start()
        wait_for(lambda: extra[1].containers() == [], timeout=60, what="extra-2 to clean up its orphans")
    finally:
        for node in extra:
            node.stop()
            node.remove_containers()


def cluster_node_name(cluster):
    """The server's own node (named after the machine, as a kubelet names its node)."""
    names = [n["metadata"]["name"] for n in json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]]
    return next(name for name in names if not name.startswith("extra-"))


def test_metrics_show_the_control_planes_queues(cluster):
    import ssl
    import urllib.request
    request = urllib.request.Request(cluster.url + "/metrics")
    request.add_header("Authorization", f"Bearer {cluster.token}")
    text = urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(cluster.ca_file))).read().decode()
    for queue in ("job", "replicaset", "deployment", "endpoints", "scheduler"):
        assert any(line.startswith(f'fair_workqueue_depth{{name="{queue}') for line in text.splitlines()), queue


def test_ctrl_c_stops_the_servers_pods_and_sigterm_keeps_them(trainer_image, tmp_path):
    import signal
    from server_harness import containers
    for stop_signal, kept in [(signal.SIGINT, False), (signal.SIGTERM, True)]:
        server = FairServer(fair_binary(), tmp_path / f"data-{stop_signal.name}", extra=["--pod-cidr", "127.31.0.0/24", "--node-name", f"stop-{stop_signal.name.lower()}"]).start()
        try:
            server.kubectl("run", "sleeper", "--image", trainer_image, "--restart", "Never", "--command", "--",
                           "python3", "-c", "import time; time.sleep(600)")
            wait_for(lambda: json.loads(server.kubectl("get", "pod", "sleeper", "-o", "json").stdout)["status"].get("phase") == "Running",
                     what="the pod to run")
            assert containers(server.data_dir)
            server.process.send_signal(stop_signal)
            server.process.wait(timeout=60)
            assert bool(containers(server.data_dir)) == kept, (stop_signal, containers(server.data_dir))
            if not kept:
                assert "stopping this node's pods" in server.log_path.read_text()
        finally:
            server.stop()
