"""The registry harness itself, checked with skopeo and curl only (no fair): real registries in every
auth mode, the token server, the fault proxy, the blob mirror, restarts and the Docker config helpers."""
import base64
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import run
from registry_harness import Registry, TokenServer, sha256_digest

MODES = ["none", "htpasswd", "token"]
SKOPEO = ["skopeo", "--insecure-policy"]


def skopeo_copy(source, destination, src_creds=None, dest_creds=None, check=True, env=None, extra=()):
    """skopeo copy over plain http; creds None means anonymous (no stored credentials either)."""
    args = [*SKOPEO, "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", *extra]
    if source.startswith("docker://"):
        args += [f"--src-creds={src_creds}"] if src_creds else ["--src-no-creds"]
    if destination.startswith("docker://"):
        args += [f"--dest-creds={dest_creds}"] if dest_creds else ["--dest-no-creds"]
    return run(*args, source, destination, check=check, timeout=300, env=env)


def curl(*args, check=True):
    return run("curl", "-sS", "--max-time", "60", *args, check=check, timeout=120)


def curl_status(*args):
    """(status, headers with lower-case names, body bytes) of one curl request (the last response
    when curl follows redirects)."""
    with tempfile.TemporaryDirectory() as scratch:
        head, body = Path(scratch) / "head", Path(scratch) / "body"
        result = subprocess.run(["curl", "-sS", "--max-time", "60", "-D", str(head), "-o", str(body), *args],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"curl {args} failed ({result.returncode}): {result.stderr}"
        blocks = [b for b in head.read_bytes().decode("latin-1").split("\r\n\r\n") if b.startswith("HTTP/")]
        lines = [b for b in blocks if b.split()[1] != "100"][-1].split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), headers, body.read_bytes() if body.exists() else b""


def jwt_parts(token):
    def decode(part):
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    header, claims, _ = token.split(".")
    return decode(header), decode(claims)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


ALL_PIDS = []


@pytest.fixture(autouse=True)
def _remember_registry_pids(request):
    yield
    for server in getattr(request.node, "_registry_harness_servers", ()):
        ALL_PIDS.extend(getattr(server, "pids", ()))


# ---------------------------------------------------------------------------------------------
# Registries in every auth mode


@pytest.mark.parametrize("registry", MODES, indirect=True)
def test_skopeo_round_trip(registry, make_oci_image, tmp_path):
    image = make_oci_image(tag="v1", layers=[{"hello.txt": b"hello\n"}, 4096])
    skopeo_copy(image.ref, f"docker://{registry.ref('fairtest/tiny', 'v1')}", dest_creds=registry.creds)

    assert registry.tags("fairtest/tiny") == ["v1"]
    status, digest, body = registry.manifest("fairtest/tiny", "v1")
    assert (status, digest, body) == (200, image.manifest_digest, image.manifest)
    for blob in image.blob_sizes:
        assert registry.read_blob(blob) == image.blob(blob)
    assert registry.stored_repositories() == ["fairtest/tiny"]

    out = tmp_path / "pulled"
    skopeo_copy(f"docker://{registry.ref('fairtest/tiny', 'v1')}", f"oci:{out}:v1", src_creds=registry.creds)
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.manifest_digest
    for blob in image.blob_sizes:
        assert (out / "blobs" / blob.replace(":", "/")).read_bytes() == image.blob(blob)

    inspect = [*SKOPEO, "inspect", "--tls-verify=false", "--raw"]
    inspect += [f"--creds={registry.creds}"] if registry.creds else ["--no-creds"]
    assert run(*inspect, f"docker://{registry.ref('fairtest/tiny', 'v1')}").stdout.encode() == image.manifest


