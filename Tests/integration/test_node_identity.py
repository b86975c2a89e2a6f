"""Nodes with identities of their own, as kubelets have them: `fair node` asks for a client
certificate through the CertificateSigningRequest API (kubelet's TLS bootstrap), the API server
reads it as `system:node:NAME` in `system:nodes`, and the Node authorizer lets that user reach
only what the pods bound to its node need. Certificates from elsewhere, or for other uses, are
refused at the handshake."""
import base64
import datetime
import json
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import fair_binary
from server_harness import FairNode, wait_for


def kubectl_json(cluster, *args, kubeconfig=None):
    prefix = ["--kubeconfig", str(kubeconfig)] if kubeconfig else []
    return json.loads(cluster.kubectl(*prefix, *args, "-o", "json").stdout)


def split_pem(text):
    certificate = text[: text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"
    key = text[text.index("-----BEGIN", len(certificate) - 1):]
    return certificate, key


def certificate_kubeconfig(cluster, path, certificate_pem, key_pem):
    """A kubeconfig for the cluster whose only credential is this client certificate."""
    b64 = lambda text: base64.b64encode(text.encode()).decode()
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: fair
  cluster: {{server: "{cluster.url}", certificate-authority-data: {b64(cluster.ca_file.read_text())}}}
users:
- name: node
  user: {{client-certificate-data: {b64(certificate_pem)}, client-key-data: {b64(key_pem)}}}
contexts:
- name: node
  context: {{cluster: fair, user: node, namespace: default}}
current-context: node
""")
    path.chmod(0o600)
    return path


def token_kubeconfig(cluster, path, token):
    b64 = base64.b64encode(cluster.ca_file.read_bytes()).decode()
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: fair
  cluster: {{server: "{cluster.url}", certificate-authority-data: {b64}}}
users:
- name: joiner
  user: {{token: {token}}}
contexts:
- name: joiner
  context: {{cluster: fair, user: joiner}}
current-context: joiner
""")
    path.chmod(0o600)
    return path


def node_ready(cluster, name):
    result = cluster.kubectl("get", "node", name, "-o", "json", check=False)
    if result.returncode != 0:
        return False
    conditions = json.loads(result.stdout)["status"].get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def csr_for(cluster, node_name):
    items = kubectl_json(cluster, "get", "csr")["items"]
    return [item for item in items if item["metadata"]["name"].startswith(f"node-csr-{node_name}-")]


@pytest.fixture(scope="module")
def joined(cluster, tmp_path_factory):
    """A node started with the administrator's kubeconfig, and a kubeconfig of its own certificate."""
    base = tmp_path_factory.mktemp("joined")
    node = FairNode(fair_binary(), cluster.kubeconfig, "worker-a", base / "worker-a", "127.31.0.0/16", runtime="fake").start()
    wait_for(lambda: node_ready(cluster, "worker-a"), timeout=60, what="worker-a Ready")
    pem = base / "worker-a" / "pki" / "kubelet-client-current.pem"
    certificate, key = split_pem(pem.read_text())
    config = certificate_kubeconfig(cluster, base / "worker-a.kubeconfig", certificate, key)
    yield {"node": node, "pem": pem, "kubeconfig": config, "certificate": certificate}
    node.stop()


