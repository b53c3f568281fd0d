# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the console may run (core.jobs) and its jobs' keeping (state.jobs)."""
from __future__ import annotations

import re

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core.jobs import job_request
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.state.jobs import Jobs

ALICE = {"name": "alice", "role": "tenant"}
ADMIN = {"name": "root_admin", "role": "admin"}


def test_a_tenants_job_always_carries_the_tenant_as_owner():
    assert job_request(ALICE, "start", {"vm": "web1"}) == ("startvm.yml", {"vm": "web1", "owner": "alice"})
    assert job_request(ALICE, "create", {"vm": "web2", "memory": "512", "cpu": 1, "disk": ""}) == (
        "createvm.yml", {"vm": "web2", "memory": 512, "cpu": 1, "owner": "alice"})
    assert job_request(ALICE, "snapshot_revert", {"vm": "web1", "snapshot": "s1"}) == (
        "snapshot.yml", {"vm": "web1", "snapshot": "s1", "operation": "revert", "owner": "alice"})
    assert job_request(ALICE, "proposal_approve", {"id": 7, "limit": 6})[1] == {
        "id": 7, "limit": 6, "operation": "approve", "owner": "alice"}
    # an admin's job carries no owner: the playbooks act on any VM
    assert job_request(ADMIN, "migrate", {"vm": "web1", "to": "node2"}) == ("migrate.yml", {"vm": "web1", "to": "node2"})


def test_an_admins_operation_does_not_exist_for_a_tenant():
    for op in ("migrate", "scale", "rm -rf", "users"):
        with pytest.raises(NotFound, match="there is no operation"):
            job_request(ALICE, op, {"vm": "web1", "to": "node2"})


@pytest.mark.parametrize("op,fields,message", [
    ("start", {"vm": "web1", "owner": "bob"}, "start does not take owner"),   # a tenant cannot pass another owner
    ("start", {"vm": "web1", "extra_vars": "x"}, "does not take extra_vars"),
    ("start", {}, "start needs vm"),
    ("create", {"vm": "web1", "memory": "lots"}, "memory is a whole number"),
    ("create", {"vm": "web1", "cpu": True}, "cpu is a whole number"),
    ("start", {"vm": "web1\n"}, "vm is a one-line text"),
    ("start", {"vm": "../etc"}, "VM name '../etc' is not valid"),
])
def test_bad_requests_are_refused_by_name(op, fields, message):
    with pytest.raises(InvalidInput, match=message):
        job_request(ALICE, op, fields)


def test_an_admin_does_not_create_a_vm_without_a_tenant():
    with pytest.raises(InvalidInput, match="the console does not guess one"):
        job_request(ADMIN, "create", {"vm": "web1"})


def test_jobs_are_kept_with_their_events_and_a_tenant_sees_only_its_own(tmp_path):
    jobs = Jobs(str(tmp_path / "console.db"))
    job = jobs.create("alice", "start", "startvm.yml", {"vm": "web1", "owner": "alice"}, 10.0)
    other = jobs.create("bob", "start", "startvm.yml", {"vm": "b1", "owner": "bob"}, 11.0)
    assert job["status"] == "queued" and job["extravars"] == {"owner": "alice", "vm": "web1"}
    jobs.start(job["id"], 12.0)
    jobs.event(job["id"], 1, "playbook_on_task_start", "TASK [Start]", task="Start")
    jobs.event(job["id"], 2, "runner_on_ok", "ok: [node1]", task="Start", host="node1")
    jobs.finish(job["id"], True, 0, {"status": "successful"}, 13.0)
    got = jobs.get(job["id"], "alice")
    assert (got["status"], got["rc"], got["started"], got["ended"]) == ("successful", 0, 12.0, 13.0)
    assert [e["line"] for e in jobs.events(job["id"], "alice", after=1)] == ["ok: [node1]"]
    with pytest.raises(NotFound, match="there is no job %d" % other["id"]):
        jobs.get(other["id"], "alice")
    with pytest.raises(NotFound):
        jobs.events(other["id"], "alice")
    assert [j["id"] for j in jobs.list("alice")] == [job["id"]]
    assert [j["id"] for j in jobs.list()] == [other["id"], job["id"]]
    assert jobs.lose_running(20.0) == [other["id"]] and jobs.get(other["id"])["status"] == "lost"


@pytest.mark.parametrize("fields, message", [
    ({"vm": "web2", "memory": 16}, "memory_mib must be between 128 and 1048576 MiB (got 16)"),
    ({"vm": "web2", "disk": 0}, "disk_gib"),
    ({"vm": "web2", "cpu": 1000}, "vcpus"),
    ({"vm": "web2", "io": "turbo"}, "io"),
    ({"vm": "web2", "os": "windows"}, "os"),
])
def test_a_form_breaking_the_request_rules_is_refused_with_their_message(fields, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        job_request({"name": "alice", "role": "tenant"}, "create", fields)


def test_a_tenants_own_ssh_key_goes_with_its_creation_checked_by_the_rules():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx carol@laptop"
    _playbook, extra = job_request({"name": "carol", "role": "tenant"}, "create", {"vm": "web2", "ssh_key": key + "\n"})
    assert extra["ssh_key"] == key and extra["owner"] == "carol"
    with pytest.raises(InvalidInput, match="ssh_key is not one OpenSSH public key line"):
        job_request({"name": "carol", "role": "tenant"}, "create", {"vm": "web2", "ssh_key": "not a key"})