@pytest.mark.parametrize("registry", ["htpasswd", "token"], indirect=True)
def test_anonymous_and_wrong_password_pushes_fail(registry, make_oci_image):
    image = make_oci_image()
    destination = f"docker://{registry.ref('fairtest/private', 'latest')}"

    anonymous = skopeo_copy(image.ref, destination, check=False)
    assert anonymous.returncode != 0
    assert any(word in anonymous.stderr.lower() for word in ("unauthorized", "authentication required", "denied"))

    wrong = skopeo_copy(image.ref, destination, dest_creds=f"{registry.username}:wrong", check=False)
    assert wrong.returncode != 0
    assert registry.tags("fairtest/private") is None
    assert not any(registry.has_blob(blob) for blob in image.blob_sizes)

    pull = skopeo_copy(destination, "oci:/nonexistent-never-written:x", check=False)
    assert pull.returncode != 0


def test_token_server_records_scopes_and_credentials(make_registry, make_oci_image):
    registry = make_registry("token")
    tokens = registry.token_server
    image = make_oci_image()
    destination = f"docker://{registry.ref('fairtest/scoped', 'latest')}"

    skopeo_copy(image.ref, destination, dest_creds=registry.creds)
    granted = [r for r in tokens.requests if r.status == 200]
    assert granted and all(r.authorization and r.authenticated and r.username == "fair" for r in granted)
    assert all(r.service == "fair-test-registry" for r in granted)
    assert "repository:fairtest/scoped:pull,push" in tokens.requested_scopes()
    assert {"type": "repository", "name": "fairtest/scoped", "actions": ["pull", "push"]} in \
        [entry for r in granted for entry in r.access]

    tokens.clear()
    assert skopeo_copy(image.ref, destination, check=False).returncode != 0
    assert tokens.requests and not any(r.authorization for r in tokens.requests)
    assert all(r.access == [] for r in tokens.requests)

    tokens.clear()
    assert skopeo_copy(image.ref, destination, dest_creds="fair:wrong", check=False).returncode != 0
    assert [r.status for r in tokens.requests] and all(r.status == 401 for r in tokens.requests)


def test_token_endpoint_with_curl(token_server):
    realm = token_server.realm
    scope = "repository:fairtest/curl:pull,push"
    answer = json.loads(curl("-f", "-u", "fair:s3cret!", f"{realm}?service=fair-test-registry&scope={scope}"
                             "&scope=repository:fairtest/other:pull").stdout)
    assert answer["token"] == answer["access_token"] and answer["expires_in"] == 300 and answer["issued_at"]
    header, claims = jwt_parts(answer["token"])
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and len(header["x5c"]) == 1
    assert claims["iss"] == "fair-test-issuer" and claims["aud"] == "fair-test-registry" and claims["sub"] == "fair"
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] <= claims["iat"] and claims["jti"]
    assert claims["access"] == [{"type": "repository", "name": "fairtest/curl", "actions": ["pull", "push"]},
                                {"type": "repository", "name": "fairtest/other", "actions": ["pull"]}]
    assert token_server.requests[-1].scopes == [scope, "repository:fairtest/other:pull"]

    status, headers, _ = curl_status("-u", "fair:nope", f"{realm}?service=fair-test-registry&scope={scope}")
    assert status == 401 and headers["www-authenticate"].startswith("Basic")

    anonymous = json.loads(curl("-f", f"{realm}?service=fair-test-registry&scope={scope}").stdout)
    assert jwt_parts(anonymous["token"])[1]["access"] == []
    assert token_server.requests[-1].authorization is False

    token_server.set_expiry(2)
    short = json.loads(curl("-f", "-u", "fair:s3cret!", f"{realm}?scope={scope}").stdout)
    assert short["expires_in"] == 2
    _, claims = jwt_parts(short["token"])
    assert claims["exp"] - claims["iat"] == 2

    form = json.loads(curl("-f", "-d", "grant_type=password&username=fair&password=s3cret!&service=fair-test-registry"
                           f"&scope={scope}&client_id=fair&access_type=offline", realm).stdout)
    assert form["access_token"] and form["refresh_token"]
    refreshed = json.loads(curl("-f", "-d", f"grant_type=refresh_token&refresh_token={form['refresh_token']}"
                                f"&service=fair-test-registry&scope={scope}&client_id=fair", realm).stdout)
    assert jwt_parts(refreshed["access_token"])[1]["access"][0]["actions"] == ["pull", "push"]

    token_server.fail_next(1, 503)
    assert curl_status("-u", "fair:s3cret!", f"{realm}?scope={scope}")[0] == 503
    assert curl_status("-u", "fair:s3cret!", f"{realm}?scope={scope}")[0] == 200


