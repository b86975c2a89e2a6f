"""kubectl exec and cp against a real `fair server` running pods under runc, the way a person
debugging a training pod uses them: exit codes come back, stdin reaches the process and ends
when kubectl's does, `-it` gets a terminal of the size kubectl's own terminal has, and `cp`
moves a 100 MB file both ways byte for byte, under a name with spaces and non-ASCII letters."""
import hashlib
import json
import os
import shlex
import subprocess
import time

import pytest

from conftest import Fair
from server_harness import wait_for

SLEEPER = "import time\ntime.sleep(1000000)\n"


@pytest.fixture(scope="module")
def pod(cluster, base_image, tmp_path_factory):
    project = tmp_path_factory.mktemp("sleeper")
    (project / "main.py").write_text(SLEEPER)
    (project / "fair.yaml").write_text("name: sleeper\nentrypoint: main.py\n")
    built = json.loads(Fair(tmp_path_factory.mktemp("home")).run(
        "build", project, "--base", f"oci-archive:{base_image}", "--push", f"{cluster.registry}/exec/sleeper:v1",
        "--output-format", "json", env=cluster.registry_env).stdout)
    image = f"{cluster.registry}/exec/sleeper@{built['digest']}"
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "box"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [
            {"name": "main", "image": image, "env": [{"name": "GREETING", "value": "from the pod spec"}],
             "workingDir": "/tmp"},
            {"name": "side", "image": image}]}}))
    wait_for(lambda: cluster.kubectl("get", "pod", "box", "-o", "jsonpath={.status.phase}").stdout == "Running",
             timeout=180, what="pod box running")
    return "box"


