"""Seeded, time-bounded fuzzing of every HTTP surface of `fair server`: the API server (with and
without the token), the embedded registry, the service proxy and the node's log endpoint (with
the API server's client certificate, the only caller it lets past the handshake). No request may crash the
server or get a 5xx; FAIR_FUZZ_SEED replays a run, FAIR_FUZZ_REQUESTS sets its size."""
import json
import os
import random
import ssl
import time
import urllib.request

import pytest

from conftest import fair_binary
from http_fuzz import fuzz
from server_harness import FairServer

SEED = int(os.environ.get("FAIR_FUZZ_SEED", random.SystemRandom().randrange(1 << 32)))
REQUESTS = int(os.environ.get("FAIR_FUZZ_REQUESTS", "5000"))
SECONDS = float(os.environ.get("FAIR_FUZZ_SECONDS", "90"))

API_PATHS = ["/healthz", "/livez", "/readyz", "/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/apis/batch/v1",
             "/api/v1/namespaces", "/api/v1/namespaces/default", "/api/v1/namespaces/default/pods",
             "/api/v1/namespaces/default/pods/p", "/api/v1/namespaces/default/pods/p/log", "/api/v1/namespaces/default/pods/p/status",
             "/api/v1/namespaces/default/pods/p/binding", "/api/v1/namespaces/default/configmaps/a", "/api/v1/configmaps",
             "/apis/batch/v1/namespaces/default/jobs", "/apis/apps/v1/namespaces/default/deployments/d/scale",
             "/api/v1/watch/pods", "/api/v1/watch/namespaces/default/configmaps/a", "/openapi/v3", "/openapi/v3/api/v1",
             "/metrics", "/api/v1/namespaces/default/services/s:http/proxy/x", "/api/v1/namespaces/default/pods/p:8470/proxy/x",
             "/api/v1/nodes/n/status", "/apis/apps/v1/watch/deployments"]
REGISTRY_PATHS = ["/v2/", "/v2/_catalog", "/v2/a/b/manifests/latest", "/v2/a/blobs/sha256:" + "0" * 64, "/v2/a/blobs/uploads/",
                  "/v2/a/blobs/uploads/00000000-0000-0000-0000-000000000000", "/v2/a/tags/list", "/v2/models/x/manifests/v1",
                  "/v2/token", "/v2/a/referrers/sha256:" + "1" * 64]
NODE_PATHS = ["/containerLogs/default/p/app", "/containerLogs/kube-system/p/c", "/containerLogs/default/p", "/containerLogs",
              "/containerLogs/default/p/app/extra", "/", "/healthz", "/logs/", "/exec/default/p/app", "/containerLogs/%2e%2e/p/app",
              "/portForward/default/p", "/exec/default/p/app?command=true&output=1"]
PROXY_PATHS = ["/serving/default/svc/", "/serving/default/svc:http/v2/models/x/infer", "/serving/", "/serving/default/",
               "/v2/models/x", "/"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("fuzz") / "data", extra=["--no-node"]).start()
    print(f"fuzz seed {SEED} (FAIR_FUZZ_SEED={SEED} replays it)")
    yield server
    server.stop()


def alive(server):
    return lambda: server.process.poll() is None


def check(server, sent, failures):
    assert server.process.poll() is None, f"the server died (seed {SEED})"
    assert sent >= min(REQUESTS, 500), f"only {sent} requests were sent in time (seed {SEED})"
    assert not failures, f"{len(failures)} answers of 5xx or a crash (seed {SEED}), first: {failures[:5]}"


@pytest.mark.parametrize("authenticated", [False, True])
def test_fuzz_api_server(server, authenticated):
    sent, failures = fuzz("127.0.0.1", server.port, API_PATHS, seed=SEED + authenticated, count=REQUESTS, seconds=SECONDS,
                          token=server.token if authenticated else None, tls_context=server.ssl_context, alive=alive(server))
    check(server, sent, failures)


def test_fuzz_registry(server):
    host, port = server.registry.rsplit(":", 1)
    sent, failures = fuzz(host, int(port), REGISTRY_PATHS, seed=SEED + 2, count=REQUESTS, seconds=SECONDS, alive=alive(server))
    check(server, sent, failures)


def test_fuzz_service_proxy(server):
    host, port = server.serving.rsplit(":", 1)
    sent, failures = fuzz(host, int(port), PROXY_PATHS, seed=SEED + 3, count=REQUESTS, seconds=SECONDS, alive=alive(server))
    # The proxy's 502/503 for a Service that has no ready endpoints is an answer about the
    # cluster, not a failure to parse: only other 5xx count.
    failures = [f for f in failures if f[2] not in (502, 503, 504)]
    check(server, sent, failures)


@pytest.fixture(scope="module")
def node_server(tmp_path_factory):
    """A server with its node agent, whose log endpoint is fuzzed."""
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("fuzz-node") / "data").start()
    yield server
    server.stop()


def kubelet_port(server, timeout=60):
    context = server.ssl_context
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        request = urllib.request.Request(server.url + "/api/v1/nodes", headers={"Authorization": f"Bearer {server.token}"})
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            for node in json.load(response)["items"]:
                port = node.get("status", {}).get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port") or 0
                if port:
                    return port
        time.sleep(0.2)
    pytest.fail("the node never published its log endpoint")


def test_fuzz_node_log_endpoint(node_server):
    context = ssl.create_default_context(cafile=str(node_server.ca_file))
    tls = node_server.data_dir / "tls"
    context.load_cert_chain(tls / "kubelet-client.crt", tls / "kubelet-client.key")
    answers = []
    sent, failures = fuzz("127.0.0.1", kubelet_port(node_server), NODE_PATHS, seed=SEED + 4, count=REQUESTS, seconds=SECONDS,
                          tls_context=context, alive=alive(node_server), answers=answers)
    check(node_server, sent, failures)
    # The fuzz reached the handler, not only the handshake: most requests were answered.
    assert len(answers) >= sent // 2, f"only {len(answers)} of {sent} requests were answered (seed {SEED})"