@pytest.mark.parametrize("key_header", ["x5c", "kid", "both"])
def test_registry_verifies_token_signatures(make_registry, key_header):
    tokens = TokenServer(key_header=key_header)
    stranger = TokenServer(key_header=key_header)  # same names, another key: must be refused
    try:
        tokens.start()
        registry = make_registry("token", token_server=tokens)
        header, _ = jwt_parts(tokens.issue("fair", []))
        assert ("x5c" in header) == (key_header != "kid") and ("kid" in header) == (key_header != "x5c")
        assert header.get("kid", tokens.key_id).count(":") == 11
        path = f"{registry.url}/v2/fairtest/sig/tags/list"
        scope = ["repository:fairtest/sig:pull"]

        def status_with(token):
            return curl_status("-H", f"Authorization: Bearer {token}", path)[0]

        assert status_with(tokens.issue("fair", scope)) == 404  # authorized; the repository does not exist
        assert status_with(tokens.issue("fair", [])) == 401  # no access granted
        assert status_with(stranger.issue("fair", scope)) == 401
        assert status_with(tokens.issue("fair", scope, lifetime=-120)) == 401  # expired beyond the 60 s leeway
        status, headers, _ = curl_status(path)
        assert status == 401
        assert headers["www-authenticate"] == (f'Bearer realm="{tokens.realm}",service="fair-test-registry",'
                                               f'scope="repository:fairtest/sig:pull"')
    finally:
        tokens.close()
        stranger.close()


# ---------------------------------------------------------------------------------------------
# The fault proxy


@pytest.mark.parametrize("registry", ["none", "token"], indirect=True)
def test_proxy_records_requests_and_blob_bytes(registry, fault_proxy, make_oci_image):
    proxy = fault_proxy(registry)
    shared = {"shared.bin": os.urandom(3000)}
    first = make_oci_image(tag="one", layers=[shared, {"first.bin": os.urandom(5000)}])
    second = make_oci_image(tag="two", layers=[shared, {"second.bin": os.urandom(7000)}])

    skopeo_copy(first.ref, f"docker://{proxy.ref('fairtest/counted', 'one')}", dest_creds=registry.creds)
    assert proxy.blob_upload_bytes() == first.total_blob_bytes
    assert sorted(proxy.uploaded_blobs()) == sorted(first.blob_sizes)
    assert len(proxy.manifest_puts()) == 1
    assert all(r.status for r in proxy.requests)
    if registry.mode == "token":
        assert any(r.authorization and r.auth_scheme == "Bearer" for r in proxy.requests)
        assert any(not r.authorization and r.status == 401 for r in proxy.requests)

    proxy.clear()
    skopeo_copy(first.ref, f"docker://{proxy.ref('fairtest/counted', 'one')}", dest_creds=registry.creds)
    assert proxy.blob_upload_bytes() == 0 and proxy.uploaded_blobs() == []
    assert proxy.requests_matching(r"^HEAD /v2/fairtest/counted/blobs/")

    proxy.clear()
    skopeo_copy(second.ref, f"docker://{proxy.ref('fairtest/counted', 'two')}", dest_creds=registry.creds)
    new_layer = second.layer_digests[1]
    assert sorted(proxy.uploaded_blobs()) == sorted([new_layer, second.config_digest])
    assert proxy.blob_upload_bytes() == second.blob_sizes[new_layer] + second.blob_sizes[second.config_digest]
    assert registry.manifest("fairtest/counted", "two")[1] == second.manifest_digest


