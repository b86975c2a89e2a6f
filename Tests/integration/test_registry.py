"""fair push/pull/login against real docker-registry 2.8 in its three auth set-ups, checked with
skopeo and podman, plus the faults a registry client must survive."""
import hashlib
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import FIXTURES, PODMAN_RUN, run, skopeo_inspect

MODES = ["none", "htpasswd", "token"]


def build(fair, base_image, name, out, *extra):
    return fair.build_json(FIXTURES / name if isinstance(name, str) else name, "--base", f"oci-archive:{base_image}",
                           "--output", out, *extra)


def login(fair, registry, password=None, check=True):
    if registry.mode == "none":
        return None
    return fair.run("login", registry.host, "-u", registry.username, "--password-stdin",
                    input=password if password is not None else registry.password, check=check)


def push_json(fair, source, reference, check=True):
    result = fair.run("push", source, reference, "--output-format", "json", check=check)
    return json.loads(result.stdout) if result.returncode == 0 else result


def skopeo_creds(registry, flag):
    return [flag, registry.creds] if registry.creds else []


@pytest.mark.parametrize("mode", MODES)
def test_push_pull_and_real_clients_in_each_auth_mode(mode, make_registry, fair, base_image, tmp_path, docker_config,
                                                      podman_storage):
    registry = make_registry(mode)
    archive = tmp_path / "plain.tar"
    built = build(fair, base_image, "plain-python", archive)
    if mode != "none":
        assert "Login Succeeded" in login(fair, registry).stdout
        saved = json.loads((docker_config.dir / "config.json").read_text())
        assert registry.host in saved["auths"]

    pushed = push_json(fair, archive, f"{registry.host}/fixtures/plain:v1")
    assert pushed["digest"] == built["digest"]
    assert pushed["reference"] == f"{registry.host}/fixtures/plain:v1@{built['digest']}"

    # Pull back: the same manifest digest, and an archive skopeo accepts.
    pulled_archive = tmp_path / "pulled.tar"
    pulled = json.loads(fair.run("pull", f"{registry.host}/fixtures/plain:v1", "--output", pulled_archive,
                                 "--output-format", "json").stdout)
    assert pulled["digest"] == built["digest"]
    assert skopeo_inspect(f"oci-archive:{pulled_archive}")["Digest"] == built["digest"]

    # skopeo reads and copies what fair pushed.
    inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", *skopeo_creds(registry, "--creds"),
                               f"docker://{registry.host}/fixtures/plain:v1").stdout)
    assert inspected["Digest"] == built["digest"]
    copy = tmp_path / "skopeo-copy"
    run("skopeo", "copy", "-q", "--src-tls-verify=false", *skopeo_creds(registry, "--src-creds"),
        f"docker://{registry.host}/fixtures/plain:v1", f"oci:{copy}:v1")
    assert skopeo_inspect(f"oci:{copy}:v1")["Digest"] == built["digest"]

    # podman pulls it with the credentials `fair login` stored, and runs it with runc.
    env = {**os.environ, **podman_storage}
    auth_file = docker_config.dir / "config.json"
    if not auth_file.exists():
        auth_file.write_text("{}")
    run("podman", "pull", "-q", "--tls-verify=false", "--authfile", auth_file, f"{registry.host}/fixtures/plain:v1", env=env)
    output = run(*PODMAN_RUN, f"{registry.host}/fixtures/plain:v1", env=env).stdout
    assert "w=2.97 b=1.03 loss=0.0003" in output