def test_exit_code_output_and_errors_come_back_apart(cluster, pod):
    result = cluster.kubectl("exec", pod, "-c", "main", "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert result.returncode == 3, result
    assert result.stdout == "out\n"
    assert result.stderr.startswith("err\n")
    assert "command terminated with exit code 3" in result.stderr


def test_the_command_runs_as_the_container_does(cluster, pod):
    """Environment and working directory are the container's, and it runs in the container's
    filesystem (the pod's /tmp is where the sleeper's files are)."""
    result = cluster.kubectl("exec", pod, "-c", "main", "--", "sh", "-c", 'echo "$GREETING"; pwd; echo "$HOSTNAME"')
    assert result.stdout.splitlines() == ["from the pod spec", "/tmp", "box"]


def test_arguments_arrive_as_given(cluster, pod):
    weird = ["a b", "ü ñ", "--flag", "x=y&z", "+plus", "%41", ""]
    result = cluster.kubectl("exec", pod, "-c", "main", "--", "python3", "-c", "import json,sys; print(json.dumps(sys.argv[1:]))", *weird)
    assert json.loads(result.stdout) == weird


def test_stdin_reaches_the_process_and_ends_when_kubectl_s_does(cluster, pod):
    data = os.urandom(3 << 20)
    result = subprocess.run([*cluster.kubectl_command(), "exec", "-i", pod, "-c", "main", "--", "python3", "-c",
                             "import hashlib, sys; data = sys.stdin.buffer.read(); print(hashlib.sha256(data).hexdigest(), len(data))"],
                            input=data, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == [hashlib.sha256(data).hexdigest(), str(len(data))]


def test_a_missing_command_in_the_container_is_an_error(cluster, pod):
    result = cluster.kubectl("exec", pod, "-c", "main", "--", "no-such-program", check=False)
    assert result.returncode != 0
    assert "no-such-program" in result.stderr, result.stderr


def test_exec_with_a_terminal_is_sized_like_kubectl_s(cluster, pod, tmp_path):
    """`kubectl exec -it` under a pseudo-terminal (util-linux `script`): the process gets a
    terminal (`tty` names it), of the size the outer terminal has, and its exit code."""
    inner = " ".join(shlex.quote(part) for part in [*cluster.kubectl_command(), "exec", "-it", pod, "-c", "main", "--",
                                                    "sh", "-c", "tty; stty size; exit 4"])
    transcript = tmp_path / "typescript"
    result = subprocess.run(["script", "-qefc", f"stty cols 91 rows 17; {inner}", str(transcript)],
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    output = result.stdout.decode(errors="replace")
    assert "/dev/pts/" in output, output
    assert "17 91" in output, output
    assert result.returncode == 4, output


def test_a_shell_with_a_terminal_reads_what_is_typed(cluster, pod, tmp_path):
    inner = " ".join(shlex.quote(part) for part in [*cluster.kubectl_command(), "exec", "-it", pod, "-c", "main", "--", "sh"])
    process = subprocess.run(["script", "-qefc", inner, str(tmp_path / "typescript")],
                             input=b"echo typed-$((6*7))\nexit 5\n", capture_output=True, timeout=120)
    output = process.stdout.decode(errors="replace")
    assert "typed-42" in output, output
    assert process.returncode == 5, output


def test_a_terminal_process_that_ignores_the_hang_up_is_killed_once_its_client_is_gone(cluster, pod, tmp_path):
    """kubectl goes away (killed, as a closed laptop would leave it): the terminal is hung up,
    and a process that ignores SIGHUP is killed after the node's ten hang-ups, so nothing an
    unreachable session started keeps running on the node."""
    from test_fuzz_streams import exec_processes
    marker = f"/tmp/ignores-hup-{os.getpid()}"
    inner = " ".join(shlex.quote(part) for part in [*cluster.kubectl_command(), "exec", "-it", pod, "-c", "main", "--", "sh", "-c",
                                                    f"trap '' HUP; touch {marker}; exec sleep 600"])
    client = subprocess.Popen(["script", "-qefc", inner, str(tmp_path / "typescript")], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: cluster.kubectl("exec", pod, "-c", "main", "--", "test", "-e", marker, check=False).returncode == 0,
                 timeout=60, what="the session to start")
        wait_for(lambda: exec_processes(cluster), timeout=10, what="its runc exec")
    finally:
        os.killpg(client.pid, 9)
        client.wait()
    started = time.monotonic()
    wait_for(lambda: not exec_processes(cluster), timeout=40, what="the unreachable session to end")
    assert time.monotonic() - started < 40
    sleeping = cluster.kubectl("exec", pod, "-c", "main", "--", "sh", "-c", "ps -eo args 2>/dev/null || ls /proc", check=False).stdout
    assert "sleep 600" not in sleeping, sleeping


def test_exec_into_the_second_container(cluster, pod):
    result = cluster.kubectl("exec", pod, "-c", "side", "--", "sh", "-c", "echo side")
    assert result.stdout == "side\n"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cp")
    path = directory / "model weights ü.bin"
    with open(path, "wb") as out:
        for _ in range(100):
            out.write(os.urandom(1 << 20))
    return path


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_cp_moves_100_mb_into_the_pod_and_back(cluster, pod, big_file, tmp_path):
    remote = "/tmp/über weights.bin"
    cluster.kubectl("cp", str(big_file), f"{pod}:{remote}", "-c", "main", timeout=600)
    inside = cluster.kubectl("exec", pod, "-c", "main", "--", "sha256sum", remote).stdout.split()[0]
    assert inside == sha256(big_file)
    back = tmp_path / "back again ñ.bin"
    cluster.kubectl("cp", f"{pod}:{remote}", str(back), "-c", "main", timeout=600)
    assert back.stat().st_size == big_file.stat().st_size
    assert sha256(back) == sha256(big_file)


def test_a_slow_reader_gets_all_of_a_large_output_and_the_exit_code(cluster, pod):
    """90 MB of output read at about 20 MB/s: most of it is in flight (socket buffers, the relay)
    when the command exits, and the stream must not end before the reader has all of it."""
    count = 12_000_000
    expected, expected_size = hashlib.sha256(), 0
    for start in range(1, count + 1, 100_000):
        block = "".join(f"{n}\n" for n in range(start, min(start + 100_000, count + 1))).encode()
        expected.update(block)
        expected_size += len(block)
    process = subprocess.Popen([*cluster.kubectl_command(), "exec", pod, "-c", "main", "--", "sh", "-c", f"seq 1 {count}; exit 4"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: process.stdout.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
        time.sleep(0.05)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 4, (size, stderr)
    assert (size, digest.hexdigest()) == (expected_size, expected.hexdigest()), stderr


def test_cp_a_directory_into_the_pod(cluster, pod, tmp_path):
    source = tmp_path / "data set"
    (source / "nested dir").mkdir(parents=True)
    (source / "a.txt").write_text("alpha\n")
    (source / "nested dir" / "ß.txt").write_text("beta\n")
    cluster.kubectl("cp", str(source), f"{pod}:/tmp/copied", "-c", "main")
    listing = cluster.kubectl("exec", pod, "-c", "main", "--", "sh", "-c", "cd /tmp/copied && cat a.txt 'nested dir/ß.txt'")
    assert listing.stdout == "alpha\nbeta\n"


def test_a_completed_pod_is_refused_with_kube_s_words(cluster, pod, base_image):
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "done"},
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": "main", "image": cluster.kubectl("get", "pod", pod, "-o", "jsonpath={.spec.containers[0].image}").stdout,
             "command": ["true"]}]}}))
    wait_for(lambda: cluster.kubectl("get", "pod", "done", "-o", "jsonpath={.status.phase}").stdout == "Succeeded",
             timeout=120, what="pod done to succeed")
    raw = cluster.kubectl("get", "--raw", "/api/v1/namespaces/default/pods/done/exec?command=true&stdout=true", check=False)
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in raw.stderr, raw.stderr


WEB = "import http.server, os\nos.chdir('/tmp/site')\nhttp.server.ThreadingHTTPServer((os.environ['POD_IP'], 8080), http.server.SimpleHTTPRequestHandler).serve_forever()\n"