def test_proxy_fail_next_then_forwards(registry, fault_proxy):
    proxy = fault_proxy(registry)
    proxy.fail_next(2, status=503, retry_after=7)
    for _ in range(2):
        status, headers, body = curl_status(f"{proxy.url}/v2/")
        assert status == 503 and headers["retry-after"] == "7"
        assert json.loads(body)["errors"][0]["code"] == "UNAVAILABLE"
    assert curl_status(f"{proxy.url}/v2/")[0] == 200
    assert [r.fault for r in proxy.requests] == ["fail", "fail", None]

    proxy.fail_next(1, status=429, match=r"^GET /v2/_catalog")
    assert curl_status(f"{proxy.url}/v2/")[0] == 200
    assert curl_status(f"{proxy.url}/v2/_catalog?n=10")[0] == 429
    assert curl_status(f"{proxy.url}/v2/_catalog?n=10")[0] == 200

    proxy.fail_next(1, status=500, match=r"^PATCH ")
    data_path = proxy.dir / "chunk.bin"
    data_path.write_bytes(os.urandom(10000))
    status, headers, _ = curl_status("-X", "POST", f"{proxy.url}/v2/fairtest/failing/blobs/uploads/")
    assert status == 202
    location = headers["location"]
    status, _, _ = curl_status("-X", "PATCH", "--data-binary", f"@{data_path}",
                               "-H", "Content-Type: application/octet-stream", location)
    assert status == 500 and proxy.requests[-1].body_bytes == 10000  # the body was read, not forwarded
    status, headers, _ = curl_status("-X", "PATCH", "--data-binary", f"@{data_path}",
                                     "-H", "Content-Type: application/octet-stream", location)
    assert status == 202 and headers["range"] == "0-9999"


def test_proxy_keeps_connections_alive_and_streams_chunked_uploads(registry, fault_proxy, tmp_path):
    proxy = fault_proxy(registry)
    connects = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                    f"{proxy.url}/v2/", f"{proxy.url}/v2/_catalog").stdout.split()
    assert connects == ["1", "0"]

    data = os.urandom(300_000)
    (tmp_path / "blob").write_bytes(data)
    digest = sha256_digest(data)
    status, headers, _ = curl_status("-X", "POST", f"{proxy.url}/v2/fairtest/chunked/blobs/uploads/")
    status, headers, _ = curl_status("-X", "PATCH", "-H", "Transfer-Encoding: chunked", "-H",
                                     "Content-Type: application/octet-stream", "--data-binary",
                                     f"@{tmp_path / 'blob'}", headers["location"])
    assert status == 202
    assert "Transfer-Encoding" in proxy.requests[-1].headers and proxy.requests[-1].body_bytes == len(data)
    status, _, _ = curl_status("-X", "PUT", f"{headers['location']}&digest={digest}")
    assert status == 201 and registry.read_blob(digest) == data
    assert proxy.blob_upload_bytes() == len(data) and proxy.uploaded_blobs() == [digest]

    status, headers, _ = curl_status("-I", f"{proxy.url}/v2/fairtest/chunked/blobs/{digest}")
    assert status == 200 and int(headers["content-length"]) == len(data)
    assert proxy.requests[-1].method == "HEAD" and proxy.requests[-1].response_bytes == 0
    status, _, body = curl_status(f"{proxy.url}/v2/fairtest/chunked/blobs/{digest}")
    assert status == 200 and body == data


@pytest.mark.parametrize("relative", [False, True])
def test_proxy_locations_point_at_the_proxy(make_registry, fault_proxy, make_oci_image, relative):
    registry = make_registry("none", relative_urls=relative)
    proxy = fault_proxy(registry)
    status, headers, _ = curl_status("-X", "POST", f"{registry.url}/v2/fairtest/loc/blobs/uploads/")
    assert status == 202
    assert headers["location"].startswith("/v2/" if relative else f"{registry.url}/v2/")

    status, headers, _ = curl_status("-X", "POST", f"{proxy.url}/v2/fairtest/loc/blobs/uploads/")
    assert status == 202
    assert headers["location"].startswith("/v2/fairtest/loc/blobs/uploads/" if relative else f"{proxy.url}/v2/")

    proxy.rewrite_locations_relative()
    status, headers, _ = curl_status("-X", "POST", f"{proxy.url}/v2/fairtest/loc/blobs/uploads/")
    assert headers["location"].startswith("/v2/fairtest/loc/blobs/uploads/")

    image = make_oci_image()
    skopeo_copy(image.ref, f"docker://{proxy.ref('fairtest/loc', 'latest')}")
    assert all(registry.host not in (r.location or "") for r in proxy.requests)
    assert registry.manifest("fairtest/loc", "latest")[1] == image.manifest_digest


