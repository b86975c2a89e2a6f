"""PersistentVolumes, claims and the `local` StorageClass on the bundled server, driven as a user
would with kubectl: the default class provisions a directory per claim on the node of its first
pod, claims bind and show as kubectl shows them, a training Job that is killed resumes from the
checkpoint it wrote to its claim, a claim in use outlives its deletion until its pod goes, and the
reclaim policy decides what happens to the data after."""
import json
import time
from pathlib import Path

import pytest

from conftest import Fair, FIXTURES
from server_harness import wait_for


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/examples/volumes:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/volumes@{built['digest']}"


def get(cluster, *args):
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def apply(cluster, manifest):
    cluster.kubectl("apply", "-f", "-", input=manifest if isinstance(manifest, str) else json.dumps(manifest))


def claim(name, size="1Gi", storage_class=None, modes=("ReadWriteOnce",)):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod(name, image, script, claim_name, read_only=False, sub_path=None, restart="Never"):
    mount = {"name": "data", "mountPath": "/data"}
    if sub_path:
        mount["subPath"] = sub_path
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": restart, "terminationGracePeriodSeconds": 1,
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name, "readOnly": read_only}}],
        "containers": [{"name": "main", "image": image, "command": ["python3", "-u", "-c", script], "volumeMounts": [mount]}]}}


def phase(cluster, kind, name):
    return get(cluster, kind, name).get("status", {}).get("phase")


def finished(cluster, name, timeout=120):
    wait_for(lambda: phase(cluster, "pod", name) in ("Succeeded", "Failed"), timeout=timeout, what=f"pod {name} to finish")
    return phase(cluster, "pod", name)


