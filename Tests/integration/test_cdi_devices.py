"""Devices through CDI specs, with fake devices: character devices made with mknod using
/dev/null's numbers, described by a spec in a temporary directory given with --cdi-spec-dir."""
import json
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
    spec = {
        "cdiVersion": "0.6.0", "kind": KIND,
        "containerEdits": {"env": ["EXAMPLE_DRIVER=1"]},
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
    assert "nvidia.com/gpu" not in total or os.path.exists("/etc/cdi/nvidia.yaml")