def test_unchanged_push_sends_no_blob_bytes_and_a_code_change_sends_only_the_code_layer(
        make_registry, fault_proxy, fair, base_image, project, tmp_path, docker_config):
    registry = make_registry("none")
    proxy = fault_proxy(registry)
    directory = project("plain-python")
    first = build(fair, base_image, directory, tmp_path / "a.tar")
    push_json(fair, tmp_path / "a.tar", proxy.ref("app", "v1"))
    assert proxy.blob_upload_bytes() > 70_000_000

    proxy.clear()
    again = push_json(fair, tmp_path / "a.tar", proxy.ref("app", "v1"))
    assert proxy.blob_upload_bytes() == 0
    assert proxy.uploaded_blobs() == []
    assert again["bytesUploaded"] == 0
    assert {blob["action"] for blob in again["blobs"]} == {"exists"}

    with open(directory / "train.py", "a") as f:
        f.write("# one more line\n")
    second = build(fair, base_image, directory, tmp_path / "b.tar")
    code_layer = second["layers"][-1]["digest"]
    proxy.clear()
    push_json(fair, tmp_path / "b.tar", proxy.ref("app", "v2"))
    uploaded = set(proxy.uploaded_blobs())
    config = skopeo_inspect(f"oci-archive:{tmp_path / 'b.tar'}", raw=True)["config"]["digest"]
    assert uploaded == {code_layer, config}
    assert first["layers"][0]["digest"] not in uploaded


def test_assets_go_in_a_layer_of_their_own_so_a_code_change_sends_only_the_code_layer(
        make_registry, fault_proxy, fair, base_image, project, tmp_path, docker_config):
    """`fair build --push` straight from the project: the 4 MiB data file is in the assets layer,
    so a one-line change of train.py sends the code layer and the config (a few KB) only, and a
    changed data file sends its own layer only."""
    registry = make_registry("none")
    proxy = fault_proxy(registry)
    directory = project("plain-python")
    (directory / "table.bin").write_bytes(os.urandom(4 << 20))
    first = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", proxy.ref("app", "v1"))
    plan = [(layer["source"], layer.get("files")) for layer in first["layers"] if layer["source"] != "base"]
    assert plan[0] == ("assets", 1) and plan[-1][0] == "code", plan
    assets = next(layer for layer in first["layers"] if layer["source"] == "assets")
    assert assets["size"] > 4 << 20

    with open(directory / "train.py", "a") as f:
        f.write("# one more line\n")
    proxy.clear()
    second = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", proxy.ref("app", "v2"))
    assert next(layer for layer in second["layers"] if layer["source"] == "assets")["cached"] is True
    code = second["layers"][-1]
    assert set(proxy.uploaded_blobs()) == {code["digest"], second["config"]}
    assert proxy.blob_upload_bytes() <= 64 * 1024, proxy.blob_upload_bytes()

    (directory / "table.bin").write_bytes(os.urandom(4 << 20))
    proxy.clear()
    third = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", proxy.ref("app", "v3"))
    changed = next(layer for layer in third["layers"] if layer["source"] == "assets")
    assert changed["cached"] is False and changed["digest"] != assets["digest"]
    assert third["layers"][-1]["digest"] == code["digest"], "the code layer did not change"
    assert changed["digest"] in proxy.uploaded_blobs() and code["digest"] not in proxy.uploaded_blobs()


def test_layers_built_now_are_sent_while_they_are_written_and_a_cut_stream_falls_back(
        make_registry, fault_proxy, fair, base_image, project, tmp_path, docker_config):
    """`fair build --push`: a big layer goes up in 4 MiB Content-Range chunks of one session as it
    is compressed (closed with ?digest=), not after the build; when the connection is cut mid-chunk
    (distribution then forgets the session), the push still completes: the pusher, which asks for
    every blob after the build, sends it again, whole and verified."""
    registry = make_registry("none")
    proxy = fault_proxy(registry)
    directory = project("plain-python")
    (directory / "table.bin").write_bytes(os.urandom(48 << 20))
    result = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", proxy.ref("streamed", "v1"))
    assets = next(layer for layer in result["layers"] if layer["source"] == "assets")
    ranges = [p.headers.get("Content-Range") for p in proxy.requests_matching(r"/blobs/uploads/", method="PATCH")]
    assert len(ranges) >= 12 and ranges[0] == f"0-{(4 << 20) - 1}", ranges  # 48 MiB in 4 MiB chunks
    actions = {blob["digest"]: blob["action"] for blob in result["push"]["blobs"]}
    assert actions[assets["digest"]] == "uploaded" and result["push"]["bytesUploaded"] >= assets["size"]
    assert hashlib.sha256(registry.read_blob(assets["digest"])).hexdigest() == assets["digest"].split(":")[1]
    assert proxy.uploaded_blobs().count(assets["digest"]) == 1, "sent once, not again after the build"

    (directory / "table.bin").write_bytes(os.urandom(48 << 20))
    proxy.clear()
    proxy.drop_connection_after(2 << 20, match=r"PATCH .*/blobs/uploads/")
    again = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", proxy.ref("streamed", "v2"))
    changed = next(layer for layer in again["layers"] if layer["source"] == "assets")
    assert changed["digest"] != assets["digest"]
    assert hashlib.sha256(registry.read_blob(changed["digest"])).hexdigest() == changed["digest"].split(":")[1]
    assert proxy.uploaded_blobs().count(changed["digest"]) == 1
    assert registry.tags("streamed") == ["v1", "v2"]


