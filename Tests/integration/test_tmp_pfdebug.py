import json
import pytest
from client_cluster import cluster, namespace  # noqa: F401
from client_venvs import client_python
import test_clients_kubernetes as t

DEBUG = r'''
import threading, websocket
hook_errors = []
threading.excepthook = lambda args: hook_errors.append("".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))[-1500:])
log = []
orig = websocket.WebSocket.recv_data_frame
def recv(self, control_frame=False):
    try:
        opcode, frame = orig(self, control_frame)
    except Exception as e:
        log.append(("raise", repr(e)))
        raise
    log.append((opcode, bytes(frame.data[:60]).hex() if frame.data else ""))
    return opcode, frame
websocket.WebSocket.recv_data_frame = recv
osend = websocket.WebSocket.send
def send(self, payload, opcode=1):
    try:
        return osend(self, payload, opcode)
    except Exception as e:
        log.append(("send-raise", opcode, repr(e)))
        raise
websocket.WebSocket.send = send
make_namespace()
result = {"server": serve("web", [8080]), "runs": []}
for i in range(ARGS["n"]):
    del log[:]; del hook_errors[:]
    pf = portforward(core.connect_get_namespaced_pod_portforward, "web", NS, ports="9999")
    sock = pf.socket(9999)
    sock.settimeout(5)
    try:
        read_to_eof(sock); outcome = "eof"
    except Exception as e:
        outcome = repr(e)
    time.sleep(0.2)
    if outcome != "eof":
        pending = pf.websocket.sock.pending()
        import subprocess
        local = pf.websocket.sock.getsockname()
        result["ss"] = {"local": list(local), "ss": subprocess.run(["ss", "-tnpi"], capture_output=True, text=True).stdout,
                        "threads": subprocess.run(["sh", "-c", "ps -eLo pid,tid,stat,wchan:30,comm | grep -i fair | head -80"], capture_output=True, text=True).stdout}
        t0 = time.monotonic(); sock.settimeout(20)
        try:
            read_to_eof(sock); later = "eof after %.1f s" % (time.monotonic() - t0)
        except Exception as e:
            later = repr(e)
        result["runs"].append({"i": i, "ssl_pending": pending, "later": later, "log2": list(log), "hook2": list(hook_errors)})
        result["runs"].append({"i": i, "outcome": outcome, "log": list(log), "hook": list(hook_errors), "error": pf.error(9999)})
    else:
        result["runs"].append({"i": i, "outcome": "eof"})
    pf.close()
emit(result)
'''

def test_debug(cluster, namespace):
    kube = client_python("kubernetes-latest")
    result = kube.run(t.PRELUDE + t.PORTFORWARD_PRELUDE + DEBUG, timeout=600, kubeconfig=cluster.kubeconfig, image=cluster.image, ns=namespace, n=300)
    print("DEBUG", json.dumps(result))
