"""`fair server` driven by the official Kubernetes Python client from PyPI (`kubernetes`), at three
versions, each in a venv of its own (client_venvs.py): 10.0.1 (2019), 31.0.0 and the newest. Every
check is what a real Kubernetes API server does for the same calls; pods run a static busybox
image from the server's embedded registry on the server's own node."""
import json

import pytest

from client_cluster import cluster, namespace  # noqa: F401  (fixtures)
from client_venvs import client_python

VERSIONS = ["kubernetes-10", "kubernetes-31", "kubernetes-latest"]


@pytest.fixture(scope="module", params=VERSIONS)
def kube(request):
    return client_python(request.param)


def major(kube):
    return int(kube.versions["kubernetes"].split(".")[0])


# Set-up shared by the scripts, run with the client's own Python.
PRELUDE = r'''
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
config.load_kube_config(config_file=ARGS["kubeconfig"])
core = client.CoreV1Api()
apps = client.AppsV1Api()
NS = ARGS.get("ns")

def api_error(error):
    return {"status": error.status, "reason": error.reason, "body": error.body,
            "content_type": (error.headers or {}).get("Content-Type")}

def printing(count, pause):
    """A shell loop that prints line-1 .. line-COUNT, PAUSE seconds apart."""
    return f"i=1; while [ $i -le {count} ]; do echo line-$i; i=$((i+1)); sleep {pause}; done"

def pod_body(name, script, env=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "clients"}),
        spec=client.V1PodSpec(restart_policy="Never", termination_grace_period_seconds=1, containers=[
            client.V1Container(name="main", image=ARGS["image"], command=["sh", "-c", script], env=env)]))

def make_namespace():
    return core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))

def wait_phase(name, phases, timeout=120):
    deadline = time.monotonic() + timeout
    phase = None
    while time.monotonic() < deadline:
        phase = core.read_namespaced_pod(name, NS).status.phase
        if phase in phases:
            return phase
        time.sleep(0.25)
    return phase

def describe(event):
    """A watch event as data: what the client handed over, whatever its shape."""
    if not isinstance(event, dict):
        return {"python_type": type(event).__name__, "repr": repr(event)[:300]}
    obj = event.get("object")
    meta = getattr(obj, "metadata", None)
    status = getattr(obj, "status", None)
    return {"python_type": "dict", "type": event.get("type"),
            "object_type": type(obj).__name__,
            "name": getattr(meta, "name", None), "rv": getattr(meta, "resource_version", None),
            "phase": getattr(status, "phase", None),
            "raw_object_kind": (event.get("raw_object") or {}).get("kind") if isinstance(event.get("raw_object"), dict) else None}
'''


def run(kube, cluster, script, timeout=180, **args):
    return kube.run(PRELUDE + script, timeout=timeout, kubeconfig=cluster.kubeconfig, image=cluster.image, **args)


CREATE_AND_LIST = r'''
result = {}
created = make_namespace()
result["namespace"] = created.metadata.name
result["namespaces"] = [n.metadata.name for n in core.list_namespace().items]
core.create_namespaced_config_map(NS, client.V1ConfigMap(
    metadata=client.V1ObjectMeta(name="settings"), data={"greeting": "hello from a configmap"}))
result["configmap"] = core.read_namespaced_config_map("settings", NS).data
env = [client.V1EnvVar(name="GREETING", value_from=client.V1EnvVarSource(
    config_map_key_ref=client.V1ConfigMapKeySelector(name="settings", key="greeting")))]
pod = core.create_namespaced_pod(NS, pod_body("printer", printing(3, 0) + '; echo "greeting=$GREETING"', env))
result["created"] = {"name": pod.metadata.name, "uid": bool(pod.metadata.uid), "namespace": pod.metadata.namespace}
result["listed_pods"] = [p.metadata.name for p in core.list_namespaced_pod(NS).items]
result["listed_by_label"] = [p.metadata.name for p in core.list_namespaced_pod(NS, label_selector="app=clients").items]
result["listed_configmaps"] = sorted(c.metadata.name for c in core.list_namespaced_config_map(NS).items)
result["phase"] = wait_phase("printer", ("Succeeded", "Failed"))
pod = core.read_namespaced_pod("printer", NS)
terminated = pod.status.container_statuses[0].state.terminated if pod.status.container_statuses else None
result["exit_code"] = terminated.exit_code if terminated else None
result["log"] = core.read_namespaced_pod_log("printer", NS)
emit(result)
'''