def test_a_registry_killed_mid_stream_leaves_no_blob_and_no_tag_and_the_next_push_succeeds(
        make_registry, fault_proxy, fair, base_image, project, tmp_path, docker_config):
    registry = make_registry("none")
    directory = project("plain-python")
    (directory / "table.bin").write_bytes(os.urandom(160 << 20))
    # The same layer, built first without a registry in another home: its digest, to look for.
    other = type(fair)(tmp_path / "other-home")
    (tmp_path / "other-home").mkdir()
    expected = next(layer for layer in other.build_json(directory, "--base", f"oci-archive:{base_image}", "--output", tmp_path / "x.tar")["layers"]
                    if layer["source"] == "assets")
    env = {**os.environ, "FAIR_HOME": str(fair.home)}
    process = subprocess.Popen([fair.binary, "build", str(directory), "--base", f"oci-archive:{base_image}", "--push",
                                registry.ref("killed", "v1")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((registry.storage_dir / "docker/registry/v2/repositories/killed/_uploads").glob("*/data")) \
            and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)  # some chunks in
    registry.kill()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode != 0, stderr
    assert "\nerror: " in "\n" + stderr and "registry" in stderr and "Fatal error" not in stderr, stderr
    registry.start()
    assert not registry.tags("killed")
    assert not registry.has_blob(expected["digest"]), "no blob from a half-sent stream"
    # Resumable as a whole: the next push sends it, whole and verified.
    result = fair.build_json(directory, "--base", f"oci-archive:{base_image}", "--push", registry.ref("killed", "v1"))
    assert next(layer for layer in result["layers"] if layer["source"] == "assets")["digest"] == expected["digest"]
    assert registry.has_blob(expected["digest"]) and registry.tags("killed") == ["v1"]


def test_build_push_on_a_base_in_the_same_registry_never_downloads_base_layers(
        make_registry, fault_proxy, fair, base_image, project, tmp_path, docker_config):
    registry = make_registry("htpasswd")
    login(fair, registry)
    proxy = fault_proxy(registry)
    # The proxy is the same registry under another host name; log in there too.
    fair.run("login", proxy.host, "-u", registry.username, "--password-stdin", input=registry.password)
    base_ref = proxy.ref("base/python", "bookworm")
    fair.run("push", base_image, base_ref)
    proxy.clear()

    result = fair.build_json(project("plain-python"), "--base", base_ref, "--push", proxy.ref("team/app", "v1"))
    base_layers = [layer["digest"] for layer in result["layers"] if layer["source"] == "base"]
    assert base_layers
    fetched = {request.path.rsplit("/", 1)[-1] for request in proxy.blob_gets()}
    assert not fetched & set(base_layers), "base layers must not be downloaded to push on top of them"
    actions = {blob["digest"]: blob["action"] for blob in result["push"]["blobs"]}
    assert all(actions[digest] == "mounted" for digest in base_layers)
    assert set(proxy.mounted_blobs()) == set(base_layers)
    assert result["outputs"].get("layout") is None and result["outputs"].get("archive") is None, "push only: nothing written locally"
    inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", "--creds", registry.creds,
                               f"docker://{registry.host}/team/app:v1").stdout)
    assert inspected["Digest"] == result["digest"]