def test_the_default_class_is_local_and_prints_as_kubectl_prints_it(cluster):
    table = cluster.kubectl("get", "storageclass").stdout.splitlines()
    assert table[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert table[1].split()[:6] == ["local", "(default)", "fair.dev/local", "Delete", "WaitForFirstConsumer", "false"]
    local = get(cluster, "storageclass", "local")
    assert local["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"


def test_a_claim_waits_for_its_first_pod_then_gets_a_directory_on_its_node(cluster, python_image):
    apply(cluster, claim("waits"))
    made = get(cluster, "pvc", "waits")
    assert made["spec"]["storageClassName"] == "local"  # the default class, filled in on create
    assert "kubernetes.io/pvc-protection" in made["metadata"]["finalizers"]
    time.sleep(2)
    assert phase(cluster, "pvc", "waits") == "Pending"
    events = cluster.kubectl("get", "events", "--field-selector", "involvedObject.name=waits", "-o", "json").stdout
    assert "WaitForFirstConsumer" in events
    apply(cluster, pod("writer", python_image, "open('/data/hello.txt', 'w').write('kept')", "waits"))
    assert finished(cluster, "writer") == "Succeeded"
    bound = get(cluster, "pvc", "waits")
    assert bound["status"]["phase"] == "Bound" and bound["status"]["capacity"]["storage"] == "1Gi"
    volume = get(cluster, "pv", bound["spec"]["volumeName"])
    node = get(cluster, "pod", "writer")["spec"]["nodeName"]
    assert bound["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
    assert volume["spec"]["claimRef"]["uid"] == bound["metadata"]["uid"]
    assert volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [node]
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "fair.dev/local"
    path = Path(volume["spec"]["hostPath"]["path"])
    assert path.parent == cluster.data_dir / "volumes" and (path / "hello.txt").read_text() == "kept"
    # kubectl's columns for both.
    claims = cluster.kubectl("get", "pvc", "waits").stdout.splitlines()
    assert claims[0].split() == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert claims[1].split()[:6] == ["waits", "Bound", volume["metadata"]["name"], "1Gi", "RWO", "local"]
    volumes = cluster.kubectl("get", "pv", volume["metadata"]["name"]).stdout.splitlines()
    assert volumes[1].split()[1:7] == ["1Gi", "RWO", "Delete", "Bound", "default/waits", "local"]
    both = cluster.kubectl("get", "pvc,pv,sc", "-o", "name").stdout.split()
    assert "persistentvolumeclaim/waits" in both and "storageclass.storage.k8s.io/local" in both


CHECKPOINTED = """
import json, os, sys, time
path = "/data/checkpoint.json"
epoch = json.load(open(path))["epoch"] if os.path.exists(path) else 0
print(f"start at epoch {epoch}", flush=True)
while epoch < 8:
    time.sleep(0.5)
    epoch += 1
    with open(path + ".tmp", "w") as f:
        json.dump({"epoch": epoch}, f)
    os.replace(path + ".tmp", path)
    print(f"checkpoint {epoch}", flush=True)
    if epoch == 3 and not os.path.exists("/data/killed-once"):
        open("/data/killed-once", "w").close()
        time.sleep(3600)  # the test kills this pod here
print("done", flush=True)
"""


def test_a_killed_training_job_resumes_from_the_checkpoint_on_its_claim(cluster, python_image):
    apply(cluster, claim("checkpoints"))
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "resumable"}, "spec": {
        "backoffLimit": 3, "template": {"spec": pod("unused", python_image, CHECKPOINTED, "checkpoints")["spec"]}}}
    apply(cluster, job)

    def first_pod():
        pods = get(cluster, "pods", "-l", "job-name=resumable")["items"]
        return pods[0]["metadata"]["name"] if pods else None

    wait_for(lambda: first_pod() and "checkpoint 3" in cluster.kubectl("logs", first_pod(), check=False).stdout,
             timeout=120, what="the first run to write epoch 3")
    killed = first_pod()
    cluster.kubectl("delete", "pod", killed, "--grace-period=0", "--force", "--wait=false")
    cluster.kubectl("wait", "--for=condition=complete", "job/resumable", "--timeout=180s", timeout=200)
    pods = [p["metadata"]["name"] for p in get(cluster, "pods", "-l", "job-name=resumable")["items"]]
    [retry] = [name for name in pods if name != killed]
    logs = cluster.kubectl("logs", retry).stdout.splitlines()
    assert logs[0] == "start at epoch 3", logs
    assert logs[-2:] == ["checkpoint 8", "done"]


def test_a_claim_in_use_is_kept_until_its_pod_goes_then_its_volume_and_data_go(cluster, python_image):
    apply(cluster, claim("in-use"))
    apply(cluster, pod("holder", python_image, "import time\nopen('/data/x', 'w').write('x')\ntime.sleep(3600)", "in-use"))
    wait_for(lambda: phase(cluster, "pod", "holder") == "Running", timeout=120, what="the holder to run")
    volume_name = get(cluster, "pvc", "in-use")["spec"]["volumeName"]
    path = Path(get(cluster, "pv", volume_name)["spec"]["hostPath"]["path"])
    cluster.kubectl("delete", "pvc", "in-use", "--wait=false")
    time.sleep(3)
    held = get(cluster, "pvc", "in-use")
    assert held["metadata"].get("deletionTimestamp") and held["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert "Terminating" in cluster.kubectl("get", "pvc", "in-use").stdout
    assert path.exists()
    cluster.kubectl("delete", "pod", "holder", "--grace-period=1")
    wait_for(lambda: cluster.kubectl("get", "pvc", "in-use", check=False).returncode != 0, timeout=60, what="the claim to go")
    wait_for(lambda: cluster.kubectl("get", "pv", volume_name, check=False).returncode != 0, timeout=60, what="its volume to go")
    assert not path.exists()


def test_retain_keeps_a_released_volume_and_its_data(cluster, python_image):
    apply(cluster, {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "keep"},
                    "provisioner": "fair.dev/local", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"})
    apply(cluster, claim("kept", storage_class="keep"))
    apply(cluster, pod("keeper", python_image, "open('/data/model.bin', 'wb').write(b'weights')", "kept"))
    assert finished(cluster, "keeper") == "Succeeded"
    volume_name = get(cluster, "pvc", "kept")["spec"]["volumeName"]
    cluster.kubectl("delete", "pod", "keeper")
    cluster.kubectl("delete", "pvc", "kept")
    wait_for(lambda: phase(cluster, "pv", volume_name) == "Released", timeout=60, what="the volume to be released")
    time.sleep(2)
    volume = get(cluster, "pv", volume_name)
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert (Path(volume["spec"]["hostPath"]["path"]) / "model.bin").read_bytes() == b"weights"


def test_a_static_volume_binds_at_once_and_mounts_read_only_and_by_sub_path(cluster, python_image, tmp_path):
    (tmp_path / "static" / "part").mkdir(parents=True)
    (tmp_path / "static" / "part" / "data.csv").write_text("a,b\n1,2\n")
    apply(cluster, {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "dataset", "labels": {"set": "csv"}},
                    "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadOnlyMany", "ReadWriteOnce"],
                             "storageClassName": "", "hostPath": {"path": str(tmp_path / "static")}}})
    apply(cluster, {**claim("dataset", size="2Gi", storage_class="", modes=("ReadOnlyMany",)),
                    "spec": {**claim("x", size="2Gi", storage_class="", modes=("ReadOnlyMany",))["spec"],
                             "selector": {"matchLabels": {"set": "csv"}}}})
    wait_for(lambda: phase(cluster, "pvc", "dataset") == "Bound", timeout=30, what="the claim to bind")
    assert get(cluster, "pvc", "dataset")["spec"]["volumeName"] == "dataset"
    assert get(cluster, "pvc", "dataset")["status"]["capacity"]["storage"] == "5Gi"
    script = """
import os
print(open('/data/data.csv').read().splitlines()[1])
try:
    open('/data/new', 'w')
    print('WROTE')
except OSError as error:
    print('REFUSED', error.errno)
"""
    apply(cluster, pod("reader", python_image, script, "dataset", read_only=True, sub_path="part"))
    assert finished(cluster, "reader") == "Succeeded"
    assert cluster.kubectl("logs", "reader").stdout.split() == ["1,2", "REFUSED", "30"]  # EROFS