def test_namespace_configmap_and_pod_create_list_and_run(kube, cluster, namespace):
    result = run(kube, cluster, CREATE_AND_LIST, ns=namespace)
    assert result["namespace"] == namespace
    assert namespace in result["namespaces"]
    assert result["configmap"] == {"greeting": "hello from a configmap"}
    assert result["created"] == {"name": "printer", "uid": True, "namespace": namespace}
    assert result["listed_pods"] == ["printer"]
    assert result["listed_by_label"] == ["printer"]
    # Every namespace gets the kube-root-ca.crt configmap in Kubernetes; fair may or may not.
    assert "settings" in result["listed_configmaps"]
    assert result["phase"] == "Succeeded", result
    assert result["exit_code"] == 0
    assert result["log"] == "line-1\nline-2\nline-3\ngreeting=hello from a configmap\n"


WATCH_AND_RESUME = r'''
result = {"first": [], "resumed": []}
make_namespace()
start = core.list_namespaced_pod(NS).metadata.resource_version
result["start"] = start
core.create_namespaced_pod(NS, pod_body("first", "echo one"))

def follow(name, resource_version, into):
    stream = watch.Watch()
    try:
        for event in stream.stream(core.list_namespaced_pod, NS, resource_version=resource_version, timeout_seconds=60):
            seen = describe(event)
            into.append(seen)
            if seen.get("name") == name and seen.get("phase") in ("Succeeded", "Failed"):
                stream.stop()
                break
            if len(into) > 50:
                break
    except Exception as error:
        result.setdefault("errors", []).append(traceback.format_exc()[-2500:])

follow("first", start, result["first"])
last = result["first"][-1].get("rv") if result["first"] else None
result["resumed_from"] = last
core.create_namespaced_pod(NS, pod_body("second", "echo two"))
if last is not None:
    follow("second", last, result["resumed"])
emit(result)
'''


def test_watch_streams_event_dicts_and_resumes_without_repeats(kube, cluster, namespace):
    result = run(kube, cluster, WATCH_AND_RESUME, ns=namespace)
    explain = (f"client result: {json.dumps(result, indent=1)[:6000]}\n"
               f"raw GET ...pods?watch=True (what the client sends): "
               f"{cluster.raw('GET', f'/api/v1/namespaces/{namespace}/pods?watch=True&timeoutSeconds=1')}")
    assert "errors" not in result, explain
    first, resumed = result["first"], result["resumed"]
    assert first, explain
    assert all(event["python_type"] == "dict" for event in first + resumed), explain
    assert {event["type"] for event in first + resumed} <= {"ADDED", "MODIFIED"}, explain
    assert all(event["object_type"] == "V1Pod" and event["raw_object_kind"] == "Pod" for event in first + resumed), explain
    assert (first[0]["type"], first[0]["name"]) == ("ADDED", "first"), explain
    assert first[-1]["phase"] == "Succeeded", explain
    # Resuming from the last resourceVersion seen: nothing seen before comes again.
    assert resumed, explain
    before = {(event["name"], event["rv"]) for event in first}
    assert [event for event in resumed if (event["name"], event["rv"]) in before] == [], explain
    assert all(event["name"] == "second" for event in resumed), explain
    assert (resumed[0]["type"], resumed[0]["name"]) == ("ADDED", "second"), explain
    assert resumed[-1]["phase"] == "Succeeded", explain