def test_token_auth_asks_for_push_scope_and_anonymous_push_is_explained(make_registry, fair, base_image, tmp_path,
                                                                        docker_config):
    registry = make_registry("token")
    archive = tmp_path / "plain.tar"
    build(fair, base_image, "plain-python", archive)
    refused = fair.run("push", archive, f"{registry.host}/team/app:v1", check=False)
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr and f"fair login {registry.host}" in refused.stderr

    login(fair, registry)
    before = len(registry.token_server.requests)
    push_json(fair, archive, f"{registry.host}/team/app:v1")
    after_login = registry.token_server.requests[before:]
    scopes = [scope for request in after_login for scope in request.scopes]
    assert scopes[0] == "repository:team/app:pull,push", "the push scope is asked for first"
    assert all(request.authenticated for request in after_login)


def test_wrong_password_is_a_clear_error(make_registry, fair, tmp_path, docker_config, make_oci_image):
    for mode in ["htpasswd", "token"]:
        registry = make_registry(mode)
        result = login(fair, registry, password="not-the-password", check=False)
        assert result.returncode != 0
        assert f"wrong username or password for {registry.host}" in result.stderr
        assert not (docker_config.dir / "config.json").exists() or registry.host not in (docker_config.dir / "config.json").read_text()

        # Stale credentials in the docker config: the push names the problem too.
        docker_config.set_auth(registry.host, registry.username, "stale-password")
        image = make_oci_image()
        result = fair.run("push", image.ref, f"{registry.host}/a/b:v1", check=False)
        assert result.returncode != 0
        assert f"wrong username or password for {registry.host}" in result.stderr


def test_logout_and_credential_helpers(make_registry, fair, docker_config, make_oci_image):
    registry = make_registry("htpasswd")
    helper = docker_config.install_credential_helper("fairtest")
    docker_config.set_cred_helper(registry.host, "fairtest")
    os.environ["PATH"] = docker_config.env()["PATH"]
    login(fair, registry)
    assert registry.host in json.dumps(helper.entries())
    push_json(fair, make_oci_image().ref, f"{registry.host}/helper/app:v1")
    assert "Removed login credentials" in fair.run("logout", registry.host).stdout
    refused = fair.run("push", make_oci_image(seed=2).ref, f"{registry.host}/helper/app:v2", check=False)
    assert refused.returncode != 0 and "unauthorized" in refused.stderr


def test_transient_500_and_429_are_retried(make_registry, fault_proxy, fair, make_oci_image, docker_config):
    registry = make_registry("none")
    proxy = fault_proxy(registry)
    image = make_oci_image(layers=[300_000, 200_000])
    proxy.fail_next(2, status=500, match=r"^HEAD ")
    proxy.fail_next(2, status=429, retry_after=0, match=r"^(POST|PUT) ")
    proxy.fail_next(1, status=503, match=r"^PUT .*/manifests/")
    pushed = push_json(fair, image.ref, proxy.ref("retry/app", "v1"))
    assert pushed["digest"] == image.manifest_digest
    faults = [r for r in proxy.requests_matching() if r.fault == "fail"]
    assert len(faults) == 5
    assert registry.tags("retry/app") == ["v1"]


def test_relative_locations_are_resolved(make_registry, fault_proxy, fair, make_oci_image, docker_config):
    registry = make_registry("none", relative_urls=True)
    proxy = fault_proxy(registry)
    proxy.rewrite_locations_relative()
    image = make_oci_image(layers=[40 << 20])  # large enough for chunked PATCH uploads
    pushed = push_json(fair, image.ref, proxy.ref("relative/app", "v1"))
    assert pushed["digest"] == image.manifest_digest
    locations = [r.location for r in proxy.requests_matching() if r.location]
    assert locations and all(location.startswith("/v2/") for location in locations)
    assert proxy.requests_matching(method="PATCH"), "a 40 MiB blob goes in chunks"


