"""Fixtures of the third-party client tests (test_clients_*.py): a `fair server` of the test
module's own with its node agent, a busybox image in its embedded registry, and unique namespaces.
Import them into a test module with `from client_cluster import cluster, namespace  # noqa: F401`."""
import json
import ssl
import urllib.error
import urllib.request
import uuid

import pytest

from client_venvs import busybox_image
from conftest import fair_binary
from server_harness import FairServer


class Cluster:
    def __init__(self, server, image):
        self.server = server
        self.image = image

    @property
    def kubeconfig(self):
        return str(self.server.kubeconfig)

    def kubectl(self, *args, **kwargs):
        return self.server.kubectl(*args, **kwargs)

    def raw(self, method, path, body=None, content_type="application/json", timeout=30):
        """(status, headers, body text) of one request with the server's token, for failure messages."""
        request = urllib.request.Request(self.server.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Content-Type", content_type)
        request.add_header("Authorization", f"Bearer {self.server.token}")
        context = ssl.create_default_context(cafile=str(self.server.ca_file))
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
                return response.status, dict(response.headers), response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def log_tail(self, characters=4000):
        try:
            return self.server.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    directory = tmp_path_factory.mktemp("client-cluster")
    server = FairServer(fair_binary(), directory / "data").start()
    try:
        image = busybox_image(server.registry, server.registry_token("clients/busybox"), directory / "busybox")
        yield Cluster(server, image)
    finally:
        server.stop()


@pytest.fixture
def namespace(cluster):
    """A fresh namespace name for one test (created by the client under test, or by kubectl when the
    test does not care how); removed afterwards with kubectl."""
    name = f"c-{uuid.uuid4().hex[:10]}"
    yield name
    cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false", check=False)


def ensure_namespace(cluster, name):
    # apply, not create: a namespace that exists already is no error.
    cluster.kubectl("apply", "-f", "-", input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n")
    return name
