"""Devices through CDI specs, with fake devices: character devices made with mknod using
/dev/null's numbers, described by a spec in a temporary directory given with --cdi-spec-dir."""
import json
import time
import os
import stat

import pytest

from conftest import fair_binary
from server_harness import FairServer, wait_for

KIND = "example.com/dev"


def make_devices(directory, count):
    """Character devices with /dev/null's numbers, and a spec naming each, plus a shared env var."""
    null = os.stat("/dev/null")
    nodes = []
    for index in range(count):
        path = directory / f"fake{index}"
        os.mknod(path, 0o666 | stat.S_IFCHR, null.st_rdev)
        nodes.append(path)
    specs = directory / "specs"
    specs.mkdir()
    driver = directory / "driver.conf"  # a file of the "driver" every device of the kind needs
    driver.write_text("example driver 1.0\n")
    spec = {
        "cdiVersion": "0.6.0", "kind": KIND,
        "containerEdits": {"env": ["EXAMPLE_DRIVER=1"],
                           "mounts": [{"hostPath": str(driver), "containerPath": "/etc/example/driver.conf",
                                       "options": ["ro", "nosuid", "nodev", "bind"]}]},
        "devices": [{"name": f"dev{index}", "containerEdits": {
            "env": [f"EXAMPLE_VISIBLE=dev{index}"],
            "deviceNodes": [{"path": f"/dev/example{index}", "hostPath": str(path)}]}} for index, path in enumerate(nodes)]
        + [{"name": "all", "containerEdits": {"deviceNodes": [{"path": f"/dev/example{index}", "hostPath": str(path)}
                                                               for index, path in enumerate(nodes)]}}],
    }
    (specs / "example.json").write_text(json.dumps(spec))
    # A broken spec beside it is reported and skipped; the good one still counts.
    (specs / "broken.yaml").write_text("cdiVersion: 0.6.0\nkind: not-a-kind\ndevices: []\n")
    return specs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    directory = tmp_path_factory.mktemp("cdi")
    specs = make_devices(directory, 2)
    server = FairServer(fair_binary(), directory / "data", extra=["--cdi-spec-dir", str(specs)]).start()
    yield server
    server.stop()


def test_a_node_advertises_each_cdi_kind_counted_from_its_specs(cluster):
    def capacity():
        nodes = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
        status = nodes[0].get("status", {}) if nodes else {}
        return status.get("capacity", {}), status.get("allocatable", {})
    wait_for(lambda: KIND in capacity()[0], timeout=60, what=f"{KIND} in the node's capacity")
    total, allocatable = capacity()
    assert total[KIND] == "2" and allocatable[KIND] == "2", total  # `all` is not a third device
    # The broken spec beside it is said on the Node, where `kubectl describe node` shows it.
    def warnings():
        events = json.loads(cluster.kubectl("get", "events", "-A", "--field-selector", "involvedObject.kind=Node,reason=InvalidCDISpec",
                                            "-o", "json").stdout)["items"]
        return [event["message"] for event in events if event["type"] == "Warning"]
    messages = wait_for(warnings, timeout=30, what="an InvalidCDISpec event")
    assert any("broken.yaml" in message and "kind" in message for message in messages), messages
    assert "nvidia.com/gpu" not in total or os.path.exists("/etc/cdi/nvidia.yaml")


@pytest.fixture(scope="module")
def image(cluster, base_image, tmp_path_factory):
    from conftest import Fair
    project = tmp_path_factory.mktemp("sleeper")
    (project / "main.py").write_text("import time\ntime.sleep(1000000)\n")
    (project / "fair.yaml").write_text("name: sleeper\nentrypoint: main.py\n")
    built = json.loads(Fair(tmp_path_factory.mktemp("home")).run(
        "build", project, "--base", f"oci-archive:{base_image}", "--push", f"{cluster.registry}/cdi/sleeper:v1",
        "--output-format", "json", env=cluster.registry_env).stdout)
    return f"{cluster.registry}/cdi/sleeper@{built['digest']}"


def pod_manifest(name, image, devices):
    resources = {"limits": {KIND: str(devices)}} if devices else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": image, "resources": resources}]}}


def phase(cluster, name):
    return cluster.kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}").stdout


def seen(cluster, name):
    """The example devices, variables and driver file the container sees."""
    out = cluster.kubectl("exec", name, "--", "sh", "-c",
                          "ls /dev | grep example; env | grep EXAMPLE_ | sort; "
                          "cat /etc/example/driver.conf 2>/dev/null | tr ' ' _ | sed s/^/driver:/; echo exec-ok").stdout
    words = out.split()
    assert words[-1:] == ["exec-ok"], out
    return sorted(words[:-1])


