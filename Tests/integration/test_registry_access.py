"""Who may write to the embedded registry. Pods share the host's loopback, so loopback proves
nothing: pulls stay anonymous, but pushes, deletes and mounts need a token from /v2/token scoped
to the repository (what a training pod gets for its model), or the cluster's token over TLS.
The cluster's token itself is never accepted in clear, where a pod with NET_RAW could read it:
the plain port's challenge sends clients to the token endpoint on the API's TLS port, where
`fair` (through the kubeconfig) and skopeo (`--dest-creds fair:TOKEN`) exchange it."""
import base64
import hashlib
import json
import re
import urllib.parse
import urllib.request

import pytest

from conftest import FIXTURES, Fair, fair_binary, run
from server_harness import FairServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("registry-access") / "data", extra=["--no-node"]).start()
    yield server
    server.stop()


def call(server, method, path, authorization=None, body=None, headers=None, tls=False):
    """A request to the registry's plain port, or with `tls` to the API's port, which serves it too."""
    base = server.url if tls else f"http://{server.registry}"
    request = urllib.request.Request(f"{base}{path}", method=method, data=body)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=30, context=server.ssl_context if tls else None) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def basic(password, user="fair"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_for(server, scope, authorization=None, tls=False):
    status, _, body = call(server, "GET", "/v2/token?service=fair-registry&scope=" + urllib.parse.quote(scope), authorization, tls=tls)
    assert status == 200, body
    return json.loads(body)["token"]


def admin_token_for(server, scope):
    """What fair does with the cluster's token: exchange it over TLS for a scoped token."""
    return "Bearer " + token_for(server, scope, basic(server.token), tls=True)


def push_blob(server, repository, data, authorization=None, tls=False):
    """POST + PUT of one blob: the status of the first refused step, else the final 201."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, _ = call(server, "POST", f"/v2/{repository}/blobs/uploads/", authorization, tls=tls)
    if status != 202:
        return status, headers
    location = headers["Location"]
    separator = "&" if "?" in location else "?"
    path = urllib.parse.urlsplit(location)
    target = (path.path + ("?" + path.query if path.query else "")) if path.scheme else location
    status, headers, _ = call(server, "PUT", f"{target}{separator}digest={digest}", authorization, body=data,
                              headers={"Content-Type": "application/octet-stream"}, tls=tls)
    return status, headers


def test_anonymous_push_is_challenged_and_pull_stays_open(server):
    status, headers = push_blob(server, "stolen/tag", b"payload")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="http://{server.registry}/v2/token"'), challenge
    assert 'scope="repository:stolen/tag:pull,push"' in challenge
    # A token scoped to the repository may push; anyone may then pull.
    status, _ = push_blob(server, "open/pull", b"public layer", admin_token_for(server, "repository:open/pull:push,pull"))
    assert status == 201
    digest = "sha256:" + hashlib.sha256(b"public layer").hexdigest()
    status, _, body = call(server, "GET", f"/v2/open/pull/blobs/{digest}")
    assert status == 200 and body == b"public layer"


def test_delete_and_mount_need_credentials(server):
    data = b"mount me"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert push_blob(server, "source/repo", data, admin_token_for(server, "repository:source/repo:push,pull"))[0] == 201
    status, _, _ = call(server, "POST", f"/v2/other/repo/blobs/uploads/?mount={digest}&from=source/repo")
    assert status == 401
    status, _, _ = call(server, "DELETE", f"/v2/source/repo/blobs/{digest}")
    assert status == 401
    # Over TLS the cluster's token itself may mount.
    status, _, _ = call(server, "POST", f"/v2/other/repo/blobs/uploads/?mount={digest}&from=source/repo", basic(server.token), tls=True)
    assert status == 201


def test_base_endpoint_checks_credentials_like_docker_login(server):
    assert call(server, "GET", "/v2/")[0] == 401
    assert call(server, "GET", "/v2/", basic("wrong"))[0] == 401
    assert call(server, "GET", "/v2/", basic(server.token), tls=True)[0] == 200
    assert call(server, "GET", "/v2/", admin_token_for(server, "repository:any/repo:pull"))[0] == 200


def test_the_clusters_token_is_refused_in_clear(server):
    """Pods share loopback: whatever is sent in clear there may be read, so the cluster's token
    is refused on the plain port, as Basic or Bearer, for data and for tokens alike."""
    for authorization in (basic(server.token), "Bearer " + server.token):
        status, headers, body = call(server, "GET", "/v2/", authorization)
        assert status == 401, body
        assert b"not accepted over plain HTTP" in body
        assert f"{server.url}/v2/token".encode() in body
        assert push_blob(server, "clear/text", b"x", authorization)[0] == 401
        status, _, body = call(server, "GET", "/v2/token?scope=repository:clear/text:push", authorization)
        assert status == 401, body


def test_scoped_token_pushes_its_repository_only(server):
    token = token_for(server, "repository:models/linear:push,pull", basic(server.token), tls=True)
    assert push_blob(server, "models/linear", b"model bytes", "Bearer " + token)[0] == 201
    assert push_blob(server, "models/other", b"model bytes", "Bearer " + token)[0] == 403
    assert push_blob(server, "library/python", b"model bytes", "Bearer " + token)[0] == 403
    # A tampered token is no token.
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert push_blob(server, "models/linear", b"model bytes", "Bearer " + tampered)[0] == 401


def test_anonymous_token_grants_pull_only(server):
    token = token_for(server, "repository:models/linear:push,pull")
    assert push_blob(server, "models/linear", b"x", "Bearer " + token)[0] == 403
    assert call(server, "GET", "/v2/token?scope=repository:a:push", basic("not the token"))[0] == 401


def test_fair_push_finds_the_cluster_credential_through_the_kubeconfig(server, tmp_path):
    fair = Fair(tmp_path / "home")
    (tmp_path / "home").mkdir()
    out = tmp_path / "plain.tar"
    fair.run("build", FIXTURES / "plain-python", "--base", "scratch", "--output", out)
    refused = fair.run("push", out, f"{server.registry}/ci/plain:v1", check=False,
                       env={"KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    assert refused.returncode != 0 and "denied: no push access" in refused.stderr and "KUBECONFIG" in refused.stderr, refused.stderr
    pushed = json.loads(fair.run("push", out, f"{server.registry}/ci/plain:v1", "--output-format", "json",
                                 env=server.registry_env).stdout)
    inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{server.registry}/ci/plain:v1").stdout)
    assert inspected["Digest"] == pushed["digest"]


def test_skopeo_follows_the_token_challenge(server, tmp_path):
    fair = Fair(tmp_path / "home")
    (tmp_path / "home").mkdir()
    out = tmp_path / "plain.tar"
    fair.run("build", FIXTURES / "plain-python", "--base", "scratch", "--output", out)
    refused = run("skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci-archive:{out}",
                  f"docker://{server.registry}/ci/skopeo:v1", check=False)
    assert refused.returncode != 0
    run("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", server.registry_creds("ci/skopeo"), f"oci-archive:{out}",
        f"docker://{server.registry}/ci/skopeo:v1")
    status, _, _ = call(server, "GET", "/v2/ci/skopeo/tags/list")
    assert status == 200
