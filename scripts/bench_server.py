#!/usr/bin/env python3
"""Control-plane benchmark: scheduling throughput and API latency under load.

Builds release, starts a fresh `fair server` (its own node agent off) on free ports in a temporary
data directory, runs `fair-bench scheduling` against it (100 node agents with the fake runtime, a
burst of pods, a watch timing the bindings, reads on the side), stops the server by its PID and
prints a table. The server's own scheduler places the pods; `--scheduler-in-bench` runs one in the
benchmark's process instead (to profile it alone).

With `--transports both` (the default) each run is done twice, interleaved: the server's loops
calling the API server in process (`--in-process=true`, the default) and over HTTPS
(`--in-process=false`), and the table gives both and their ratio.

With `--baseline-bin-dir DIR` every run is also done with the `fair` and `fair-bench` in DIR (an
earlier build, kept aside), interleaved with the current build's, and the table adds the ratio:
a change's cost or gain measured side by side under the same load.

Usage: scripts/bench_server.py [--nodes 100] [--pods 10000] [--clients 8] [--runs 1]
                               [--transports both|in-process|https] [--baseline-bin-dir DIR]
                               [--scheduler-in-bench] [--skip-build] [--configuration release|debug]
                               [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from server_harness import FairServer  # noqa: E402
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def build(configuration):
    for product in ("fair", "fair-bench"):
        print(f"building {product} ({configuration})...", flush=True)
        subprocess.run(["swift", "build", "-c", configuration, "--product", product], cwd=REPO, check=True)


def bin_path(configuration):
    return subprocess.run(["swift", "build", "-c", configuration, "--show-bin-path"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout.strip()


def cpu_seconds(pid):
    """User + system CPU time of a running process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return float("nan")


def bench_environment():
    """fair-bench's fake-runtime agents keep their pod directories (volumes, tokens) under TMPDIR.
    Kubemark's hollow nodes keep nothing on disk: on tmpfs, the run measures the control plane and
    not the host's inode allocation (which, on an ext4 with many recent deletions, took a third
    of the CPU)."""
    environment = dict(os.environ)
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        environment["TMPDIR"] = "/dev/shm"
    return environment


