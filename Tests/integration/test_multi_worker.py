"""`fair train --workers N` on the bundled server: an Indexed Job whose ranks start together,
find rank 0 by DNS through a headless Service, show their output prefixed by rank, retry a
killed rank on its own, and train exactly the weights one process trains."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, fair_binary
from server_harness import wait_for
from test_train_serve import ClusterFair

PROJECT = FIXTURES / "data-parallel"


@pytest.fixture(scope="module")
def fair_cluster(cluster, base_image, tmp_path_factory):
    return ClusterFair(tmp_path_factory.mktemp("fair-home"), cluster, base_image)


def weights(output):
    found = re.findall(r"^(?:\[0\] )?weights (-?\d+) (-?\d+)$", output, re.M)
    assert len(found) == 1, output
    return tuple(int(value) for value in found[0])


@pytest.fixture(scope="module")
def single(fair_cluster):
    """What one process trains: the reference for the workers."""
    result = fair_cluster.train(PROJECT, "--name", "dp-one")
    return weights(result.stdout), result


def test_three_workers_train_the_same_weights_as_one_and_show_each_rank(fair_cluster, cluster, single, tmp_path):
    reference, _ = single
    w, b = reference
    assert abs(w / 1e6 - 3) < 0.2 and abs(b / 1e6 - 2) < 0.5, reference  # it learned y = 3x + 2

    result = fair_cluster.train(PROJECT, "--workers", "3", "--name", "dp-three", "--output-format", "json")
    report = json.loads(result.stdout)
    logs = result.stderr
    assert report["state"] == "complete", report
    assert weights(logs) == reference
    for rank in range(3):
        assert re.search(rf"^\[{rank}\] rank {rank} of 3$", logs, re.M), logs
    assert re.search(r"^\[0\] rank [12] joined from ", logs, re.M)
    assert re.search(r"^\[1\] rank 1 done after 40 steps$", logs, re.M) and re.search(r"^\[2\] rank 2 done", logs, re.M)
    assert re.search(r"── \[2\] pod dp-three-2-\w+ on node ", logs), logs
    # rank 0 stored the model, the others nothing
    model_step = cluster.kubectl("logs", "-l", "job-name=dp-three,batch.kubernetes.io/job-completion-index=1", "-c", "model").stdout
    assert "rank 1: the model is stored by rank 0" in model_step, model_step
    model = report["model"]
    assert model["reference"].endswith("/models/data-parallel:v2"), model
    pulled = tmp_path / "model"
    fair_cluster.run("models", "pull", "data-parallel:v2", "-o", pulled)
    stored = json.loads((pulled / "weights.json").read_text())
    assert (stored["w"], stored["b"], stored["world"]) == (w, b, 3)

    # fair logs shows the ended Job the same way, rank by rank, and follows it the same way too
    shown = fair_cluster.run("logs", "dp-three")
    assert weights(shown.stdout) == reference and re.search(r"^\[2\] rank 2 done after 40 steps$", shown.stdout, re.M), shown
    assert re.search(r"── \[1\] pod dp-three-1-\w+", shown.stderr), shown.stderr
    followed = fair_cluster.run("logs", "dp-three", "-f")
    assert weights(followed.stdout) == reference and "[1] rank 1 of 3" in followed.stdout, followed

    job = json.loads(cluster.kubectl("get", "job", "dp-three", "-o", "json").stdout)
    assert job["spec"]["completionMode"] == "Indexed" and job["spec"]["completions"] == 3
    assert job["status"]["completedIndexes"] == "0-2" and job["status"].get("failedIndexes", "") == ""
    pods = json.loads(cluster.kubectl("get", "pods", "-l", "job-name=dp-three", "-o", "json").stdout)["items"]
    assert sorted(p["spec"]["hostname"] for p in pods) == ["dp-three-0", "dp-three-1", "dp-three-2"]
    assert {p["spec"]["subdomain"] for p in pods} == {"dp-three"}
    service = json.loads(cluster.kubectl("get", "service", "dp-three", "-o", "json").stdout)
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    assert service["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]


def rank_processes(marker, rank):
    """Host pids of the training process of one rank of one run (containers are host processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if f"RUN_ID={marker}".encode() in environment and f"RANK={rank}".encode() in environment and b"train.py" in command:
            found.append(int(entry.name))
    return found


def test_a_killed_worker_is_retried_on_its_own_and_the_job_still_completes(fair_cluster, cluster, single):
    reference, _ = single
    marker = uuid.uuid4().hex
    command = [fair_binary(), "train", str(PROJECT), "--base", fair_cluster.base, "--workers", "3", "--name", "dp-kill",
               "--env", f"RUN_ID={marker}", "--env", "STEP_PAUSE=0.25"]
    env = {**os.environ, "FAIR_HOME": str(fair_cluster.home), "KUBECONFIG": str(cluster.kubeconfig)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = {}
    readers = [threading.Thread(target=lambda name, stream: output.__setitem__(name, stream.read()), args=(name, stream))
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    try:
        def rank_one_mid_training():
            log = cluster.kubectl("logs", "-l", "job-name=dp-kill,batch.kubernetes.io/job-completion-index=1", "-c", "train",
                                  check=False).stdout
            return "at step 9" in log and rank_processes(marker, 1)
        pids = wait_for(rank_one_mid_training, timeout=300, what="rank 1 to be training")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        assert process.wait(timeout=400) == 0, output
    finally:
        if process.poll() is None:
            process.kill()
        for reader in readers:
            reader.join()
    logs = output["stdout"] + output["stderr"]
    assert weights(logs) == reference, logs
    assert re.search(r"^\[0\] rank 1 lost at step \d+", logs, re.M), logs
    assert re.search(r"── \[1\] pod dp-kill-1-\w+ on node .* \(attempt 2 of 2\)", logs), logs
    job = json.loads(cluster.kubectl("get", "job", "dp-kill", "-o", "json").stdout)
    assert job["status"]["succeeded"] == 3 and job["status"]["failed"] == 1, job["status"]
    assert job["status"]["completedIndexes"] == "0-2" and job["status"].get("failedIndexes", "") == ""
    retried = json.loads(cluster.kubectl("get", "pods", "-l", "job-name=dp-kill,batch.kubernetes.io/job-completion-index=1",
                                         "-o", "json").stdout)["items"]
    counts = sorted(p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"] for p in retried)
    assert counts == ["0", "1"], counts


def test_a_rank_that_fails_past_its_retries_fails_the_job_and_stops_the_others(fair_cluster, cluster):
    started = time.monotonic()
    result = fair_cluster.train(PROJECT, "--workers", "3", "--name", "dp-fail", "--backoff-limit", "0", "--env", "FAIL_RANK=1",
                                check=False, timeout=300)
    assert result.returncode == 1, result
    assert "job dp-fail failed" in result.stderr and "MaxFailedIndexesExceeded" in result.stderr, result.stderr
    assert "[1] rank 1 fails on purpose" in result.stdout + result.stderr
    assert time.monotonic() - started < 120, "rank 0 waits for its peer: the Job must stop it, not its own timeout"
    job = json.loads(cluster.kubectl("get", "job", "dp-fail", "-o", "json").stdout)
    assert job["status"]["failedIndexes"] == "1"
    assert any(c["type"] == "Failed" and c["reason"] == "MaxFailedIndexesExceeded" for c in job["status"]["conditions"])
    wait_for(lambda: not [p for p in json.loads(cluster.kubectl("get", "pods", "-l", "job-name=dp-fail", "-o", "json").stdout)["items"]
                          if p["status"].get("phase") in ("Pending", "Running") and not p["metadata"].get("deletionTimestamp")],
             timeout=60, what="the other ranks to be stopped")


def test_workers_that_cannot_all_start_together_fail_fast_and_none_starts(fair_cluster, cluster):
    node = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]
    cpu = node["status"]["allocatable"]["cpu"]
    millis = int(cpu[:-1]) if cpu.endswith("m") else int(float(cpu) * 1000)
    half = f"{millis * 6 // 10}m"  # one rank fits, two do not
    result = fair_cluster.train(PROJECT, "--workers", "3", "--name", "dp-big", "--cpu", half, check=False, timeout=300)
    assert result.returncode == 1, result
    assert "cannot start" in result.stderr and "pod group \"dp-big\": 3 pods must start together and only 1 fit" in result.stderr, result.stderr
    assert "Insufficient cpu" in result.stderr
    # fair deleted the Job that could not start; none of its ranks ever had a node
    assert cluster.kubectl("get", "job", "dp-big", check=False).returncode != 0


def test_workers_dry_run_is_valid_kubernetes_and_names_every_rank(fair_cluster, tmp_path):
    text = fair_cluster.train(PROJECT, "--workers", "4", "--name", "dp-dry", "--backoff-limit", "2", "--model-rank", "3",
                              "--dry-run").stdout
    manifest = tmp_path / "workers.yaml"
    manifest.write_text(text)
    validate = shutil.which("kubernetes-validate") or str(Path(sys.executable).parent / "kubernetes-validate")
    checked = subprocess.run([validate, "--strict", str(manifest)], capture_output=True, text=True)
    assert checked.returncode == 0 and "ERROR" not in checked.stdout, checked.stdout + checked.stderr
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(text) if doc}
    job, service = documents["Job"], documents["Service"]
    spec = job["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", 4, 4)
    assert (spec["backoffLimitPerIndex"], spec["maxFailedIndexes"]) == (2, 0)
    template = spec["template"]
    assert template["spec"]["subdomain"] == "dp-dry" == service["metadata"]["name"]
    assert template["metadata"]["labels"]["pod-group.scheduling.sigs.k8s.io/min-available"] == "4"
    env = {e["name"]: e for e in template["spec"]["initContainers"][0]["env"]}
    assert env["RANK"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    assert (env["WORLD_SIZE"]["value"], env["MASTER_ADDR"]["value"], env["MASTER_PORT"]["value"]) == ("4", "dp-dry-0.dp-dry", "29500")
    tf_config = json.loads(env["TF_CONFIG"]["value"].replace("$(RANK)", "2"))
    assert tf_config == {"cluster": {"worker": [f"dp-dry-{i}.dp-dry:29500" for i in range(4)]}, "task": {"type": "worker", "index": 2}}
    assert service["spec"] == {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": {"job-name": "dp-dry"}}
    [model] = template["spec"]["containers"]
    assert model["command"][-4:] == ["--rank", "$(RANK)", "--store-from-rank", "3"]


@pytest.mark.parametrize("operator,kind,leader,container", [
    ("pytorchjob", "PyTorchJob", "Master", "pytorch"),
    ("tfjob", "TFJob", "Chief", "tensorflow"),
])
def test_operator_resources_validate_against_the_training_operator_crds(fair_cluster, cluster, operator, kind, leader, container):
    from crd_schema import validate_against_crd
    text = fair_cluster.train(PROJECT, "--workers", "3", "--operator", operator, "--name", f"op-{operator}", "--cpu", "500m",
                              "--env", "A=1", "--dry-run").stdout
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    [resource] = [doc for doc in documents if doc["kind"] == kind]
    assert "Service" not in [doc["kind"] for doc in documents] and "Job" not in [doc["kind"] for doc in documents]
    crd = Path(__file__).parent / "fixtures" / "crds" / f"kubeflow.org_{operator}s.yaml"
    assert validate_against_crd(resource, crd) == []
    field = "pytorchReplicaSpecs" if operator == "pytorchjob" else "tfReplicaSpecs"
    replicas = resource["spec"][field]
    assert (replicas[leader]["replicas"], replicas["Worker"]["replicas"]) == (1, 2)
    for role in (leader, "Worker"):
        [main] = replicas[role]["template"]["spec"]["containers"]
        assert main["name"] == container
        assert "initContainers" not in replicas[role]["template"]["spec"]
        names = [e["name"] for e in main["env"]]
        assert "A" in names and not {"RANK", "WORLD_SIZE", "MASTER_ADDR", "TF_CONFIG"} & set(names), names
        assert main["resources"]["requests"]["cpu"] == "500m"
    leader_command = replicas[leader]["template"]["spec"]["containers"][0]["command"]
    assert leader_command[:3] == ["python3", "/opt/fair/tools/fair-model.py", "push"]
    after = leader_command.index("--after")
    assert leader_command[after + 1] == "--" and leader_command[after + 2:], leader_command  # the image's own command
    assert "command" not in replicas["Worker"]["template"]["spec"]["containers"][0]
    # A broken resource is caught by the same check (it cannot pass vacuously).
    broken = json.loads(json.dumps(resource))
    broken["spec"][field]["Worker"]["replicas"] = "two"
    assert any("replicas" in error for error in validate_against_crd(broken, crd))

    # The bundled server has no training operator: fair says so and creates nothing.
    result = fair_cluster.train(PROJECT, "--workers", "3", "--operator", operator, "--name", f"op-{operator}", check=False)
    assert result.returncode == 1 and f"serves no kubeflow.org/v1 {kind}" in result.stderr, result.stderr
    assert cluster.kubectl("get", "serviceaccount", f"op-{operator}", check=False).returncode != 0


def test_bad_worker_options_are_refused_before_anything_is_built(fair_cluster, tmp_path):
    for args, message in [
        (["--workers", "0"], "--workers must be between 1 and 256, got 0"),
        (["--operator", "mpijob"], "mpijob"),
        (["--workers", "2", "--schedule", "@daily"], "--schedule with --workers is not supported"),
        (["--operator", "tfjob", "--detach"], "--operator makes the operator's resource and returns"),
        (["--workers", "3", "--model-rank", "3"], "--model-rank 3: there are 3 workers, ranks 0 to 2"),
        (["--model-rank", "1"], "--model-rank 1 needs --workers"),
    ]:
        result = fair_cluster.train(PROJECT, *args, check=False)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
        assert "pushing" not in result.stderr, "refused before building"
    # Workers from fair.yaml are refused with --schedule as the flag's are.
    project = tmp_path / "scheduled"
    shutil.copytree(PROJECT, project)
    (project / "fair.yaml").write_text("name: data-parallel\nentrypoint: train.py\ntrain:\n  workers: 2\n")
    result = fair_cluster.train(project, "--schedule", "@daily", check=False)
    assert result.returncode != 0 and "--schedule with --workers is not supported" in result.stderr, result.stderr


def test_jax_distributed_meets_across_two_workers_on_cpu(fair_cluster):
    """A real framework's rendezvous through the environment fair sets (jaxlib from PyPI)."""
    result = fair_cluster.train(FIXTURES / "jax-distributed", "--workers", "2", "--name", "jax-two", "--output-format", "json",
                                timeout=900)
    report = json.loads(result.stdout)
    logs = result.stderr
    assert report["state"] == "complete", logs
    for rank in (0, 1):
        assert f"[{rank}] process {rank} of 2, 2 devices in all" in logs, logs
        assert f"[{rank}] gathered [1.0, 2.0] sum 3.0" in logs, logs
    assert report["model"]["reference"].endswith("/models/jax-distributed:v1")
