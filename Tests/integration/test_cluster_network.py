"""Services the way pods see them on a real cluster, against a real `fair server` running pods
under runc: each Service's cluster IP answers TCP on its ports and reaches a ready endpoint,
the cluster DNS (Debian's dnsmasq) resolves `SVC`, `SVC.NS` and `SVC.NS.svc.cluster.local`,
a headless Service resolves to its pods and to `HOSTNAME.SVC...` for pods that set `subdomain`,
every other name resolves as the host resolves it, the DNS policy shapes resolv.conf, and the
docker-link variables name each Service. Two pods of an Indexed Job find each other by name and
exchange a message, the shape distributed training's rendezvous takes."""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import fair_binary, Fair
from server_harness import FairServer, wait_for

SERVER = r'''
import http.server, json, os, socket

POD_IP = os.environ["POD_IP"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"pod": POD_IP, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((POD_IP, 8080), Handler).serve_forever()
'''

ECHO = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: echo}}}}
  template:
    metadata: {{labels: {{app: echo}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: {image}
        command: ["python3", "/app/server.py"]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe:
          tcpSocket: {{port: http}}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {{name: echo}}
spec:
  selector: {{app: echo}}
  ports: [{{name: http, port: 80, targetPort: http}}, {{name: alt, port: 8081, targetPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echo-pods}}
spec:
  clusterIP: None
  selector: {{app: echo}}
  ports: [{{name: http, port: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: nothing}}
spec:
  selector: {{app: no-such-pods}}
  ports: [{{port: 80}}]
"""

# What a pod reports of its network: run with `python3 -c`, prints one JSON line.
PROBE = r'''
import json, os, socket, sys, urllib.request

def addresses(name):
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)})
    except socket.gaierror as error:
        return "error: " + str(error)

def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except Exception as error:
        return "error: " + str(error)

report = {
    "resolv": open("/etc/resolv.conf").read(),
    "hosts": open("/etc/hosts").read(),
    "env": {k: v for k, v in os.environ.items() if "SERVICE" in k or k.startswith(("ECHO", "NOTHING"))},
    "names": {name: addresses(name) for name in sys.argv[1].split(",") if name},
    "fetch": {url: fetch(url) for url in sys.argv[2].split(",") if url},
}
print("REPORT " + json.dumps(report), flush=True)
'''


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pod_cidr = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24"
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("network") / "data", extra=["--pod-cidr", pod_cidr]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def image(cluster, base_image, tmp_path_factory):
    project = tmp_path_factory.mktemp("echo-project")
    (project / "server.py").write_text(SERVER)
    (project / "fair.yaml").write_text("name: echo\nentrypoint: server.py\n")
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", project, "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/network/echo:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/network/echo@{built['digest']}"


def get_json(cluster, *args):
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def ready_ips(cluster, service):
    endpoints = json.loads(cluster.kubectl("get", "endpoints", service, "-o", "json", check=False).stdout or "{}")
    return sorted(a["ip"] for subset in endpoints.get("subsets", []) for a in subset.get("addresses", []))


@pytest.fixture(scope="module")
def echo(cluster, image):
    cluster.kubectl("apply", "-f", "-", input=ECHO.format(image=image))
    wait_for(lambda: len(ready_ips(cluster, "echo")) == 2, timeout=180, what="2 ready endpoints of service echo")
    return get_json(cluster, "service", "echo")["spec"]["clusterIP"]


def dns_address(cluster):
    """The cluster DNS: the tenth address of the server's service range."""
    cidr = cluster.extra[cluster.extra.index("--service-cluster-ip-range") + 1]
    network = cidr.split("/")[0].split(".")
    return ".".join(network[:3] + [str(int(network[3]) + 10)])


def probe(cluster, image, name, names=(), urls=(), spec_extra=None, namespace="default"):
    """Runs PROBE in a pod to completion and returns its report."""
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "probe", "image": image,
                                 "command": ["python3", "-c", PROBE, ",".join(names), ",".join(urls)]}],
                 **(spec_extra or {})},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    wait_for(lambda: get_json(cluster, "pod", name, "-n", namespace)["status"].get("phase") in ("Succeeded", "Failed"),
             timeout=120, what=f"pod {name} finished")
    logs = cluster.kubectl("logs", name, "-n", namespace).stdout
    line = next((line for line in logs.splitlines() if line.startswith("REPORT ")), None)
    assert line, f"pod {name} printed no report:\n{logs}"
    return json.loads(line[len("REPORT "):])


def test_a_pod_reaches_a_service_by_name_and_cluster_ip(cluster, image, echo):
    pods = ready_ips(cluster, "echo")
    report = probe(cluster, image, "by-name",
                   names=["echo", "echo.default", "echo.default.svc", "echo.default.svc.cluster.local", "nothing-here.default.svc.cluster.local"],
                   urls=["http://echo/a", "http://echo.default.svc.cluster.local/b", "http://echo:8081/c", f"http://{echo}/d"])
    for name in ["echo", "echo.default", "echo.default.svc", "echo.default.svc.cluster.local"]:
        assert report["names"][name] == [echo], report["names"]
    assert report["names"]["nothing-here.default.svc.cluster.local"].startswith("error"), report["names"]
    for url, path in [("http://echo/a", "/a"), ("http://echo.default.svc.cluster.local/b", "/b"),
                      ("http://echo:8081/c", "/c"), (f"http://{echo}/d", "/d")]:
        reply = report["fetch"][url]
        assert isinstance(reply, dict) and reply["path"] == path and reply["pod"] in pods, (url, reply)


def test_resolv_conf_follows_the_dns_policy(cluster, image, echo):
    first = probe(cluster, image, "policy-cluster-first")
    lines = first["resolv"].splitlines()
    assert f"nameserver {dns_address(cluster)}" in lines, first["resolv"]
    assert lines[0].startswith("search default.svc.cluster.local svc.cluster.local cluster.local"), first["resolv"]
    assert "options ndots:5" in lines, first["resolv"]

    default = probe(cluster, image, "policy-default", spec_extra={"dnsPolicy": "Default"})
    assert default["resolv"] == open("/etc/resolv.conf").read()

    none = probe(cluster, image, "policy-none", names=["echo.default.svc.cluster.local"], spec_extra={
        "dnsPolicy": "None",
        "dnsConfig": {"nameservers": [dns_address(cluster)], "searches": ["example.internal"],
                      "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}})
    assert none["resolv"].splitlines() == ["search example.internal", f"nameserver {dns_address(cluster)}", "options ndots:2 edns0"]
    assert none["names"]["echo.default.svc.cluster.local"] == [echo]


def test_names_outside_the_cluster_resolve_as_the_host_resolves_them(cluster, image, echo):
    # A name only the host's own /etc/hosts knows (the pod's /etc/hosts is its own).
    hostname = socket.gethostname()
    host_hosts = open("/etc/hosts").read().split()
    if hostname not in host_hosts:
        pytest.skip(f"this machine's /etc/hosts does not name {hostname}")
    expected = sorted({info[4][0] for info in socket.getaddrinfo(hostname, None, socket.AF_INET)})
    report = probe(cluster, image, "outside", names=[hostname])
    assert hostname not in report["hosts"].split()
    assert report["names"][hostname] == expected, report["names"]


def test_an_external_name_service_resolves_to_what_its_name_resolves_to_on_the_host(cluster, image, echo):
    # kube-dns answers with a CNAME to the external name; here the node follows the name through
    # the host's resolver. A name only the host's /etc/hosts knows proves it is the host's.
    hostname = socket.gethostname()
    if hostname not in open("/etc/hosts").read().split():
        pytest.skip(f"this machine's /etc/hosts does not name {hostname}")
    expected = sorted({info[4][0] for info in socket.getaddrinfo(hostname, None, socket.AF_INET)})
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "outside"},
        "spec": {"type": "ExternalName", "externalName": hostname}}))
    try:
        report = probe(cluster, image, "external", names=["outside", "outside.default.svc.cluster.local"])
        assert report["names"]["outside.default.svc.cluster.local"] == expected, report["names"]
        assert report["names"]["outside"] == expected, report["names"]
    finally:
        cluster.kubectl("delete", "service", "outside")
    # Gone with its Service.
    report = probe(cluster, image, "external-gone", names=["outside.default.svc.cluster.local"])
    assert str(report["names"]["outside.default.svc.cluster.local"]).startswith("error"), report["names"]


def test_a_headless_service_resolves_to_its_ready_pods(cluster, image, echo):
    report = probe(cluster, image, "headless", names=["echo-pods", "echo-pods.default.svc.cluster.local"])
    pods = ready_ips(cluster, "echo")
    assert report["names"]["echo-pods"] == pods, report
    assert report["names"]["echo-pods.default.svc.cluster.local"] == pods, report


def test_service_variables_unless_service_links_are_off(cluster, image, echo):
    env = probe(cluster, image, "links")["env"]
    assert env["ECHO_SERVICE_HOST"] == echo
    assert env["ECHO_SERVICE_PORT"] == "80"
    assert env["ECHO_SERVICE_PORT_HTTP"] == "80" and env["ECHO_SERVICE_PORT_ALT"] == "8081"
    assert env["ECHO_PORT"] == f"tcp://{echo}:80"
    assert env["ECHO_PORT_8081_TCP"] == f"tcp://{echo}:8081"
    assert env["ECHO_PORT_80_TCP_PROTO"] == "tcp" and env["ECHO_PORT_80_TCP_PORT"] == "80" and env["ECHO_PORT_80_TCP_ADDR"] == echo
    assert "ECHO_PODS_SERVICE_HOST" not in env, "a headless Service has no variables"
    assert env["NOTHING_SERVICE_HOST"] == get_json(cluster, "service", "nothing")["spec"]["clusterIP"]
    assert "KUBERNETES_SERVICE_HOST" in env

    off = probe(cluster, image, "no-links", spec_extra={"enableServiceLinks": False})["env"]
    assert not any(name.startswith(("ECHO", "NOTHING")) for name in off), off
    assert "KUBERNETES_SERVICE_HOST" in off, "the API server's variables stay"


def nftables_tables():
    """The host's nftables `ip` tables; None when this process cannot read them (no root, no nft)."""
    if os.geteuid() != 0 or not shutil.which("nft"):
        return None
    listed = subprocess.run(["nft", "list", "tables", "ip"], capture_output=True, text=True)
    return [line.split()[2] for line in listed.stdout.splitlines() if len(line.split()) == 3] if listed.returncode == 0 else None


def server_tables(server):
    """The nftables tables a server's process made (named fair_PID_START_N)."""
    return [t for t in nftables_tables() or [] if t.startswith(f"fair_{server.process.pid}_")]


def test_the_cluster_ip_spreads_tcp_over_the_ready_endpoints_and_follows_them(cluster, image, echo):
    # With root and nft the kernel rewrites the connections (kube-proxy's nftables mode); the
    # node's userspace proxy is only the fallback.
    kernel = nftables_tables() is not None
    if kernel:
        assert server_tables(cluster), f"no nftables table of the server's: {nftables_tables()}"
    pods = ready_ips(cluster, "echo")
    seen = []
    for i in range(40):
        with socket.create_connection((echo, 80), timeout=10) as connection:
            connection.sendall(f"GET /n{i} HTTP/1.0\r\nHost: echo\r\n\r\n".encode())
            connection.shutdown(socket.SHUT_WR)  # a half-close reaches the pod, and the reply still comes back
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"200", reply
        seen.append(json.loads(body)["pod"])
    # Picked at random (nftables) or in turn (userspace): 40 connections all to one of two
    # pods at random has a chance of 2^-39.
    assert sorted(set(seen)) == pods, seen

    # No ready endpoint: refused, as kube-proxy rejects it (userspace: accepted, closed at once).
    nothing = get_json(cluster, "service", "nothing")["spec"]["clusterIP"]
    if kernel:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((nothing, 80), timeout=10).close()
    else:
        with socket.create_connection((nothing, 80), timeout=10) as connection:
            connection.settimeout(10)
            try:
                assert connection.recv(1) == b""
            except ConnectionResetError:
                pass

    # A new port on the Service is listened on; a removed one is closed.
    cluster.kubectl("patch", "service", "echo", "--type=json", "-p",
                    json.dumps([{"op": "add", "path": "/spec/ports/-", "value": {"name": "third", "port": 9099, "targetPort": 8080}}]))
    wait_for(lambda: _answers(echo, 9099), timeout=20, what="the new port answered")
    cluster.kubectl("patch", "service", "echo", "--type=json", "-p", json.dumps([{"op": "remove", "path": "/spec/ports/2"}]))
    wait_for(lambda: not _answers(echo, 9099), timeout=20, what="the removed port closed")


def _answers(ip, port):
    try:
        with socket.create_connection((ip, port), timeout=2) as connection:
            connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return connection.recv(12).split(b" ")[1:2] == [b"200"]
    except OSError:
        return False


def test_userspace_cluster_ips_and_the_rules_a_killed_server_left(cluster, echo, tmp_path):
    """A server killed with SIGKILL leaves its nftables table behind; the next server that starts
    deletes it (the rules would keep sending cluster IPs to addresses nobody serves). That one,
    in userspace mode, answers on its cluster IPs itself and makes no table."""
    if nftables_tables() is None:
        pytest.skip("needs root and nft")
    killed = FairServer(fair_binary(), tmp_path / "killed", extra=["--pod-cidr", "127.45.1.0/24", "--node-name", "killed"]).start()
    try:
        wait_for(lambda: server_tables(killed), timeout=20, what="the killed server's nftables table")
        left = server_tables(killed)
    finally:
        killed.kill()
        # Its cluster DNS outlives it too (the next start in the same data directory would stop
        # it); this test's data directory is not started again, so it is stopped here by its PID.
        leftover = killed.data_dir / "node" / "dns" / "dnsmasq.pid"
        if leftover.exists():
            os.kill(int(leftover.read_text().split()[0]), signal.SIGTERM)
    assert set(left) <= set(nftables_tables()), "SIGKILL ran no clean-up"

    userspace = FairServer(fair_binary(), tmp_path / "userspace",
                           extra=["--pod-cidr", "127.45.2.0/24", "--node-name", "userspace", "--proxy-mode", "userspace"]).start()
    try:
        wait_for(lambda: not set(left) & set(nftables_tables()), timeout=20, what="the killed server's table deleted")
        assert server_tables(userspace) == []
        # A Service without a selector whose Endpoints name the other cluster's echo pods.
        pods = ready_ips(cluster, "echo")
        userspace.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "outside"}, "spec": {"ports": [{"port": 80, "targetPort": 8080}]}},
            {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "outside"},
             "subsets": [{"addresses": [{"ip": ip} for ip in pods], "ports": [{"port": 8080}]}]}]}))
        address = get_json(userspace, "service", "outside")["spec"]["clusterIP"]
        wait_for(lambda: _answers(address, 80), timeout=20, what="the userspace cluster IP answered")
    finally:
        userspace.stop()