@pytest.fixture(scope="module")
def web(cluster, pod):
    image = cluster.kubectl("get", "pod", pod, "-o", "jsonpath={.spec.containers[0].image}").stdout
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"terminationGracePeriodSeconds": 1, "containers": [
            {"name": "main", "image": image, "command": ["sh", "-c", "mkdir -p /tmp/site && printf 'served by web' > /tmp/site/index.html "
                                                                 f"&& exec python3 -c {shlex.quote(WEB)}"],
             "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}))
    wait_for(lambda: cluster.kubectl("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[0].ready}").stdout == "true",
             timeout=120, what="pod web ready")
    return "web"


def test_python_client_port_forward_reaches_the_pod_s_server(cluster, web):
    """The official client's portforward (WebSocket, v4.channel.k8s.io): a socket to the pod's
    port 8080 through the API server and the node."""
    from kubernetes import client, config
    from kubernetes.stream import portforward
    api = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))
    forward = portforward(api.connect_get_namespaced_pod_portforward, web, "default", ports="8080")
    connection = forward.socket(8080)
    connection.setblocking(True)
    connection.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    received = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    connection.close()
    assert received.startswith(b"HTTP/1.0 200"), received[:200]
    assert received.endswith(b"\r\n\r\nserved by web")
    assert forward.error(8080) is None


def test_attach_follows_the_container_s_output_until_it_exits(cluster, pod):
    """kubectl attach: the main process's output from then on, stdout and stderr apart, and a
    clean end (exit 0) when the container exits."""
    image = cluster.kubectl("get", "pod", pod, "-o", "jsonpath={.spec.containers[0].image}").stdout
    script = "sleep 4; for i in 1 2 3 4 5 6; do echo out-$i; echo err-$i >&2; sleep 0.3; done"
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "main", "image": image, "command": ["sh", "-c", script]}]}}))
    wait_for(lambda: cluster.kubectl("get", "pod", "talker", "-o", "jsonpath={.status.phase}").stdout == "Running",
             timeout=120, what="pod talker running")
    result = cluster.kubectl("attach", "talker", "-c", "main", timeout=60, check=False)
    assert result.returncode == 0, result
    assert [line for line in result.stdout.splitlines() if line.startswith("out-")][-3:] == ["out-4", "out-5", "out-6"], result.stdout
    assert "err-6" in result.stderr and "out-" not in result.stderr, result.stderr
    assert "err-" not in result.stdout


class PortForward:
    """`kubectl port-forward pod/NAME LOCAL:REMOTE` running until stopped (SPDY/3.1 inside the
    WebSocket, kubectl 1.31 and later's default)."""

    def __init__(self, cluster, pod, remote):
        from server_harness import free_port
        self.local = free_port()
        self.process = subprocess.Popen([*cluster.kubectl_command(), "port-forward", f"pod/{pod}", f"{self.local}:{remote}"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()
        assert first.startswith(f"Forwarding from 127.0.0.1:{self.local} -> {remote}"), (first, self.stop())

    def get(self, path, timeout=30):
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.local, timeout=timeout)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    def stop(self):
        import signal
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, self.process.stderr.read()


def test_kubectl_port_forward_serves_requests_one_after_another_and_at_once(cluster, web):
    cluster.kubectl("exec", web, "--", "sh", "-c", "head -c 30000000 /dev/urandom > /tmp/site/big.bin")
    inside = cluster.kubectl("exec", web, "--", "sha256sum", "/tmp/site/big.bin").stdout.split()[0]
    forward = PortForward(cluster, web, 8080)
    try:
        for _ in range(20):
            assert forward.get("/index.html") == (200, b"served by web")
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda path: forward.get(path, timeout=120), ["/big.bin", "/index.html", "/index.html", "/big.bin"]))
        assert [status for status, _ in results] == [200, 200, 200, 200]
        assert results[1][1] == results[2][1] == b"served by web"
        for _, body in (results[0], results[3]):
            assert len(body) == 30000000 and hashlib.sha256(body).hexdigest() == inside
        assert forward.process.poll() is None, "kubectl is still forwarding"
    finally:
        code, stderr = forward.stop()
    assert code == 0, stderr
    assert "error" not in stderr.lower(), stderr


def test_kubectl_port_forward_to_a_closed_port_reports_the_pod_s_refusal(cluster, web):
    forward = PortForward(cluster, web, 9999)
    import socket
    with socket.create_connection(("127.0.0.1", forward.local), timeout=30) as connection:
        connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert connection.recv(65536) == b"", "nothing answers on the pod's port 9999"
    # kubectl 1.32 ends the whole forward after a failed dial, saying why.
    try:
        forward.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    code, stderr = forward.stop()
    assert "error forwarding port 9999 to pod web" in stderr and "connection refused" in stderr, stderr
    assert code != 0, stderr
    # The node and the API server took no harm: another forward works.
    again = PortForward(cluster, web, 8080)
    try:
        assert again.get("/index.html") == (200, b"served by web")
    finally:
        again.stop()
