"""Service-account tokens and RBAC on the bundled server, driven as an operator would: kubectl
makes accounts, roles and bindings from manifests, `kubectl create token` issues tokens, `kubectl
auth can-i` and `auth whoami` answer for a bound and an unbound account, and a pod's own mounted
token lets the official Python client's `load_incluster_config()` list pods only when its
account is bound to `view`."""
import base64
import json
import sys
from pathlib import Path

import pytest

from client_venvs import client_python
from conftest import Fair, FIXTURES
from server_harness import wait_for


def create(cluster, manifest, check=True):
    return cluster.kubectl("create", "-f", "-", input=manifest, check=check)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def as_token(cluster, token, *args, check=True):
    """kubectl with the cluster's address and CA, and this token as its only credential."""
    return cluster.kubectl("--token", token, *args, check=check)


@pytest.fixture(scope="module")
def accounts(cluster):
    create(cluster, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n")
    for name in ("runner", "idle"):
        create(cluster, f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: ml}}\n")
    create(cluster, """
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner-view, namespace: ml}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: runner, namespace: ml}]
""")
    return {name: cluster.kubectl("create", "token", name, "-n", "ml").stdout.strip() for name in ("runner", "idle")}


def test_kubectl_create_token_issues_a_bound_jwt(cluster, accounts):
    token = cluster.kubectl("create", "token", "runner", "-n", "ml", "--duration", "15m", "--audience", "vault").stdout.strip()
    payload = claims(token)
    assert payload["sub"] == "system:serviceaccount:ml:runner"
    assert payload["aud"] == ["vault"]
    assert abs(payload["exp"] - payload["iat"] - 900) <= 1
    account = json.loads(cluster.kubectl("get", "serviceaccount", "runner", "-n", "ml", "-o", "json").stdout)
    assert payload["kubernetes.io"]["serviceaccount"] == {"name": "runner", "uid": account["metadata"]["uid"]}
    # A token for another audience is no credential for the API server.
    refused = as_token(cluster, token, "get", "pods", "-n", "ml", check=False)
    assert refused.returncode != 0 and "Unauthorized" in refused.stderr, refused.stderr


