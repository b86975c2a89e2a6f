"""Linear regression by gradient descent, data-parallel over WORLD_SIZE ranks.

Rank 0 holds the weights. Each step it sends them to every other rank, each rank computes the
gradient over its shard (every WORLD_SIZE-th point), and rank 0 adds the parts and updates the
weights. Weights and gradients are integers (fixed point), so a sum does not depend on how the
data was split: one rank and three train to exactly the same weights.

A rank that dies is retried by its Job: its replacement connects again, says its rank, and
gets the current step's weights. A step only needs each rank's answer to the weights it was
sent, so the result is the same.
"""
import json
import os
import socket
import sys
import time

RANK = int(os.environ.get("RANK", "0"))
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
MASTER = (os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", "29500")))
STEPS = int(os.environ.get("STEPS", "40"))
PAUSE = float(os.environ.get("STEP_PAUSE", "0"))
SCALE = 10**6
POINTS = [(i % 10 - 5, 3 * (i % 10 - 5) + 2 + (i * 7 % 5 - 2)) for i in range(60)]


def log(*parts):
    print(*parts, flush=True)


def gradient(weights, rank):
    w, b = weights
    gw = gb = 0
    for x, y in POINTS[rank::WORLD]:
        residual = w * x + b - y * SCALE
        gw += residual * x
        gb += residual
    return gw, gb


def send(connection, message):
    connection.sendall((json.dumps(message) + "\n").encode())


def receive(stream):
    line = stream.readline()
    if not line:
        raise ConnectionError("the peer closed the connection")
    return json.loads(line)


def update(weights, parts):
    gw = sum(part[0] for part in parts)
    gb = sum(part[1] for part in parts)
    # learning rate 1/20, mean over all points: floor division keeps it integer and exact
    return weights[0] - gw // (20 * len(POINTS)), weights[1] - gb // (20 * len(POINTS))


class Peers:
    """Rank 0's connections to the other ranks, replaced when a rank comes back."""

    def __init__(self):
        self.server = socket.create_server(("", MASTER[1]), reuse_port=False)
        self.server.settimeout(300)
        self.peers = {}

    def wait_for(self, rank=None):
        while len(self.peers) < WORLD - 1 or (rank is not None and rank not in self.peers):
            connection, address = self.server.accept()
            stream = connection.makefile("r")
            hello = receive(stream)
            self.peers[hello["rank"]] = (connection, stream)
            log(f"rank {hello['rank']} joined from {address[0]}")

    def ask(self, rank, step, weights):
        while True:
            connection, stream = self.peers[rank]
            try:
                send(connection, {"step": step, "weights": weights})
                return receive(stream)["gradient"]
            except (OSError, ConnectionError, ValueError) as error:
                log(f"rank {rank} lost at step {step} ({error}); waiting for it to come back")
                del self.peers[rank]
                self.wait_for(rank)


def rank_zero():
    peers = Peers()
    peers.wait_for()
    weights = (0, 0)
    for step in range(STEPS):
        parts = [gradient(weights, 0)] + [peers.ask(rank, step, weights) for rank in range(1, WORLD)]
        weights = update(weights, parts)
        log(f"step {step} w={weights[0] / SCALE:.6f} b={weights[1] / SCALE:.6f}")
        time.sleep(PAUSE)
    for connection, _ in peers.peers.values():
        send(connection, {"done": True})
    log(f"weights {weights[0]} {weights[1]}")
    model = os.environ.get("FAIR_MODEL_DIR")
    if model:
        with open(os.path.join(model, "weights.json"), "w") as file:
            json.dump({"w": weights[0], "b": weights[1], "scale": SCALE, "world": WORLD}, file)


def worker():
    deadline = time.monotonic() + 300
    while True:
        try:
            connection = socket.create_connection(MASTER, timeout=10)
            break
        except OSError as error:  # rank 0 not up yet, or its name not published yet
            if time.monotonic() > deadline:
                raise SystemExit(f"rank {RANK}: cannot reach rank 0 at {MASTER[0]}:{MASTER[1]}: {error}")
            time.sleep(0.2)
    connection.settimeout(None)
    log(f"rank {RANK} connected to {MASTER[0]}")
    stream = connection.makefile("r")
    send(connection, {"rank": RANK})
    steps = 0
    while True:
        message = receive(stream)
        if message.get("done"):
            log(f"rank {RANK} done after {steps} steps")
            return
        send(connection, {"gradient": gradient(tuple(message["weights"]), RANK)})
        steps += 1
        if steps % 10 == 0:
            log(f"rank {RANK} at step {message['step']}")


if __name__ == "__main__":
    log(f"rank {RANK} of {WORLD}")
    if os.environ.get("FAIL_RANK") == str(RANK):  # for showing what a failing rank does to the Job
        raise SystemExit(f"rank {RANK} fails on purpose")
    rank_zero() if RANK == 0 else worker()
    sys.exit(0)