def test_proxy_redirects_blob_gets_to_a_mirror(make_registry, fault_proxy, make_oci_image, tmp_path):
    registry = make_registry("htpasswd")
    image = make_oci_image(layers=[20000])
    skopeo_copy(image.ref, f"docker://{registry.ref('fairtest/mirrored', 'latest')}", dest_creds=registry.creds)
    proxy = fault_proxy(registry)
    mirror = proxy.redirect_blob_gets_to()
    assert mirror.host != proxy.host and mirror.host != registry.host
    layer = image.layer_digests[0]
    blob_url = f"{proxy.url}/v2/fairtest/mirrored/blobs/{layer}"

    status, headers, _ = curl_status("-u", registry.creds, blob_url)
    assert status == 307 and headers["location"].startswith(f"{mirror.url}/blobs/{layer}")
    assert curl_status(blob_url)[0] == 401  # the registry still checks credentials first
    assert mirror.requests == []

    body = subprocess.run(["curl", "-sSfL", "-u", registry.creds, blob_url], capture_output=True, timeout=60).stdout
    assert body == image.blob(layer)
    assert mirror.requests[-1].authorization is False  # curl keeps credentials to the first host
    subprocess.run(["curl", "-sSfL", "--location-trusted", "-u", registry.creds, "-o", "/dev/null", blob_url],
                   check=True, timeout=60)
    assert mirror.requests[-1].authorization is True

    mirror.clear()
    out = tmp_path / "pulled"
    skopeo_copy(f"docker://{proxy.ref('fairtest/mirrored', 'latest')}", f"oci:{out}:latest", src_creds=registry.creds)
    assert (out / "blobs" / layer.replace(":", "/")).read_bytes() == image.blob(layer)
    fetched = {r.path.rsplit("/", 1)[1] for r in mirror.requests if r.status == 200}
    assert layer in fetched and not any(r.authorization for r in mirror.requests)
    assert [r for r in proxy.blob_gets() if r.fault == "redirect"]


def test_proxy_corrupts_blob_gets(registry, fault_proxy, make_oci_image, tmp_path):
    image = make_oci_image(layers=[5000])
    skopeo_copy(image.ref, f"docker://{registry.ref('fairtest/corrupt', 'latest')}")
    proxy = fault_proxy(registry)
    layer = image.layer_digests[0]
    proxy.corrupt_blob_gets(layer)

    status, _, body = curl_status(f"{proxy.url}/v2/fairtest/corrupt/blobs/{layer}")
    assert status == 200 and len(body) == image.blob_sizes[layer] and body != image.blob(layer)
    assert sha256_digest(body) != layer
    status, _, body = curl_status(f"{proxy.url}/v2/fairtest/corrupt/blobs/{image.config_digest}")
    assert body == image.blob(image.config_digest)

    pulled = skopeo_copy(f"docker://{proxy.ref('fairtest/corrupt', 'latest')}", f"oci:{tmp_path / 'out'}:latest",
                         check=False)
    assert pulled.returncode != 0 and "digest" in pulled.stderr.lower()

    proxy.clear_faults()
    skopeo_copy(f"docker://{proxy.ref('fairtest/corrupt', 'latest')}", f"oci:{tmp_path / 'out2'}:latest")


