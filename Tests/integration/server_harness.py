"""Runs `fair server` for tests: a private data directory, a free loopback port, the kubeconfig it
writes, and stop/kill by PID."""
import itertools
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def wait_for(predicate, timeout=120, interval=0.25, what="condition"):
    """Polls `predicate` until it returns something true and returns that; fails naming `what`
    and the last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FairServer:
    # Each server's Services get addresses of their own (one of 64 /20s in 127.251-254.x, where
    # no test puts pods), so that two servers alive at once (and two test runs on one machine)
    # never listen on the same cluster IP or cluster DNS address.
    _service_ranges = itertools.count(os.getpid() % 64)

    @staticmethod
    def _service_range(n):
        n %= 64
        return f"127.{251 + n // 16}.{(n % 16) * 16}.0/20"

    def __init__(self, binary, data_dir, port=None, extra=(), env=None):
        self.binary = binary
        self.extra = list(extra)
        if "--service-cluster-ip-range" not in self.extra:
            self.extra += ["--service-cluster-ip-range", self._service_range(next(self._service_ranges))]
        # `fair server` merges a context into the user's kubeconfig; a test server's goes to a
        # file of the test's own, never to the kubeconfig of whoever runs the tests.
        self.env = {**os.environ, "KUBECONFIG": str(Path(data_dir).parent / f"{Path(data_dir).name}-user-kubeconfig"), **(env or {})}
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.process = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def kubeconfig(self):
        return self.data_dir / "kubeconfig"

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self):
        return self.data_dir / "tls" / "ca.crt"

    @property
    def ssl_context(self):
        import ssl
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def registry(self):
        """host:port of the embedded registry (plain HTTP, loopback)."""
        return (self.data_dir / "registry-address").read_text().strip()

    @property
    def serving(self):
        """host:port of the service proxy (plain HTTP, loopback): /serving/NAMESPACE/SERVICE/..."""
        return (self.data_dir / "serving-address").read_text().strip()

    @property
    def token(self):
        return (self.data_dir / "token").read_text().strip()

    @property
    def registry_env(self):
        """Environment for `fair` pushing to the embedded registry: pushes need the cluster's
        credential, which fair finds through the kubeconfig."""
        return {"KUBECONFIG": str(self.kubeconfig)}

    def registry_creds(self, repository):
        """USER:PASSWORD for skopeo's --dest-creds to push `repository`. The password is a token
        scoped to it (see `registry_token`); skopeo exchanges it at the plain port's token endpoint."""
        return "fair:" + self.registry_token(repository)

    def registry_token(self, repository):
        """A token that may push and pull `repository`, got over TLS with the cluster's token
        (which the registry refuses in clear), as fair gets its own."""
        import base64
        import urllib.parse
        import urllib.request
        query = urllib.parse.urlencode({"service": "fair-registry", "scope": f"repository:{repository}:push,pull"})
        request = urllib.request.Request(f"{self.url}/v2/token?{query}")
        request.add_header("Authorization", "Basic " + base64.b64encode(f"fair:{self.token}".encode()).decode())
        with urllib.request.urlopen(request, context=self.ssl_context, timeout=30) as response:
            return json.load(response)["token"]

    def start(self, timeout=60):
        try:
            return self._start(timeout)
        except BaseException:
            # Never leave a server behind when start-up fails half-way.
            self.kill()
            raise

    def _start(self, timeout):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.kubeconfig.exists():
            self.kubeconfig.unlink()
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "server", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
                                         "--registry-port", "0", *self.extra],
                                        stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fair server exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            if self.kubeconfig.exists():
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"fair server did not start:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        # The node agent leaves containers running across its restarts by design; a test run
        # must not, so whatever is left under the data directory is removed.
        remove_containers(self.data_dir)

    def kill(self):
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None

    def kubectl_command(self):
        """kubectl with this server's kubeconfig, for tests that run it themselves."""
        return ["kubectl", "--kubeconfig", str(self.kubeconfig)]

    def kubectl(self, *args, check=True, input=None, timeout=60):
        result = subprocess.run([*self.kubectl_command(), *map(str, args)],
                                capture_output=True, text=True, input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result


def runc_roots(data_dir):
    """runc state directories of node agents under a data directory."""
    return [path for path in Path(data_dir).rglob("runc") if path.is_dir() and (path.parent / "pods").exists()
            or path.is_dir() and any(child.joinpath("state.json").exists() for child in path.iterdir() if child.is_dir())]


def containers(data_dir):
    ids = []
    for root in runc_roots(data_dir):
        listed = subprocess.run(["runc", "--root", str(root), "list", "--format", "json"], capture_output=True, text=True)
        if listed.returncode == 0 and listed.stdout.strip() not in ("", "null"):
            ids += [(root, entry["id"]) for entry in json.loads(listed.stdout)]
    return ids


def remove_containers(data_dir):
    for root, container in containers(data_dir):
        subprocess.run(["runc", "--root", str(root), "delete", "--force", container], capture_output=True)
    # Pods kept across a stop keep their subPath bind mounts too (as kubelet's do until the pod
    # is cleaned up): a test run removes them, deepest first, so its temporary files can go.
    prefix = os.path.realpath(data_dir) + "/"
    with open("/proc/self/mountinfo") as mounts:
        points = [line.split()[4].replace("\\040", " ") for line in mounts]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


class FairNode:
    """`fair node` as its own process, joining a server through its kubeconfig."""

    def __init__(self, binary, kubeconfig, name, data_dir, pod_cidr, runtime="runc", heartbeat=2):
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.name = name
        self.data_dir = Path(data_dir)
        self.pod_cidr = pod_cidr
        self.runtime = runtime
        self.heartbeat = heartbeat
        self.process = None
        self.log_path = self.data_dir.parent / f"{name}.log"

    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen([self.binary, "node", "--kubeconfig", str(self.kubeconfig), "--name", self.name,
                                         "--data-dir", str(self.data_dir), "--pod-cidr", self.pod_cidr,
                                         "--runtime", self.runtime, "--heartbeat-interval", str(self.heartbeat)],
                                        stdout=self.log, stderr=self.log)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self):
        if self.process:
            self.process.kill()
            self.process.wait()
            self.process = None

    def containers(self):
        return [container for _, container in containers(self.data_dir)]

    def remove_containers(self):
        remove_containers(self.data_dir)