def test_auth_can_i_and_whoami_answer_for_bound_and_unbound_accounts(cluster, accounts):
    runner, idle = accounts["runner"], accounts["idle"]
    assert as_token(cluster, runner, "auth", "can-i", "list", "pods", "-n", "ml").stdout.strip() == "yes"
    denied = as_token(cluster, runner, "auth", "can-i", "create", "pods", "-n", "ml", check=False)
    assert denied.returncode == 1 and denied.stdout.strip() == "no"
    assert as_token(cluster, runner, "auth", "can-i", "get", "secrets", "-n", "ml", check=False).stdout.strip() == "no"
    assert as_token(cluster, idle, "auth", "can-i", "list", "pods", "-n", "ml", check=False).stdout.strip() == "no"
    who = json.loads(as_token(cluster, runner, "auth", "whoami", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == "system:serviceaccount:ml:runner"
    assert "system:serviceaccounts:ml" in who["status"]["userInfo"]["groups"]
    admin = json.loads(cluster.kubectl("auth", "whoami", "-o", "json").stdout)
    assert "system:masters" in admin["status"]["userInfo"]["groups"]
    # The real requests agree with the reviews.
    assert as_token(cluster, runner, "get", "pods", "-n", "ml").returncode == 0
    refused = as_token(cluster, idle, "get", "pods", "-n", "ml", check=False)
    assert refused.returncode != 0
    assert ('pods is forbidden: User "system:serviceaccount:ml:idle" cannot list resource "pods" '
            'in API group "" in the namespace "ml"') in refused.stderr, refused.stderr


def test_roles_and_bindings_from_manifests_print_as_kubectl_prints_them(cluster, accounts):
    create(cluster, """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: ml}
rules: [{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: idle-reads-pods, namespace: ml}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects: [{kind: ServiceAccount, name: idle, namespace: ml}]
""")
    wide = cluster.kubectl("get", "rolebinding", "idle-reads-pods", "-n", "ml", "-o", "wide").stdout.split("\n")
    assert wide[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], wide
    assert wide[1].split()[1] == "Role/pod-reader" and wide[1].split()[-1] == "ml/idle", wide
    roles = cluster.kubectl("get", "clusterroles", "-o", "name").stdout.split()
    for name in ("cluster-admin", "admin", "edit", "view"):
        assert f"clusterrole.rbac.authorization.k8s.io/{name}" in roles
    assert as_token(cluster, accounts["idle"], "auth", "can-i", "list", "pods", "-n", "ml").stdout.strip() == "yes"
    # A Role cannot name non-resource URLs, and a binding's role cannot change.
    bad = create(cluster, """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: bad, namespace: ml}
rules: [{nonResourceURLs: [/metrics], verbs: [get]}]
""", check=False)
    assert bad.returncode != 0 and "namespaced rules cannot apply to non-resource URLs" in bad.stderr, bad.stderr
    moved = cluster.kubectl("patch", "rolebinding", "idle-reads-pods", "-n", "ml", "--type", "merge",
                            "-p", '{"roleRef":{"name":"view","kind":"ClusterRole"}}', check=False)
    assert moved.returncode != 0 and "cannot change roleRef" in moved.stderr, moved.stderr


INCLUSTER = """
from kubernetes import client, config
config.load_incluster_config()
namespace = open("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read()
try:
    pods = client.CoreV1Api().list_namespaced_pod(namespace)
    print("LISTED", sorted(p.metadata.name for p in pods.items))
except client.ApiException as error:
    print("STATUS", error.status)
"""


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    """The plain-Python fixture in the embedded registry (its image has Debian's python3)."""
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/examples/incluster:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/incluster@{built['digest']}"


def site_packages(client_name):
    """The site-packages of a client venv, to mount into a pod whose python3 is the same
    version (Debian 12's 3.11 in the image; the venv's wheels are for CPython 3.11)."""
    python = client_python(client_name).python
    found = sorted(Path(python).parent.parent.glob("lib/python3*/site-packages"))
    if not found or sys.version_info[:2] != (3, 11):
        pytest.skip(f"client venv {client_name} is not for Python 3.11, the image's")
    return str(found[0])


def run_pod(cluster, name, account, image, script, packages, namespace="ml", timeout=180):
    create(cluster, json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "serviceAccountName": account, "restartPolicy": "Never",
            "volumes": [{"name": "client", "hostPath": {"path": packages, "type": "Directory"}}],
            "containers": [{"name": "main", "image": image, "command": ["python3", "-c", script],
                            "env": [{"name": "PYTHONPATH", "value": "/client"}, {"name": "PYTHONUNBUFFERED", "value": "1"}],
                            "volumeMounts": [{"name": "client", "mountPath": "/client", "readOnly": True}]}],
        }}))
    wait_for(lambda: json.loads(cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json").stdout)["status"].get("phase")
             in ("Succeeded", "Failed"), timeout=timeout, what=f"pod {name} to finish")
    return cluster.kubectl("logs", name, "-n", namespace).stdout


def test_the_python_client_in_a_pod_lists_pods_only_when_its_account_may(cluster, accounts, python_image):
    packages = site_packages("kubernetes-31")
    bound = run_pod(cluster, "lister", "runner", python_image, INCLUSTER, packages)
    assert "LISTED" in bound and "'lister'" in bound, bound
    unbound = run_pod(cluster, "stranger", "default", python_image, INCLUSTER, packages)
    assert "STATUS 403" in unbound, unbound
    pod = json.loads(cluster.kubectl("get", "pod", "lister", "-n", "ml", "-o", "json").stdout)
    mounts = pod["spec"]["containers"][0]["volumeMounts"]
    assert mounts[-1]["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount" and mounts[-1]["readOnly"]


def exchange(cluster, token, scope, over_tls=True):
    """The registry's token endpoint asked for `scope` with a service-account token: (status, granted
    scopes or the error's message)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    base = cluster.url if over_tls else f"http://{cluster.registry}"
    request = urllib.request.Request(f"{base}/v2/token?" + urllib.parse.urlencode({"service": "fair-registry", "scope": scope}))
    request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, context=cluster.ssl_context if over_tls else None, timeout=30) as response:
            return response.status, json.load(response)["token"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def start_upload(cluster, repository, registry_token):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"http://{cluster.registry}/v2/{repository}/blobs/uploads/", method="POST", data=b"")
    request.add_header("Authorization", "Bearer " + registry_token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_account_pushes_to_the_registry_where_rbac_lets_it_and_nowhere_else(cluster, accounts):
    create(cluster, """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: push-churn, namespace: ml}
rules: [{apiGroups: [registry.fair.dev], resources: [repositories], resourceNames: [models/churn], verbs: [push, pull]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner-pushes-churn, namespace: ml}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: push-churn}
subjects: [{kind: ServiceAccount, name: runner, namespace: ml}]
""")
    for_registry = cluster.kubectl("create", "token", "runner", "-n", "ml", "--audience", "registry.fair.dev").stdout.strip()
    status, token = exchange(cluster, for_registry, "repository:models/churn:push,pull")
    assert status == 200
    assert start_upload(cluster, "models/churn", token) == 202
    # The same token asked for another repository gets pull only (pulls are open), and cannot push there.
    status, other = exchange(cluster, for_registry, "repository:models/fraud:push,pull")
    assert status == 200 and start_upload(cluster, "models/fraud", other) in (401, 403)
    assert start_upload(cluster, "models/fraud", token) in (401, 403)
    # The account's API token is not taken by the registry, nor the registry's by the API.
    assert exchange(cluster, accounts["runner"], "repository:models/churn:push")[0] == 401
    refused = as_token(cluster, for_registry, "get", "pods", "-n", "ml", check=False)
    assert refused.returncode != 0 and "Unauthorized" in refused.stderr
    # An account without a grant gets no push; and no account's token is taken in clear.
    idle = cluster.kubectl("create", "token", "idle", "-n", "ml", "--audience", "registry.fair.dev").stdout.strip()
    status, idle_token = exchange(cluster, idle, "repository:models/churn:push,pull")
    assert status == 200 and start_upload(cluster, "models/churn", idle_token) in (401, 403)
    status, message = exchange(cluster, for_registry, "repository:models/churn:push", over_tls=False)
    assert status == 401 and "not accepted over plain HTTP" in message, message
    # Taking the binding away takes the right away at the next exchange.
    cluster.kubectl("delete", "rolebinding", "runner-pushes-churn", "-n", "ml")
    status, after = exchange(cluster, for_registry, "repository:models/churn:push,pull")
    assert status == 200 and start_upload(cluster, "models/churn", after) in (401, 403)
