# -*- coding: utf-8 -*-
"""The console's web application in process (Starlette's test client over HTTPS, so Secure cookies travel)
against libvirt's test driver as the node, the real accounts/sessions/jobs database and real job runs through
ansible-runner: logins and their backoff, sessions and their expiry, what a tenant sees and may ask for
(another tenant's VM is 404 by page, API and job; nothing changes), CSRF on every change, the request rules'
messages on a bad form, jobs with live events."""

import json
import os
import sys
import time

import pytest

from conftest import COLLECTIONS, REPO, _require_collection, ansible_env

sys.path.insert(0, os.path.join(REPO, "console"))
sys.path.insert(0, COLLECTIONS)
from starlette.testclient import TestClient  # noqa: E402

from cloud1_console.app import create_app  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store  # noqa: E402

PLAYBOOKS = os.path.join(COLLECTIONS, "ansible_collections", "cloud1", "iaas", "playbooks")
PASSWORDS = {"ada": "ada-admin-pass-1", "alice": "alice-tenant-pass", "bob": "bob-tenant-passw0rd"}
NEW = dict(uri="test:///default", image_dir="/images", disk_dir="/images", bridge="br0", domain_type="test",
           shutdown_timeout=5, image="debian12.qcow2", vcpus=1, memory_mib=256, io="low", os="debian", state="running")


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def site(tmp_path, conn):
    """The console over a test-driver node with alice's web1 and bob's db1; accounts ada (admin), alice, bob."""
    _require_collection()
    vm.ensure(dict(NEW, name="web1", owner="alice"), conn=conn)
    vm.ensure(dict(NEW, name="db1", owner="bob"), conn=conn)
    inv = {"all": {"vars": {"cloud1_subnet": "10.77.0.0/24", "cloud1_balancer_db": str(tmp_path / "balancer.db")},
                   "children": {"master": {"hosts": {"localhost": {"ansible_connection": "local",
                                                                   "ansible_python_interpreter": sys.executable}}},
                                "hypervisors": {"hosts": {}}}}}
    (tmp_path / "inv.json").write_text(json.dumps(inv))
    (tmp_path / "graphs").mkdir()
    env = {k: v for k, v in ansible_env().items() if k.startswith("ANSIBLE_") and k != "ANSIBLE_CONFIG"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    settings = {"db": str(tmp_path / "console.db"), "nodes": {"node0": "test:///default"},
                "playbook_dir": PLAYBOOKS, "inventory": str(tmp_path / "inv.json"), "jobs_dir": str(tmp_path / "jobs"),
                "job_env": env, "graphs_dir": str(tmp_path / "graphs"), "view_ttl": 0,
                "proposals_db": str(tmp_path / "balancer.db")}
    clock = Clock()
    accounts = Accounts(settings["db"])
    accounts.ensure("ada", clock(), role="admin", password=PASSWORDS["ada"])
    for name in ("alice", "bob"):
        accounts.ensure(name, clock(), role="tenant", password=PASSWORDS[name])
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url="https://testserver") as client:
        yield client, app.state.console, clock, tmp_path


def login(client, name, password=None):
    res = client.post("/login", data={"name": name, "password": password or PASSWORDS[name]}, follow_redirects=False)
    return res


