"""Registry mirrors as containerd and CRI-O configure them: `fair server --registry-mirror
docker.io=HOST:PORT` makes a pod that names `busybox` pull `library/busybox:latest` from the mirror
(Debian's docker-registry, seeded with a busybox image made from Debian's busybox-static), with no
way out to Docker Hub; the pod's events name the mirror, and an image the mirror lacks fails with
what each registry answered."""
import json
import subprocess

import pytest

from client_venvs import busybox_image
from conftest import fair_binary
from registry_harness import Registry
from server_harness import FairServer, wait_for


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    registry = Registry(mode="none", workdir=tmp_path_factory.mktemp("mirror"))
    registry.start()
    try:
        busybox_image(registry.host, "unused", tmp_path_factory.mktemp("busybox"), repository="library/busybox", tag="latest")
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def cluster(mirror, tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("mirrored") / "data",
                        extra=["--registry-mirror", f"docker.io={mirror.host}"]).start()
    yield server
    server.stop()


def run_pod(cluster, name, image):
    cluster.kubectl("run", name, f"--image={image}", "--restart=Never", "--command", "--", "sh", "-c", "echo served-by-mirror")


def pod(cluster, name):
    return json.loads(cluster.kubectl("get", "pod", name, "-o", "json").stdout)


def test_a_pod_naming_busybox_runs_from_the_mirror_and_its_events_say_so(cluster, mirror):
    run_pod(cluster, "plain-name", "busybox")
    wait_for(lambda: pod(cluster, "plain-name")["status"].get("phase") in ("Succeeded", "Failed"), timeout=120,
             what="the pod to finish")
    assert pod(cluster, "plain-name")["status"]["phase"] == "Succeeded"
    assert cluster.kubectl("logs", "plain-name").stdout.strip() == "served-by-mirror"
    events = json.loads(cluster.kubectl("get", "events", "--field-selector", "involvedObject.name=plain-name", "-o", "json").stdout)
    pulled = [e["message"] for e in events["items"] if e["reason"] == "Pulled"]
    assert pulled == [f'Successfully pulled image "busybox" from mirror {mirror.host} of docker.io'], pulled
    # The mirror was asked by the repository's Docker Hub path.
    assert "/v2/library/busybox/manifests/latest" in mirror.log_path.read_text()


def test_an_image_the_mirror_lacks_fails_naming_each_registrys_answer(cluster, mirror):
    run_pod(cluster, "missing-tag", "busybox:no-such-tag")

    def waiting():
        statuses = pod(cluster, "missing-tag")["status"].get("containerStatuses") or [{}]
        return statuses[0].get("state", {}).get("waiting", {})

    wait_for(lambda: waiting().get("reason") in ("ErrImagePull", "ImagePullBackOff"), timeout=120, what="the pull to fail")
    message = waiting().get("message", "")
    assert f"mirror {mirror.host}: manifest unknown" in message, message


def test_a_bad_mirror_is_refused_at_start(tmp_path):
    result = subprocess.run([fair_binary(), "server", "--data-dir", tmp_path / "data", "--listen", "127.0.0.1:0",
                             "--registry-mirror", "docker.io"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "expected REGISTRY=MIRROR" in result.stderr, result.stderr
