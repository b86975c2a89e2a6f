#!/usr/bin/env python3
"""Service proxy benchmark: what routing through `fair server`'s service proxy costs against
hitting one pod directly, measured with wrk in the same run (direct, then proxy, per round).

Three ways to point it at something:
  --url-direct URL --url-proxy URL     any two URLs (a model server's predict route, say)
  --data-dir DIR --service NS/NAME     a running fair server and a Service: the proxy URL is its
                                       serving route, the direct URL one of its ready endpoints
  (neither)                            a fresh fair server (release build, no node agent) and
                                       `fair-bench http-backend` on the host as the one "pod",
                                       behind a selector-less Service with hand-written Endpoints

With --route cluster-ip the proxy side is the Service's cluster IP (the node's layer-4 proxy)
instead of the serving route; the local set-up then runs a node agent too.

Usage: scripts/bench_serving.py [--url-direct URL --url-proxy URL | --data-dir DIR --service NS/NAME [--path /p]]
                                [--route serving|cluster-ip]
                                [--body FILE [--content-type TYPE]] [--threads 2] [--connections 16]
                                [--duration 10s] [--rounds 1] [--backend-body-bytes 64] [--backend-work-us 0]
                                [--configuration release|debug] [--skip-build] [--json FILE]
Prints requests/s, p50 and p99 for both, the rate ratio (proxy/direct) and the p99 difference.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "integration"))
from server_harness import FairServer  # noqa: E402

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_duration_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk duration {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output):
    """Requests/s, latency percentiles (ms) and error counts from `wrk --latency` output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rate:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{output}")
    percentiles = {int(p): parse_duration_ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return {
        "requests_per_second": float(rate.group(1)),
        "p50_ms": percentiles.get(50),
        "p90_ms": percentiles.get(90),
        "p99_ms": percentiles.get(99),
        "requests": int(total.group(1)) if total else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
    }


def write_lua(body_file, content_type):
    """A wrk script that POSTs the file's bytes."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f"""
local file = assert(io.open({json.dumps(os.path.abspath(body_file))}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = {json.dumps(content_type)}
""")
    script.close()
    return script.name


def run_wrk(url, args, duration, lua):
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}", "--latency"]
    if lua:
        command += ["-s", lua]
    result = subprocess.run(command + [url], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return parse_wrk(result.stdout)


def check_reachable(url, body_file, content_type):
    data = open(body_file, "rb").read() if body_file else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return None


def wait_until_reachable(url, body_file, content_type, timeout=30):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = check_reachable(url, body_file, content_type)
        if status is not None and status < 400:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} is not answering 2xx/3xx (last status: {status})")


def urls_of_service(data_dir, service, path, route="serving"):
    """Direct and proxy URLs of a Service on a running fair server: the proxy is its serving
    route, or (`route` "cluster-ip") its cluster IP and first port, as a pod reaches it."""
    namespace, name = service.split("/", 1) if "/" in service else ("default", service)
    serving = open(os.path.join(data_dir, "serving-address")).read().strip()
    kubeconfig = os.path.join(data_dir, "kubeconfig")
    endpoints = json.loads(subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "-n", namespace, "get", "endpoints", name, "-o", "json"],
                                          capture_output=True, text=True, check=True).stdout)
    for subset in endpoints.get("subsets", []):
        if subset.get("addresses") and subset.get("ports"):
            ip, port = subset["addresses"][0]["ip"], subset["ports"][0]["port"]
            if route == "cluster-ip":
                return f"http://{ip}:{port}{path}", cluster_ip_url(kubeconfig, namespace, name, path)
            return f"http://{ip}:{port}{path}", f"http://{serving}/serving/{namespace}/{name}{path}"
    raise RuntimeError(f"service {namespace}/{name} has no ready endpoints")


def cluster_ip_url(kubeconfig, namespace, name, path):
    service = json.loads(subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "-n", namespace, "get", "service", name, "-o", "json"],
                                        capture_output=True, text=True, check=True).stdout)
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}{path}"


class LocalSetup:
    """A fresh fair server (no node agent) and fair-bench http-backend as the Service's one endpoint."""

    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="fair-bench-serving-")
        self.server = None
        self.backend = None

    def __enter__(self):
        bins = bin_path(self.args.configuration)
        # The cluster IP is served by the node (kube-proxy's place), so that route needs one.
        extra = ["--proxy-mode", self.args.proxy_mode] if self.args.route == "cluster-ip" else ["--no-node"]
        self.server = FairServer(os.path.join(bins, "fair"), os.path.join(self.work, "data"), extra=extra).start()
        self.backend = subprocess.Popen([os.path.join(bins, "fair-bench"), "http-backend", "--host", "127.0.0.1",
                                         "--body-bytes", str(self.args.backend_body_bytes),
                                         "--work-us", str(self.args.backend_work_us)],
                                        stdout=subprocess.PIPE, text=True)
        line = self.backend.stdout.readline()
        match = re.search(r"listening on ([\d.]+):(\d+)", line)
        if not match:
            raise RuntimeError(f"fair-bench http-backend did not start: {line!r}")
        ip, port = match.group(1), int(match.group(2))
        manifest = f"""
apiVersion: v1
kind: Service
metadata: {{name: bench}}
spec:
  ports: [{{name: http, port: 80, targetPort: {port}}}]
---
apiVersion: v1
kind: Endpoints
metadata: {{name: bench}}
subsets:
- addresses: [{{ip: "{ip}"}}]
  ports: [{{name: http, port: {port}}}]
"""
        self.server.kubectl("apply", "-f", "-", input=manifest)
        if self.args.route == "cluster-ip":
            return f"http://{ip}:{port}{self.args.path}", cluster_ip_url(str(self.server.kubeconfig), "default", "bench", self.args.path)
        return f"http://{ip}:{port}{self.args.path}", f"http://{self.server.serving}/serving/default/bench{self.args.path}"

    def __exit__(self, *exc):
        if self.backend:
            self.backend.terminate()
            self.backend.wait(timeout=10)
        if self.server:
            self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def build(configuration):
    for product in ("fair", "fair-bench"):
        print(f"building {product} ({configuration})...", flush=True)
        subprocess.run(["swift", "build", "-c", configuration, "--product", product], cwd=REPO, check=True)


def bin_path(configuration):
    return subprocess.run(["swift", "build", "-c", configuration, "--show-bin-path"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout.strip()


def summarize(rounds):
    """Medians over the rounds, for each side."""
    def median(side, key):
        values = [r[side][key] for r in rounds if r[side][key] is not None]
        return statistics.median(values) if values else None
    summary = {side: {key: median(side, key) for key in ("requests_per_second", "p50_ms", "p90_ms", "p99_ms")}
               for side in ("direct", "proxy")}
    for side in ("direct", "proxy"):
        summary[side]["errors"] = sum(r[side]["non_2xx"] + r[side]["socket_errors"] for r in rounds)
    summary["rate_ratio"] = summary["proxy"]["requests_per_second"] / summary["direct"]["requests_per_second"]
    summary["p99_added_ms"] = summary["proxy"]["p99_ms"] - summary["direct"]["p99_ms"]
    summary["p50_added_ms"] = summary["proxy"]["p50_ms"] - summary["direct"]["p50_ms"]
    return summary


def print_table(summary, args, direct_url, proxy_url):
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration} --latency"
          f"{' (POST ' + args.body + ')' if args.body else ''}, median of {args.rounds} round(s)")
    print(f"  direct: {direct_url}\n  proxy:  {proxy_url}\n")
    print(f"{'':8} {'requests/s':>12} {'p50':>10} {'p90':>10} {'p99':>10} {'errors':>8}")
    for side in ("direct", "proxy"):
        s = summary[side]
        print(f"{side:8} {s['requests_per_second']:12.0f} {s['p50_ms']:9.3f}ms {s['p90_ms']:9.3f}ms {s['p99_ms']:9.3f}ms {s['errors']:8d}")
    print(f"\nrate ratio (proxy/direct): {summary['rate_ratio']:.3f}   "
          f"p50 added: {summary['p50_added_ms']:+.3f} ms   p99 added: {summary['p99_added_ms']:+.3f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url-direct")
    parser.add_argument("--url-proxy")
    parser.add_argument("--data-dir", help="a running fair server's data directory (with --service)")
    parser.add_argument("--service", help="NAMESPACE/NAME of the Service to measure (with --data-dir)")
    parser.add_argument("--path", default="/", help="path (and query) under the Service (default /)")
    parser.add_argument("--proxy-mode", default="auto", choices=["auto", "nftables", "userspace"],
                        help="how the node makes the cluster IP answer (fair server --proxy-mode)")
    parser.add_argument("--route", default="serving", choices=["serving", "cluster-ip"],
                        help="what the proxy side goes through: the serving route (HTTP) or the Service's cluster IP (TCP)")
    parser.add_argument("--body", help="POST this file's bytes with every request")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--warmup", default="2s", help="an unmeasured run on each side first (0 to skip)")
    parser.add_argument("--rounds", type=int, default=1, help="direct-then-proxy rounds; medians are reported")
    parser.add_argument("--backend-body-bytes", type=int, default=64, help="response size of the local backend")
    parser.add_argument("--backend-work-us", type=int, default=0,
                        help="CPU time the local backend spends per request (0: as little as it can)")
    parser.add_argument("--configuration", default="release", choices=["release", "debug"])
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if bool(args.url_direct) != bool(args.url_proxy):
        parser.error("--url-direct and --url-proxy go together")
    if bool(args.data_dir) != bool(args.service):
        parser.error("--data-dir and --service go together")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")

    lua = write_lua(args.body, args.content_type) if args.body else None
    local = None
    try:
        if args.url_direct:
            direct_url, proxy_url = args.url_direct, args.url_proxy
        elif args.data_dir:
            direct_url, proxy_url = urls_of_service(args.data_dir, args.service, args.path, args.route)
        else:
            if not args.skip_build:
                build(args.configuration)
            local = LocalSetup(args)
            direct_url, proxy_url = local.__enter__()
        for url in (direct_url, proxy_url):
            wait_until_reachable(url, args.body, args.content_type)
        if args.warmup not in ("0", "0s"):
            for url in (direct_url, proxy_url):
                run_wrk(url, args, args.warmup, lua)
        rounds = []
        for index in range(args.rounds):
            direct = run_wrk(direct_url, args, args.duration, lua)
            proxy = run_wrk(proxy_url, args, args.duration, lua)
            rounds.append({"direct": direct, "proxy": proxy})
            print(f"round {index + 1}: direct {direct['requests_per_second']:.0f}/s p99 {direct['p99_ms']:.3f} ms, "
                  f"proxy {proxy['requests_per_second']:.0f}/s p99 {proxy['p99_ms']:.3f} ms", flush=True)
        summary = summarize(rounds)
        print_table(summary, args, direct_url, proxy_url)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"direct_url": direct_url, "proxy_url": proxy_url, "rounds": rounds, "summary": summary}, f, indent=2)
    finally:
        if local:
            local.__exit__(None, None, None)
        if lua:
            os.unlink(lua)


if __name__ == "__main__":
    main()
