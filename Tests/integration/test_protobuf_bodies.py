"""kubectl's typed commands (`kubectl create secret|configmap|deployment|job|role…`) send their
objects as Kubernetes protobuf. Each is run here against the bundled server with its request
headers logged, to be sure the body was protobuf, and the object is read back as JSON: what is
stored is what Kubernetes' Go types would have written (base64 of the literal in a Secret, a
zero kept where the Go field is a pointer or has no omitempty)."""
import base64
import json
import subprocess
import urllib.request

import pytest

from conftest import fair_binary
from server_harness import FairServer

NS = "pb"
PROTOBUF = "Content-Type: application/vnd.kubernetes.protobuf"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("protobuf") / "data").start()
    server.kubectl("create", "namespace", NS)
    yield server
    server.stop()


def sent_as_protobuf(cluster, *args):
    """Runs kubectl with its requests logged; asserts that it wrote its body in protobuf."""
    result = cluster.kubectl("-v=7", *args)
    assert PROTOBUF in result.stderr, f"kubectl {' '.join(args)} sent no protobuf body:\n{result.stderr[-3000:]}"
    return result


def stored(cluster, *what, namespaced=True):
    namespace = ("-n", NS) if namespaced else ()
    return json.loads(cluster.kubectl("get", *what, *namespace, "-o", "json").stdout)


def test_create_namespace_is_read_from_protobuf(cluster):
    sent_as_protobuf(cluster, "create", "namespace", "pb-other")
    namespace = stored(cluster, "namespace", "pb-other", namespaced=False)
    assert namespace["metadata"]["name"] == "pb-other"
    assert namespace["status"]["phase"] == "Active"


def test_create_serviceaccount(cluster):
    sent_as_protobuf(cluster, "create", "serviceaccount", "builder", "-n", NS)
    account = stored(cluster, "serviceaccount", "builder")
    assert account["metadata"]["namespace"] == NS and account["metadata"]["uid"]
    # kubectl sends no automountServiceAccountToken: an unset pointer stays unset.
    assert "automountServiceAccountToken" not in account


def protobuf_field(number, payload):
    """A length-delimited protobuf field (strings, bytes, messages)."""
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def varint(value):
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def test_a_pointer_set_to_false_is_kept(cluster):
    """No kubectl generator sets a *bool, and none updates in protobuf, so these bodies are written by
    hand as kubectl's writer would: the `k8s\\0` magic, a runtime.Unknown naming the kind, and a
    ServiceAccount whose automountServiceAccountToken (field 4, a *bool) is present, false then true."""
    def send(method, path, automount, status):
        account = protobuf_field(1, protobuf_field(1, b"quiet")) + varint(4 << 3) + varint(int(automount))
        envelope = protobuf_field(1, protobuf_field(1, b"v1") + protobuf_field(2, b"ServiceAccount")) + protobuf_field(2, account)
        request = urllib.request.Request(f"{cluster.url}/api/v1/namespaces/{NS}/serviceaccounts{path}",
                                         data=b"k8s\x00" + envelope, method=method,
                                         headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                                                  "Authorization": f"Bearer {cluster.token}"})
        with urllib.request.urlopen(request, context=cluster.ssl_context, timeout=30) as response:
            assert response.status == status

    send("POST", "", False, 201)
    assert stored(cluster, "serviceaccount", "quiet")["automountServiceAccountToken"] is False
    # An update (PUT) reads protobuf as a create does.
    send("PUT", "/quiet", True, 200)
    assert stored(cluster, "serviceaccount", "quiet")["automountServiceAccountToken"] is True


def test_create_secret_generic_stores_the_literal_in_base64(cluster):
    sent_as_protobuf(cluster, "create", "secret", "generic", "db", "-n", NS,
                     "--from-literal=password=s3cr=t", "--from-literal=empty=")
    secret = stored(cluster, "secret", "db")
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr=t"
    assert secret["data"]["empty"] == ""
    assert "stringData" not in secret and "immutable" not in secret


def test_create_secret_docker_registry(cluster):
    sent_as_protobuf(cluster, "create", "secret", "docker-registry", "pull", "-n", NS,
                     "--docker-server=registry.example:5000", "--docker-username=me", "--docker-password=pw")
    secret = stored(cluster, "secret", "pull")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    entry = config["auths"]["registry.example:5000"]
    assert (entry["username"], entry["password"]) == ("me", "pw")
    assert base64.b64decode(entry["auth"]) == b"me:pw"