FOLLOW_LOGS = r'''
result = {}
make_namespace()
core.create_namespaced_pod(NS, pod_body("follower", printing(6, 1)))
result["phase_before"] = wait_phase("follower", ("Running", "Succeeded", "Failed"))
started = time.monotonic()
arrivals, buffer = [], b""
try:
    response = core.read_namespaced_pod_log("follower", NS, follow=True, _preload_content=False)
    result["response_type"] = type(response).__name__
    # The urllib3 response (newer clients wrap it in a RESTResponse).
    raw = response if hasattr(response, "stream") else response.response
    result["transfer_encoding"] = raw.headers.get("Transfer-Encoding")
    for chunk in raw.stream():
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            arrivals.append((line.decode(), round(time.monotonic() - started, 2)))
except Exception:
    result["error"] = traceback.format_exc()[-2500:]
result["rest"] = buffer.decode()
result["lines"] = [line for line, _ in arrivals]
result["arrivals"] = arrivals
# The stream ends when the container exits; the pod's phase follows shortly after.
result["phase_after"] = wait_phase("follower", ("Succeeded", "Failed"), timeout=30)
emit(result)
'''


def test_follow_logs_returns_each_line_once_as_printed(kube, cluster, namespace):
    result = run(kube, cluster, FOLLOW_LOGS, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    assert result["phase_before"] == "Running", explain
    assert result["lines"] == [f"line-{i}" for i in range(1, 7)] and result["rest"] == "", explain
    # Live: the first lines came while the container was still printing (one line a second).
    times = [at for _, at in result["arrivals"]]
    assert times[-1] - times[0] >= 3, explain
    assert result["phase_after"] == "Succeeded", explain


def rfc3339(text):
    """An RFC 3339 time as the kubelet writes it (nanoseconds, Z) as a datetime."""
    import datetime
    import re
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    assert match, f"not an RFC 3339 time: {text!r}"
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.datetime.fromisoformat(f"{match.group(1)}.{(match.group(2) or '0')[:6].ljust(6, '0')}{zone}")


LOG_OPTIONS = r"""
result = {}
make_namespace()
core.create_namespaced_pod(NS, pod_body("talker", "echo early; sleep 6; echo late; sleep 60"))
deadline = time.monotonic() + 120
log = ""
while time.monotonic() < deadline and "late" not in log:
    try:
        log = core.read_namespaced_pod_log("talker", NS)
    except ApiException:
        pass
    time.sleep(0.2)
result["log"] = log
# "early" was printed 6 s before "late", which was printed within the last second or so.
result["since_3s"] = core.read_namespaced_pod_log("talker", NS, since_seconds=3)
result["tail_1"] = core.read_namespaced_pod_log("talker", NS, tail_lines=1)
result["timestamped"] = core.read_namespaced_pod_log("talker", NS, timestamps=True)
result["limited"] = core.read_namespaced_pod_log("talker", NS, limit_bytes=3)
core.delete_namespaced_pod("talker", NS, grace_period_seconds=0)
emit(result)
"""


def test_log_options_since_seconds_tail_lines_timestamps_and_limit_bytes(kube, cluster, namespace):
    """What Airflow's pod operator relies on to resume a log stream without repeating lines:
    timestamps=True gives each line an RFC 3339 time, and sinceSeconds leaves out older lines."""
    result = run(kube, cluster, LOG_OPTIONS, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert result["log"] == "early\nlate\n", explain
    stamped = result["timestamped"].splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["early", "late"], explain
    times = [rfc3339(line.split(" ", 1)[0]) for line in stamped]
    # Every option checked, so one failure does not hide the others.
    wrong = {name: (got, expected) for name, got, expected in (
        ("sinceSeconds=3", result["since_3s"], "late\n"),
        ("tailLines=1", result["tail_1"], "late\n"),
        ("limitBytes=3", result["limited"], "ear"),
        ("timestamps: seconds between the lines' times (about 6)",
         round((times[1] - times[0]).total_seconds()), 6),
    ) if got != expected}
    assert wrong == {}, f"(got, expected) by option: {wrong}\n{explain}"


DELETE_SERVICE = r'''
result = {}
make_namespace()
service = core.create_namespaced_service(NS, client.V1Service(
    metadata=client.V1ObjectMeta(name="web"),
    spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80, target_port=8080)])))
result["created"] = {"name": service.metadata.name, "port": service.spec.ports[0].port}
try:
    deleted = core.delete_namespaced_service("web", NS)
    result["deleted_type"] = type(deleted).__name__
    result["deleted"] = client.ApiClient().sanitize_for_serialization(deleted)
except Exception:
    result["error"] = traceback.format_exc()[-3000:]
try:
    core.read_namespaced_service("web", NS)
    result["after"] = 200
except ApiException as error:
    result["after"] = error.status
emit(result)
'''


def test_delete_namespaced_service_returns_what_the_client_expects(kube, cluster, namespace):
    result = run(kube, cluster, DELETE_SERVICE, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert result["created"] == {"name": "web", "port": 80}
    assert "error" not in result, explain
    if major(kube) >= 12:
        # Since Kubernetes 1.20 a Service's DELETE answers with the deleted Service; the client
        # types the call that way.
        assert result["deleted_type"] == "V1Service", explain
        assert result["deleted"]["kind"] == "Service" and result["deleted"]["metadata"]["name"] == "web", explain
    else:
        assert result["deleted_type"] == "V1Status", explain
    assert result["after"] == 404, explain


MISSING = r'''
result = {}
for what, call in (("configmap", lambda: core.read_namespaced_config_map("missing", "default")),
                   ("pod", lambda: core.read_namespaced_pod("missing", "default")),
                   ("deployment", lambda: apps.read_namespaced_deployment("missing", "default"))):
    try:
        call()
        result[what] = {"status": 200}
    except ApiException as error:
        result[what] = api_error(error)
emit(result)
'''


def test_reading_a_missing_object_is_a_404_status_naming_it(kube, cluster):
    result = run(kube, cluster, MISSING)
    for what, resource, group in (("configmap", "configmaps", None), ("pod", "pods", None),
                                  ("deployment", "deployments", "apps")):
        error = result[what]
        assert error["status"] == 404, error
        assert error["content_type"].startswith("application/json"), error
        body = json.loads(error["body"])
        assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
        assert body["status"] == "Failure" and body["reason"] == "NotFound" and body["code"] == 404, body
        expected = f'{resource} "missing" not found' if group is None else f'{resource}.{group} "missing" not found'
        assert body["message"] == expected, body
        details = {"name": "missing", "kind": resource, **({"group": group} if group else {})}
        assert body["details"] == details, body


# -- pods/exec over WebSocket (kubernetes.stream) ------------------------------------------------------

EXEC_PRELUDE = r'''
from kubernetes.stream import stream

def exec_target():
    """A namespace with a running pod "box" whose container sleeps: what the exec tests exec into."""
    make_namespace()
    core.create_namespaced_pod(NS, pod_body("box", "sleep 3600"))
    return wait_phase("box", ("Running", "Succeeded", "Failed"))

def subprotocol(resp):
    """The subprotocol the server chose: its Sec-WebSocket-Protocol answer (the client passes the
    offer as a raw header, so websocket-client's own subprotocol stays None)."""
    headers = resp.sock.getheaders() or {}
    return next((value for key, value in headers.items() if key.lower() == "sec-websocket-protocol"), None)

def drain(resp, into, timeout=60):
    """Reads stdout and stderr (into["stdout"], into["stderr"]) until the server closes the stream,
    the way Airflow's provider does (update, then peek/read: read_stdout() with no data blocks)."""
    deadline = time.monotonic() + timeout
    while resp.is_open() and time.monotonic() < deadline:
        resp.update(timeout=1)
        while resp.peek_stdout():
            into["stdout"] += resp.read_stdout()
        while resp.peek_stderr():
            into["stderr"] += resp.read_stderr()
    into["open_after"] = resp.is_open()
    # What came with the last frames, after the close.
    into["stdout"] += resp.read_stdout(timeout=0) if resp.peek_stdout() else ""
    into["stderr"] += resp.read_stderr(timeout=0) if resp.peek_stderr() else ""

def status_and_code(resp, into):
    """The client's returncode where it has one (kubernetes >= 12), and the Status of channel 3
    (read once: the client's returncode reads it too)."""
    if hasattr(type(resp), "returncode"):
        into["returncode"] = resp.returncode
        into["has_returncode"] = True
    else:
        into["has_returncode"] = False
        raw = resp.read_channel(3)
        into["status"] = json.loads(raw) if raw else None
'''

EXEC_OUTPUT = EXEC_PRELUDE + r'''
result = {"phase": exec_target()}
try:
    result["output"] = stream(core.connect_get_namespaced_pod_exec, "box", NS,
                              command=["sh", "-c", 'echo hello "$1" "$2"; sleep 0.3; echo oops >&2', "sh", "a b", "ü&x=y"],
                              stderr=True, stdin=False, stdout=True, tty=False)
except Exception:
    result["error"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_exec_stream_returns_the_command_s_output(kube, cluster, namespace):
    """stream(connect_get_namespaced_pod_exec, ...) as its README shows it: the whole output of a
    command given as several arguments (one `command` query parameter each, spaces and & in them)."""
    result = run(kube, cluster, EXEC_OUTPUT, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert result["phase"] == "Running", explain
    assert "error" not in result, explain
    # stdout and stderr, in the order they were written (the client's read_all()).
    assert result["output"] == "hello a b ü&x=y\noops\n", explain


EXEC_STDIN_EXIT_CODE = EXEC_PRELUDE + r'''
result = {"phase": exec_target(), "stdout": "", "stderr": ""}
try:
    resp = stream(core.connect_get_namespaced_pod_exec, "box", NS, container="main",
                  command=["sh", "-c", 'read line; echo "got $line"; echo bye >&2; exit 3'],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    result["subprotocol"] = subprotocol(resp)
    resp.write_stdin("ping pong\n")
    drain(resp, result)
    status_and_code(resp, result)
    resp.close()
except Exception:
    result["error"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_exec_stream_with_stdin_and_exit_code(kube, cluster, namespace):
    """_preload_content=False: a WSClient; what is written to stdin reaches the command, stdout and
    stderr come apart, and the exit code comes back on channel 3 (the client's returncode)."""
    result = run(kube, cluster, EXEC_STDIN_EXIT_CODE, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert result["phase"] == "Running", explain
    assert "error" not in result, explain
    # kubernetes < 37 asks for v4.channel.k8s.io only; newer ones for v5 first, then v4.
    assert result["subprotocol"] == ("v5.channel.k8s.io" if major(kube) >= 37 else "v4.channel.k8s.io"), explain
    assert result["stdout"] == "got ping pong\n", explain
    assert result["stderr"] == "bye\n", explain
    assert result["open_after"] is False, explain
    if result["has_returncode"]:
        assert result["returncode"] == 3, explain
    else:
        # kubernetes 10 has no returncode: the Status it would read, as kubectl reads it.
        status = result["status"]
        assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode", explain
        assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}], explain


EXEC_CLOSE_STDIN = EXEC_PRELUDE + r'''
result = {"phase": exec_target(), "stdout": "", "stderr": ""}
try:
    resp = stream(core.connect_get_namespaced_pod_exec, "box", NS, container="main",
                  command=["sh", "-c", "cat; echo end; exit 4"],
                  stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
    result["subprotocol"] = subprotocol(resp)
    resp.write_stdin("line one\n")
    resp.write_stdin("line two\n")
    resp.close_channel(0)
    drain(resp, result)
    status_and_code(resp, result)
    resp.close()
except Exception:
    result["error"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_exec_stream_closing_stdin_ends_the_command_s_input(kube, cluster, namespace):
    """v5.channel.k8s.io's close signal (kubernetes >= 37's close_channel(0)): `cat` sees the end of
    its input, as with `kubectl exec -i` when kubectl's stdin ends."""
    if major(kube) < 37:
        pytest.skip(f"kubernetes {kube.versions['kubernetes']} speaks v4.channel.k8s.io only: it cannot close stdin")
    result = run(kube, cluster, EXEC_CLOSE_STDIN, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert result["phase"] == "Running", explain
    assert "error" not in result, explain
    assert result["subprotocol"] == "v5.channel.k8s.io", explain
    assert result["stdout"] == "line one\nline two\nend\n" and result["stderr"] == "", explain
    assert result["returncode"] == 4, explain


# -- pods/portforward over WebSocket (kubernetes.stream.portforward) -----------------------------------

PORTFORWARD_PRELUDE = r'''
try:
    from kubernetes.stream import portforward
except ImportError:
    portforward = None
    emit({"unsupported": "kubernetes.stream has no portforward"})
    sys.exit(0)

def serve(name, ports, timeout=120):
    """A running pod NAME with busybox httpd on $POD_IP:PORT for each port, whose /index.html is
    hello-PORTFWD-PORT; returns its phase once each server answers (it prints "ready" then)."""
    script = ("for p in " + " ".join(map(str, ports)) + "; do mkdir -p /tmp/w$p; printf hello-PORTFWD-$p > /tmp/w$p/index.html; "
              'httpd -f -p "$POD_IP:$p" -h /tmp/w$p & done; '
              "for p in " + " ".join(map(str, ports)) + '; do until wget -q -O /dev/null "http://$POD_IP:$p/index.html"; '
              "do sleep 0.1; done; done; echo ready; wait")
    core.create_namespaced_pod(NS, pod_body(name, script))
    phase = wait_phase(name, ("Running", "Succeeded", "Failed"), timeout=timeout)
    deadline = time.monotonic() + timeout
    while phase == "Running" and time.monotonic() < deadline:
        if "ready" in core.read_namespaced_pod_log(name, NS):
            return "ready"
        time.sleep(0.2)
    return phase

def pf_subprotocol(pf):
    headers = pf.websocket.getheaders() or {}
    return next((value for key, value in headers.items() if key.lower() == "sec-websocket-protocol"), None)

def send_get(sock, timeout=30):
    sock.settimeout(timeout)
    sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")

def read_to_eof(sock):
    """Everything the port's socket gives until its end (a timeout raises: a hang)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk

def http_parts(data):
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    return {"status_line": status_line, "status": status_line.split(" ")[1] if " " in status_line else None,
            "body": body.decode(errors="replace")}
'''


def run_portforward(kube, cluster, script, namespace):
    result = run(kube, cluster, PORTFORWARD_PRELUDE + script, ns=namespace)
    if "unsupported" in result:
        pytest.skip(f"kubernetes {kube.versions['kubernetes']}: {result['unsupported']}")
    return result, f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"


PORTFORWARD_ONE_PORT = r'''
result = {}
make_namespace()
result["server"] = serve("web", [8080])
try:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="8080")
    result["subprotocol"] = pf_subprotocol(pf)
    sock = pf.socket(8080)
    send_get(sock)
    result["response"] = http_parts(read_to_eof(sock))
    result["error"] = pf.error(8080)
    pf.close()
except Exception:
    result["exception"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_portforward_http_get_through_one_port(kube, cluster, namespace):
    """portforward(connect_get_namespaced_pod_portforward, ..., ports="8080") as the client's
    example uses it: an HTTP request written to pf.socket(8080) reaches the pod's server, and its
    whole answer comes back, then the end of the connection."""
    result, explain = run_portforward(kube, cluster, PORTFORWARD_ONE_PORT, namespace)
    assert result["server"] == "ready", explain
    assert "exception" not in result, explain
    # Port-forward speaks v4.channel.k8s.io only (kubelet's portforward/websocket.go); newer clients offer v5 first.
    assert result["subprotocol"] == "v4.channel.k8s.io", explain
    assert result["response"]["status"] == "200", explain
    assert result["response"]["body"] == "hello-PORTFWD-8080", explain
    assert result["error"] is None, explain


PORTFORWARD_TWO_PORTS = r'''
result = {}
make_namespace()
result["server"] = serve("web", [8080, 8081])
try:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="8080,8081")
    first, second = pf.socket(8080), pf.socket(8081)
    # Both requests out before either answer is read: the two ports are open together.
    send_get(second)
    send_get(first)
    result["8080"] = http_parts(read_to_eof(first))
    result["8081"] = http_parts(read_to_eof(second))
    result["errors"] = [pf.error(8080), pf.error(8081)]
    pf.close()
except Exception:
    result["exception"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_portforward_two_ports_in_one_call(kube, cluster, namespace):
    """ports="8080,8081": channels 0/1 for 8080 and 2/3 for 8081 in one WebSocket, each reaching its
    own server in the pod."""
    result, explain = run_portforward(kube, cluster, PORTFORWARD_TWO_PORTS, namespace)
    assert result["server"] == "ready", explain
    assert "exception" not in result, explain
    assert (result["8080"]["status"], result["8080"]["body"]) == ("200", "hello-PORTFWD-8080"), explain
    assert (result["8081"]["status"], result["8081"]["body"]) == ("200", "hello-PORTFWD-8081"), explain
    assert result["errors"] == [None, None], explain


PORTFORWARD_CLOSED_PORT = r'''
result = {}
make_namespace()
result["server"] = serve("web", [8080])
try:
    started = time.monotonic()
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="9999")
    sock = pf.socket(9999)
    sock.settimeout(30)
    result["alone"] = {"data": read_to_eof(sock).decode(errors="replace"), "error": pf.error(9999),
                       "seconds": round(time.monotonic() - started, 2)}
    pf.close()
    # A port that fails next to one that works: the working one is not cut off.
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="8080,9999")
    good, bad = pf.socket(8080), pf.socket(9999)
    bad.settimeout(30)
    send_get(good)
    result["mixed"] = {"8080": http_parts(read_to_eof(good)), "9999_data": read_to_eof(bad).decode(errors="replace"),
                       "errors": [pf.error(8080), pf.error(9999)]}
    pf.close()
except Exception:
    result["exception"] = traceback.format_exc()[-3000:]
emit(result)
'''


def test_portforward_to_a_port_nothing_listens_on_reports_an_error(kube, cluster, namespace):
    """The node cannot connect: the port's error channel says so (pf.error(port)) and its socket
    ends, rather than a hang; in a call with several ports the others still work."""
    result, explain = run_portforward(kube, cluster, PORTFORWARD_CLOSED_PORT, namespace)
    assert result["server"] == "ready", explain
    assert "exception" not in result, explain
    alone = result["alone"]
    assert alone["data"] == "", explain
    assert alone["error"] and "9999" in alone["error"], explain
    assert alone["seconds"] < 20, explain
    mixed = result["mixed"]
    assert (mixed["8080"]["status"], mixed["8080"]["body"]) == ("200", "hello-PORTFWD-8080"), explain
    assert mixed["9999_data"] == "", explain
    assert mixed["errors"][0] is None and mixed["errors"][1] and "9999" in mixed["errors"][1], explain
