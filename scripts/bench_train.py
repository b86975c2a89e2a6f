#!/usr/bin/env python3
"""`fair train` wall time for the plain-Python example on `fair server`, cold and warm, broken
into build, push, schedule, start, run and model (storing the model artifact).

Cold: a fresh server (empty registry, no image on the node) and a fresh FAIR_HOME, so the base
image's layers are pushed and the node pulls and unpacks the whole image. Warm: the same project
with one line of code changed, as when iterating on a script: only the code layer is new.
Each is run --runs times (a fresh server each cold run); the median is reported, with the
time `kubectl apply` + `kubectl wait` take for the same Job from a pushed image as the baseline
for the cluster part (schedule + start + run + completion).

Usage: scripts/bench_train.py [--fair PATH] [--base BASE.tar] [--runs 3] [--json]
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

STAGES = ["build", "push", "schedule", "start", "run", "model", "total"]


def train(fair, server, project, base, home):
    env = dict(os.environ, KUBECONFIG=str(server.kubeconfig), FAIR_HOME=home)
    started = time.monotonic()
    result = subprocess.run([fair, "train", project, "--base", f"oci-archive:{base}", "--rm", "--output-format", "json"],
                            env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"fair train failed:\n{result.stderr}")
    report = json.loads(result.stdout)
    timings = report["timings"]
    timings["wall"] = wall
    return timings, report["image"]


def kubectl_baseline(server, image, index):
    """The same Job through kubectl: create, then wait for completion."""
    name = f"baseline-{index}"
    manifest = json.dumps({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                                                          "containers": [{"name": "train", "image": image}]}}}})
    started = time.monotonic()
    server.kubectl("apply", "-f", "-", input=manifest)
    server.kubectl("wait", "--for=condition=complete", f"job/{name}", "--timeout=300s", timeout=330)
    elapsed = time.monotonic() - started
    server.kubectl("delete", "job", name, "--wait=false")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.base or not os.path.exists(args.base):
        sys.exit("give --base BASE.tar (fair base create --output BASE.tar)")

    work = tempfile.mkdtemp(prefix="fair-bench-train-")
    cold, warm, baseline = [], [], []
    try:
        for run in range(args.runs):
            server = FairServer(args.fair, os.path.join(work, f"server-{run}")).start()
            try:
                home = os.path.join(work, f"home-{run}")
                project = os.path.join(work, f"project-{run}")
                shutil.copytree(os.path.join(REPO, "Fixtures", "plain-python"), project)
                timings, image = train(args.fair, server, project, args.base, home)
                cold.append(timings)
                with open(os.path.join(project, "train.py"), "a") as script:
                    script.write(f"# edit {run}\n")
                timings, image = train(args.fair, server, project, args.base, home)
                warm.append(timings)
                baseline.append(kubectl_baseline(server, image, run))
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def medians(samples):
        return {stage: round(statistics.median(s.get(stage, 0.0) for s in samples), 3) for stage in STAGES + ["wall"]}

    result = {"runs": args.runs, "cold": medians(cold), "warm": medians(warm),
              "kubectl_apply_wait": round(statistics.median(baseline), 3)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"fair train, plain-Python example, median of {args.runs} (seconds)")
    print(f"{'':6}" + "".join(f"{stage:>9}" for stage in STAGES + ["wall"]))
    for label in ("cold", "warm"):
        print(f"{label:6}" + "".join(f"{result[label][stage]:>9.2f}" for stage in STAGES + ["wall"]))
    cluster_part = result["warm"]["schedule"] + result["warm"]["start"] + result["warm"]["run"]
    print(f"baseline: kubectl apply + wait for the same Job: {result['kubectl_apply_wait']:.2f}s "
          f"(fair's schedule+start+run, warm: {cluster_part:.2f}s)")


if __name__ == "__main__":
    main()
