"""`fair server` driven by kr8s (the newest from PyPI, in a venv of its own): what its users do
first — connect (kr8s checks the server's version on connect), list, create a Pod, watch it, follow
its logs, delete it. Pods run a static busybox image from the server's embedded registry."""
import json

import pytest

from client_cluster import cluster, namespace  # noqa: F401  (fixtures)
from client_venvs import client_python


@pytest.fixture(scope="module")
def kr8s_client():
    return client_python("kr8s")


PRELUDE = r'''
import kr8s
from kr8s.objects import Namespace, Pod
NS = ARGS.get("ns")

def connect():
    return kr8s.api(kubeconfig=ARGS["kubeconfig"])

def printing(count, pause):
    return f"i=1; while [ $i -le {count} ]; do echo line-$i; i=$((i+1)); sleep {pause}; done"

def pod_object(api, name, script):
    return Pod({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": NS, "labels": {"app": "kr8s"}},
                "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "main", "image": ARGS["image"], "command": ["sh", "-c", script]}]}},
               api=api)

def wait_phase(pod, phases, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod.refresh()
        if pod.status.get("phase") in phases:
            break
        time.sleep(0.25)
    return pod.status.get("phase")

def failure():
    return traceback.format_exc()[-3000:]
'''


def run(client, cluster, script, **args):
    return client.run(PRELUDE + script, timeout=180, kubeconfig=cluster.kubeconfig, image=cluster.image, **args)


CONNECT = r'''
try:
    api = connect()
    emit({"version": api.version()})
except Exception:
    emit({"error": failure()})
'''


def test_connects_and_reads_the_version(kr8s_client, cluster):
    result = run(kr8s_client, cluster, CONNECT)
    assert "error" not in result, (f"{result['error']}\nGET /version/ (what kr8s asks for): "
                                   f"{cluster.raw('GET', '/version/')}")
    assert result["version"]["major"] == "1" and result["version"]["gitVersion"].startswith("v1."), result


CREATE_LIST_LOGS_DELETE = r'''
result = {}
try:
    api = connect()
    Namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, api=api).create()
    pod = pod_object(api, "printer", printing(6, 1))
    pod.create()
    result["listed"] = [p.name for p in api.get("pods", namespace=NS)]
    result["phase_before"] = wait_phase(pod, ("Running", "Succeeded", "Failed"))
    started = time.monotonic()
    result["followed"] = [(line, round(time.monotonic() - started, 2)) for line in pod.logs(follow=True)]
    result["phase_after"] = wait_phase(pod, ("Succeeded", "Failed"))
    result["tail"] = list(pod.logs(tail_lines=2))
    pod.delete()
    deadline = time.monotonic() + 60
    while pod.exists() and time.monotonic() < deadline:
        time.sleep(0.25)
    result["exists_after_delete"] = pod.exists()
    result["listed_after_delete"] = [p.name for p in api.get("pods", namespace=NS)]
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_create_list_follow_logs_and_delete_a_pod(kr8s_client, cluster, namespace):
    result = run(kr8s_client, cluster, CREATE_LIST_LOGS_DELETE, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    assert result["listed"] == ["printer"], explain
    assert result["phase_before"] == "Running", explain
    assert [line for line, _ in result["followed"]] == [f"line-{i}" for i in range(1, 7)], explain
    times = [at for _, at in result["followed"]]
    assert times[-1] - times[0] >= 3, f"the lines did not arrive as they were printed: {explain}"
    assert result["phase_after"] == "Succeeded", explain
    assert result["tail"] == ["line-5", "line-6"], explain
    assert result["exists_after_delete"] is False and result["listed_after_delete"] == [], explain


WATCH = r'''
result = {"events": []}
try:
    api = connect()
    Namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, api=api).create()
    pod_object(api, "watched", "echo watched").create()
    for kind, obj in api.watch("pods", namespace=NS):
        result["events"].append({"type": kind, "class": type(obj).__name__, "name": obj.name,
                                 "phase": obj.raw.get("status", {}).get("phase"), "rv": obj.metadata.resourceVersion})
        if obj.raw.get("status", {}).get("phase") in ("Succeeded", "Failed") or len(result["events"]) > 50:
            break
    resume = result["events"][-1]["rv"]
    pod_object(api, "later", "echo later").create()
    result["resumed"] = []
    for kind, obj in api.watch("pods", namespace=NS, since=resume):
        result["resumed"].append({"type": kind, "name": obj.name, "rv": obj.metadata.resourceVersion,
                                  "phase": obj.raw.get("status", {}).get("phase")})
        if (obj.name == "later" and obj.raw.get("status", {}).get("phase") in ("Succeeded", "Failed")) \
                or len(result["resumed"]) > 50:
            break
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_watch_pods_and_resume(kr8s_client, cluster, namespace):
    result = run(kr8s_client, cluster, WATCH, ns=namespace)
    explain = json.dumps(result, indent=1)
    assert "error" not in result, explain
    events = result["events"]
    assert (events[0]["type"], events[0]["name"], events[0]["class"]) == ("ADDED", "watched", "Pod"), explain
    assert {event["type"] for event in events[1:]} <= {"MODIFIED"}, explain
    assert events[-1]["phase"] == "Succeeded", explain
    seen = {(event["name"], event["rv"]) for event in events}
    resumed = result["resumed"]
    assert resumed and all((event["name"], event["rv"]) not in seen for event in resumed), explain
    assert (resumed[0]["type"], resumed[0]["name"]) == ("ADDED", "later") and resumed[-1]["phase"] == "Succeeded", explain


