#!/usr/bin/env python3
"""The inner loop's build+push, side by side with its reference in one run, against Debian's
docker-registry (distribution 2.8) on 127.0.0.1, a fresh one for every cold run.

Project: 200 MB (100 MB random `weights.bin`, 100 MB CSV `table.csv`) plus a small `train.py`.

1. Cold `fair build --push` (fresh FAIR_HOME, empty registry, base `scratch`) vs
   `tar -cf - . | pigz -1 -p2 | sha256sum` of the same files: the work of compressing and
   hashing them alone, without sending anything.
2. Rebuild + push after a one-line change of train.py: wall time of the whole process and the
   blob bytes sent (the push report's bytesUploaded).

Both with fair's layers by rate of change (the default) and, for reference, with `layers: []`
(everything in the code layer, as before). Medians of --runs, interleaved; load average noted.

Usage: scripts/bench_inner_loop.py [--fair PATH] [--runs N] [--json FILE]
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_push import Registry, REPO  # noqa: E402


def timed(command, env=None, shell=False):
    started = time.monotonic()
    result = subprocess.run(command, env=env, shell=shell, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{result.stderr}")
    return elapsed, result.stdout


def make_project(directory, layered):
    os.makedirs(directory)
    with open(os.path.join(directory, "fair.yaml"), "w") as f:
        f.write("name: inner\nentrypoint: train.py\n" + ("" if layered else "layers: []\n"))
    with open(os.path.join(directory, "train.py"), "w") as f:
        f.write("print('train')\n")
    generator = random.Random(7)
    with open(os.path.join(directory, "weights.bin"), "wb") as f:
        for _ in range(100):
            f.write(generator.randbytes(1 << 20))
    with open(os.path.join(directory, "table.csv"), "w") as f:
        written = 0
        while written < 100 << 20:
            line = ",".join(f"{generator.random():.6f}" for _ in range(8)) + "\n"
            f.write(line)
            written += len(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fair-bench-inner-")
    registry = Registry(os.path.join(work, "registry"))
    results = {"load_before": os.getloadavg()[0]}
    try:
        projects = {"layered": os.path.join(work, "layered"), "one-layer": os.path.join(work, "one-layer")}
        for name, path in projects.items():
            make_project(path, layered=name == "layered")
        reference, cold, rebuild, sent = [], {k: [] for k in projects}, {k: [] for k in projects}, {k: [] for k in projects}
        for run in range(args.runs):
            files = "weights.bin table.csv train.py fair.yaml"
            reference.append(timed(f"cd {projects['layered']} && tar -cf - {files} | pigz -1 -p2 | sha256sum", shell=True)[0])
            for name, path in projects.items():
                registry.start()
                home = os.path.join(work, f"home-{name}-{run}")
                env = {**os.environ, "FAIR_HOME": home, "DOCKER_CONFIG": os.path.join(work, "docker")}
                target = f"{registry.host}/inner/{name}:v1"
                command = [args.fair, "build", path, "--base", "scratch", "--push", target, "--output-format", "json"]
                cold[name].append(timed(command, env)[0])
                with open(os.path.join(path, "train.py"), "a") as f:
                    f.write(f"# change {run}\n")
                seconds, out = timed(command, env)
                rebuild[name].append(seconds)
                sent[name].append(json.loads(out)["push"]["bytesUploaded"])
                registry.stop()
                shutil.rmtree(home, ignore_errors=True)
        results["load_after"] = os.getloadavg()[0]
        median = statistics.median
        results["reference_s"] = round(median(reference), 3)
        for name in projects:
            results[name] = {"cold_s": round(median(cold[name]), 3), "cold_ratio": round(median(cold[name]) / median(reference), 2),
                             "rebuild_s": round(median(rebuild[name]), 3), "rebuild_bytes_sent": int(median(sent[name]))}
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"200 MB project (100 MB random, 100 MB CSV), median of {args.runs}; load average {results['load_before']:.1f} → {results['load_after']:.1f}")
    print(f"  reference: tar | pigz -1 -p2 | sha256sum           {results['reference_s']:6.2f} s")
    for name in ("layered", "one-layer"):
        r = results[name]
        print(f"  {name:9} cold build --push {r['cold_s']:6.2f} s ({r['cold_ratio']:.2f}x)   "
              f"rebuild+push after a one-line change {r['rebuild_s']:5.2f} s, {r['rebuild_bytes_sent']:,} bytes sent")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
