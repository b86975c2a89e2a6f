"""batch/v1 CronJob on the bundled server, driven with kubectl: created from a manifest, printed
with kubectl's columns, run on the minute by the controller (a real Job owned by the CronJob,
whose pod runs in the cluster), instantiated by hand with `kubectl create job --from`, and read
back as Kubernetes' own OpenAPI definitions describe it.

Only one test waits for the clock: the first scheduled minute (at most about a minute)."""
import json
from datetime import datetime, timezone

import pytest

from conftest import Fair, FIXTURES
from server_harness import wait_for

SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


@pytest.fixture(scope="module")
def python_image(cluster, base_image, tmp_path_factory):
    """The plain-Python fixture in the embedded registry: an image with Debian's python3."""
    home = tmp_path_factory.mktemp("fair-home")
    built = json.loads(Fair(home).run("build", FIXTURES / "plain-python", "--base", f"oci-archive:{base_image}",
                                      "--push", f"{cluster.registry}/examples/ticker:v1", "--output-format", "json",
                                      env=cluster.registry_env).stdout)
    return f"{cluster.registry}/examples/ticker@{built['digest']}"


def manifest(name, image, schedule="*/1 * * * *", extra=""):
    return f"""apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: "{schedule}"
  successfulJobsHistoryLimit: 2
{extra}  jobTemplate:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: {image}
            command: [python3, -c, "print('tick from {name}')"]
"""


def get_json(cluster, *args):
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def owned_jobs(cluster, cronjob):
    """Jobs whose controller is the CronJob `cronjob` (by its uid)."""
    uid = get_json(cluster, "cronjob", cronjob)["metadata"]["uid"]
    return [job for job in get_json(cluster, "jobs")["items"]
            if any(ref.get("controller") and ref["kind"] == "CronJob" and ref["uid"] == uid
                   for ref in job["metadata"].get("ownerReferences", []))]


def finished(job):
    return next((c["type"] for c in job.get("status", {}).get("conditions", [])
                 if c["type"] in ("Complete", "Failed") and c["status"] == "True"), None)


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def ticker(cluster, python_image):
    cluster.kubectl("create", "-f", "-", input=manifest("ticker", python_image))
    return python_image


