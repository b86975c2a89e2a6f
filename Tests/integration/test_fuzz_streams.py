"""Seeded, time-bounded fuzzing of the exec stream (pods/exec over WebSocket): random query
parameters and subprotocol offers, then random messages on every channel (stdin, malformed
resize JSON, v5 CLOSE signals, unknown channels), fragmented and oversized messages, text and
binary opcodes, pings, raw bytes that are not WebSocket frames at all, and connections dropped
mid-message. The server must stay up, keep answering, leave no exec process behind once its
client has gone, and a well-formed exec must still work afterwards.
FAIR_FUZZ_SEED replays a run; FAIR_FUZZ_STREAM_SECONDS bounds it."""
import json
import os
import random
import socket
import struct
import time

import pytest

from conftest import fair_binary, Fair
from server_harness import FairServer, wait_for

SEED = int(os.environ.get("FAIR_FUZZ_SEED", random.SystemRandom().randrange(1 << 32)))
SECONDS = float(os.environ.get("FAIR_FUZZ_STREAM_SECONDS", "45"))

COMMANDS = [["cat"], ["sh"], ["sh", "-c", "head -c 70000 /dev/zero"], ["true"], ["sh", "-c", "exit 7"], ["no-such-command"],
            ["sh", "-c", "read line; echo got $line"], ["python3", "-c", "import sys; sys.stdout.write(sys.stdin.read())"]]
PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io", "v9.channel.k8s.io", "x" * 300]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server = FairServer(fair_binary(), tmp_path_factory.mktemp("fuzz-streams") / "data").start()
    print(f"fuzz seed {SEED} (FAIR_FUZZ_SEED={SEED} replays it)")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pod(cluster, base_image, tmp_path_factory):
    project = tmp_path_factory.mktemp("sleeper")
    (project / "main.py").write_text("import time\ntime.sleep(1000000)\n")
    (project / "fair.yaml").write_text("name: sleeper\nentrypoint: main.py\n")
    built = json.loads(Fair(tmp_path_factory.mktemp("home")).run(
        "build", project, "--base", f"oci-archive:{base_image}", "--push", f"{cluster.registry}/fuzz/sleeper:v1",
        "--output-format", "json", env=cluster.registry_env).stdout)
    cluster.kubectl("run", "target", f"--image={cluster.registry}/fuzz/sleeper@{built['digest']}", "--restart=Never")
    wait_for(lambda: cluster.kubectl("get", "pod", "target", "-o", "jsonpath={.status.phase}").stdout == "Running",
             timeout=180, what="pod target running")
    return "target"


def frame(rng, opcode, payload, fin=True, masked=True):
    """One client frame (RFC 6455), masked as a client's must be, unless told otherwise."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if masked else 0
    if len(payload) < 126:
        head += bytes([mask_bit | len(payload)])
    elif len(payload) < 65536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", len(payload))
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", len(payload))
    if not masked:
        return head + payload
    key = bytes(rng.randrange(256) for _ in range(4))
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def random_message(rng):
    channel = rng.choice([0, 0, 0, 4, 4, 255, 1, 2, 3, 5, 200])
    kind = rng.randrange(6)
    if channel == 4 or kind == 0:
        body = rng.choice([b'{"Width":80,"Height":24}', b'{"Width":', b'}{"Height":-1}', b'{"Width":99999999999}', b"[]",
                           b"{" * 5000, json.dumps({"Width": rng.randrange(70000), "Height": rng.randrange(70000)}).encode()])
    elif channel == 255:
        body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 1, 2])))
    else:
        body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 10, 1000, 40000])))
    return bytes([channel]) + body


def random_frames(rng):
    """What one client sends after the handshake."""
    out = []
    for _ in range(rng.randrange(1, 12)):
        choice = rng.randrange(10)
        message = random_message(rng)
        if choice < 5:
            out.append(frame(rng, rng.choice([1, 2]), message))
        elif choice == 5:
            cut = rng.randrange(len(message) + 1)
            out.append(frame(rng, 2, message[:cut], fin=False) + frame(rng, 0, message[cut:]))
        elif choice == 6:
            out.append(frame(rng, 9, b"ping"))
        elif choice == 7:
            out.append(frame(rng, rng.choice([3, 4, 5, 11, 15]), message))
        elif choice == 8:
            out.append(frame(rng, 2, message, masked=False))
        else:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    if rng.random() < 0.5:
        out.append(frame(rng, 8, struct.pack(">H", 1000)))
    return out


def fuzz_one(cluster, pod, rng):
    import websocket
    command = rng.choice(COMMANDS)
    query = "&".join("command=" + "".join(c if c.isalnum() else "%%%02X" % ord(c) for c in part) for part in command)
    for flag in ("stdin", "stdout", "stderr", "tty"):
        value = rng.choice(["true", "false", "1", "True", None])
        if value is not None:
            query += f"&{flag}={value}"
    if rng.random() < 0.1:
        query += "&container=" + rng.choice(["nope", "", "%00", "target"])
    offered = rng.sample(PROTOCOLS, rng.randrange(0, 3))
    try:
        ws = websocket.create_connection(
            f"wss://127.0.0.1:{cluster.port}/api/v1/namespaces/default/pods/{pod}/exec?{query}",
            header=[f"Authorization: Bearer {cluster.token}"], subprotocols=offered or None,
            sslopt={"ca_certs": str(cluster.ca_file)}, timeout=5)
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code < 500, (query, offered, refused.status_code, refused.resp_body)
        return
    try:
        for raw in random_frames(rng):
            try:
                ws.sock.sendall(raw)
            except OSError:
                # The server closed a connection that broke the protocol: what it should do.
                break
        ws.sock.settimeout(0.3)
        try:
            while ws.sock.recv(65536):
                pass
        except (socket.timeout, OSError):
            pass
    finally:
        if rng.random() < 0.5:
            ws.sock.close()
        else:
            try:
                ws.close(timeout=1)
            except (OSError, websocket.WebSocketException):
                ws.sock.close()


def exec_processes(cluster):
    """`runc exec` processes the server started (its children, by parent PID)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                arguments = cmdline.read().split(b"\0")
        except OSError:
            continue
        if parent == cluster.process.pid and b"exec" in arguments and b"--pid-file" in arguments:
            found.append(int(entry))
    return found


def test_fuzzed_exec_streams_leave_the_server_working(cluster, pod):
    rng = random.Random(SEED)
    deadline = time.monotonic() + SECONDS
    sessions = 0
    while time.monotonic() < deadline:
        fuzz_one(cluster, pod, rng)
        sessions += 1
        assert cluster.process.poll() is None, f"the server died (seed {SEED}, session {sessions})"
    print(f"{sessions} fuzzed exec sessions")
    assert sessions >= 20
    result = cluster.kubectl("exec", pod, "--", "sh", "-c", "echo still; exit 6", check=False)
    assert (result.returncode, result.stdout) == (6, "still\n"), result
    # Every client has gone: their execs end (stdin closed, terminals hung up) and are reaped.
    try:
        wait_for(lambda: not exec_processes(cluster), timeout=30)
    except AssertionError:
        left = [open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace") for pid in exec_processes(cluster)]
        raise AssertionError(f"exec processes still running after their clients left (seed {SEED}): {left}")