def test_redirect_to_another_host_carries_no_credentials(make_registry, fault_proxy, fair, make_oci_image, tmp_path,
                                                         docker_config):
    registry = make_registry("htpasswd")
    image = make_oci_image(layers=[100_000])
    run("skopeo", "copy", "-q", "--dest-tls-verify=false", "--dest-creds", registry.creds, image.ref,
        f"docker://{registry.host}/redirect/app:v1")
    proxy = fault_proxy(registry)
    mirror = proxy.redirect_blob_gets_to()
    fair.run("login", proxy.host, "-u", registry.username, "--password-stdin", input=registry.password)
    pulled = json.loads(fair.run("pull", proxy.ref("redirect/app", "v1"), "--output", tmp_path / "p.tar",
                                 "--output-format", "json").stdout)
    assert pulled["digest"] == image.manifest_digest
    assert mirror.requests, "blobs must have been fetched from the redirect target"
    assert not any(request.authorization for request in mirror.requests)
    assert any(r.authorization for r in proxy.requests_matching(method="GET"))


def test_corrupted_blob_on_pull_is_rejected(make_registry, fault_proxy, fair, make_oci_image, tmp_path, docker_config):
    registry = make_registry("none")
    image = make_oci_image(layers=[100_000])
    run("skopeo", "copy", "-q", "--dest-tls-verify=false", image.ref, f"docker://{registry.host}/corrupt/app:v1")
    proxy = fault_proxy(registry)
    proxy.corrupt_blob_gets("all")
    result = fair.run("pull", proxy.ref("corrupt/app", "v1"), "--output", tmp_path / "p.tar", check=False)
    assert result.returncode != 0
    assert "does not match its digest" in result.stderr
    assert not (tmp_path / "p.tar").exists()
    store = fair.home / "blobs" / "sha256"
    assert not store.exists() or not any(name for name in os.listdir(store) if not name.startswith(".")) or \
        all(name in image.layer_digests[0] for name in [])


