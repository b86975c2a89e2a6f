#!/usr/bin/env python3
"""fair's build benchmarks, each run side by side with its baseline in the same run.

1. Cold layer build of a 1 GiB context (half random, half compressible text) vs
   `bsdtar -cf - -C DIR . | gzip -1 | sha256sum`, the single-core pipeline doing the same work.
2. Warm rebuild of a fixture with requirements after a one-line change (deps cached), as a whole
   process, the way a CI step pays for it.

Usage: scripts/bench.py [--fair PATH] [--base BASE.tar] [--runs N] [--size-mib N]
"""
import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command, env=None, shell=False):
    """Wall time and peak RSS (MiB) of one command, measured from a fresh child process."""
    probe = ("import resource, subprocess, sys, time; t = time.monotonic(); "
             "r = subprocess.run(sys.argv[2:] if sys.argv[1] == 'argv' else sys.argv[2], shell=sys.argv[1] == 'shell', "
             "stdout=subprocess.DEVNULL); "
             "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    args = [sys.executable, "-c", probe, "shell" if shell else "argv"] + ([command] if shell else command)
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def make_context(directory, size_mib):
    os.makedirs(directory)
    with open(os.path.join(directory, "fair.yaml"), "w") as f:
        f.write("entrypoint: train.py\n")
    with open(os.path.join(directory, "train.py"), "w") as f:
        f.write("print('bench')\n")
    half = size_mib // 2
    with open(os.path.join(directory, "weights.bin"), "wb") as f:
        for _ in range(half):
            f.write(os.urandom(1 << 20))
    # Compressible half: CSV-like numeric text (4 MiB generated, repeated: deflate's 32 KiB window
    # cannot see the repetition, so the ratio is that of the text itself).
    rng = random.Random(42)
    lines = []
    size = 0
    while size < (4 << 20):
        line = ",".join(f"{rng.gauss(0, 1):.6f}" for _ in range(8)) + f",{rng.randint(0, 9)}\n"
        lines.append(line)
        size += len(line)
    chunk = "".join(lines).encode()[: 4 << 20]
    with open(os.path.join(directory, "data.csv"), "wb") as f:
        for _ in range(half // 4):
            f.write(chunk)


def median_runs(label, command, runs, **kwargs):
    samples = [timed(command, **kwargs) for _ in range(runs)]
    wall = statistics.median(s[0] for s in samples)
    rss = max(s[1] for s in samples)
    print(f"  {label:<48} {wall:7.2f} s   peak RSS {rss:6.0f} MiB", flush=True)
    return wall, rss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--base", help="base image oci-archive for the warm-rebuild benchmark")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fair-bench-")
    try:
        env = {**os.environ, "FAIR_HOME": os.path.join(work, "home")}
        context = os.path.join(work, "context")
        print(f"generating a {args.size_mib} MiB context (half random, half CSV text)", flush=True)
        make_context(context, args.size_mib)
        subprocess.run(["cat", os.path.join(context, "weights.bin"), os.path.join(context, "data.csv")],
                       stdout=subprocess.DEVNULL, check=True)  # warm the page cache for both sides

        print(f"\n1. cold layer build, {args.size_mib} MiB context (median of {args.runs})")
        baseline, baseline_rss = median_runs(
            "bsdtar -cf - . | gzip -1 | sha256sum", f"bsdtar -cf - -C '{context}' . | gzip -1 | sha256sum",
            args.runs, shell=True)
        out = os.path.join(work, "out.tar")
        fair, fair_rss = median_runs(
            "fair build --base scratch --output out.tar",
            [args.fair, "build", context, "--base", "scratch", "--output", out, "-q"], args.runs, env=env)
        layout = os.path.join(work, "layout")
        # A fresh layout each run, so the layer is really written and not found already present.
        fair_layout, _ = median_runs(
            "fair build --base scratch --layout DIR",
            f"rm -rf '{layout}' && '{args.fair}' build '{context}' --base scratch --layout '{layout}' -q",
            args.runs, env=env, shell=True)
        print(f"  ratio fair/baseline: {fair / baseline:.2f}x (--output), {fair_layout / baseline:.2f}x (--layout); "
              f"fair peak RSS {fair_rss:.0f} MiB")

        if args.base:
            print(f"\n2. warm rebuild after a one-line change (deps cached, median of {args.runs})")
            project = os.path.join(work, "with-requirements")
            shutil.copytree(os.path.join(REPO, "Fixtures", "with-requirements"), project)
            build = [args.fair, "build", project, "--base", f"oci-archive:{args.base}", "--output",
                     os.path.join(work, "warm.tar"), "-q"]
            subprocess.run(build, env=env, check=True, capture_output=True)  # fills the deps cache
            samples = []
            for run in range(args.runs):
                with open(os.path.join(project, "train.py"), "a") as f:
                    f.write(f"# change {run}\n")
                samples.append(timed(build, env=env))
            wall = statistics.median(s[0] for s in samples)
            print(f"  {'fair build (base + cached deps + new code layer)':<48} {wall:7.2f} s   "
                  f"peak RSS {max(s[1] for s in samples):6.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
