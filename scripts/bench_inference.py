#!/usr/bin/env python3
"""Inference through `fair server`'s serving route against straight to one pod, with wrk in the
same run: the plain-Python example trained and served by fair (one replica of the Open
Inference Protocol model server), `POST /v1/models/linear-regression:predict` with one instance.

Starts a release `fair server` on free ports in a temporary directory, runs `fair train` and
`fair serve`, then scripts/bench_serving.py against the Service (direct: the pod's address;
proxy: /serving/default/linear-regression/…, or with --route cluster-ip the Service's cluster
IP), and stops the server.

Usage: scripts/bench_inference.py [--fair PATH] [--base BASE.tar] [--rounds 3] [--duration 10s]
                                  [--connections 16] [--json FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from server_harness import FairServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--proxy-mode", default="auto", choices=["auto", "nftables", "userspace"],
                        help="how the node makes the cluster IP answer (fair server --proxy-mode)")
    parser.add_argument("--route", default="serving", choices=["serving", "cluster-ip"],
                        help="the proxy side: the serving route, or the Service's cluster IP as a pod reaches it")
    parser.add_argument("--json")
    args = parser.parse_args()
    if not args.base or not os.path.exists(args.base):
        sys.exit("give --base BASE.tar (fair base create --output BASE.tar)")

    work = tempfile.mkdtemp(prefix="fair-bench-inference-")
    server = FairServer(args.fair, os.path.join(work, "data"), extra=["--proxy-mode", args.proxy_mode]).start()
    try:
        env = dict(os.environ, KUBECONFIG=str(server.kubeconfig), FAIR_HOME=os.path.join(work, "home"))
        project = os.path.join(REPO, "Fixtures", "plain-python")
        for command in (["train", project, "--rm"], ["serve", "linear-regression", project]):
            subprocess.run([args.fair, *command, "--base", f"oci-archive:{args.base}"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        body = os.path.join(work, "request.json")
        with open(body, "w") as f:
            json.dump({"instances": [1.5]}, f)
        command = [sys.executable, os.path.join(REPO, "scripts", "bench_serving.py"),
                   "--data-dir", str(server.data_dir), "--service", "default/linear-regression",
                   "--path", "/v1/models/linear-regression:predict", "--body", body, "--route", args.route,
                   "--rounds", str(args.rounds), "--duration", args.duration, "--connections", str(args.connections)]
        if args.json:
            command += ["--json", args.json]
        subprocess.run(command, check=True)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