def test_a_pod_naming_a_missing_claim_is_not_scheduled_and_says_why(cluster, python_image):
    apply(cluster, pod("orphan", python_image, "print(1)", "no-such-claim"))
    wait_for(lambda: any(c.get("reason") == "Unschedulable" for c in get(cluster, "pod", "orphan")["status"].get("conditions", [])),
             timeout=30, what="the pod to be unschedulable")
    [condition] = [c for c in get(cluster, "pod", "orphan")["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert 'persistentvolumeclaim "no-such-claim" not found' in condition["message"]
    apply(cluster, claim("no-such-claim"))
    assert finished(cluster, "orphan") == "Succeeded"


def test_bad_claims_are_refused_naming_the_field(cluster):
    bad = cluster.kubectl("apply", "-f", "-", input=json.dumps(claim("bad", size="-1Gi")), check=False)
    assert bad.returncode != 0 and "spec.resources.requests.storage" in bad.stderr, bad.stderr
    none = cluster.kubectl("apply", "-f", "-", input=json.dumps({**claim("bad"), "spec": {"resources": {"requests": {"storage": "1Gi"}}}}), check=False)
    assert none.returncode != 0 and "spec.accessModes" in none.stderr and "at least 1 access mode is required" in none.stderr
    apply(cluster, claim("fixed"))
    changed = cluster.kubectl("patch", "pvc", "fixed", "--type", "merge", "-p", '{"spec":{"accessModes":["ReadWriteMany"]}}', check=False)
    assert changed.returncode != 0 and "spec is immutable after creation" in changed.stderr
