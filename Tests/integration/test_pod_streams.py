"""Streams into pods (pods/exec, attach, portforward) as kubectl reaches them: whichever way it
comes (the WebSocket GET, then the SPDY POST it falls back to), a request is authorized with
`create` on the subresource, the pod looked up and the container checked before anything could
run, and refusals are kube's Status errors, which kubectl prints."""
import json

import pytest

from conftest import fair_binary
from server_harness import FairServer, wait_for

NS = "streams"
PODS = f"/api/v1/namespaces/{NS}/pods"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("streams") / "data").start()
    server.kubectl("create", "namespace", NS)
    server.kubectl("create", "serviceaccount", "viewer", "-n", NS)
    server.kubectl("create", "rolebinding", "viewer-view", "--clusterrole=view", f"--serviceaccount={NS}:viewer", "-n", NS)
    # Never pulls, so never runs: these tests are about what is refused before a stream starts.
    server.kubectl("create", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: two, namespace: {NS}}}
spec:
  containers:
  - {{name: main, image: 127.0.0.1:9/none/never:1}}
  - {{name: side, image: 127.0.0.1:9/none/never:1}}
""")
    wait_for(lambda: server.kubectl("get", "pod", "two", "-n", NS, "-o", "jsonpath={.spec.nodeName}").stdout.strip(),
             timeout=60, what="pod two bound to the node")
    yield server
    server.stop()


def test_exec_into_a_missing_pod_is_not_found(cluster):
    result = cluster.kubectl("exec", "missing", "-n", NS, "--", "true", check=False)
    assert result.returncode != 0
    assert 'pods "missing" not found' in result.stderr, result.stderr


def test_exec_without_create_on_pods_exec_is_forbidden(cluster):
    token = cluster.kubectl("create", "token", "viewer", "-n", NS).stdout.strip()
    assert cluster.kubectl("--token", token, "get", "pod", "two", "-n", NS, check=False).returncode == 0, "view may read the pod"
    result = cluster.kubectl("--token", token, "exec", "two", "-n", NS, "-c", "main", "--", "touch", "/tmp/ran", check=False)
    assert result.returncode != 0
    assert 'cannot create resource "pods/exec"' in result.stderr, result.stderr
    for sub in ("attach", "portforward"):
        raw = cluster.kubectl("--token", token, "create", "--raw", f"{PODS}/two/{sub}?stdout=true", "-f", "/dev/null", check=False)
        assert f'cannot create resource \\"pods/{sub}\\"' in raw.stderr or f'cannot create resource "pods/{sub}"' in raw.stderr, raw.stderr


@pytest.mark.parametrize("query, message", [
    ("command=true&stdout=true", "a container name must be specified for pod two, choose one of: [main side]"),
    ("command=true&stdout=true&container=nope", "container nope is not valid for pod two"),
    ("stdout=true&container=main", "you must specify at least 1 command"),
    ("command=true&container=main", "you must specify at least one of stdin, stdout, stderr"),
    ("command=true&stdout=true&container=main", "Upgrade request required"),
])
def test_exec_is_checked_like_kube_before_the_upgrade(cluster, query, message):
    result = cluster.kubectl("get", "--raw", f"{PODS}/two/exec?{query}", check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def websocket_exec(cluster, pod, query, token=None, subprotocols=("v5.channel.k8s.io",)):
    import websocket
    url = f"wss://127.0.0.1:{cluster.port}{PODS}/{pod}/exec?{query}"
    return websocket.create_connection(url, header=[f"Authorization: Bearer {token or cluster.token}"],
                                       subprotocols=list(subprotocols), sslopt={"ca_certs": str(cluster.ca_file)}, timeout=20)


@pytest.mark.parametrize("who, query, status, words", [
    ("viewer", "command=true&stdout=true&container=main", 403, 'resource \\"pods/exec\\"'),
    ("admin", "command=true&stdout=true", 400, "a container name must be specified for pod two, choose one of: [main side]"),
    ("nobody", "command=true&stdout=true&container=main", 401, "Unauthorized"),
])
def test_a_refused_websocket_upgrade_gets_kube_s_status(cluster, who, query, status, words):
    """The Python client shows the handshake's status and body: kube's, not a bare 400."""
    import websocket
    token = {"admin": None, "nobody": "not-a-token",
             "viewer": cluster.kubectl("create", "token", "viewer", "-n", NS).stdout.strip()}[who]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket_exec(cluster, "two", query, token=token)
    assert refused.value.status_code == status
    body = refused.value.resp_body.decode()
    assert json.loads(body)["code"] == status
    assert words in body, body


def test_a_websocket_offering_no_known_subprotocol_is_refused(cluster):
    import websocket
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket_exec(cluster, "two", "command=true&stdout=true&container=main", subprotocols=("v9.channel.k8s.io",))
    assert refused.value.status_code == 400
    assert "requested protocol(s) are not supported" in refused.value.resp_body.decode()