def test_pods_get_their_own_devices_and_a_third_waits(cluster, image):
    for name, count in (("one", 1), ("two", 1), ("none", 0)):
        cluster.kubectl("apply", "-f", "-", input=json.dumps(pod_manifest(name, image, count)))
    for name in ("one", "two", "none"):
        wait_for(lambda: phase(cluster, name) == "Running", timeout=180, what=f"pod {name} running")
    first, second = seen(cluster, "one"), seen(cluster, "two")
    devices = {tuple(x for x in first if x.startswith("example")), tuple(x for x in second if x.startswith("example"))}
    assert devices == {("example0",), ("example1",)}, (first, second)
    assert "EXAMPLE_DRIVER=1" in first and "EXAMPLE_DRIVER=1" in second
    assert "driver:example_driver_1.0" in first and "driver:example_driver_1.0" in second, "the spec's mounted file"
    assert {x for x in first + second if x.startswith("EXAMPLE_VISIBLE")} == {"EXAMPLE_VISIBLE=dev0", "EXAMPLE_VISIBLE=dev1"}
    assert seen(cluster, "none") == [], "a pod that asks for none sees no device"

    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod_manifest("three", image, 1)))
    def unschedulable():
        pod = json.loads(cluster.kubectl("get", "pod", "three", "-o", "json").stdout)
        return [c for c in pod.get("status", {}).get("conditions", []) if c.get("reason") == "Unschedulable"]
    wait_for(lambda: unschedulable(), timeout=60, what="pod three unschedulable")
    assert f"Insufficient {KIND}" in unschedulable()[0]["message"]
    assert phase(cluster, "three") == "Pending"


def test_allocations_survive_a_restart_and_are_freed_with_their_pod(cluster, image):
    before = {name: seen(cluster, name) for name in ("one", "two")}
    cluster.kill()  # as in a crash: the containers keep running and the restarted agent adopts them
    cluster.start()
    # The restarted node serves exec on a new port once it has registered again.
    wait_for(lambda: cluster.kubectl("exec", "one", "--", "true", check=False).returncode == 0, timeout=120, what="node back")
    assert {name: seen(cluster, name) for name in ("one", "two")} == before
    time.sleep(3)
    assert phase(cluster, "three") == "Pending", "the restart handed out no device twice"

    freed = [x for x in before["one"] if x.startswith("example")]
    cluster.kubectl("delete", "pod", "one", "--wait=true", timeout=120)
    wait_for(lambda: phase(cluster, "three") == "Running", timeout=120, what="pod three running on the freed device")
    assert [x for x in seen(cluster, "three") if x.startswith("example")] == freed


def test_gpus_without_a_cdi_spec_are_not_offered_and_fair_train_says_how_to_fix_it(tmp_path, base_image):
    """A machine whose nvidia-smi lists a GPU (a stand-in script here) but has no CDI spec."""
    from conftest import FIXTURES, Fair
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA Stand-in (UUID: GPU-00000000-0000-0000-0000-000000000000)'\n")
    smi.chmod(0o755)
    specs = tmp_path / "no-specs"
    specs.mkdir()
    server = FairServer(fair_binary(), tmp_path / "data", extra=["--cdi-spec-dir", str(specs)],
                        env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}).start()
    try:
        def node():
            items = json.loads(server.kubectl("get", "nodes", "-o", "json").stdout)["items"]
            return items[0] if items else {}
        wait_for(lambda: any(c["type"] == "CDISpecMissing" for c in node().get("status", {}).get("conditions", [])),
                 timeout=60, what="the CDISpecMissing condition")
        condition = next(c for c in node()["status"]["conditions"] if c["type"] == "CDISpecMissing")
        assert condition["status"] == "True" and "nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml" in condition["message"]
        assert "nvidia.com/gpu" not in node()["status"]["allocatable"], "a GPU no container could be given is not offered"

        started = time.monotonic()
        result = Fair(tmp_path / "home").run("train", FIXTURES / "plain-python", "--gpu", "1", "--base", f"oci-archive:{base_image}",
                                             check=False, env={"KUBECONFIG": str(server.kubeconfig)})
        assert result.returncode != 0 and time.monotonic() - started < 60, result
        assert "--gpu 1: no node offers 1 GPU" in result.stderr and "nvidia-ctk cdi generate" in result.stderr, result.stderr
        assert json.loads(server.kubectl("get", "jobs", "-o", "json").stdout)["items"] == [], "nothing was created"
    finally:
        server.stop()
