"""What crosses loopback between the API server and a node. Pods share the host's network and may
hold NET_RAW, so nothing there may travel in clear: the API server reaches a node's log endpoint
over TLS only, trusts the node by the key the Node publishes, and proves itself with a client
certificate from the cluster's root, never with the admin token. Checked against the server's
own node, and against a node of the test's making that records what the API server sends it."""
import base64
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import fair_binary
from server_harness import FairServer

PIN_ANNOTATION = "fair.dev/kubelet-serving-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("node-credentials") / "data").start()
    yield server
    server.stop()


def api(server, method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(server.url + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", f"Bearer {server.token}")
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, context=server.ssl_context, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def spki_pin(certificate_der):
    certificate = x509.load_der_x509_certificate(certificate_der)
    spki = certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def own_node(server, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = api(server, "GET", "/api/v1/nodes")
        nodes = json.loads(body)["items"] if status == 200 else []
        ready = [n for n in nodes if (n.get("status", {}).get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port") or 0) > 0]
        if ready:
            return ready[0]
        time.sleep(0.2)
    pytest.fail("the server's node never published a kubelet endpoint")


def tls_client(server, with_certificate):
    context = ssl.create_default_context(cafile=str(server.ca_file))
    if with_certificate:
        tls = server.data_dir / "tls"
        context.load_cert_chain(tls / "kubelet-client.crt", tls / "kubelet-client.key")
    return context


def get(port, path, context, headers=None):
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), connection.sock.getpeercert(binary_form=True)
    finally:
        connection.close()


def test_the_servers_node_serves_tls_with_the_key_it_publishes(server):
    node = own_node(server)
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    # Verified like any TLS client does: a chain to the kubeconfig's root and the address 127.0.0.1.
    status, body, peer = get(port, "/containerLogs/default/nobody/app", tls_client(server, with_certificate=True))
    assert status == 404, body
    assert b"nobody" in body
    assert spki_pin(peer) == node["metadata"]["annotations"][PIN_ANNOTATION]


def test_the_servers_node_refuses_the_admin_token_and_plain_http(server):
    port = own_node(server)["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    # TLS without a client certificate, carrying the admin token: refused in the handshake.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        get(port, "/containerLogs/default/nobody/app", tls_client(server, with_certificate=False),
            {"Authorization": f"Bearer {server.token}"})
    # Plain HTTP, as the API server once sent it: no HTTP answer at all.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
        plain.sendall(f"GET /containerLogs/default/nobody/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode())
        try:
            answer = plain.recv(4096)
        except OSError:
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer[:200]


class RecordingNode:
    """A node's log endpoint of the test's making: HTTPS with its own self-signed key, asking for
    (not requiring) a client certificate, verified against the cluster's root when one comes.
    It records each request's headers and the client certificate's subject."""

    def __init__(self, cluster_ca):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recording-node")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                       .not_valid_after(now + datetime.timedelta(days=1))
                       .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
                       .sign(key, hashes.SHA256()))
        self.pin = spki_pin(certificate.public_bytes(serialization.Encoding.DER))
        self.requests = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._files = tempfile.mkdtemp()
        cert_path, key_path = os.path.join(self._files, "c.pem"), os.path.join(self._files, "k.pem")
        open(cert_path, "wb").write(certificate.public_bytes(serialization.Encoding.PEM))
        open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        context.load_cert_chain(cert_path, key_path)
        context.load_verify_locations(cluster_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                peer = self.connection.getpeercert()
                subject = dict(item for part in (peer or {}).get("subject", ()) for item in part)
                recorder.requests.append({"path": self.path, "headers": dict(self.headers), "client": subject})
                body = b"a line from the recording node\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recording_node(server):
    node = RecordingNode(str(server.ca_file))
    yield node
    node.close()


def register(server, name, port, annotations):
    status, body = api(server, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                                         "metadata": {"name": name, "annotations": annotations}})
    assert status == 201, body
    # The status is written as a kubelet writes it, retried while a controller also writes the Node.
    for _ in range(20):
        status, body = api(server, "GET", f"/api/v1/nodes/{name}")
        node = json.loads(body)
        node["status"] = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                          "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
                          "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "test",
                                          "lastHeartbeatTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                          "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}
        status, body = api(server, "PUT", f"/api/v1/nodes/{name}/status", node)
        if status != 409:
            break
    assert status == 200, body


def running_pod_on(server, name, node):
    status, body = api(server, "POST", "/api/v1/namespaces/default/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "example/app:1"}]}})
    assert status == 201, body
    pod = json.loads(body)
    pod["status"] = {"phase": "Running", "containerStatuses": [{
        "name": "app", "ready": True, "restartCount": 0, "image": "example/app:1", "imageID": "", "containerID": "fake://1",
        "state": {"running": {"startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}}]}
    status, body = api(server, "PUT", f"/api/v1/namespaces/default/pods/{name}/status", pod)
    assert status == 200, body


def test_the_api_server_sends_its_client_certificate_never_the_token(server, recording_node):
    register(server, "recording", recording_node.port, {PIN_ANNOTATION: recording_node.pin})
    running_pod_on(server, "recorded", "recording")
    status, body = api(server, "GET", "/api/v1/namespaces/default/pods/recorded/log?tailLines=5")
    assert status == 200, body
    assert body == b"a line from the recording node\n"
    assert len(recording_node.requests) == 1
    seen = recording_node.requests[0]
    assert seen["path"] == "/containerLogs/default/recorded/app?tailLines=5"
    assert not any(key.lower() in ("authorization", "proxy-authorization") for key in seen["headers"]), seen["headers"]
    assert server.token not in json.dumps(seen["headers"])
    # The client certificate verified against the cluster's root: the API server's, for nodes.
    assert seen["client"].get("commonName") == "fair:apiserver-kubelet-client", seen["client"]
    assert seen["client"].get("organizationName") == "system:masters"


def test_a_node_with_another_key_or_none_is_not_asked(server, recording_node):
    wrong = "sha256//" + base64.b64encode(b"\0" * 32).decode()
    register(server, "impostor", recording_node.port, {PIN_ANNOTATION: wrong})
    running_pod_on(server, "misled", "impostor")
    status, body = api(server, "GET", "/api/v1/namespaces/default/pods/misled/log")
    assert status == 503, body
    assert b"impostor" in body
    register(server, "keyless", recording_node.port, {})
    running_pod_on(server, "unasked", "keyless")
    status, body = api(server, "GET", "/api/v1/namespaces/default/pods/unasked/log")
    assert status == 503, body
    assert PIN_ANNOTATION.encode() in body
    # The TLS handshake with the wrong key ended before any request was sent.
    assert recording_node.requests == []


def test_a_data_directory_whose_certificate_was_its_own_root_gets_a_cluster_root(tmp_path):
    """Before the root was kept apart, `tls/server.crt` signed itself. Such a directory starts
    with a new root, a serving certificate from it and the kubelet-client certificate, and the
    kubeconfig it writes pins the new root."""
    tls = tmp_path / "data" / "tls"
    tls.mkdir(parents=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fair"), x509.NameAttribute(NameOID.COMMON_NAME, "fair server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    old = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
           .not_valid_after(now + datetime.timedelta(days=365))
           .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
           .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
           .sign(key, hashes.SHA256()))
    (tls / "server.crt").write_bytes(old.public_bytes(serialization.Encoding.PEM))
    (tls / "server.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server = FairServer(fair_binary(), tmp_path / "data", extra=["--no-node"]).start()
    try:
        assert server.kubectl("get", "namespaces", "-o", "name").stdout.split()[0] == "namespace/default"
        root = x509.load_pem_x509_certificate((tls / "ca.crt").read_bytes())
        serving = x509.load_pem_x509_certificate((tls / "server.crt").read_bytes())
        assert serving.issuer == root.subject != old.subject
        assert (tls / "kubelet-client.crt").exists() and oct((tls / "kubelet-client.key").stat().st_mode & 0o777) == "0o600"
        assert oct((tls / "ca.key").stat().st_mode & 0o777) == "0o600"
    finally:
        server.stop()