def test_kubectl_prints_cronjobs_with_kubes_columns(cluster, ticker):
    table = cluster.kubectl("get", "cronjobs").stdout.splitlines()
    assert table[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"], table
    row = table[1].split()
    # The schedule's fields print as they were written; the first minute may have started a Job.
    assert row[:8] == ["ticker", "*/1", "*", "*", "*", "*", "<none>", "False"], table
    assert row[8] == "0" and row[9] == "<none>" or row[8] == "1", table
    wide = cluster.kubectl("get", "cj", "ticker", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"], wide
    assert wide[1].split()[-3:] == ["tick", ticker, "<none>"], wide
    # Defaults as kube-apiserver sets them.
    spec = get_json(cluster, "cronjob", "ticker")["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == \
        ("Allow", False, 2, 1)
    assert "cronjob.batch/ticker" in cluster.kubectl("get", "all", "-o", "name").stdout.split()


def test_a_bad_schedule_or_zone_is_refused_naming_the_field(cluster, ticker):
    refused = cluster.kubectl("create", "-f", "-", check=False, input=manifest("bad", ticker, schedule="61 * * * *"))
    assert refused.returncode != 0
    assert 'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61' in refused.stderr, refused.stderr
    zoned = cluster.kubectl("create", "-f", "-", check=False, input=manifest("zoned", ticker, extra="  timeZone: Mars/Olympus\n"))
    assert zoned.returncode != 0
    assert 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus' in zoned.stderr, zoned.stderr
    long_name = "n" * 53
    named = cluster.kubectl("create", "-f", "-", check=False, input=manifest(long_name, ticker))
    assert named.returncode != 0 and "must be no more than 52 characters" in named.stderr, named.stderr


def test_the_minute_starts_a_job_owned_by_the_cronjob_that_completes(cluster, ticker):
    """The one wait for the clock: the next whole minute."""
    job = wait_for(lambda: next(iter(owned_jobs(cluster, "ticker")), None), timeout=90, what="a Job of the CronJob")
    name = job["metadata"]["name"]
    scheduled = parse_time(job["metadata"]["annotations"][SCHEDULED])
    assert scheduled.tzinfo == timezone.utc and scheduled.second == 0
    assert name == f"ticker-{int(scheduled.timestamp()) // 60}"
    assert job["metadata"]["labels"]["app"] == "ticker"
    [owner] = job["metadata"]["ownerReferences"]
    assert (owner["apiVersion"], owner["kind"], owner["name"], owner["controller"]) == ("batch/v1", "CronJob", "ticker", True)

    done = wait_for(lambda: (j := get_json(cluster, "job", name)) and finished(j) and j, timeout=120, what=f"{name} finished")
    assert finished(done) == "Complete", json.dumps(done["status"])
    assert cluster.kubectl("logs", f"job/{name}").stdout.strip() == "tick from ticker"

    status = wait_for(lambda: (c := get_json(cluster, "cronjob", "ticker")["status"]).get("lastSuccessfulTime") and c,
                      timeout=30, what="lastSuccessfulTime")
    assert parse_time(status["lastScheduleTime"]) >= scheduled
    assert status["lastSuccessfulTime"] == done["status"]["completionTime"]
    assert name not in [ref["name"] for ref in status.get("active", [])]
    row = cluster.kubectl("get", "cronjob", "ticker").stdout.splitlines()[1].split()
    assert row[-2] != "<none>", row  # LAST SCHEDULE
    events = get_json(cluster, "events", "--field-selector", "involvedObject.name=ticker")["items"]
    assert f"Created job {name}" in [event["message"] for event in events if event["reason"] == "SuccessfulCreate"]
    # No more runs needed: a suspended CronJob starts nothing.
    cluster.kubectl("patch", "cronjob", "ticker", "--type", "merge", "-p", '{"spec":{"suspend":true}}')
    assert cluster.kubectl("get", "cronjob", "ticker").stdout.splitlines()[1].split()[7] == "True"


def create_job_from_cronjob(cluster):
    return cluster.kubectl("create", "job", "by-hand", "--from=cronjob/ticker", check=False)


def test_kubectl_create_job_from_a_cronjob(cluster, ticker):
    # kubectl sends this Job as a protobuf body.
    created = create_job_from_cronjob(cluster)
    assert created.returncode == 0, created.stderr
    job = get_json(cluster, "job", "by-hand")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    [owner] = job["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"]) == ("CronJob", "ticker")
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == ticker
    done = wait_for(lambda: (j := get_json(cluster, "job", "by-hand")) and finished(j) and j, timeout=120, what="by-hand finished")
    assert finished(done) == "Complete"


def test_the_stored_cronjob_passes_kubernetes_openapi_definitions(cluster, ticker):
    """What `kubectl get -o json` returns is a CronJob as Kubernetes 1.32 defines it (strictly: no
    unknown fields), and as the server's own /openapi/v3 document, the one `kubectl explain`
    reads, describes it."""
    import jsonschema
    import kubernetes_validate

    cronjob = get_json(cluster, "cronjob", "ticker")
    kubernetes_validate.validate(cronjob, "1.32.0", strict=True)

    raw = cluster.kubectl("get", "--raw", "/openapi/v3/apis/batch/v1").stdout
    components = json.loads(raw)["components"]
    schema = components["schemas"]["io.k8s.api.batch.v1.CronJob"]
    assert schema["x-kubernetes-group-version-kind"] == [{"group": "batch", "version": "v1", "kind": "CronJob"}]
    validator = jsonschema.Draft4Validator({"$ref": "#/components/schemas/io.k8s.api.batch.v1.CronJob", "components": components})
    errors = sorted(validator.iter_errors(cronjob), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)

    explained = cluster.kubectl("explain", "cronjob.spec.schedule").stdout
    assert "FIELD: schedule <string>" in explained and "Cron format" in explained, explained
    assert "GROUP:      batch" in cluster.kubectl("explain", "cronjobs").stdout