def test_proxy_drops_connections_mid_transfer(registry, fault_proxy, make_oci_image, tmp_path):
    proxy = fault_proxy(registry)
    data = os.urandom(100_000)
    (tmp_path / "blob").write_bytes(data)
    proxy.drop_connection_after(1000, match=r"^PATCH /v2/")
    status, headers, _ = curl_status("-X", "POST", f"{proxy.url}/v2/fairtest/drop/blobs/uploads/")
    cut = subprocess.run(["curl", "-sS", "--max-time", "60", "-X", "PATCH", "-H", "Content-Type: application/octet-stream",
                          "--data-binary", f"@{tmp_path / 'blob'}", headers["location"]], capture_output=True, timeout=120)
    assert cut.returncode in (52, 55, 56), cut  # empty reply / send error / receive error
    assert proxy.requests[-1].fault == "drop" and proxy.requests[-1].body_bytes == 1000
    assert proxy.requests[-1].status == 0

    image = make_oci_image(layers=[50_000])
    proxy.drop_connection_after(2000, match=r"^PATCH /v2/")
    failed = skopeo_copy(image.ref, f"docker://{proxy.ref('fairtest/drop', 'latest')}", check=False)
    assert failed.returncode != 0
    assert registry.manifest("fairtest/drop", "latest")[0] == 404
    skopeo_copy(image.ref, f"docker://{proxy.ref('fairtest/drop', 'latest')}")  # the rule was used up
    assert registry.manifest("fairtest/drop", "latest")[1] == image.manifest_digest

    proxy.drop_connection_after(4096, match=r"^GET /v2/.*/blobs/", response=True)
    layer = image.layer_digests[0]
    partial = subprocess.run(["curl", "-sS", "--max-time", "60", "-o", str(tmp_path / "partial"),
                              f"{proxy.url}/v2/fairtest/drop/blobs/{layer}"], capture_output=True, timeout=120)
    assert partial.returncode in (18, 56), partial  # partial file / receive error
    assert (tmp_path / "partial").stat().st_size == 4096
    assert proxy.requests[-1].response_bytes == 4096 and proxy.requests[-1].fault == "drop"


def test_proxy_answers_502_while_the_registry_is_down(registry, fault_proxy):
    proxy = fault_proxy(registry)
    registry.kill()
    status, _, body = curl_status(f"{proxy.url}/v2/")
    assert status == 502 and json.loads(body)["errors"]
    registry.start()
    assert curl_status(f"{proxy.url}/v2/")[0] == 200


# ---------------------------------------------------------------------------------------------
# Kill and restart


@pytest.mark.parametrize("registry", ["none", "htpasswd"], indirect=True)
def test_kill_and_restart_keeps_data_and_upload_sessions(registry, make_oci_image, tmp_path):
    image = make_oci_image(layers=[10_000])
    skopeo_copy(image.ref, f"docker://{registry.ref('fairtest/durable', 'latest')}", dest_creds=registry.creds)
    auth = ["-u", registry.creds] if registry.creds else []
    status, headers, _ = curl_status(*auth, "-X", "POST", f"{registry.url}/v2/fairtest/durable/blobs/uploads/")
    location = headers["location"]
    part = os.urandom(5000)
    (tmp_path / "part").write_bytes(part)
    status, headers, _ = curl_status(*auth, "-X", "PATCH", "-H", "Content-Type: application/octet-stream",
                                     "--data-binary", f"@{tmp_path / 'part'}", location)
    assert status == 202
    location = headers["location"]

    host, first_pid = registry.host, registry.process.pid
    registry.kill()
    assert not pid_alive(first_pid)
    down = subprocess.run(["curl", "-sS", "--max-time", "10", f"{registry.url}/v2/"], capture_output=True, timeout=30)
    assert down.returncode == 7  # connection refused

    registry.start()
    assert registry.host == host and registry.process.pid != first_pid
    assert registry.tags("fairtest/durable") == ["latest"]
    skopeo_copy(f"docker://{registry.ref('fairtest/durable', 'latest')}", f"oci:{tmp_path / 'out'}:latest",
                src_creds=registry.creds)
    status, headers, _ = curl_status(*auth, location)
    assert status == 204 and headers["range"] == "0-4999"  # the upload session survived (same http.secret)
    status, _, _ = curl_status(*auth, "-X", "PUT", f"{location}&digest={sha256_digest(part)}")
    assert status == 201 and registry.read_blob(sha256_digest(part)) == part

    pid = registry.process.pid
    registry.stop()
    assert registry.process is None and not pid_alive(pid)