RING = r'''
import os, socket, sys, time
index = int(os.environ["JOB_COMPLETION_INDEX"])
me = socket.gethostname()
if index == 0:
    server = socket.create_server((os.environ["POD_IP"], 9000))
    connection, _ = server.accept()
    message = connection.recv(1024).decode()
    print(f"{me} got: {message}", flush=True)
    connection.sendall(f"hello back from {me}".encode())
    connection.close()
else:
    deadline = time.time() + 60
    while True:
        try:
            connection = socket.create_connection(("ring-0.workers", 9000), timeout=5)
            break
        except OSError as error:
            if time.time() > deadline:
                sys.exit(f"ring-0.workers unreachable: {error}")
            time.sleep(0.3)
    connection.sendall(f"hello from {me} at {socket.gethostbyname('ring-0.workers.default.svc.cluster.local')}".encode())
    print(f"{me} got: {connection.recv(1024).decode()}", flush=True)
'''


def test_indexed_job_pods_find_each_other_by_name(cluster, image):
    manifests = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "workers"},
         "spec": {"clusterIP": "None", "selector": {"job-name": "ring"}, "publishNotReadyAddresses": True}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "ring"},
         "spec": {"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimit": 0,
                  "template": {"spec": {"subdomain": "workers", "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                        "containers": [{"name": "worker", "image": image, "command": ["python3", "-c", RING]}]}}}},
    ]
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    wait_for(lambda: any(c["type"] in ("Complete", "Failed") and c["status"] == "True"
                         for c in get_json(cluster, "job", "ring").get("status", {}).get("conditions", [])),
             timeout=180, what="job ring finished")
    job = get_json(cluster, "job", "ring")
    pods = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
            for p in get_json(cluster, "pods", "-l", "job-name=ring")["items"]}
    logs = {index: cluster.kubectl("logs", pod["metadata"]["name"]).stdout for index, pod in pods.items()}
    assert [c["type"] for c in job["status"]["conditions"] if c["status"] == "True"] == ["Complete"], (job["status"], logs)
    assert job["status"]["completedIndexes"] == "0-1"
    assert sorted(pods) == ["0", "1"]
    for index, pod in pods.items():
        assert pod["spec"]["hostname"] == f"ring-{index}" and pod["spec"]["subdomain"] == "workers"
        assert pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == index
    ip0 = pods["0"]["status"]["podIP"]
    assert logs["0"].strip() == f"ring-0 got: hello from ring-1 at {ip0}", logs
    assert logs["1"].strip() == "ring-1 got: hello back from ring-0", logs


def test_overlapping_service_and_pod_ranges_are_refused(tmp_path):
    result = subprocess.run([fair_binary(), "server", "--data-dir", tmp_path / "data", "--listen", "127.0.0.1:0",
                             "--pod-cidr", "127.44.0.0/16", "--service-cluster-ip-range", "127.44.16.0/20"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--service-cluster-ip-range 127.44.16.0/20 overlaps --pod-cidr 127.44.0.0/16" in result.stderr, result.stderr


FUZZ_SEED = int(os.environ.get("FAIR_FUZZ_SEED", random.SystemRandom().randrange(1 << 32)))


def _dns_query(rng, name):
    """A DNS query for `name`, or (sometimes) one mangled: truncated, bits flipped, bogus counts."""
    labels = b"".join(bytes([len(part)]) + part.encode("idna") for part in name.split(".") if part) + b"\0"
    packet = struct.pack(">HHHHHH", rng.randrange(1 << 16), 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", rng.choice([1, 28, 33, 255, 12]), 1)
    mode = rng.random()
    if mode < 0.25:
        packet = packet[:rng.randrange(len(packet))]
    elif mode < 0.5:
        data = bytearray(packet)
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        packet = bytes(data)
    elif mode < 0.6:
        packet = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
    return packet


def test_fuzz_cluster_ip_and_dns(cluster, image, echo):
    """Seeded, time-bounded: garbage and half-sent requests on a cluster IP's port, cut-off
    connections, and malformed DNS queries on the cluster DNS. Afterwards both still answer
    properly and the server is up."""
    print(f"fuzz seed {FUZZ_SEED} (FAIR_FUZZ_SEED={FUZZ_SEED} replays it)")
    rng = random.Random(FUZZ_SEED)
    dns = dns_address(cluster)
    deadline = time.monotonic() + 20
    sent = 0
    names = ["echo.default.svc.cluster.local", "echo", "x" * 63 + ".cluster.local", "a..b.cluster.local", "nothing.default.svc.cluster.local"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.2)
        while time.monotonic() < deadline and sent < 400:
            sent += 1
            if rng.random() < 0.5:
                udp.sendto(_dns_query(rng, rng.choice(names)), (dns, 53))
                try:
                    udp.recv(4096)
                except OSError:
                    pass
                continue
            try:
                with socket.create_connection((echo, 80), timeout=3) as connection:
                    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 4096)))
                    if rng.random() < 0.5:
                        payload = b"GET /" + payload[:200] + b" HTTP/1.1\r\nHost: x\r\n" + payload[200:]
                    connection.sendall(payload)
                    if rng.random() < 0.3:
                        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # leave with a reset
                        continue
                    connection.shutdown(socket.SHUT_WR)
                    connection.settimeout(3)
                    while connection.recv(65536):
                        pass
            except OSError:
                pass
    assert cluster.process.poll() is None, "the server died"
    assert _answers(echo, 80), "the cluster IP stopped answering"
    report = probe(cluster, image, "after-fuzz", names=["echo.default.svc.cluster.local"])
    assert report["names"]["echo.default.svc.cluster.local"] == [echo]