def test_create_secret_tls(cluster, tmp_path):
    key, cert = tmp_path / "tls.key", tmp_path / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=pb.example"],
                   check=True, capture_output=True)
    sent_as_protobuf(cluster, "create", "secret", "tls", "site", "-n", NS, f"--cert={cert}", f"--key={key}")
    secret = stored(cluster, "secret", "site")
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]) == cert.read_bytes()
    assert base64.b64decode(secret["data"]["tls.key"]) == key.read_bytes()


def test_create_configmap(cluster):
    sent_as_protobuf(cluster, "create", "configmap", "settings", "-n", NS,
                     "--from-literal=mode=fast", "--from-literal=blank=")
    config = stored(cluster, "configmap", "settings")
    assert config["data"] == {"mode": "fast", "blank": ""}
    assert "binaryData" not in config and "immutable" not in config


def test_create_deployment_keeps_zero_replicas(cluster):
    sent_as_protobuf(cluster, "create", "deployment", "web", "-n", NS, "--image=registry.example/web:1",
                     "--replicas=0", "--port=8080")
    deployment = stored(cluster, "deployment", "web")
    spec = deployment["spec"]
    assert spec["replicas"] == 0  # a *int32 set to 0, not defaulted to 1
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    assert spec["strategy"]["type"] == "RollingUpdate"  # sent as {}, defaulted as kube defaults it
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/web:1"
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert "paused" not in spec  # a plain bool with omitempty, false


def test_create_job(cluster):
    sent_as_protobuf(cluster, "create", "job", "once", "-n", NS, "--image=registry.example/tool:1",
                     "--", "/bin/true")
    job = stored(cluster, "job", "once")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/true"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    cluster.kubectl("delete", "job", "once", "-n", NS, "--wait=false")


def test_create_role_and_rolebinding(cluster):
    sent_as_protobuf(cluster, "create", "role", "reader", "-n", NS, "--verb=get,list", "--resource=pods,secrets")
    role = stored(cluster, "role", "reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list"]}]
    sent_as_protobuf(cluster, "create", "rolebinding", "reader", "-n", NS, "--role=reader",
                     f"--serviceaccount={NS}:builder")
    binding = stored(cluster, "rolebinding", "reader")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "builder", "namespace": NS}]
    token = cluster.kubectl("create", "token", "builder", "-n", NS).stdout.strip()
    can = cluster.kubectl("--token", token, "auth", "can-i", "list", "secrets", "-n", NS)
    assert can.stdout.strip() == "yes"


def test_create_priorityclass_keeps_a_zero_value(cluster):
    sent_as_protobuf(cluster, "create", "priorityclass", "batch-low", "--value=0", "--preemption-policy=Never",
                     "--description=low")
    priority = stored(cluster, "priorityclass", "batch-low", namespaced=False)
    assert priority["value"] == 0  # `json:"value"`: no omitempty
    assert priority["preemptionPolicy"] == "Never"
    assert priority["description"] == "low"
    assert "globalDefault" not in priority  # false, omitempty


def test_scale_deployment_to_zero(cluster):
    sent_as_protobuf(cluster, "create", "deployment", "scaled", "-n", NS, "--image=registry.example/web:1",
                     "--replicas=2")
    # kubectl scale patches the scale subresource (a JSON merge patch); patches stay JSON.
    scaled = cluster.kubectl("scale", "deployment", "scaled", "-n", NS, "--replicas=0", "-v=7")
    assert "PATCH" in scaled.stderr and "/deployments/scaled/scale" in scaled.stderr
    assert stored(cluster, "deployment", "scaled")["spec"]["replicas"] == 0
    # With a precondition it reads the Scale and PUTs it back (as JSON), knowing its kind from discovery.
    cluster.kubectl("scale", "deployment", "scaled", "-n", NS, "--current-replicas=0", "--replicas=1")
    assert stored(cluster, "deployment", "scaled")["spec"]["replicas"] == 1
    cluster.kubectl("scale", "deployment", "scaled", "-n", NS, "--replicas=0")


def test_replace_a_deployment(cluster):
    sent_as_protobuf(cluster, "create", "deployment", "replaced", "-n", NS, "--image=registry.example/web:1",
                     "--replicas=0")
    deployment = stored(cluster, "deployment", "replaced")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example/web:2"
    deployment["spec"]["paused"] = False
    cluster.kubectl("replace", "-f", "-", input=json.dumps(deployment))
    replaced = stored(cluster, "deployment", "replaced")
    assert replaced["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/web:2"
    assert replaced["spec"]["replicas"] == 0
    assert replaced["metadata"]["generation"] == deployment["metadata"]["generation"] + 1
