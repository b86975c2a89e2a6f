"""`fair server` driven by Apache Airflow's Kubernetes provider (apache-airflow +
apache-airflow-providers-cncf-kubernetes, the newest from PyPI, in a venv of its own): a
KubernetesPodOperator task and a KubernetesJobOperator task run with `airflow tasks test` (SQLite,
a private AIRFLOW_HOME) against the server's kubeconfig. Their container prints one line a second
for 8 seconds; each line must show in the task's log exactly once (for the pod operator, as it is
printed)."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from client_cluster import cluster, ensure_namespace  # noqa: F401  (a fixture)
from client_venvs import client_python

SCRIPT = "i=1; while [ $i -le 8 ]; do echo tick-$i-of-8; i=$((i+1)); sleep 1; done"

# What the xcom task's container leaves in /airflow/xcom/return.json (the provider mounts the
# volume it shares with the sidecar there).
XCOM_VALUE = {"answer": 42, "words": ["a b", "ü ñ", "x=y&z"], "nested": {"ok": True, "none": None, "pi": 3.25}}
XCOM_SCRIPT = f"echo working; printf '%s' '{json.dumps(XCOM_VALUE, ensure_ascii=False)}' > /airflow/xcom/return.json; echo written"

DAG = '''
from datetime import datetime
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.operators.job import KubernetesJobOperator

KUBECONFIG = {kubeconfig!r}
NAMESPACE = {namespace!r}
IMAGE = {image!r}
SCRIPT = {script!r}
XCOM_SCRIPT = {xcom_script!r}

with DAG("fair_clients", start_date=datetime(2024, 1, 1), schedule=None, catchup=False):
    KubernetesPodOperator(
        task_id="pod", name="ticker", namespace=NAMESPACE, image=IMAGE, cmds=["sh", "-c", SCRIPT],
        in_cluster=False, config_file=KUBECONFIG, get_logs=True, on_finish_action="delete_pod",
        startup_timeout_seconds=120, startup_check_interval_seconds=1)
    KubernetesJobOperator(
        task_id="job", name="ticker-job", namespace=NAMESPACE, image=IMAGE, cmds=["sh", "-c", SCRIPT],
        in_cluster=False, config_file=KUBECONFIG, wait_until_job_complete=True, get_logs=True,
        backoff_limit=0, job_poll_interval=1, startup_timeout_seconds=120, startup_check_interval_seconds=1)

# do_xcom_push: the provider adds its airflow-xcom-sidecar container (its image from the connection's
# xcom_sidecar_container_image), execs `cat /airflow/xcom/return.json` in it, then execs a shell
# whose stdin gets the command that kills the sidecar.
try:
    from airflow.sdk import task
except ImportError:
    from airflow.decorators import task

with DAG("fair_xcom", start_date=datetime(2024, 1, 1), schedule=None, catchup=False):
    pushed = KubernetesPodOperator(
        task_id="xcom", name="xcom-box", namespace=NAMESPACE, image=IMAGE, cmds=["sh", "-c", XCOM_SCRIPT],
        in_cluster=False, config_file=KUBECONFIG, kubernetes_conn_id="fair_xcom", do_xcom_push=True,
        get_logs=True, on_finish_action="keep_pod", termination_grace_period=1,
        startup_timeout_seconds=120, startup_check_interval_seconds=1)

    @task(task_id="show")
    def show(value):
        import json
        print("XCOM-RETURN-VALUE " + json.dumps(value, sort_keys=True))

    show(pushed.output)
'''


@pytest.fixture(scope="module")
def airflow(cluster, tmp_path_factory):
    """AIRFLOW_HOME with a migrated SQLite database and the test DAG; returns a runner of the
    airflow CLI that records when each output line arrived."""
    client = client_python("airflow")
    home = tmp_path_factory.mktemp("airflow-home")
    dags = home / "dags"
    dags.mkdir()
    namespace = ensure_namespace(cluster, "airflow-clients")
    (dags / "fair_clients.py").write_text(DAG.format(kubeconfig=cluster.kubeconfig, namespace=namespace,
                                                     image=cluster.image, script=SCRIPT, xcom_script=XCOM_SCRIPT))
    airflow_bin = str(os.path.join(os.path.dirname(client.python), "airflow"))
    env = dict(os.environ, AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(dags),
               AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__UNIT_TEST_MODE="False",
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
               AIRFLOW__LOGGING__LOGGING_LEVEL="INFO", PYTHONUNBUFFERED="1", NO_COLOR="1",
               # The connection of the xcom task: its sidecar runs the busybox image, not alpine.
               AIRFLOW_CONN_FAIR_XCOM=json.dumps({"conn_type": "kubernetes",
                                                  "extra": {"xcom_sidecar_container_image": cluster.image}}))
    env.pop("PYTHONPATH", None)

    def run(*args, timeout=600):
        """(returncode, [(seconds since start, line)]) of `airflow ARGS`."""
        process = subprocess.Popen([airflow_bin, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, cwd=home)
        started = time.monotonic()
        lines = []

        def read():
            for line in process.stdout:
                lines.append((round(time.monotonic() - started, 2), line.rstrip("\n")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"airflow {' '.join(args)} did not finish within {timeout} s:\n"
                                 + "\n".join(line for _, line in lines[-80:]))
        reader.join(timeout=10)
        return process.returncode, lines

    code, lines = run("db", "migrate")
    assert code == 0, "airflow db migrate failed:\n" + "\n".join(line for _, line in lines[-60:])
    run.namespace = namespace
    run.versions = client.versions
    return run


def ticks(lines):
    """[(seconds, n)] of the tick-N-of-8 lines the task printed, in the order they arrived."""
    found = []
    for at, line in lines:
        for match in re.finditer(r"tick-(\d)-of-8", line):
            found.append((at, int(match.group(1))))
    return found


def check_task(airflow, cluster, task, live=True):
    code, lines = airflow("tasks", "test", "fair_clients", task, "2024-01-01")
    output = "\n".join(line for _, line in lines)
    explain = f"`airflow tasks test fair_clients {task}` said:\n{output[-12000:]}\n\nfair server log:\n{cluster.log_tail()}"
    assert code == 0, explain
    seen = ticks(lines)
    assert [n for _, n in seen] == list(range(1, 9)), f"each line once, in order; got {seen}\n{explain}"
    # Live: the first line showed while the container was still printing the others.
    assert not live or seen[-1][0] - seen[0][0] >= 5, f"the lines did not arrive as they were printed: {seen}\n{explain}"
    return lines


def test_kubernetes_pod_operator_streams_each_line_once_live(airflow, cluster):
    check_task(airflow, cluster, "pod")
    # on_finish_action="delete_pod": nothing is left behind.
    left = cluster.kubectl("get", "pods", "-n", airflow.namespace, "-l", "task_id=pod", "-o", "name").stdout.strip()
    assert left == "", left


def test_kubernetes_job_operator_logs_each_line_once(airflow, cluster):
    # The Job operator waits for the Job to complete and only then fetches its pods' logs (by
    # design), so its lines come at the end: each once, in order, but not live.
    check_task(airflow, cluster, "job", live=False)
    job = cluster.kubectl("get", "jobs", "-n", airflow.namespace, "-o",
                          "jsonpath={range .items[*]}{.metadata.name} {.status.succeeded}{'\\n'}{end}").stdout
    # The operator names the Job job-NAME-SUFFIX.
    assert re.search(r"^job-ticker-job-\S+ 1$", job, re.M), job


# -- Airflow inside the cluster ----------------------------------------------------------------------

IN_CLUSTER_DAG = '''
from datetime import datetime
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

with DAG("fair_in_cluster", start_date=datetime(2024, 1, 1), schedule=None, catchup=False):
    KubernetesPodOperator(
        task_id="pod", name="inner", namespace={namespace!r}, image={image!r}, cmds=["sh", "-c", {script!r}],
        in_cluster=True, get_logs=True, on_finish_action="delete_pod",
        startup_timeout_seconds=120, startup_check_interval_seconds=1)
'''

IN_CLUSTER_SCRIPT = "echo inner-start; sleep 1; echo inner-done-$((6*7))"

RUN_AIRFLOW = """
set -e
python3 -m airflow db migrate > /tmp/migrate.log 2>&1 || { tail -40 /tmp/migrate.log; exit 1; }
python3 -m airflow tasks test fair_in_cluster pod 2024-01-01
"""


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    """The plain-Python fixture in the cluster's registry: Debian's python3, as in the venv (3.11)."""
    import json
    from conftest import Fair, FIXTURES
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.server.registry}/clients/airflow-python:v1",
                                      "--output-format", "json", env=cluster.server.registry_env).stdout)
    return f"{cluster.server.registry}/clients/airflow-python@{built['digest']}"


def test_kubernetes_pod_operator_in_a_pod_starts_a_pod_and_reads_its_logs_with_its_own_account(cluster, python_image):
    import json
    import sys
    from pathlib import Path
    from server_harness import wait_for
    client = client_python("airflow")
    found = sorted(Path(client.python).parent.parent.glob("lib/python3*/site-packages"))
    if not found or sys.version_info[:2] != (3, 11):
        pytest.skip("the airflow venv is not for Python 3.11, the image's")
    namespace = ensure_namespace(cluster, "airflow-in-cluster")
    dag = IN_CLUSTER_DAG.format(namespace=namespace, image=cluster.image, script=IN_CLUSTER_SCRIPT)
    manifests = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "airflow", "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-runner", "namespace": namespace},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "delete", "patch"]},
                   {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "airflow-runs-pods", "namespace": namespace},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-runner"},
         "subjects": [{"kind": "ServiceAccount", "name": "airflow", "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dags", "namespace": namespace}, "data": {"fair_in_cluster.py": dag}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "airflow", "namespace": namespace}, "spec": {
            "serviceAccountName": "airflow", "restartPolicy": "Never",
            "volumes": [{"name": "airflow", "hostPath": {"path": str(found[0]), "type": "Directory"}},
                        {"name": "dags", "configMap": {"name": "dags"}}, {"name": "home", "emptyDir": {}}],
            "containers": [{"name": "airflow", "image": python_image, "command": ["sh", "-c", RUN_AIRFLOW],
                            "env": [{"name": "PYTHONPATH", "value": "/airflow"}, {"name": "PYTHONUNBUFFERED", "value": "1"},
                                    {"name": "AIRFLOW_HOME", "value": "/home/airflow"},
                                    {"name": "AIRFLOW__CORE__DAGS_FOLDER", "value": "/dags"},
                                    {"name": "AIRFLOW__CORE__LOAD_EXAMPLES", "value": "False"},
                                    {"name": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "value": "sqlite:////home/airflow/airflow.db"},
                                    {"name": "NO_COLOR", "value": "1"}],
                            "volumeMounts": [{"name": "airflow", "mountPath": "/airflow", "readOnly": True},
                                             {"name": "dags", "mountPath": "/dags", "readOnly": True},
                                             {"name": "home", "mountPath": "/home/airflow"}]}]}},
    ]
    cluster.kubectl("apply", "-f", "-", input="\n".join(json.dumps(manifest) for manifest in manifests))

    def phase():
        return json.loads(cluster.kubectl("get", "pod", "airflow", "-n", namespace, "-o", "json").stdout)["status"].get("phase")

    wait_for(lambda: phase() in ("Succeeded", "Failed"), timeout=480, what="airflow in its pod to finish")
    logs = cluster.kubectl("logs", "airflow", "-n", namespace).stdout
    explain = f"airflow's pod said:\n{logs[-8000:]}\n\nfair server log:\n{cluster.log_tail()}"
    assert phase() == "Succeeded", explain
    assert "inner-start" in logs and "inner-done-42" in logs, explain
    # The second pod ran as Airflow asked and was deleted after (on_finish_action).
    assert cluster.kubectl("get", "pods", "-n", namespace, "-l", "task_id=pod", "-o", "name").stdout.strip() == "", explain
    # What made it: the operator's own account, which may do no more than its Role says.
    token = cluster.kubectl("create", "token", "airflow", "-n", namespace).stdout.strip()
    can = lambda verb, what, where=namespace: cluster.kubectl("--token", token, "auth", "can-i", verb, what, "-n", where,
                                                              check=False).stdout.strip()
    assert (can("create", "pods"), can("get", "pods/log"), can("get", "secrets"), can("create", "pods", "default")) == \
        ("yes", "yes", "no", "no")


# -- XCom through the provider's sidecar (pods/exec) ---------------------------------------------------

def test_kubernetes_pod_operator_pushes_the_xcom_its_container_wrote(airflow, cluster):
    """do_xcom_push=True: the provider reads /airflow/xcom/return.json by exec in its
    airflow-xcom-sidecar container (kubernetes.stream, v5/v4.channel.k8s.io), then kills the
    sidecar by writing a kill command to the stdin of a shell it execs there. The downstream task
    gets what the container wrote as the xcom task's return value."""
    code, lines = airflow("dags", "test", "fair_xcom", "2024-01-01")
    output = "\n".join(line for _, line in lines)
    pod = json.loads(cluster.kubectl("get", "pods", "-n", airflow.namespace, "-l", "task_id=xcom", "-o", "json").stdout)
    explain = (f"`airflow dags test fair_xcom` said:\n{output[-12000:]}\n\nthe pod's status:\n"
               f"{json.dumps([item['status'] for item in pod['items']], indent=1)[:4000]}\n\nfair server log:\n{cluster.log_tail()}")
    try:
        assert code == 0, explain
        assert "working" in output and "written" in output, explain
        shown = [line.split("XCOM-RETURN-VALUE ", 1)[1] for line in output.splitlines() if "XCOM-RETURN-VALUE " in line]
        assert len(shown) == 1, explain
        assert json.loads(shown[0]) == XCOM_VALUE, explain
        # The sidecar (the busybox image, from the connection) was stopped through the shell the
        # provider execs with stdin: its kill command sends SIGINT, which the sidecar's trap turns
        # into exit 0. (busybox has no pgrep, so the provider's first command fails and its
        # fallback, a loop over /proc, does the kill; the provider may still log "Failed to kill
        # xcom sidecar" when the first command's stderr arrives in two pieces, which it reads as the
        # fallback's.)
        [item] = pod["items"]
        statuses = {status["name"]: status for status in item["status"]["containerStatuses"]}
        sidecar = statuses["airflow-xcom-sidecar"]
        assert sidecar["image"] == cluster.image, explain
        assert sidecar["state"].get("terminated", {}).get("exitCode") == 0, explain
        assert statuses["base"]["state"].get("terminated", {}).get("exitCode") == 0, explain
    finally:
        cluster.kubectl("delete", "pods", "-n", airflow.namespace, "-l", "task_id=xcom", "--wait=false", check=False)
