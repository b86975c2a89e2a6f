#!/usr/bin/env python3
"""Cluster IPs against straight to the pod, side by side in one run: TCP through a Service's
cluster IP (the node's layer-4 proxy, what a pod calling `http://SVC/…` goes through) against the
pod's own address, with wrk, on two backends:

  minimal   `fair-bench http-backend` (a NIO server answering 64 bytes; what the proxy costs when
            the backend costs nothing), behind a selector-less Service
  model     fair's own model server: the plain-Python example trained and served by `fair train`
            and `fair serve`, `POST /v1/models/linear-regression:predict` with one instance

and in each of the node's two modes (fair server --proxy-mode):

  nftables  the kernel rewrites each connection to an endpoint (kube-proxy's nftables mode)
  userspace the node accepts on the cluster IP and copies the bytes (the fallback without root/nft)

Each runs scripts/bench_serving.py with `--route cluster-ip` (medians of --rounds rounds, direct
then cluster IP in each round); the load average before and after is printed with the table.
Needs root (the node agent runs pods with runc) and a release build (built unless --skip-build).

Usage: scripts/bench_services.py [--base BASE.tar] [--rounds 3] [--duration 10s] [--connections 16]
                                 [--only minimal|model] [--modes nftables,userspace] [--skip-build] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script, arguments):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as output:
        path = output.name
    try:
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", script), *arguments, "--json", path], check=True)
        with open(path) as f:
            return json.load(f)["summary"]
    finally:
        os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE"), help="base image for the model server (fair base create)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", choices=["minimal", "model"])
    parser.add_argument("--modes", default="nftables,userspace", help="proxy modes to measure, comma-separated")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.only != "minimal" and not (args.base and os.path.exists(args.base)):
        sys.exit("give --base BASE.tar (fair base create --output BASE.tar) for the model server, or --only minimal")

    common = ["--rounds", str(args.rounds), "--duration", args.duration, "--connections", str(args.connections)]
    modes = [mode for mode in args.modes.split(",") if mode]
    load_before = os.getloadavg()
    results = {}
    built = args.skip_build
    for mode in modes:
        if args.only in (None, "minimal"):
            results[("minimal", mode)] = run("bench_serving.py", ["--route", "cluster-ip", "--proxy-mode", mode, *common] + (["--skip-build"] if built else []))
            built = True
        if args.only in (None, "model"):
            if not built:
                subprocess.run(["swift", "build", "-c", "release", "--product", "fair"], cwd=REPO, check=True)
                built = True
            results[("model", mode)] = run("bench_inference.py", ["--route", "cluster-ip", "--proxy-mode", mode, "--base", args.base, *common])
    load_after = os.getloadavg()

    print(f"\nTCP through the cluster IP against straight to the pod, wrk -t2 -c{args.connections} -d{args.duration} --latency, "
          f"median of {args.rounds}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'backend':10} {'mode':10} {'direct req/s':>13} {'cluster IP req/s':>17} {'ratio':>7} {'p50 added':>10} {'p99 added':>10}")
    for (name, mode), summary in results.items():
        print(f"{name:10} {mode:10} {summary['direct']['requests_per_second']:13.0f} {summary['proxy']['requests_per_second']:17.0f} "
              f"{summary['rate_ratio']:7.2f} {summary['p50_added_ms']:+9.3f}ms {summary['p99_added_ms']:+9.3f}ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": {"before": load_before, "after": load_after}, "results": {f"{name}/{mode}": summary for (name, mode), summary in results.items()}}, f, indent=2)


if __name__ == "__main__":
    main()
