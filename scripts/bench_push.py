#!/usr/bin/env python3
"""fair's registry benchmarks, side by side with skopeo in the same run, against Debian's
docker-registry (distribution 2.8) on 127.0.0.1.

1. Cold push of an image with a 512 MiB layer: `fair push` vs `skopeo copy oci-archive:… docker://…`
   (a fresh, empty registry for every run).
2. Warm push (the registry has everything): fair vs skopeo; fair must send zero blob bytes.
3. Incremental `fair build --push` after a one-line code change: time and bytes sent.

Usage: scripts/bench_push.py [--fair PATH] [--runs N] [--size-mib N] [--base BASE.tar]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Registry:
    def __init__(self, root):
        self.root = root
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root)
        config = os.path.join(self.root, "config.yml")
        with open(config, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.root}/data\n"
                    f"http:\n  addr: {self.host}\n")
        self.log = open(os.path.join(self.root, "registry.log"), "w")
        self.process = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log, stderr=self.log)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("registry did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.log.close()
            self.process = None


def timed(command, env=None):
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fair", default=os.path.join(REPO, ".build", "release", "fair"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--base", help="base oci-archive for the incremental benchmark (default: scratch + plain fixture)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="fair-bench-push-")
    registry = Registry(os.path.join(work, "registry"))
    env = {**os.environ, "FAIR_HOME": os.path.join(work, "home"), "DOCKER_CONFIG": os.path.join(work, "docker")}
    try:
        project = os.path.join(work, "project")
        os.makedirs(project)
        with open(os.path.join(project, "fair.yaml"), "w") as f:
            f.write("name: bench\nentrypoint: train.py\n")
        with open(os.path.join(project, "train.py"), "w") as f:
            f.write("print('bench')\n")
        with open(os.path.join(project, "weights.bin"), "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        archive = os.path.join(work, "image.tar")
        subprocess.run([args.fair, "build", project, "--base", "scratch", "--output", archive, "-q"], env=env, check=True, stdout=subprocess.DEVNULL)
        size = os.path.getsize(archive)
        print(f"image: {size / 1e6:.0f} MB oci-archive with a {args.size_mib} MiB (random) layer")

        cold_fair, cold_skopeo, warm_fair, warm_skopeo = [], [], [], []
        for run in range(args.runs):
            registry.start()
            seconds, out = timed([args.fair, "push", archive, f"{registry.host}/bench/fair:v1", "--output-format", "json"], env)
            cold_fair.append(seconds)
            seconds, out = timed([args.fair, "push", archive, f"{registry.host}/bench/fair:v1", "--output-format", "json"], env)
            warm_fair.append(seconds)
            warm_bytes = json.loads(out)["bytesUploaded"]
            registry.stop()

            registry.start()
            skopeo = ["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci-archive:{archive}", f"docker://{registry.host}/bench/skopeo:v1"]
            cold_skopeo.append(timed(skopeo)[0])
            warm_skopeo.append(timed(skopeo)[0])
            registry.stop()

        def median(values):
            return statistics.median(values)

        print(f"\n1. cold push (median of {args.runs}, fresh registry each run)")
        print(f"  skopeo copy oci-archive → docker://   {median(cold_skopeo):6.2f} s")
        print(f"  fair push                             {median(cold_fair):6.2f} s   ratio {median(cold_fair) / median(cold_skopeo):.2f}x")
        print(f"\n2. warm push (everything present)")
        print(f"  skopeo copy                           {median(warm_skopeo):6.2f} s")
        print(f"  fair push                             {median(warm_fair):6.2f} s   ratio {median(warm_fair) / median(warm_skopeo):.2f}x, "
              f"blob bytes sent: {warm_bytes}")

        print(f"\n3. incremental build + push after a one-line change (median of {args.runs})")
        registry.start()
        target = f"{registry.host}/bench/incremental:v1"
        if args.base:
            # The base lives in the same registry: its layers are HEAD-checked, never downloaded.
            app = os.path.join(work, "with-requirements")
            shutil.copytree(os.path.join(REPO, "Fixtures", "with-requirements"), app)
            subprocess.run([args.fair, "push", args.base, f"{registry.host}/bench/base:bookworm", "-q"], env=env, check=True, stdout=subprocess.DEVNULL)
            base = f"{registry.host}/bench/base:bookworm"
        else:
            app = os.path.join(work, "plain-python")
            shutil.copytree(os.path.join(REPO, "Fixtures", "plain-python"), app)
            base = "scratch"
        subprocess.run([args.fair, "build", app, "--base", base, "--push", target, "-q"], env=env, check=True, stdout=subprocess.DEVNULL)
        samples = []
        for run in range(args.runs):
            with open(os.path.join(app, "train.py"), "a") as f:
                f.write(f"# change {run}\n")
            seconds, out = timed([args.fair, "build", app, "--base", base, "--push", target, "--output-format", "json"], env)
            report = json.loads(out)["push"]
            uploaded = [b for b in report["blobs"] if b["action"] == "uploaded"]
            samples.append((seconds, report["bytesUploaded"], len(uploaded)))
        registry.stop()
        print(f"  fair build --push                     {median(s[0] for s in samples):6.2f} s   "
              f"sent {samples[-1][1]} bytes in {samples[-1][2]} blob(s) (code layer + config), base: {base}")
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
