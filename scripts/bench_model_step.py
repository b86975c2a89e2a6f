#!/usr/bin/env python3
"""Where the `model` stage of `fair train` goes: its parts measured one by one on the host, next
to the stage itself from `fair train` on the same server, in one run.

The model step is a container the node agent starts once the training container has ended; it
runs `python3 fair-model.py push`, which stores the model directory in the registry as an OCI
artifact, and ends. Its parts here:
  interpreter    `python3 -c pass` in the base image's interpreter (the host's python3 here)
  tool start     `python3 fair-model.py --help`: the interpreter plus the tool's imports
  push           `fair-model.py push` of a small model directory to the server's registry (plain
                 HTTP on loopback, a scoped token), the whole process: what the container runs
  stage          the `model` stage `fair train` reports (warm: only the code layer is new): the
                 push plus the container's start and end as the node agent and the follower see them

Usage: scripts/bench_model_step.py [--fair PATH] [--base BASE.tar] [--runs 5] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from server_harness import FairServer  # noqa: E402

TOOL = os.path.join(REPO, "Templates", "fair-model.py")
PROJECT = os.path.join(REPO, "Fixtures", "plain-python")


def timed(command, env=None):
    started = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def warm_stage(fair, server, project, base, home, index):
    """One warm `fair train` (a line of the script changed) and its `model` stage."""
    script = os.path.join(project, "train.py")
    with open(script, "a") as f:
        f.write(f"\n# change {index}\n")
    env = dict(os.environ, KUBECONFIG=str(server.kubeconfig), FAIR_HOME=home)
    result = subprocess.run([fair, "train", project, "--base", f"oci-archive:{base}", "--rm", "--output-format", "json"],
                            env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.exit(f"fair train failed:\n{result.stderr}")
    return json.loads(result.stdout)["timings"]["model"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE", "/tmp/fair-base.tar"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fair-bench-model-")
    server = FairServer(args.fair, os.path.join(work, "data"))
    try:
        server.start()
        project = os.path.join(work, "project")
        shutil.copytree(PROJECT, project)
        home = os.path.join(work, "home")
        model = os.path.join(work, "model")
        os.makedirs(model)
        with open(os.path.join(model, "model.json"), "w") as f:
            json.dump({"w": 2.97, "b": 1.03}, f)
        with open(os.path.join(model, "metrics.jsonl"), "w") as f:
            f.write('{"name": "loss", "value": 0.1, "step": 1}\n')
        token = server.registry_token("models/bench")
        push_env = dict(os.environ, FAIR_REGISTRY_TOKEN=token)
        push = [sys.executable, TOOL, "push", "--plain-http", "--registry", server.registry,
                "--repository", "models/bench", "--dir", model]

        warm_stage(args.fair, server, project, args.base, home, 0)  # the cold run: base pushed and unpacked
        parts = {"interpreter": [], "tool start": [], "push": [], "stage": []}
        for index in range(1, args.runs + 1):
            parts["interpreter"].append(timed([sys.executable, "-c", "pass"]))
            parts["tool start"].append(timed([sys.executable, TOOL, "--help"]))
            parts["push"].append(timed(push, env=push_env))
            parts["stage"].append(warm_stage(args.fair, server, project, args.base, home, index))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in parts.items()}
    print(f"\nThe model step, median of {args.runs} (load average {os.getloadavg()[0]:.2f}), seconds")
    for name, value in medians.items():
        spread = f"{min(parts[name]):.3f}–{max(parts[name]):.3f}"
        print(f"  {name:<12} {value:7.3f}   ({spread})")
    rest = medians["stage"] - medians["push"]
    print(f"  the stage less the push (the container's start and end, seen by the agent and the follower): {rest:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": parts, "medians": medians}, f, indent=2)


if __name__ == "__main__":
    main()
