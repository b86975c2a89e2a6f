"""fair reaches any Kubernetes API server the way kubectl does: the kubeconfig's CA (data or file),
`insecure-skip-tls-verify`, a bearer token, or a client certificate and key. Checked against a
small HTTPS server that answers the two reads `fair status` makes and records who asked."""
import base64
import datetime
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import Fair

JOB = {"apiVersion": "batch/v1", "kind": "Job",
       "metadata": {"name": "demo", "namespace": "default", "uid": "u1"},
       "spec": {"backoffLimit": 0},
       "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}


def certificate(subject, issuer_key=None, issuer_name=None, ca=False, san=None):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san))]), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def pem(cert=None, key=None):
    if cert is not None:
        return cert.public_bytes(serialization.Encoding.PEM)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class FakeAPI:
    def __init__(self, tmp_path, require_client_certificate):
        self.ca, self.ca_key = certificate("test-ca", ca=True)
        server_cert, server_key = certificate("127.0.0.1", self.ca_key, self.ca.subject, san="127.0.0.1")
        (tmp_path / "server.crt").write_bytes(pem(server_cert))
        (tmp_path / "server.key").write_bytes(pem(key=server_key))
        (tmp_path / "ca.crt").write_bytes(pem(self.ca))
        self.seen = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                peer = self.connection.getpeercert()
                subject = dict(item[0] for item in peer["subject"])["commonName"] if peer else None
                api.seen.append({"path": self.path, "authorization": self.headers.get("Authorization"), "client": subject})
                if self.path.startswith("/apis/batch/v1/namespaces/default/jobs/demo"):
                    body = JOB
                elif self.path.startswith("/api/v1/namespaces/default/pods"):
                    body = {"kind": "PodList", "apiVersion": "v1", "items": []}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
        if require_client_certificate:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(tmp_path / "ca.crt")
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client_files(self, tmp_path, name="fair-user"):
        cert, key = certificate(name, self.ca_key, self.ca.subject)
        (tmp_path / "client.crt").write_bytes(pem(cert))
        (tmp_path / "client.key").write_bytes(pem(key=key))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def kubeconfig(path, cluster, user):
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
              "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": user}],
              "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}]}
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@pytest.fixture
def fair(tmp_path):
    (tmp_path / "home").mkdir()
    return Fair(tmp_path / "home")


def test_client_certificate_files_relative_to_the_kubeconfig(tmp_path, fair):
    api = FakeAPI(tmp_path, require_client_certificate=True)
    try:
        api.client_files(tmp_path)
        config = kubeconfig(tmp_path / "config", {"server": api.url, "certificate-authority": "ca.crt"},
                            {"client-certificate": "client.crt", "client-key": "client.key"})
        result = fair.run("status", "demo", "--kubeconfig", config)
        assert result.stdout.startswith("job demo  Complete")
        assert {request["client"] for request in api.seen} == {"fair-user"}
        assert all(request["authorization"] is None for request in api.seen)

        # The same, inline as base64 (as most kubeconfigs carry them).
        inline = kubeconfig(tmp_path / "inline", {
            "server": api.url,
            "certificate-authority-data": base64.b64encode((tmp_path / "ca.crt").read_bytes()).decode()}, {
            "client-certificate-data": base64.b64encode((tmp_path / "client.crt").read_bytes()).decode(),
            "client-key-data": base64.b64encode((tmp_path / "client.key").read_bytes()).decode()})
        assert fair.run("status", "demo", "--kubeconfig", inline).stdout.startswith("job demo  Complete")

        # Without the certificate the server refuses the handshake: a clear error, not a hang.
        bare = kubeconfig(tmp_path / "bare", {"server": api.url, "certificate-authority": "ca.crt"}, {"token": "t"})
        refused = fair.run("status", "demo", "--kubeconfig", bare, check=False, timeout=60)
        assert refused.returncode == 1 and "cannot reach the API server" in refused.stderr
    finally:
        api.stop()


def test_insecure_skip_tls_verify_with_a_token(tmp_path, fair):
    api = FakeAPI(tmp_path, require_client_certificate=False)
    try:
        verified = kubeconfig(tmp_path / "verified", {"server": api.url}, {"token": "secret"})
        failed = fair.run("status", "demo", "--kubeconfig", verified, check=False)
        assert failed.returncode == 1 and "cannot reach the API server" in failed.stderr  # unknown CA
        insecure = kubeconfig(tmp_path / "insecure", {"server": api.url, "insecure-skip-tls-verify": True}, {"token": "secret"})
        assert fair.run("status", "demo", "--kubeconfig", insecure).stdout.startswith("job demo  Complete")
        assert api.seen and all(request["authorization"] == "Bearer secret" for request in api.seen)
    finally:
        api.stop()


def test_half_a_client_certificate_is_a_clear_error(tmp_path, fair):
    config = kubeconfig(tmp_path / "half", {"server": "https://127.0.0.1:1"}, {"client-certificate-data": "eA=="})
    result = fair.run("status", "demo", "--kubeconfig", config, check=False)
    assert result.returncode == 1 and "without its key" in result.stderr