def test_a_node_is_issued_its_own_client_certificate(cluster, joined):
    requests = csr_for(cluster, "worker-a")
    assert len(requests) == 1
    request = requests[0]
    assert request["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
    assert request["spec"]["username"] == "fair-admin"
    assert "system:masters" in request["spec"]["groups"]
    conditions = {c["type"]: c for c in request["status"]["conditions"]}
    assert conditions["Approved"]["reason"] == "AutoApproved"
    issued = x509.load_pem_x509_certificate(base64.b64decode(request["status"]["certificate"]))
    assert issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:worker-a"
    assert [a.value for a in issued.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:nodes"]
    assert issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    assert issued.public_bytes(serialization.Encoding.PEM).decode() == joined["certificate"]
    # The key never left the node's data directory, which only its owner reads.
    assert joined["pem"].stat().st_mode & 0o777 == 0o600
    table = cluster.kubectl("get", "csr").stdout
    assert "Approved,Issued" in table and "kube-apiserver-client-kubelet" in table


def test_the_node_is_its_own_user(cluster, joined):
    who = kubectl_json(cluster, "auth", "whoami", kubeconfig=joined["kubeconfig"])["status"]["userInfo"]
    assert who["username"] == "system:node:worker-a"
    assert who["groups"] == ["system:nodes", "system:authenticated"]


def test_the_node_reaches_only_what_its_pods_use(cluster, joined):
    config = joined["kubeconfig"]

    def as_node(*args, check=False):
        return cluster.kubectl("--kubeconfig", str(config), *args, check=check)

    cluster.kubectl("create", "secret", "generic", "model-key", "--from-literal=key=s3cret")
    cluster.kubectl("create", "secret", "generic", "unrelated", "--from-literal=key=other")
    cluster.kubectl("create", "serviceaccount", "trainer")
    denied = as_node("get", "secret", "model-key")
    assert denied.returncode != 0 and 'User "system:node:worker-a" cannot get resource "secrets"' in denied.stderr, denied.stderr
    cluster.kubectl("create", "-f", "-", input="""
apiVersion: v1
kind: Pod
metadata: {name: uses-key}
spec:
  nodeName: worker-a
  serviceAccountName: trainer
  containers:
  - name: main
    image: busybox
    env: [{name: KEY, valueFrom: {secretKeyRef: {name: model-key, key: key}}}]
""")
    wait_for(lambda: as_node("get", "secret", "model-key").returncode == 0, timeout=30, what="the node may read its pod's secret")
    # Not the others, and not as a list.
    assert as_node("get", "secret", "unrelated").returncode != 0
    assert as_node("get", "secrets").returncode != 0
    # Tokens only for its pods' accounts, and only bound to such a pod.
    pod_uid = kubectl_json(cluster, "get", "pod", "uses-key")["metadata"]["uid"]
    bound = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
             "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3600,
                      "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "uses-key", "uid": pod_uid}}}
    answer = subprocess.run(["kubectl", "--kubeconfig", str(config), "create", "--raw",
                             "/api/v1/namespaces/default/serviceaccounts/trainer/token", "-f", "-"],
                            input=json.dumps(bound), capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["status"]["token"].count(".") == 2
    unbound = dict(bound, spec={"audiences": ["https://kubernetes.default.svc"]})
    refused = subprocess.run(["kubectl", "--kubeconfig", str(config), "create", "--raw",
                              "/api/v1/namespaces/default/serviceaccounts/trainer/token", "-f", "-"],
                             input=json.dumps(unbound), capture_output=True, text=True)
    assert refused.returncode != 0 and "not bound to a pod" in refused.stderr, refused.stderr
    assert as_node("create", "token", "default").returncode != 0
    # Its own Node, not another's; no pods of its own making.
    assert as_node("label", "node", "worker-a", "team=ml").returncode == 0
    other = as_node("label", "node", cluster_node_name(cluster), "team=ml")
    assert other.returncode != 0 and "forbidden" in other.stderr.lower()
    made = as_node("run", "sneaky", "--image=busybox", "--restart=Never")
    assert made.returncode != 0 and "forbidden" in made.stderr.lower()
    # A pod bound elsewhere is not its to change.
    cluster.kubectl("create", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: elsewhere}}
spec: {{nodeName: {cluster_node_name(cluster)}, containers: [{{name: main, image: busybox}}]}}
""")
    assert as_node("delete", "pod", "elsewhere", "--wait=false").returncode != 0
    assert as_node("get", "pod", "elsewhere").returncode == 0
    cluster.kubectl("delete", "pod", "elsewhere", "uses-key", "--grace-period=0", "--force", check=False)


def cluster_node_name(cluster):
    names = [n["metadata"]["name"] for n in kubectl_json(cluster, "get", "nodes")["items"]]
    return next(name for name in names if not name.startswith("worker-"))


def test_a_restarted_node_keeps_its_certificate(cluster, joined):
    node = joined["node"]
    before = joined["pem"].read_text()
    node.stop()
    node.start()
    wait_for(lambda: node_ready(cluster, "worker-a"), timeout=60, what="worker-a Ready again")
    assert joined["pem"].read_text() == before
    assert len(csr_for(cluster, "worker-a")) == 1


def test_a_bootstrap_credential_joins_and_an_unapproved_one_waits(cluster, tmp_path):
    cluster.kubectl("create", "serviceaccount", "joiner", "-n", "kube-system")
    cluster.kubectl("create", "serviceaccount", "asker", "-n", "kube-system")
    # kubeadm's bindings for its bootstrap tokens, here for two accounts: one may be approved
    # automatically, the other may only ask.
    cluster.kubectl("create", "clusterrolebinding", "joiner-bootstrap", "--clusterrole=system:node-bootstrapper",
                    "--serviceaccount=kube-system:joiner", "--serviceaccount=kube-system:asker")
    cluster.kubectl("create", "clusterrolebinding", "joiner-autoapprove",
                    "--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                    "--serviceaccount=kube-system:joiner")
    joiner = token_kubeconfig(cluster, tmp_path / "joiner.kubeconfig",
                              cluster.kubectl("create", "token", "joiner", "-n", "kube-system").stdout.strip())
    asker = token_kubeconfig(cluster, tmp_path / "asker.kubeconfig",
                             cluster.kubectl("create", "token", "asker", "-n", "kube-system").stdout.strip())
    # The bootstrap credential itself can do nothing else.
    assert cluster.kubectl("--kubeconfig", str(joiner), "get", "pods", check=False).returncode != 0

    first = FairNode(fair_binary(), joiner, "worker-b", tmp_path / "worker-b", "127.32.0.0/16", runtime="fake").start()
    second = FairNode(fair_binary(), asker, "worker-c", tmp_path / "worker-c", "127.33.0.0/16", runtime="fake").start()
    try:
        wait_for(lambda: node_ready(cluster, "worker-b"), timeout=60, what="worker-b Ready")
        assert csr_for(cluster, "worker-b")[0]["spec"]["username"] == "system:serviceaccount:kube-system:joiner"
        wait_for(lambda: csr_for(cluster, "worker-c"), timeout=30, what="worker-c's request")
        pending = csr_for(cluster, "worker-c")[0]
        assert "conditions" not in pending["status"] or not pending["status"]["conditions"]
        assert "Pending" in cluster.kubectl("get", "csr", pending["metadata"]["name"]).stdout
        assert not node_ready(cluster, "worker-c")
        # Asking cannot approve: approving takes the right to approve for that signer.
        refused = cluster.kubectl("--kubeconfig", str(asker), "certificate", "approve", pending["metadata"]["name"], check=False)
        assert refused.returncode != 0
        cluster.kubectl("certificate", "approve", pending["metadata"]["name"])
        wait_for(lambda: node_ready(cluster, "worker-c"), timeout=60, what="worker-c Ready after approval")
        approved = csr_for(cluster, "worker-c")[0]
        assert any(c["type"] == "Approved" and c["reason"] == "KubectlApprove" for c in approved["status"]["conditions"])
    finally:
        first.stop()
        second.stop()


def test_a_denied_node_stops_with_the_reason(cluster, tmp_path):
    cluster.kubectl("create", "serviceaccount", "denied-asker", "-n", "kube-system")
    cluster.kubectl("create", "clusterrolebinding", "denied-asker", "--clusterrole=system:node-bootstrapper",
                    "--serviceaccount=kube-system:denied-asker")
    config = token_kubeconfig(cluster, tmp_path / "denied.kubeconfig",
                              cluster.kubectl("create", "token", "denied-asker", "-n", "kube-system").stdout.strip())
    node = FairNode(fair_binary(), config, "worker-d", tmp_path / "worker-d", "127.34.0.0/16", runtime="fake").start()
    try:
        wait_for(lambda: csr_for(cluster, "worker-d"), timeout=30, what="worker-d's request")
        cluster.kubectl("certificate", "deny", csr_for(cluster, "worker-d")[0]["metadata"]["name"])
        node.process.wait(timeout=30)
        assert node.process.returncode != 0
        log = node.log_path.read_text()
        assert "was refused" in log and "worker-d" in log, log
        assert not (tmp_path / "worker-d" / "pki" / "kubelet-client-current.pem").exists()
    finally:
        node.stop()


def forged_certificate(common_name, organization, signer_key, issuer, usage):
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    if common_name:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(x509.Name(names)).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .sign(signer_key, hashes.SHA256()))
    return certificate, key


def request_with(cluster, tmp_path, certificate, key):
    (tmp_path / "c.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{cluster.url}/api/v1/namespaces/default/secrets"),
                                    context=context, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (ssl.SSLError, urllib.error.URLError, ConnectionError):
        return "handshake refused"


def test_certificates_not_from_the_cluster_root_or_not_for_clients_are_refused(cluster, tmp_path):
    root_key = serialization.load_pem_private_key((cluster.data_dir / "tls" / "ca.key").read_bytes(), password=None)
    root = x509.load_pem_x509_certificate(cluster.ca_file.read_bytes())
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fair cluster CA")])
    # A root of its own, however it names itself: no handshake.
    forged, key = forged_certificate("admin", "system:masters", stranger_key, stranger, ExtendedKeyUsageOID.CLIENT_AUTH)
    assert request_with(cluster, tmp_path, forged, key) == "handshake refused"
    # The cluster's root, but a serving certificate (what a node's log server holds): no handshake.
    serving, key = forged_certificate("system:node:x", "system:masters", root_key, root.subject, ExtendedKeyUsageOID.SERVER_AUTH)
    assert request_with(cluster, tmp_path, serving, key) == "handshake refused"
    # A client certificate without a user name is no one.
    nameless, key = forged_certificate(None, "system:masters", root_key, root.subject, ExtendedKeyUsageOID.CLIENT_AUTH)
    assert request_with(cluster, tmp_path, nameless, key) == 401
    # A proper one is its user, and RBAC decides for it.
    user, key = forged_certificate("jane", "ml-team", root_key, root.subject, ExtendedKeyUsageOID.CLIENT_AUTH)
    assert request_with(cluster, tmp_path, user, key) == 403


def test_a_nodes_certificate_reads_no_other_nodes_logs(cluster, joined, tmp_path):
    """The cluster's root signs nodes' client certificates too; a node's log server still
    serves only the API server."""
    server_node = kubectl_json(cluster, "get", "node", cluster_node_name(cluster))
    port = server_node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    certificate, key = split_pem(joined["pem"].read_text())
    (tmp_path / "c.pem").write_text(certificate)
    (tmp_path / "k.pem").write_text(key)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/containerLogs/default/any/main", context=context, timeout=10)
    assert refused.value.code == 403
