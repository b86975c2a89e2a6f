#!/usr/bin/env python3
"""The exec round trip against runc alone, side by side in one run: `kubectl exec POD -- true`
(kubectl's own start, the pod GET, the WebSocket to the API server, its relay to the node agent,
`runc exec` in the container, the status back) against `runc exec CONTAINER true` run directly
on the same container, alternating, each timed from start to exit; `kubectl get pod` in the same
rounds shows what kubectl's start and one request cost by themselves. Also `kubectl cp` of a file
into the pod and back, against `tar` piped through `runc exec` alone, as throughput.

Starts a `fair server` (release build, built unless --skip-build) on free ports, builds a small
image from BASE (fair base create), runs one pod. Needs root (runc). Prints p50/p99 and the load
average before and after.

Usage: scripts/bench_exec.py --base BASE.tar [--samples 100] [--copy-mb 100] [--skip-build] [--json FILE]
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "integration"))

from server_harness import FairServer, wait_for  # noqa: E402


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(command, **kwargs):
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=os.environ.get("FAIR_TEST_BASE"))
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--copy-mb", type=int, default=100)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if not (args.base and os.path.exists(args.base)):
        sys.exit("give --base BASE.tar (fair base create --output BASE.tar)")
    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "fair"], cwd=REPO, check=True)
    fair = str(REPO / ".build" / "release" / "fair")

    work = Path(tempfile.mkdtemp(prefix="bench-exec-"))
    server = FairServer(fair, work / "data").start()
    try:
        project = work / "project"
        project.mkdir()
        (project / "main.py").write_text("import time\ntime.sleep(1000000)\n")
        (project / "fair.yaml").write_text("name: sleeper\nentrypoint: main.py\n")
        environment = dict(os.environ, **server.registry_env, HOME=str(work / "home"), FAIR_HOME=str(work / "home"))
        built = json.loads(subprocess.run([fair, "build", str(project), "--base", f"oci-archive:{args.base}", "--push",
                                           f"{server.registry}/bench/sleeper:v1", "--output-format", "json"],
                                          check=True, capture_output=True, text=True, env=environment).stdout)
        server.kubectl("run", "box", f"--image={server.registry}/bench/sleeper@{built['digest']}", "--restart=Never")
        wait_for(lambda: server.kubectl("get", "pod", "box", "-o", "jsonpath={.status.phase}").stdout == "Running",
                 timeout=180, what="pod box running")
        uid = server.kubectl("get", "pod", "box", "-o", "jsonpath={.metadata.uid}").stdout
        root = next(path for path in (work / "data").rglob("runc") if path.is_dir() and any(path.glob(f"{uid}-*")))
        container = next(path.name for path in root.glob(f"{uid}-box-*"))
        runc = ["runc", "--root", str(root)]
        kubectl = server.kubectl_command()

        load_before = os.getloadavg()
        # Warm both paths once (image pages, connections), then alternate.
        timed([*kubectl, "exec", "box", "--", "true"])
        timed([*runc, "exec", container, "true"])
        through_fair, runc_alone, kubectl_get = [], [], []
        for _ in range(args.samples):
            through_fair.append(timed([*kubectl, "exec", "box", "--", "true"]))
            runc_alone.append(timed([*runc, "exec", container, "true"]))
            # kubectl's own start and one request: what any kubectl command costs.
            kubectl_get.append(timed([*kubectl, "get", "pod", "box", "-o", "name"]))

        payload = work / "payload.bin"
        with open(payload, "wb") as out:
            for _ in range(args.copy_mb):
                out.write(os.urandom(1 << 20))
        digest = hashlib.sha256(payload.read_bytes()).hexdigest()
        copy_fair = timed([*kubectl, "cp", str(payload), "box:/tmp/payload.bin"])
        copy_fair += timed([*kubectl, "cp", "box:/tmp/payload.bin", str(work / "back.bin")])
        assert hashlib.sha256((work / "back.bin").read_bytes()).hexdigest() == digest, "kubectl cp changed the bytes"
        started = time.perf_counter()
        with open(payload, "rb") as source:
            subprocess.run([*runc, "exec", container, "sh", "-c", "cat > /tmp/direct.bin"], stdin=source, check=True)
        with open(work / "direct.bin", "wb") as sink:
            subprocess.run([*runc, "exec", container, "cat", "/tmp/direct.bin"], stdout=sink, check=True)
        copy_runc = time.perf_counter() - started
        load_after = os.getloadavg()
    finally:
        server.stop()

    summary = {
        "samples": args.samples,
        "kubectl_exec_ms": {"p50": percentile(through_fair, 0.5) * 1000, "p99": percentile(through_fair, 0.99) * 1000,
                            "mean": statistics.mean(through_fair) * 1000},
        "runc_exec_ms": {"p50": percentile(runc_alone, 0.5) * 1000, "p99": percentile(runc_alone, 0.99) * 1000,
                         "mean": statistics.mean(runc_alone) * 1000},
        "kubectl_get_ms": {"p50": percentile(kubectl_get, 0.5) * 1000, "p99": percentile(kubectl_get, 0.99) * 1000},
        "copy_mb": args.copy_mb,
        "copy_both_ways_s": {"kubectl_cp": copy_fair, "runc_exec_cat": copy_runc},
        "load_average": {"before": load_before, "after": load_after},
    }
    k, r = summary["kubectl_exec_ms"], summary["runc_exec_ms"]
    print(f"\nexec round trip, {args.samples} samples each, alternating; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'':28} {'p50':>9} {'p99':>9}")
    print(f"{'kubectl exec box -- true':28} {k['p50']:8.1f}ms {k['p99']:8.1f}ms")
    print(f"{'runc exec CONTAINER true':28} {r['p50']:8.1f}ms {r['p99']:8.1f}ms")
    g = summary["kubectl_get_ms"]
    print(f"{'added by kubectl and fair':28} {k['p50'] - r['p50']:+8.1f}ms {k['p99'] - r['p99']:+8.1f}ms   ratio p50 {k['p50'] / r['p50']:.2f}x")
    print(f"{'kubectl get pod box':28} {g['p50']:8.1f}ms {g['p99']:8.1f}ms   (kubectl's own start and one request)")
    print(f"{'exec over runc + kubectl get':28} {k['p50'] - r['p50'] - g['p50']:+8.1f}ms   (the stream: upgrade, relay, status)")
    c = summary["copy_both_ways_s"]
    print(f"\n{args.copy_mb} MB into the pod and back: kubectl cp {c['kubectl_cp']:.1f}s ({2 * args.copy_mb / c['kubectl_cp']:.0f} MB/s), "
          f"runc exec cat alone {c['runc_exec_cat']:.1f}s ({2 * args.copy_mb / c['runc_exec_cat']:.0f} MB/s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