def test_close_removes_everything():
    registry = Registry("token").start()
    directory, pids, token_server = registry.dir, list(registry.pids), registry.token_server
    assert directory.is_dir() and registry.log_path.is_file() and "listening on" in registry.log_tail()
    registry.close()
    assert not directory.exists() and not any(pid_alive(pid) for pid in pids)
    assert subprocess.run(["curl", "-sS", "--max-time", "5", f"{token_server.url}/token"],
                          capture_output=True, timeout=30).returncode == 7


# ---------------------------------------------------------------------------------------------
# DOCKER_CONFIG and credential helpers


def test_docker_config_auths_and_credential_helper(docker_config, make_registry, make_oci_image, tmp_path):
    registry = make_registry("htpasswd")
    image = make_oci_image()
    skopeo_copy(image.ref, f"docker://{registry.ref('fairtest/cfg', 'latest')}", dest_creds=registry.creds)
    assert os.environ["DOCKER_CONFIG"] == str(docker_config.dir)

    docker_config.set_auth(registry.host, "fair", "s3cret!")
    assert docker_config.auth_for(registry.host) == ("fair", "s3cret!")
    assert docker_config.read()["auths"][registry.host]["auth"] == base64.b64encode(b"fair:s3cret!").decode()
    # containers/image reads $DOCKER_CONFIG/config.json when it has no auth.json of its own
    env = {**docker_config.env(), "XDG_RUNTIME_DIR": str(tmp_path / "run"), "HOME": str(tmp_path / "home")}
    env.pop("REGISTRY_AUTH_FILE", None)
    inspect = [*SKOPEO, "inspect", "--tls-verify=false", "--raw", f"docker://{registry.ref('fairtest/cfg', 'latest')}"]
    assert run(*inspect, env=env).stdout.encode() == image.manifest

    helper = docker_config.install_credential_helper()
    docker_config.remove_auth(registry.host)
    docker_config.set_cred_helper(registry.host, "fairtest")
    helper.put(registry.host, "fair", "s3cret!")
    env = {**docker_config.env(), "XDG_RUNTIME_DIR": str(tmp_path / "run"), "HOME": str(tmp_path / "home")}
    assert env["PATH"].startswith(str(docker_config.bin_dir))
    assert run(*inspect, env=env).stdout.encode() == image.manifest
    assert {"action": "get", "input": registry.host} in [{k: c[k] for k in ("action", "input")} for c in helper.calls()]

    def call(action, payload):
        return subprocess.run([str(helper.path), action], input=payload, capture_output=True, text=True, timeout=30)

    assert json.loads(call("get", registry.host).stdout) == {"ServerURL": registry.host, "Username": "fair",
                                                             "Secret": "s3cret!"}
    assert call("store", json.dumps({"ServerURL": "other:5000", "Username": "u", "Secret": "p"})).returncode == 0
    assert json.loads(call("list", "").stdout) == {registry.host: "fair", "other:5000": "u"}
    assert call("erase", "other:5000").returncode == 0
    missing = call("get", "other:5000")
    assert missing.returncode == 1 and "credentials not found" in missing.stdout
    assert "p" not in json.dumps([c["input"] for c in helper.calls() if c["action"] == "store"])

    docker_config.set_creds_store("fairtest")
    assert docker_config.read()["credsStore"] == "fairtest"


def test_no_registry_left_running():
    """Every registry process the tests above started is gone (stopped by its PID)."""
    if not ALL_PIDS:
        pytest.skip("no registry was started by the tests selected")
    assert [pid for pid in ALL_PIDS if pid_alive(pid)] == []