# -- pods/exec over WebSocket (Pod.exec: httpx-ws, v4.channel.k8s.io) ----------------------------------

EXEC_PRELUDE = r'''
def exec_target(api):
    """A namespace with a running pod "box" whose container sleeps: what the exec tests exec into."""
    Namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, api=api).create()
    pod = pod_object(api, "box", "sleep 3600")
    pod.create()
    result["phase"] = wait_phase(pod, ("Running", "Succeeded", "Failed"))
    return pod

def completed(done):
    return {"stdout": done.stdout.decode(errors="replace"), "stderr": done.stderr.decode(errors="replace"),
            "returncode": done.returncode, "type": type(done).__name__}
'''

EXEC_EXIT_CODES = EXEC_PRELUDE + r'''
result = {}
try:
    api = connect()
    pod = exec_target(api)
    result["unchecked"] = completed(pod.exec(["sh", "-c", "echo hi; exit 2"], check=False))
    result["ok"] = completed(pod.exec(["sh", "-c", 'echo "ok $1"; echo warn >&2', "sh", "a b"]))
    try:
        done = pod.exec(["sh", "-c", "echo hi; exit 2"], check=True)
        result["checked"] = {"returned": completed(done)}
    except Exception as error:
        # kr8s raises ExecError inside httpx-ws's session, whose anyio task group (httpx-ws 0.9)
        # hands it on inside an ExceptionGroup of one: the ExecError, wrapped or not.
        inner = list(getattr(error, "exceptions", ()))
        exec_error = error if isinstance(error, kr8s.ExecError) else \
            (inner[0] if len(inner) == 1 and isinstance(inner[0], kr8s.ExecError) else None)
        result["checked"] = {"raised": type(error).__name__, "exec_error": str(exec_error) if exec_error else None,
                             "inner": [f"{type(e).__module__}.{type(e).__name__}: {e}" for e in inner],
                             "traceback": None if exec_error else failure()}
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_exec_returns_output_and_exit_code(kr8s_client, cluster, namespace):
    result = run(kr8s_client, cluster, EXEC_EXIT_CODES, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert "error" not in result, explain
    assert result["phase"] == "Running", explain
    # check=False: the exit code from the Status on channel 3 (its ExitCode cause).
    assert result["unchecked"] == {"stdout": "hi\n", "stderr": "", "returncode": 2, "type": "CompletedExec"}, explain
    assert result["ok"] == {"stdout": "ok a b\n", "stderr": "warn\n", "returncode": 0, "type": "CompletedExec"}, explain
    # check=True: a non-zero exit raises kr8s's ExecError with the message of the Status.
    assert (result["checked"].get("exec_error") or "").startswith("command terminated with non-zero exit code"), explain


EXEC_AFTER_OTHER_CALLS = EXEC_PRELUDE + r'''
result = {"responses": []}
try:
    api = connect()
    pod = exec_target(api)

    async def record(response):
        result["responses"].append({"method": response.request.method, "status": response.status_code,
                                    "path": response.request.url.path,
                                    "location": response.headers.get("location")})

    # Every request of this client, the WebSocket upgrades and any redirect they follow included.
    api._session.event_hooks["response"].append(record)
    # Requests on the client's keep-alive connection first, then an exec on the same client...
    pod.refresh()
    result["listed"] = [p.name for p in api.get("pods", namespace=NS)]
    result["first"] = completed(pod.exec(["sh", "-c", "echo first; exit 0"]))
    # ... and again: another call, then another exec.
    pod.refresh()
    result["second"] = completed(pod.exec(["sh", "-c", 'echo "second $1"; exit 5', "sh", "x y"], check=False))
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_exec_after_other_calls_on_the_same_client(kr8s_client, cluster, namespace):
    """kr8s's httpx client keeps its connection alive: the exec upgrade may come on a connection
    that has served other requests (fair answers that with a 307 to a fresh connection, which
    httpx follows)."""
    result = run(kr8s_client, cluster, EXEC_AFTER_OTHER_CALLS, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert "error" not in result, explain
    assert result["phase"] == "Running" and result["listed"] == ["box"], explain
    assert result["first"] == {"stdout": "first\n", "stderr": "", "returncode": 0, "type": "CompletedExec"}, explain
    assert result["second"] == {"stdout": "second x y\n", "stderr": "", "returncode": 5, "type": "CompletedExec"}, explain
    # Each exec ended in a WebSocket (101); whatever came before it on the way was a redirect to
    # the same exec URL.
    execs = [response for response in result["responses"] if response["path"].endswith("/exec")]
    assert [response["status"] for response in execs if response["status"] == 101] == [101, 101], explain
    assert all(response["status"] in (101, 307) for response in execs), explain


# -- pods/portforward over WebSocket (Pod.portforward: httpx-ws, no subprotocol) -----------------------

PORTFORWARD = r'''
import asyncio
import kr8s.asyncio
from kr8s.asyncio.objects import Pod as AsyncPod

SERVE = ('mkdir -p /tmp/w && printf hello-PORTFWD > /tmp/w/index.html && { httpd -f -p "$POD_IP:8080" -h /tmp/w & } && '
         'until wget -q -O /dev/null "http://$POD_IP:8080/index.html" 2>/dev/null; do sleep 0.1; done; echo ready; wait')

async def get_through(port):
    """One HTTP/1.0 GET on a fresh local connection (kr8s opens a WebSocket for each): the raw answer
    up to the end of the connection."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
    writer.write(b"GET /index.html HTTP/1.0\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    return {"status": status_line.split(" ")[1] if " " in status_line else None, "status_line": status_line,
            "body": body.decode(errors="replace")}

async def forward():
    api = await kr8s.asyncio.api(kubeconfig=ARGS["kubeconfig"])
    pod = await AsyncPod.get("web", namespace=NS, api=api)
    async with pod.portforward(remote_port=8080, local_port=None) as port:
        result["local_port"] = port
        result["first"] = await get_through(port)
        result["second"] = await get_through(port)

result = {}
try:
    api = connect()
    Namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, api=api).create()
    pod = pod_object(api, "web", SERVE)
    pod.create()
    result["phase"] = wait_phase(pod, ("Running", "Succeeded", "Failed"))
    deadline = time.monotonic() + 60
    while result["phase"] == "Running" and time.monotonic() < deadline and "ready" not in "".join(pod.logs()):
        time.sleep(0.2)
    result["log"] = "".join(pod.logs())
    asyncio.run(forward())
except Exception:
    result["error"] = failure()
emit(result)
'''


def test_portforward_serves_http_requests_from_a_local_port(kr8s_client, cluster, namespace):
    """async with pod.portforward(remote_port=8080, local_port=None) as port: each connection to the
    local port gets a WebSocket of its own (no subprotocol offered) to the pod's port 8080; two
    requests one after the other both get the pod's whole answer."""
    result = run(kr8s_client, cluster, PORTFORWARD, ns=namespace)
    explain = f"{json.dumps(result, indent=1)}\n\nfair server log:\n{cluster.log_tail()}"
    assert "error" not in result, explain
    assert result["phase"] == "Running" and result["log"].strip() == "ready", explain
    assert isinstance(result["local_port"], int) and result["local_port"] > 0, explain
    assert (result["first"]["status"], result["first"]["body"]) == ("200", "hello-PORTFWD"), explain
    assert (result["second"]["status"], result["second"]["body"]) == ("200", "hello-PORTFWD"), explain
