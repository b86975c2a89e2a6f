"""A pod that reads loopback sees no credential. Pods share the host's network, and a pod may add
NET_RAW; so a pod here does, opens an AF_PACKET socket on `lo` and counts what it sees, while the
cluster does what crosses loopback: the API server asks the node for logs (`kubectl logs`), and
`fair push` stores an image in the embedded registry with the cluster's credential. The token
must never appear on the wire, raw or as the Basic header's base64; a marker the test sends in
clear must (so the sniffer demonstrably sees loopback traffic)."""
import base64
import json
import secrets
import time
import urllib.error
import urllib.request

from conftest import FIXTURES, Fair
from server_harness import wait_for

SNIFFER = r'''
import json, os, socket, sys, time

forms = {label: text.encode() for label, text in json.loads(os.environ["SNIFF_FORMS"]).items()}
stop = os.environ["SNIFF_STOP"].encode()
longest = max(len(f) for f in list(forms.values()) + [stop])
ETH_P_ALL = 0x0003
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
sock.bind(("lo", 0))
sock.settimeout(1)
print("sniffing", flush=True)
counts = {label: 0 for label in forms}
packets = 0
tail = b""
deadline = time.time() + 240
stopped = False
while time.time() < deadline and not stopped:
    try:
        data = sock.recv(1 << 18)
    except socket.timeout:
        continue
    packets += 1
    window = tail + data
    for label, form in forms.items():
        start = window.find(form)
        while start >= 0:
            if start + len(form) > len(tail):
                counts[label] += 1
            start = window.find(form, start + 1)
    stopped = stop in window
    tail = window[-longest:]
print(json.dumps({"packets": packets, "counts": counts, "stopped": stopped}), flush=True)
'''


def send_in_clear(cluster, text):
    """An HTTP request to the registry's plain port carrying `text` in its path."""
    try:
        urllib.request.urlopen(f"http://{cluster.registry}/v2/{text}/tags/list", timeout=10).read()
    except urllib.error.HTTPError:
        pass


def test_a_pod_with_net_raw_reads_no_credential_on_loopback(cluster, base_image, tmp_path):
    fair = Fair(tmp_path / "home")
    (tmp_path / "home").mkdir()
    project = tmp_path / "sniffer"
    project.mkdir()
    (project / "sniff.py").write_text(SNIFFER)
    reference = f"{cluster.registry}/tests/sniffer:v1"
    built = json.loads(fair.run("build", project, "--base", f"oci-archive:{base_image}", "--push", reference,
                                "--output-format", "json", env=cluster.registry_env).stdout)
    token = cluster.token
    marker, stop = "marker" + secrets.token_hex(8), "stop" + secrets.token_hex(8)
    forms = {"token": token, "basic": base64.b64encode(f"fair:{token}".encode()).decode(), "marker": marker}
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sniffer"},
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "sniff", "image": f"{cluster.registry}/tests/sniffer@{built['digest']}",
            "env": [{"name": "SNIFF_FORMS", "value": json.dumps(forms)}, {"name": "SNIFF_STOP", "value": stop}],
            "securityContext": {"capabilities": {"add": ["NET_RAW"]}}}]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    wait_for(lambda: "sniffing" in cluster.kubectl("logs", "sniffer", check=False).stdout, timeout=180,
             what="the sniffer to listen")

    # What crosses loopback with a credential: the API server asking the node for logs...
    for _ in range(3):
        assert "sniffing" in cluster.kubectl("logs", "sniffer").stdout
    # ...and fair storing an image with the cluster's credential (a new repository: every blob goes).
    archive = tmp_path / "plain.tar"
    fair.run("build", FIXTURES / "plain-python", "--base", "scratch", "--output", archive)
    fair.run("push", archive, f"{cluster.registry}/tests/pushed:v1", env=cluster.registry_env)
    # The control: this travels in clear and must be seen.
    send_in_clear(cluster, marker)
    time.sleep(1)
    send_in_clear(cluster, stop)

    def finished():
        phase = json.loads(cluster.kubectl("get", "pod", "sniffer", "-o", "json").stdout)["status"].get("phase")
        return phase if phase in ("Succeeded", "Failed") else None
    assert wait_for(finished, timeout=60, what="the sniffer to finish") == "Succeeded", cluster.kubectl("logs", "sniffer").stdout
    report = json.loads(cluster.kubectl("logs", "sniffer").stdout.strip().splitlines()[-1])
    assert report["stopped"], report
    assert report["counts"]["marker"] >= 1, f"the sniffer saw no loopback traffic: {report}"
    assert report["counts"]["token"] == 0, f"the cluster's token crossed loopback in clear: {report}"
    assert report["counts"]["basic"] == 0, f"the cluster's token crossed loopback in a Basic header: {report}"
