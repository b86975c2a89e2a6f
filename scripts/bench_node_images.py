#!/usr/bin/env python3
"""A node's start of a new image that shares its base with one it already has: create → running
of a pod whose image is the 70 MB debootstrap base plus a changed code layer, pushed just before
(as each `fair train` after a code change does), with the node's images as layer snapshots
(`--image-layout snapshots`: only the code layer is unpacked) and, in the same run, as a whole
copy per image (`--image-layout copies`). Interleaved, medians of --runs, load average noted.

Usage: scripts/bench_node_images.py [--fair PATH] [--base BASE.tar] [--runs N] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_startup import API, REPO, pod, running  # noqa: E402
from server_harness import FairServer  # noqa: E402


def start_pod(api, name, image, timeout=300):
    """Creates the pod and returns the seconds from the create request to the watch event that
    shows its container running."""
    listed = api.call("GET", "/api/v1/namespaces/default/pods")
    version = listed["metadata"]["resourceVersion"]
    seen = threading.Event()

    def watch():
        response = api.stream(f"/api/v1/namespaces/default/pods?watch=true&resourceVersion={version}&fieldSelector=metadata.name%3D{name}")
        for line in response:
            if running(json.loads(line)["object"]):
                seen.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    time.sleep(0.2)  # the watch is open before the create
    started = time.monotonic()
    api.call("POST", "/api/v1/namespaces/default/pods", pod(name, image))
    if not seen.wait(timeout):
        raise SystemExit(f"pod {name} never ran")
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    if not args.base or not os.path.exists(args.base):
        sys.exit("give --base BASE.tar (fair base create --output BASE.tar)")

    work = tempfile.mkdtemp(prefix="fair-bench-node-images-")
    layouts = ["snapshots", "copies"]
    samples = {layout: [] for layout in layouts}
    first = {layout: [] for layout in layouts}
    load_before = os.getloadavg()[0]
    try:
        project = os.path.join(work, "project")
        shutil.copytree(os.path.join(REPO, "Fixtures", "plain-python"), project)
        for run in range(args.runs):
            for layout in layouts:
                server = FairServer(args.fair, os.path.join(work, f"data-{layout}-{run}"), extra=["--image-layout", layout]).start()
                try:
                    api = API(server)
                    env = dict(os.environ, FAIR_HOME=os.path.join(work, "home"), KUBECONFIG=str(server.kubeconfig))
                    def push(tag):
                        image = f"{server.registry}/bench/app:{tag}"
                        subprocess.run([args.fair, "build", project, "--base", f"oci-archive:{args.base}", "--push", image, "-q"],
                                       check=True, capture_output=True, env=env)
                        return image
                    first[layout].append(start_pod(api, "first", push("first")))  # base and code unpacked
                    with open(os.path.join(project, "train.py"), "a") as script:
                        script.write(f"# change {run} {layout}\n")
                    samples[layout].append(start_pod(api, "second", push("second")))
                finally:
                    server.stop()
                    shutil.rmtree(os.path.join(work, f"data-{layout}-{run}"), ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"runs": args.runs, "load_before": load_before, "load_after": os.getloadavg()[0]}
    for layout in layouts:
        result[layout] = {"first_image_s": round(statistics.median(first[layout]), 3),
                          "second_image_s": round(statistics.median(samples[layout]), 3)}
    print(f"pod create → running, a new image on the 70 MB base, median of {args.runs}; "
          f"load average {result['load_before']:.1f} → {result['load_after']:.1f}")
    for layout in layouts:
        print(f"  {layout:9}  first image {result[layout]['first_image_s']:.3f} s   "
              f"second image (base shared) {result[layout]['second_image_s']:.3f} s")
    print(f"  ratio snapshots/copies for the second image: "
          f"{result['snapshots']['second_image_s'] / result['copies']['second_image_s']:.2f}x (goal ≤ 0.3 s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
