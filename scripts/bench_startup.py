#!/usr/bin/env python3
"""Pod startup latency on `fair server`'s own node with runc, the image already pulled
(Kubernetes' pod-startup SLO: p99 ≤ 5 s, excluding image pulls; fair's goal: ≤ 0.5 s).

Starts a release `fair server` on free ports in a temporary directory, pushes a small image
(the debootstrap base, or the one given) to its registry, runs one pod to pull it, then creates
N pods at a steady rate and measures, for each, the time from the create request to the watch
event that shows its container running. Stops the server and removes every pod it made.

Usage: scripts/bench_startup.py [--fair PATH] [--pods 100] [--rate 10] [--base BASE.tar] [--json]
"""
import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from server_harness import FairServer  # noqa: E402


class API:
    def __init__(self, server):
        self.server = server
        self.context = ssl.create_default_context(cafile=str(server.ca_file))

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.server.url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Authorization", f"Bearer {self.server.token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=60, context=self.context) as response:
            return json.loads(response.read() or b"null")

    def stream(self, path):
        request = urllib.request.Request(self.server.url + path)
        request.add_header("Authorization", f"Bearer {self.server.token}")
        return urllib.request.urlopen(request, timeout=600, context=self.context)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def pod(name, image):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": "startup"}},
            "spec": {"terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "main", "image": image, "command": ["sleep", "3600"],
                                     "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]}}


def running(item):
    return any("running" in status.get("state", {}) for status in item.get("status", {}).get("containerStatuses", []))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10, help="pods created per second")
    parser.add_argument("--base", help="base image oci-archive (default: fair base create into the temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fair-bench-startup-")
    server = None
    try:
        base = args.base
        if not base:
            base = os.path.join(work, "base.tar")
            subprocess.run([args.fair, "base", "create", "--output", base], check=True, capture_output=True)
        server = FairServer(args.fair, os.path.join(work, "data")).start()
        api = API(server)
        image = f"{server.registry}/bench/base:v1"
        env = dict(os.environ, FAIR_HOME=os.path.join(work, "home"))
        subprocess.run([args.fair, "push", base, image], check=True, capture_output=True, env=env)

        seen = {}
        created = {}
        listed = api.call("GET", "/api/v1/namespaces/default/pods")
        version = listed["metadata"]["resourceVersion"]
        done = threading.Event()

        def watch():
            response = api.stream(f"/api/v1/namespaces/default/pods?watch=true&resourceVersion={version}&labelSelector=bench%3Dstartup")
            for line in response:
                event = json.loads(line)
                name = event["object"]["metadata"]["name"]
                if name not in seen and running(event["object"]):
                    seen[name] = time.monotonic()
                    if len(seen) == args.pods + 1:
                        done.set()
                        return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # The first pod pulls and unpacks the image; it is not measured.
        api.call("POST", "/api/v1/namespaces/default/pods", pod("warm-up", image))
        deadline = time.monotonic() + 300
        while "warm-up" not in seen and time.monotonic() < deadline:
            time.sleep(0.05)
        if "warm-up" not in seen:
            raise SystemExit("the warm-up pod never ran; see " + str(server.log_path))

        interval = 1 / args.rate
        start = time.monotonic()
        for index in range(args.pods):
            target = start + index * interval
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            name = f"startup-{index}"
            created[name] = time.monotonic()
            api.call("POST", "/api/v1/namespaces/default/pods", pod(name, image))
        done.wait(timeout=300)
        latencies = [seen[name] - created[name] for name in created if name in seen]
        missing = len(created) - len(latencies)
        result = {"pods": args.pods, "rate": args.rate, "started": len(latencies), "missing": missing,
                  "p50_seconds": round(percentile(latencies, 50), 3), "p90_seconds": round(percentile(latencies, 90), 3),
                  "p99_seconds": round(percentile(latencies, 99), 3), "max_seconds": round(max(latencies), 3),
                  "mean_seconds": round(statistics.mean(latencies), 3)}
        if args.json:
            print(json.dumps(result))
        else:
            print(f"pod startup, runc, image present, {args.pods} pods at {args.rate:g}/s")
            print(f"  p50 {result['p50_seconds']:.3f} s   p90 {result['p90_seconds']:.3f} s   "
                  f"p99 {result['p99_seconds']:.3f} s   max {result['max_seconds']:.3f} s   (goal p99 ≤ 0.5 s; SLO ≤ 5 s)")
            if missing:
                print(f"  {missing} pods did not start within 300 s")
        api.call("DELETE", "/api/v1/namespaces/default/pods?labelSelector=bench%3Dstartup")
        deadline = time.monotonic() + 120
        while api.call("GET", "/api/v1/namespaces/default/pods")["items"] and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