def csrf_of(client):
    page = client.get("/jobs").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_pages_need_a_login_and_the_session_cookie_is_locked_down(site):
    client = site[0]
    res = client.get("/", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login"
    assert client.get("/api/vms").status_code == 401
    res = login(client, "alice")
    assert res.status_code == 303
    cookie = res.headers["set-cookie"]
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Strict")), cookie
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused_and_repeated_failures_slow_the_account(site):
    client = site[0]
    res = login(client, "alice", "not-her-password")
    assert res.status_code == 401 and "wrong account name or password" in res.text
    assert login(client, "nobody-here", "whatever-password").status_code == 401
    for attempt in range(3):
        login(client, "alice", "still-not-her-password %d" % attempt)
    res = login(client, "alice")    # the right password, but within the wait
    assert res.status_code == 401 and "too many failed logins" in res.text


def test_a_session_ends_when_unused_or_at_logout(site):
    client, _console, clock, _tmp = site
    login(client, "alice")
    clock.now += 31 * 60
    res = client.get("/", follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/login"
    login(client, "alice")
    client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert client.get("/api/vms").status_code == 401


def test_an_admin_sees_every_node_and_vm(site):
    client = site[0]
    login(client, "ada")
    page = client.get("/").text
    assert 'data-node="node0"' in page and 'data-vm="web1"' in page and 'data-vm="db1"' in page
    names = {v["name"]: v for v in client.get("/api/vms").json()["vms"]}
    assert {"web1", "db1"} <= set(names) and names["web1"]["owner"] == "alice" and names["db1"]["owner"] == "bob"


def test_a_tenant_sees_only_its_own_vms_and_another_tenants_is_not_found(site):
    client, console, _clock, _tmp = site
    login(client, "alice")
    page = client.get("/").text
    assert 'data-vm="web1"' in page and "db1" not in page and 'data-node="node0"' not in page
    assert [v["name"] for v in client.get("/api/vms").json()["vms"]] == ["web1"]
    assert client.get("/vms/web1").status_code == 200
    assert client.get("/vms/db1").status_code == 404
    assert client.get("/vms/no-such-vm").status_code == 404
    assert client.get("/api/vms/db1").status_code == 404 and client.get("/api/vms/no-such-vm").status_code == 404
    token = csrf_of(client)
    for op in ("start", "shutdown", "delete", "snapshot_create"):
        fields = {"csrf": token, "operation": op, "vm": "db1", "snapshot": "s1"}
        if op != "snapshot_create":
            fields.pop("snapshot")
        assert client.post("/jobs", data=fields, follow_redirects=False).status_code == 404, op
    res = client.post("/api/jobs", json={"operation": "delete", "vm": "db1"}, headers={"x-csrf-token": token})
    assert res.status_code == 404 and res.json() == {"error": "not found"}
    # an admin's operation does not exist for a tenant, even on its own VM
    assert client.post("/jobs", data={"csrf": token, "operation": "migrate", "vm": "web1", "to": "node1"},
                       follow_redirects=False).status_code == 404
    assert console.jobs.list() == []
    assert client.get("/graphs/node0/cpu_user.png").status_code == 404


def test_every_change_needs_the_sessions_csrf_token(site):
    client, console, _clock, _tmp = site
    login(client, "alice")
    assert client.post("/jobs", data={"operation": "start", "vm": "web1"}).status_code == 403
    assert client.post("/jobs", data={"operation": "start", "vm": "web1", "csrf": "0" * 64}).status_code == 403
    assert client.post("/api/jobs", json={"operation": "start", "vm": "web1"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    assert console.jobs.list() == [] and client.get("/api/vms").status_code == 200


@pytest.mark.parametrize("fields, message", [
    ({"vm": "web 2"}, "name 'web 2'"),
    ({"vm": "web2", "memory": "lots"}, "create: memory is a whole number, got 'lots'"),
    ({"vm": "web2", "memory": "16"}, "memory_mib must be between 128 and 1048576 MiB (got 16)"),
    ({"vm": "web2", "io": "turbo"}, "io"),
    ({"vm": "web2", "colour": "red"}, "create does not take colour"),
])
def test_a_bad_form_value_shows_the_request_rules_message_and_nothing_is_queued(site, fields, message):
    client, console, _clock, _tmp = site
    login(client, "alice")
    res = client.post("/jobs", data=dict(fields, csrf=csrf_of(client), operation="create"), follow_redirects=False)
    assert res.status_code == 400 and message in res.text.replace("&#39;", "'"), res.text[-800:]
    assert console.jobs.list() == []


def test_a_tenants_job_runs_its_playbook_for_that_tenant_with_live_events(site):
    client, console, _clock, tmp_path = site
    login(client, "alice")
    res = client.post("/jobs", data={"csrf": csrf_of(client), "operation": "start", "vm": "web1"},
                      follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"].startswith("/jobs/")
    job_id = int(res.headers["location"].rsplit("/", 1)[1])
    job = console.jobs.get(job_id)
    assert job["playbook"] == "startvm.yml" and job["extravars"] == {"vm": "web1", "owner": "alice"}
    # the live stream ends with the job's end (this inventory has no hypervisor: the playbook says so)
    with client.stream("GET", "/jobs/%d/events" % job_id) as stream:
        body = "".join(stream.iter_text())
    assert "event: line" in body and "event: end" in body
    end = json.loads(body.rsplit("event: end\ndata: ", 1)[1].split("\n", 1)[0])
    assert end["status"] in ("successful", "failed") and end["status"] == console.jobs.get(job_id)["status"]
    page = client.get("/jobs/%d" % job_id).text
    assert "PLAY RECAP" in page
    # the run's working directory went with its end (its events and outcome are in the database)
    assert (tmp_path / "jobs").is_dir() and not (tmp_path / "jobs" / str(job_id)).exists()
    # bob cannot read alice's job
    client.cookies.clear()
    login(client, "bob")
    assert client.get("/jobs/%d" % job_id).status_code == 404
    assert client.get("/jobs/%d/events" % job_id).status_code == 404
    assert client.get("/api/jobs/%d" % job_id).status_code == 404


def test_graphs_are_served_to_who_may_see_them(site):
    client, _console, _clock, tmp_path = site
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    (tmp_path / "graphs" / "node0-cpu_user-3600.png").write_bytes(png)
    (tmp_path / "graphs" / "web1-vm_cpu-3600.png").write_bytes(png)
    login(client, "ada")
    res = client.get("/graphs/node0/cpu_user.png?period=3600")
    assert res.status_code == 200 and res.headers["content-type"] == "image/png" and res.content == png
    assert client.get("/graphs/node0/cpu_user.png?period=12").status_code == 404
    assert client.get("/graphs/node0/..%2Fetc.png").status_code == 404
    client.cookies.clear()
    login(client, "alice")
    assert client.get("/graphs/web1/vm_cpu.png").status_code == 200
    assert client.get("/graphs/node0/cpu_user.png").status_code == 404
    assert client.get("/graphs/db1/vm_cpu.png").status_code == 404


GROW = {"key": "vm:web1:disk:up", "kind": "grow", "subject": "web1", "node": "node0", "dimension": "disk",
        "owner": "alice", "forced": False, "action": {"vm": "web1", "disk_gib": 6}, "reason": "web1 disk 92%"}


def test_proposals_reach_their_owner_only_and_are_answered_as_jobs(site):
    client, console, _clock, tmp_path = site
    login(client, "alice")
    assert client.get("/api/proposals").json() == {"pending": [], "recent": []}
    (mine,) = Store(str(tmp_path / "balancer.db")).record_cycle({}, [GROW], time.time())
    (other,) = Store(str(tmp_path / "balancer.db")).record_cycle(
        {}, [dict(GROW, key="vm:db1:disk:up", subject="db1", owner="bob", action={"vm": "db1", "disk_gib": 6})],
        time.time())
    pending = client.get("/api/proposals").json()["pending"]
    assert [p["id"] for p in pending] == [mine["id"]]
    assert 'data-proposal="%d"' % mine["id"] in client.get("/").text
    with client.stream("GET", "/events") as stream:   # the open page's live feed starts with the pending ones
        lines = stream.iter_lines()
        first = next(lines, None) or ""
        data = next(line for line in lines if line.startswith("data: "))
    assert first == "event: proposals" and [p["id"] for p in json.loads(data[6:])] == [mine["id"]]
    token = csrf_of(client)
    res = client.post("/api/jobs", json={"operation": "proposal_decline", "id": other["id"]},
                      headers={"x-csrf-token": token})
    assert res.status_code == 404 and console.jobs.list() == []
    res = client.post("/api/jobs", json={"operation": "proposal_approve", "id": mine["id"], "limit": 5},
                      headers={"x-csrf-token": token})
    assert res.status_code == 202
    job = console.jobs.get(res.json()["job"])
    assert job["playbook"] == "proposals.yml" and job["extravars"] == {
        "operation": "approve", "id": mine["id"], "limit": 5, "owner": "alice"}
    client.cookies.clear()
    login(client, "ada")
    assert {p["id"] for p in client.get("/api/proposals").json()["pending"]} >= {other["id"]}


def test_admins_manage_accounts_with_the_same_rules_tenants_cannot(site):
    client, console, _clock, _tmp = site
    login(client, "alice")
    assert client.get("/accounts").status_code == 404
    assert client.post("/accounts", data={"csrf": csrf_of(client), "action": "remove", "name": "bob"}).status_code == 404
    assert console.accounts.get("bob") is not None
    client.cookies.clear()
    login(client, "ada")
    token = csrf_of(client)
    assert client.post("/accounts", data={"action": "remove", "name": "bob"}).status_code == 403
    res = client.post("/accounts", data={"csrf": token, "action": "add", "name": "carol", "role": "tenant",
                                         "password": "short"})
    assert res.status_code == 400 and "12" in res.text and console.accounts.get("carol") is None
    res = client.post("/accounts", data={"csrf": token, "action": "add", "name": "carol", "role": "tenant",
                                         "password": "carol-long-password"}, follow_redirects=False)
    assert res.status_code == 303 and console.accounts.get("carol")["role"] == "tenant"
    res = client.post("/accounts", data={"csrf": token, "action": "add", "name": "carol", "role": "admin",
                                         "password": "carol-long-password"})
    assert res.status_code == 400 and "exists already" in res.text and console.accounts.get("carol")["role"] == "tenant"
    res = client.post("/accounts", data={"csrf": token, "action": "remove", "name": "ada"})
    assert res.status_code == 400 and console.accounts.get("ada") is not None
    client.post("/accounts", data={"csrf": token, "action": "disable", "name": "carol"})
    assert console.accounts.get("carol")["disabled"]
    client.cookies.clear()
    assert login(client, "carol", "carol-long-password").status_code == 401
    login(client, "ada")
    client.post("/accounts", data={"csrf": csrf_of(client), "action": "remove", "name": "carol"})
    assert console.accounts.get("carol") is None


def test_a_tenant_makes_a_vm_from_an_existing_image_and_sees_the_proposals_history(site):
    client, console, _clock, tmp_path = site
    login(client, "alice")
    page = client.get("/vms/new").text
    assert 'value="create_existing"' in page
    res = client.post("/jobs", data={"csrf": csrf_of(client), "operation": "create_existing", "vm": "web9",
                                     "img": "export.qcow2", "memory": "256"}, follow_redirects=False)
    assert res.status_code == 303
    job = console.jobs.get(int(res.headers["location"].rsplit("/", 1)[1]))
    assert job["playbook"] == "createexistingvm.yml" and job["extravars"] == {
        "vm": "web9", "img": "export.qcow2", "memory": 256, "owner": "alice"}
    store = Store(str(tmp_path / "balancer.db"))
    (p,) = store.record_cycle({}, [GROW], time.time())
    store.answer(p["id"], False, "alice", time.time(), owner="alice")
    page = client.get("/").text
    history = page.split('id="proposal-history"', 1)[1]
    assert 'data-proposal="%d"' % p["id"] in history and "declined" in history


def test_a_vms_migration_progress_is_read_for_who_sees_it(site):
    client = site[0]
    login(client, "alice")
    res = client.get("/api/vms/web1/progress")
    # the test driver keeps no job statistics: no job, said so
    assert res.status_code == 200 and res.json()["node"] == "node0" and res.json()["active"] is False
    assert res.json()["supported"] is False and res.json()["percent"] is None
    assert client.get("/api/vms/db1/progress").status_code == 404
