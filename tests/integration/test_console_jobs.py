# -*- coding: utf-8 -*-
"""Console jobs run the collection's own playbooks through ansible-runner: a job's events and end are recorded;
a tenant's bad request is refused by the playbook's own request rules (the job failed with that message) and
the tenant never passes another owner."""

import json
import os
import sys

import pytest

from conftest import COLLECTIONS, REPO, _require_collection, ansible_env

sys.path.insert(0, os.path.join(REPO, "console"))
sys.path.insert(0, COLLECTIONS)
from cloud1_console import runner  # noqa: E402

from ansible_collections.cloud1.iaas.plugins.module_utils.core.jobs import job_request  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.state.jobs import Jobs  # noqa: E402

PLAYBOOKS = os.path.join(COLLECTIONS, "ansible_collections", "cloud1", "iaas", "playbooks")


@pytest.fixture
def setup(tmp_path):
    _require_collection()
    inv = {"all": {"vars": {"cloud1_subnet": "10.77.0.0/24"},
                   "children": {"master": {"hosts": {"localhost": {"ansible_connection": "local",
                                                                   "ansible_python_interpreter": sys.executable}}},
                                "hypervisors": {"hosts": {}}}}}
    (tmp_path / "inv.json").write_text(json.dumps(inv))
    env = {k: v for k, v in ansible_env().items() if k.startswith("ANSIBLE_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return Jobs(str(tmp_path / "console.db")), str(tmp_path / "inv.json"), env, tmp_path


def run(setup, job):
    jobs, inv, env, tmp_path = setup
    return runner.run(jobs, job["id"], PLAYBOOKS, inv, str(tmp_path / ("job%d" % job["id"])), env=env)


def test_a_job_runs_its_playbook_and_records_its_events_and_end(setup):
    jobs, _inv, _env, tmp_path = setup
    job = jobs.create("root_admin", "users", "users.yml",
                      {"operation": "list", "console_db": str(tmp_path / "other.db")}, 1.0)
    done = run(setup, job)
    assert done["status"] == "successful" and done["rc"] == 0 and done["result"]["failed"] is None
    assert done["result"]["stats"]["ok"] == {"localhost": 3}
    lines = [e["line"] for e in jobs.events(job["id"])]
    assert any("TASK [The accounts]" in line for line in lines) and any("PLAY RECAP" in line for line in lines)


def test_a_tenants_bad_request_fails_in_the_playbooks_own_rules_with_their_message(setup):
    """The console refuses it before a job exists; a job made by hand with the same values fails in the playbook
    with the same rule's message."""
    jobs = setup[0]
    with pytest.raises(InvalidInput, match=r"memory_mib must be between 128 and 1048576 MiB \(got -5\)"):
        job_request({"name": "alice", "role": "tenant"}, "create", {"vm": "web1", "memory": -5})
    playbook, extravars = "createvm.yml", {"vm": "web1", "memory": -5, "owner": "alice"}
    done = run(setup, jobs.create("alice", "create", playbook, extravars, 1.0))
    assert done["status"] == "failed" and done["rc"] != 0
    assert done["result"]["failed"].startswith("The request follows the rules (name, owner, sizes, address, image "
                                               "path) failed on localhost: ")
    assert "memory_mib must be between 128 and 1048576 MiB (got -5)" in done["result"]["failed"]
    assert jobs.list("bob") == [] and jobs.list("alice")[0]["id"] == done["id"]