def run_once(bins, args, transport):
    work = tempfile.mkdtemp(prefix="fair-bench-server-")
    # The server's own node agent stays off: the benchmark brings its 100 fake-runtime agents.
    in_process = "true" if transport == "in-process" else "false"
    server = FairServer(os.path.join(bins, "fair"), os.path.join(work, "data"), extra=["--no-node", "--in-process", in_process])
    try:
        server.start()
        kubeconfig = str(server.kubeconfig)
        command = [os.path.join(bins, "fair-bench"), "scheduling", "--kubeconfig", kubeconfig,
                   "--nodes", str(args.nodes), "--pods", str(args.pods), "--clients", str(args.clients),
                   "--timeout", str(args.timeout), "--json"]
        if args.scheduler_in_bench:
            command.append("--run-scheduler")
        # CPU is sampled where fair-bench says the load starts ("creating …") and ends ("load
        # done …"), so the agents' start-up and the namespace's deletion after the run are not in it.
        bench = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=bench_environment())
        samples = {}
        for line in bench.stderr:
            sys.stderr.write(line)
            for mark in ("creating ", "load done"):
                if line.startswith(f"fair-bench: {mark}"):
                    samples[mark] = (cpu_seconds(server.process.pid), cpu_seconds(bench.pid))
        output = bench.stdout.read()
        bench.wait()
        lines = [line for line in output.splitlines() if line.startswith("{")]
        if not lines or len(samples) != 2:
            raise RuntimeError(f"fair-bench exited with {bench.returncode} and no result")
        result = json.loads(lines[-1])
        (server_before, bench_before), (server_after, bench_after) = samples["creating "], samples["load done"]
        result["server_cpu_seconds"] = server_after - server_before
        result["bench_cpu_seconds"] = bench_after - bench_before
        result["transport"] = transport
        result["load_average"] = os.getloadavg()[0]
        return result
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def table(results, args, transport):
    """Prints one table; `transport` names the runs (the transport, and the build when compared)."""
    def ms(value):
        return f"{value * 1000:8.1f}"

    print()
    print(f"Scheduling benchmark, server loops {transport}: {args.pods} pods, {args.nodes} fake-runtime node agents, "
          f"{args.clients} client threads, scheduler {'in the benchmark process' if args.scheduler_in_bench else 'in the server'}, "
          f"load average at the ends of the runs: {', '.join('%.2f' % r['load_average'] for r in results)}")
    print(f"{'run':>4} {'bound':>7} {'create/s':>9} {'bound/s':>9} {'c→b p50':>9} {'c→b p99':>9} "
          f"{'create p50':>11} {'p99':>8} {'get p50':>8} {'p99':>8} {'list p50':>9} {'p99':>8} {'srv cpu':>8} {'bench cpu':>9}")
    for index, r in enumerate(results, 1):
        api = r["api"]
        print(f"{index:>4} {r['bound']:>7} {r['creates_per_second']:>9.0f} {r['pods_per_second']:>9.0f} "
              f"{ms(r['create_to_bound']['p50_seconds']):>9} {ms(r['create_to_bound']['p99_seconds']):>9} "
              f"{ms(api['create']['p50_seconds']):>11} {ms(api['create']['p99_seconds']):>8} "
              f"{ms(api['get']['p50_seconds']):>8} {ms(api['get']['p99_seconds']):>8} "
              f"{ms(api['list']['p50_seconds']):>9} {ms(api['list']['p99_seconds']):>8} "
              f"{r['server_cpu_seconds']:>7.1f}s {r['bench_cpu_seconds']:>8.1f}s")
    print("(latencies in ms; c→b = create sent to pod seen bound; cpu = seconds of CPU from the first create to the last binding;\n"
          " ms/pod = the server's and the benchmark's CPU per bound pod: 2 cores allow 2 ms/pod in all at 1000 pods/s)")
    for index, r in enumerate(results, 1):
        bound = max(1, r["bound"])
        print(f"  run {index}: server {r['server_cpu_seconds'] * 1000 / bound:.2f} ms/pod, "
              f"benchmark (agents, creators, watch) {r['bench_cpu_seconds'] * 1000 / bound:.2f} ms/pod")
    rates = [r["pods_per_second"] for r in results]
    median = statistics.median(rates)
    worst_p99 = max(max(r["api"][verb]["p99_seconds"] for verb in ("create", "get")) for r in results)
    print(f"median {median:.0f} pods/s (goal ≥ {results[0]['goal_pods_per_second']:.0f}: "
          f"{'met' if median >= results[0]['goal_pods_per_second'] else 'not met'}); "
          f"worst create/get p99 {worst_p99 * 1000:.0f} ms (SLO < 1000 ms: {'met' if worst_p99 < 1 else 'not met'})")
    if any(r.get("scheduler") for r in results):
        s = results[-1]["scheduler"]
        print(f"scheduler (last run): {s['scheduled']} bound, {s['binding_errors']} binding errors, "
              f"{s['events_written']} Scheduled events written, {s['events_dropped']} skipped")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--transports", choices=("both", "in-process", "https"), default="both",
                        help="how the server's own loops reach its API; both: interleaved runs of each")
    parser.add_argument("--scheduler-in-bench", action="store_true",
                        help="run the scheduler in the benchmark's process (the server runs its own otherwise)")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--configuration", choices=("release", "debug"), default="release",
                        help="debug only to check the benchmark itself; numbers mean nothing then")
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--baseline-bin-dir", help="also run the fair and fair-bench in this folder, interleaved, and compare")
    args = parser.parse_args()

    if not args.skip_build:
        build(args.configuration)
    bins = bin_path(args.configuration)
    transports = ["in-process", "https"] if args.transports == "both" else [args.transports]
    builds = [("current", bins)] + ([("baseline", args.baseline_bin_dir)] if args.baseline_bin_dir else [])
    keys = [(build, transport) for transport in transports for build, _ in builds]
    results = {key: [] for key in keys}
    directories = dict(builds)
    for run in range(args.runs):
        for build, transport in keys:
            print(f"run {run + 1}/{args.runs}, {build} build, {transport}...", flush=True)
            results[(build, transport)].append(run_once(directories[build], args, transport))
    for build, transport in keys:
        table(results[(build, transport)], args, transport if len(builds) == 1 else f"{transport}, {build} build")

    def medians(key):
        runs = results[key]
        return (statistics.median(r["pods_per_second"] for r in runs),
                statistics.median(r["api"]["create"]["p99_seconds"] for r in runs),
                statistics.median(r["server_cpu_seconds"] / max(1, r["bound"]) for r in runs),
                statistics.median(r["create_to_bound"]["p50_seconds"] for r in runs))

    print()
    for build, _ in builds:
        if len(transports) == 2:
            (fast, fast_p99, fast_cpu, fast_lag), (slow, slow_p99, slow_cpu, slow_lag) = (medians((build, t)) for t in transports)
            print(f"{build} build, in-process / https: {fast:.0f} / {slow:.0f} pods/s = {fast / slow:.2f}x; create p99 "
                  f"{fast_p99 * 1000:.0f} / {slow_p99 * 1000:.0f} ms; server CPU per pod {fast_cpu * 1000:.2f} / "
                  f"{slow_cpu * 1000:.2f} ms; create→bound p50 {fast_lag * 1000:.0f} / {slow_lag * 1000:.0f} ms")
    if len(builds) == 2:
        for transport in transports:
            (now, now_p99, now_cpu, now_lag), (then, then_p99, then_cpu, then_lag) = (medians((b, transport)) for b, _ in builds)
            print(f"{transport}, current / baseline build: {now:.0f} / {then:.0f} pods/s = {now / then:.2f}x; create p99 "
                  f"{now_p99 * 1000:.0f} / {then_p99 * 1000:.0f} ms; server CPU per pod {now_cpu * 1000:.2f} / "
                  f"{then_cpu * 1000:.2f} ms; create→bound p50 {now_lag * 1000:.0f} / {then_lag * 1000:.0f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{build} {transport}": runs for (build, transport), runs in results.items()}, f, indent=2)
    return 0 if all(r["bound"] == r["pods"] for runs in results.values() for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
