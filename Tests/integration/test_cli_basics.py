"""Small things a new user meets first: `fair version`, help that lists only what applies, and
`fair server` and `fair train` finding each other through the user's kubeconfig."""
import json
import subprocess
import time

import yaml

from conftest import fair_binary
from server_harness import FairServer


def fair(*args, env=None, check=True):
    result = subprocess.run([fair_binary(), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_version_is_a_command():
    assert fair("version").stdout.strip().startswith("fair ")
    assert json.loads(fair("version", "--output-format", "json").stdout)["version"]
    assert fair("version").stdout.split()[1] == fair("--version").stdout.strip()


def test_login_help_lists_no_transfer_options():
    text = fair("login", "--help").stdout
    assert "--jobs" not in text and "--insecure-registry" in text
    assert "--jobs" in fair("push", "--help").stdout


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_server_merges_its_context_into_an_empty_kubeconfig_and_cleanup_removes_it(tmp_path):
    user = tmp_path / "user" / "config"
    server = FairServer(fair_binary(), tmp_path / "data", extra=["--no-node"], env={"KUBECONFIG": str(user)}).start()
    try:
        assert wait_for(user.exists)
        config = yaml.safe_load(user.read_text())
        assert config["current-context"] == "fair"
        assert [c["name"] for c in config["contexts"]] == ["fair"]
        assert oct(user.stat().st_mode & 0o777) == "0o600"
        # kubectl, with nothing but the user's kubeconfig, reaches the server.
        listed = subprocess.run(["kubectl", "get", "namespaces", "-o", "name"], capture_output=True, text=True,
                                env={"KUBECONFIG": str(user), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=60)
        assert "namespace/default" in listed.stdout, listed.stderr
        assert "kubectl and fair now use this server" in server.log_path.read_text()
    finally:
        server.stop()
    fair("server", "--cleanup", env={"KUBECONFIG": str(user), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    config = yaml.safe_load(user.read_text())
    assert config["contexts"] == [] and config["current-context"] == ""


def test_server_keeps_the_users_current_context(tmp_path):
    user = tmp_path / "config"
    user.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "work",
        "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example:6443"}}],
        "users": [{"name": "me", "user": {"token": "abc"}}],
        "contexts": [{"name": "work", "context": {"cluster": "prod", "user": "me"}}]}))
    server = FairServer(fair_binary(), tmp_path / "data", extra=["--no-node"], env={"KUBECONFIG": str(user)}).start()
    try:
        assert wait_for(lambda: "fair" in user.read_text())
        config = yaml.safe_load(user.read_text())
        assert config["current-context"] == "work"
        assert sorted(c["name"] for c in config["contexts"]) == ["fair", "work"]
        assert {c["name"] for c in config["clusters"]} == {"fair", "prod"}
        assert 'kubectl --context fair' in server.log_path.read_text()
    finally:
        server.stop()


def test_kubeconfig_update_can_be_turned_off(tmp_path):
    user = tmp_path / "config"
    server = FairServer(fair_binary(), tmp_path / "data", extra=["--no-node", "--kubeconfig-update=false"],
                        env={"KUBECONFIG": str(user)}).start()
    try:
        time.sleep(1)
        assert not user.exists()
        assert f"export KUBECONFIG={server.kubeconfig}" in server.log_path.read_text()
    finally:
        server.stop()
