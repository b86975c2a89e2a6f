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
        drain(ws)
    finally:
        leave(rng, ws)


def drain(ws):
    """Reads what the server still sends, for a moment."""
    ws.sock.settimeout(0.3)
    try:
        while ws.sock.recv(65536):
            pass
    except (socket.timeout, OSError):
        pass


def leave(rng, ws):
    """Half the time a dropped connection, half a WebSocket close."""
    import websocket
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


def fuzz_for(seconds, one_session, rng, cluster, what):
    """Fuzzed sessions one after another for `seconds`, the server checked alive after each;
    returns how many ran."""
    deadline = time.monotonic() + seconds
    sessions = 0
    while time.monotonic() < deadline:
        one_session(rng)
        sessions += 1
        assert cluster.process.poll() is None, f"the server died (seed {SEED}, session {sessions})"
    print(f"{sessions} fuzzed {what} sessions")
    return sessions


def test_fuzzed_exec_streams_leave_the_server_working(cluster, pod):
    sessions = fuzz_for(SECONDS, lambda rng: fuzz_one(cluster, pod, rng), random.Random(SEED), cluster, "exec")
    assert sessions >= 20
    result = cluster.kubectl("exec", pod, "--", "sh", "-c", "echo still; exit 6", check=False)
    assert (result.returncode, result.stdout) == (6, "still\n"), result
    # Every client has gone: their execs end (stdin closed, terminals hung up) and are reaped.
    try:
        wait_for(lambda: not exec_processes(cluster), timeout=30)
    except AssertionError:
        left = [open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace") for pid in exec_processes(cluster)]
        raise AssertionError(f"exec processes still running after their clients left (seed {SEED}): {left}")


# kubectl's port-forward: a SPDY/3.1 session inside the WebSocket, parsed by the node.
SPDY = "SPDY/3.1+portforward.k8s.io"


def spdy_dictionary():
    """The SPDY/3 header dictionary, from the node's source (1423 bytes)."""
    import re
    source = (os.path.dirname(__file__) + "/../../Sources/FairNode/Streams/Spdy/SpdyDictionary.swift")
    data = bytes(int(byte, 16) for byte in re.findall(r"0x([0-9a-fA-F]{2})(?![0-9a-fA-F])", open(source).read()))
    assert len(data) == 1423
    return data


def header_block(rng, compressor, pairs):
    raw = struct.pack(">I", len(pairs))
    for name, value in pairs:
        raw += struct.pack(">I", len(name)) + name + struct.pack(">I", len(value)) + value
    block = compressor.compress(raw) + compressor.flush(__import__("zlib").Z_SYNC_FLUSH)
    if rng.random() < 0.1:
        block = bytes(b ^ rng.randrange(256) if rng.random() < 0.2 else b for b in block)
    return block


def control(kind, flags, body):
    return struct.pack(">HHI", 0x8003, kind, (flags << 24) | len(body)) + body


def random_spdy_frames(rng, compressor):
    frames = []
    stream = 1
    for _ in range(rng.randrange(1, 14)):
        choice = rng.randrange(11)
        if choice < 4:
            pairs = [(b"streamtype", rng.choice([b"error", b"data", b"nope", b""])),
                     (b"port", rng.choice([b"9999", b"1", b"0", b"70000", b"abc", b"8080"])),
                     (b"requestid", str(rng.randrange(3)).encode())]
            rng.shuffle(pairs)
            pairs = pairs[:rng.choice([1, 2, 3, 3, 3])]
            if rng.random() < 0.1:
                pairs.append(pairs[0])  # a duplicate name
            sid = rng.choice([stream, stream, stream, 0, 2, stream - 4])
            frames.append(control(1, 0, struct.pack(">IIBB", sid & 0x7FFFFFFF, 0, 0, 0) + header_block(rng, compressor, pairs)))
            stream += 2
        elif choice < 6:
            payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 100, 40000])))
            frames.append(struct.pack(">II", rng.choice([1, 3, 5, 7, 99]), (rng.choice([0, 1]) << 24) | len(payload)) + payload)
        elif choice == 6:
            frames.append(control(6, 0, struct.pack(">I", rng.randrange(1 << 32))))
        elif choice == 7:
            frames.append(control(3, 0, struct.pack(">II", rng.choice([0, 1, 3]), rng.randrange(12))))
        elif choice == 8:
            frames.append(control(rng.choice([4, 7, 8, 9, 10, 99]), rng.randrange(256), bytes(rng.randrange(256) for _ in range(rng.choice([0, 4, 8, 12])))))
        elif choice == 9:
            # A length that promises more than comes.
            frames.append(struct.pack(">HHI", 0x8003, 1, 0xFFFFFF) + b"\0" * rng.randrange(64))
        else:
            frames.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
    return frames


def fuzz_one_forward(cluster, pod, rng):
    import websocket
    import zlib
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, zdict=spdy_dictionary())
    try:
        ws = websocket.create_connection(
            f"wss://127.0.0.1:{cluster.port}/api/v1/namespaces/default/pods/{pod}/portforward",
            header=[f"Authorization: Bearer {cluster.token}"], subprotocols=[SPDY],
            sslopt={"ca_certs": str(cluster.ca_file)}, timeout=5)
    except websocket.WebSocketBadStatusException as refused:
        raise AssertionError(f"the SPDY tunnel was refused: {refused.status_code} {refused.resp_body}")
    try:
        data = b"".join(random_spdy_frames(rng, compressor))
        # Cut anywhere, as kubectl cuts its frames into one message per field (empty ones too).
        position = 0
        while position < len(data):
            size = rng.choice([0, 1, 2, 4, 8, 100, 5000])
            piece = data[position:position + size]
            position += size
            opcode = 1 if rng.random() < 0.03 else 2
            try:
                ws.sock.sendall(frame(rng, opcode, piece))
            except OSError:
                break
        drain(ws)
    finally:
        leave(rng, ws)


def open_descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_fuzzed_port_forward_tunnels_leave_the_server_working(cluster, pod):
    before = open_descriptors(cluster.process.pid)
    sessions = fuzz_for(SECONDS / 2, lambda rng: fuzz_one_forward(cluster, pod, rng), random.Random(SEED ^ 0x5bd1e995),
                        cluster, "port-forward")
    assert sessions >= 10
    # kubectl's own forward still works end to end (nothing listens on 9999: kubelet's refusal).
    from server_harness import free_port
    local = free_port()
    forward = __import__("subprocess").Popen([*cluster.kubectl_command(), "port-forward", f"pod/{pod}", f"{local}:9999"],
                                             stdout=__import__("subprocess").PIPE, stderr=__import__("subprocess").PIPE, text=True)
    try:
        assert forward.stdout.readline().startswith(f"Forwarding from 127.0.0.1:{local}")
        with socket.create_connection(("127.0.0.1", local), timeout=30) as connection:
            connection.sendall(b"x")
            assert connection.recv(10) == b""
        forward.wait(timeout=30)
        assert "connection refused" in forward.stderr.read()
    finally:
        if forward.poll() is None:
            forward.kill()
            forward.wait()
    # Every tunnel has ended: no pod connections or sockets left open behind them.
    wait_for(lambda: open_descriptors(cluster.process.pid) <= before + 8, timeout=30,
             what=f"the server's descriptors back near {before} (seed {SEED})")
