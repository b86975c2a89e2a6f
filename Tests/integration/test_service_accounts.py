"""ServiceAccounts on the bundled server, with kubectl: a `default` one in every namespace, kept
there by the controller, and the account a pod runs as when it names none."""
import json

from server_harness import wait_for


def account_uid(cluster, namespace):
    result = cluster.kubectl("get", "serviceaccount", "default", "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout)["metadata"]["uid"] if result.returncode == 0 else None


def test_every_namespace_has_a_default_account_made_again_when_deleted(cluster):
    wait_for(lambda: account_uid(cluster, "default"), timeout=30, what="the default namespace's account")
    table = cluster.kubectl("get", "sa").stdout
    assert table.split()[:3] == ["NAME", "SECRETS", "AGE"] and "default" in table.split(), table
    cluster.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n")
    first = wait_for(lambda: account_uid(cluster, "team-a"), timeout=30, what="team-a's default account")
    cluster.kubectl("delete", "serviceaccount", "default", "-n", "team-a")
    second = wait_for(lambda: (uid := account_uid(cluster, "team-a")) != first and uid, timeout=30,
                      what="the default account made again")
    assert second and second != first
    explained = cluster.kubectl("explain", "serviceaccount").stdout
    assert "ServiceAccount binds together" in explained, explained


def test_a_pod_runs_as_default_unless_it_names_an_account(cluster):
    cluster.kubectl("create", "-f", "-", input=(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\n"
        "spec: {nodeName: nowhere, containers: [{name: c, image: 'x:1'}]}\n"))
    # A pod may only name an account that exists (kube's ServiceAccount admission).
    refused = cluster.kubectl("create", "-f", "-", check=False, input=(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: named}\n"
        "spec: {nodeName: nowhere, serviceAccountName: trainer, containers: [{name: c, image: 'x:1'}]}\n"))
    assert refused.returncode != 0
    assert 'error looking up service account default/trainer: serviceaccount "trainer" not found' in refused.stderr, refused.stderr
    cluster.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: trainer}\n")
    cluster.kubectl("create", "-f", "-", input=(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: named}\n"
        "spec: {nodeName: nowhere, serviceAccountName: trainer, containers: [{name: c, image: 'x:1'}]}\n"))
    get = lambda name: cluster.kubectl("get", "pod", name, "-o", "jsonpath={.spec.serviceAccountName}").stdout
    assert get("plain") == "default"
    assert get("named") == "trainer"