def test_registry_stopped_mid_push_is_a_clear_error_with_no_tag(make_registry, fault_proxy, fair, make_oci_image,
                                                                 docker_config):
    registry = make_registry("none")
    proxy = fault_proxy(registry)
    image = make_oci_image(layers=[200 << 20])
    env = {**os.environ, "FAIR_HOME": str(fair.home)}
    process = subprocess.Popen([fair.binary, "push", image.ref, proxy.ref("stopped/app", "v1")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proxy.blob_upload_bytes() < (8 << 20) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    registry.kill()
    _, stderr = process.communicate(timeout=180)
    assert process.returncode != 0
    assert stderr.startswith("error:") or "\nerror: " in stderr
    assert "registry" in stderr and "Fatal error" not in stderr
    registry.start()
    assert not registry.tags("stopped/app"), "no tag may point at a half-pushed image"


def test_bad_references_and_sources(fair, tmp_path):
    result = fair.run("push", tmp_path / "missing.tar", "127.0.0.1:1/a:b", check=False)
    assert result.returncode != 0 and "does not exist" in result.stderr
    result = fair.run("pull", "127.0.0.1:1/Bad:tag", check=False)
    assert result.returncode != 0 and "invalid repository name" in result.stderr
    result = fair.run("pull", "127.0.0.1:1/nothing:here", check=False)
    assert result.returncode != 0 and "cannot reach registry 127.0.0.1:1" in result.stderr


def test_a_rejected_token_is_renewed_mid_push(make_registry, fault_proxy, fair, make_oci_image, docker_config):
    registry = make_registry("token")
    proxy = fault_proxy(registry)
    fair.run("login", proxy.host, "-u", registry.username, "--password-stdin", input=registry.password)
    challenge = (f'Bearer realm="{registry.token_server.realm}",service="fair-test-registry",'
                 f'scope="repository:renew/app:pull,push",error="invalid_token"')
    # The cached token is refused once, as an expired or revoked token would be.
    proxy.fail_next(1, status=401, match=r"^HEAD .*/blobs/", headers={"WWW-Authenticate": challenge})
    before = len(registry.token_server.requests)
    push_json(fair, make_oci_image(layers=[1000, 2000]).ref, proxy.ref("renew/app", "v1"), )
    push_tokens = [r for r in registry.token_server.requests[before:] if "repository:renew/app:pull,push" in r.scopes]
    assert len(push_tokens) >= 2, "the refused token must be replaced by a fresh one"
    assert registry.tags("renew/app") == ["v1"]


def test_registry_base_into_an_archive_downloads_and_verifies_its_layers(make_registry, fair, base_image, project,
                                                                          tmp_path, docker_config, podman_storage):
    from conftest import podman_load_and_run
    registry = make_registry("none")
    fair.run("push", base_image, f"{registry.host}/base/python:bookworm")
    out = tmp_path / "app.tar"
    result = fair.build_json(project("plain-python"), "--base", f"{registry.host}/base/python:bookworm", "--output", out)
    assert result["base"].startswith(f"{registry.host}/base/python:bookworm@sha256:")
    base_layers = [layer["digest"] for layer in result["layers"] if layer["source"] == "base"]
    store = fair.home / "blobs" / "sha256"
    assert all((store / digest.split(":")[1]).exists() for digest in base_layers), "pulled into the shared store"
    assert skopeo_inspect(f"oci-archive:{out}")["Digest"] == result["digest"]
    (docker_config.dir / "config.json").write_text("{}")  # podman insists on $DOCKER_CONFIG/config.json
    assert "w=2.97 b=1.03" in podman_load_and_run(out, podman_storage).stdout


def test_pull_picks_the_platform_from_an_index(make_registry, fair, tmp_path, docker_config):
    from registry_harness import make_oci_layout, sha256_digest
    layout = tmp_path / "multi"
    amd64 = make_oci_layout(layout, tag="x", seed=1, architecture="amd64")
    arm64 = make_oci_layout(layout, tag="x", seed=2, architecture="arm64")
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image.manifest_digest,
             "size": len(image.manifest), "platform": {"os": "linux", "architecture": arch}}
            for image, arch in [(amd64, "amd64"), (arm64, "arm64")]],
    }).encode()
    index_digest = sha256_digest(index)
    (layout / "blobs" / "sha256" / index_digest.split(":")[1]).write_bytes(index)
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": index_digest, "size": len(index),
         "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}))
    registry = make_registry("none")
    run("skopeo", "copy", "-q", "--all", "--dest-tls-verify=false", f"oci:{layout}:multi", f"docker://{registry.host}/multi/app:v1")

    def pull(*extra):
        return json.loads(fair.run("pull", f"{registry.host}/multi/app:v1", "--output", tmp_path / "p.tar",
                                   "--output-format", "json", *extra).stdout)

    assert pull()["digest"] == amd64.manifest_digest
    assert pull("--platform", "linux/arm64")["digest"] == arm64.manifest_digest
    missing = fair.run("pull", f"{registry.host}/multi/app:v1", "--platform", "linux/s390x", check=False)
    assert missing.returncode != 0 and "linux/s390x" in missing.stderr and "linux/arm64" in missing.stderr


def test_pushing_an_archive_to_a_second_repository_mounts_every_blob(
        make_registry, fault_proxy, fair, base_image, tmp_path, docker_config):
    registry = make_registry("htpasswd")
    proxy = fault_proxy(registry)
    fair.run("login", proxy.host, "-u", registry.username, "--password-stdin", input=registry.password)
    first = json.loads(fair.run("push", base_image, proxy.ref("team/one", "v1"), "--output-format", "json").stdout)
    assert all(blob["action"] == "uploaded" for blob in first["blobs"])
    proxy.clear()
    second = json.loads(fair.run("push", base_image, proxy.ref("team/two", "v1"), "--output-format", "json").stdout)
    assert second["digest"] == first["digest"]
    assert {blob["action"] for blob in second["blobs"]} == {"mounted"}, second["blobs"]
    assert not proxy.uploaded_blobs(), "no blob is sent again"
    assert set(proxy.mounted_blobs()) == {blob["digest"] for blob in second["blobs"]}
    assert second["bytesUploaded"] == 0
