"""The service proxy of `fair server` in front of real pods: a fair-built image running a small
HTTP server under runc, a Deployment of two replicas and a Service selecting them, reached through
the serving port (`/serving/NAMESPACE/SERVICE/...`) and the API's service proxy path."""
import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import fair_binary, Fair
from server_harness import FairServer, wait_for

SERVER = r'''
import http.server
import json
import os
import socket
import threading
import time

POD_IP = os.environ["POD_IP"]
# /exit waits for the responses being written: the test is about the time after the death, when
# the pod refuses connections, not about a reply cut in half by it.
RESPONDING = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as model servers do

    def setup(self):
        super().setup()
        # Head and body go out in separate writes: without this, Nagle holds the body back
        # until the client's delayed ACK, 40 ms later.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        if self.path == "/exit":  # the server dies; the pod stays listed until the node agent notices
            RESPONDING.acquire()
            os._exit(3)
        if "delay=" in self.path:  # a request that takes a while: in flight when the pod stops
            time.sleep(float(self.path.split("delay=")[1]))
        body = json.dumps({"pod": POD_IP, "version": os.environ.get("VERSION", ""), "path": self.path}).encode()
        with RESPONDING:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((POD_IP, 8080), Handler).serve_forever()
'''

MANIFESTS = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: echo}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: echo}}}}
  template:
    metadata: {{labels: {{app: echo}}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: {image}
        command: ["python3", "/app/server.py"]
        env: [{{name: VERSION, value: "{version}"}}]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {{name: echo}}
spec:
  selector: {{app: echo}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""


def get(url, headers=None, context=None, timeout=10):
    """(status, headers, parsed JSON body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # A pod range of its own: another fair server on this machine hands out the default range's
    # addresses too, and a pod of theirs answering on one of ours would be counted as ours.
    pod_cidr = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24"
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("serving") / "data", extra=["--pod-cidr", pod_cidr]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def echo_image(cluster, base_image, tmp_path_factory):
    project = tmp_path_factory.mktemp("echo-project")
    (project / "server.py").write_text(SERVER)
    (project / "fair.yaml").write_text("name: echo\nentrypoint: server.py\n")
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", project, "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/serving/echo:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/serving/echo@{built['digest']}"


def ready_ips(cluster):
    endpoints = json.loads(cluster.kubectl("get", "endpoints", "echo", "-o", "json", check=False).stdout or "{}")
    return sorted(address["ip"] for subset in endpoints.get("subsets", []) for address in subset.get("addresses", []))


@pytest.fixture(scope="module")
def echo(cluster, echo_image):
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS.format(image=echo_image, version="v1"))
    wait_for(lambda: len(ready_ips(cluster)) == 2, timeout=180, what="2 ready endpoints of service echo")
    return f"http://{cluster.serving}/serving/default/echo"


def test_serving_address_is_published_before_the_kubeconfig(cluster):
    host, port = cluster.serving.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    # The start-up line follows the kubeconfig, which is what tells the harness the server is up.
    wait_for(lambda: f"serving at http://{cluster.serving}/serving/" in cluster.log_path.read_text(), timeout=10,
             what="the start-up line")


def test_requests_alternate_between_both_pods(cluster, echo):
    ips = ready_ips(cluster)
    replies = [get(f"{echo}/predict?n={i}") for i in range(8)]
    assert all(status == 200 for status, _, _ in replies), replies
    pods = [body["pod"] for _, _, body in replies]
    assert sorted(set(pods)) == ips, pods
    assert all(a != b for a, b in zip(pods, pods[1:])), f"not round-robin: {pods}"
    assert replies[3][2]["path"] == "/predict?n=3"


def test_unknown_service_and_port_are_404_with_a_reason(cluster, echo):
    status, _, body = get(f"http://{cluster.serving}/serving/default/nothing/")
    assert (status, body) == (404, {"error": "no service default/nothing"})
    status, _, body = get(f"http://{cluster.serving}/serving/default/echo:grpc/")
    assert status == 404 and "has no port grpc" in body["error"], body
    status, _, body = get(f"http://{cluster.serving}/serving/default/echo:http/x")
    assert status == 200 and body["path"] == "/x"


def test_api_service_proxy_path_with_the_token_and_kubectl(cluster, echo):
    path = "/api/v1/namespaces/default/services/echo/proxy/hello?x=1"
    status, _, body = get(cluster.url + path, headers={"Authorization": f"Bearer {cluster.token}"}, context=cluster.ssl_context)
    assert status == 200 and body["path"] == "/hello?x=1" and body["pod"] in ready_ips(cluster), body
    status, _, body = get(cluster.url + path, context=cluster.ssl_context)
    assert status == 401, body
    raw = json.loads(cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/services/echo:http/proxy/raw").stdout)
    assert raw["path"] == "/raw" and raw["version"] == "v1"


class RequestLoop(threading.Thread):
    """Requests through the proxy without pause until stopped, on one keep-alive connection,
    recording every reply and every failure."""

    def __init__(self, address, path):
        super().__init__(daemon=True)
        self.host, self.port = address.rsplit(":", 1)
        self.path = path
        self.stopping = threading.Event()
        self.seen = []
        self.failures = []

    def run(self):
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=10)
        while not self.stopping.is_set():
            try:
                connection.request("GET", self.path)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    self.failures.append((response.status, body[:200]))
                else:
                    reply = json.loads(body)
                    self.seen.append((reply["pod"], reply["version"]))
            except Exception as error:  # noqa: BLE001 - any failure is what the test counts
                self.failures.append(("exception", repr(error)))
                connection.close()
                connection = http.client.HTTPConnection(self.host, int(self.port), timeout=10)
        connection.close()

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


def test_rollout_under_steady_requests_fails_none(cluster, echo, echo_image):
    before = ready_ips(cluster)
    # Requests that take a while, so some are in flight whenever an old pod is told to stop.
    loops = [RequestLoop(cluster.serving, "/serving/default/echo/rollout?delay=0.02") for _ in range(4)]
    for loop in loops:
        loop.start()
    time.sleep(1)
    cluster.kubectl("apply", "-f", "-", input=MANIFESTS.format(image=echo_image, version="v2"))
    cluster.kubectl("rollout", "status", "deployment/echo", "--timeout", "180s", timeout=200)
    wait_for(lambda: len(ready_ips(cluster)) == 2 and not set(ready_ips(cluster)) & set(before),
             what="only the new pods in the endpoints")
    time.sleep(2)
    for loop in loops:
        loop.stop()
    seen = [reply for loop in loops for reply in loop.seen]
    failures = [failure for loop in loops for failure in loop.failures]
    assert failures == [], f"{len(failures)} of {len(seen) + len(failures)} requests failed: {failures[:10]}"
    versions = [version for _, version in seen]
    assert "v1" in versions and "v2" in versions
    assert versions[-1] == "v2"
    assert len(seen) > 100, f"only {len(seen)} requests ran during the rollout"


def test_a_pod_whose_server_dies_costs_no_request(cluster, echo):
    """Between a server's death and its pod leaving the endpoints, the pod refuses connections:
    those requests go to the other pod, and the refusing one is passed over meanwhile."""
    loops = [RequestLoop(cluster.serving, "/serving/default/echo/crash") for _ in range(2)]
    for loop in loops:
        loop.start()
    time.sleep(1)
    victim = ready_ips(cluster)[0]
    pods = json.loads(cluster.kubectl("get", "pods", "-l", "app=echo", "-o", "json").stdout)["items"]
    [pod] = [p for p in pods if p["status"].get("podIP") == victim]
    # Straight to the pod, not through the proxy: its server exits without answering.
    try:
        urllib.request.urlopen(f"http://{victim}:8080/exit", timeout=5)
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        pass
    wait_for(lambda: victim not in ready_ips(cluster), timeout=60, what="the pod to leave the endpoints")
    wait_for(lambda: victim in ready_ips(cluster), timeout=120, what="the pod to be back")
    time.sleep(1)
    for loop in loops:
        loop.stop()
    failures = [failure for loop in loops for failure in loop.failures]
    seen = [reply for loop in loops for reply in loop.seen]
    assert failures == [], f"{len(failures)} of {len(seen) + len(failures)} requests failed: {failures[:10]}"
    restarts = json.loads(cluster.kubectl("get", "pod", pod["metadata"]["name"], "-o", "json").stdout)
    assert restarts["status"]["containerStatuses"][0]["restartCount"] >= 1


def test_scaling_to_zero_answers_503_at_once(cluster, echo):
    cluster.kubectl("scale", "deployment", "echo", "--replicas", "0")
    started = time.monotonic()

    def unavailable():
        status, headers, body = get(f"{echo}/")
        return (status, headers.get("Retry-After"), body) if status == 503 else None

    status, retry_after, body = wait_for(unavailable, timeout=30, interval=0.05, what="503 from the proxy")
    assert time.monotonic() - started < 10
    assert retry_after == "1"
    assert body == {"error": "service default/echo has no ready endpoints"}
