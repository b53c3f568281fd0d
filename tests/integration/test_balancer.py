# -*- coding: utf-8 -*-
"""balancer_cycle and balancer_proposals through ansible-playbook: gmetad's XML recorded on the box (mon1's root
filesystem set to 92 %) on a real socket, the balancer's SQLite database in a temporary directory."""

import os
import socketserver
import threading

import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "plugins", "module_utils", "fixtures")
GIB = 1024 ** 3
ALLOCATIONS = {n: {"cpus": 2, "memory_mib": 8034, "arch": "x86_64", "vcpus_allocated": 2 if n == "node1" else 0,
                   "memory_allocated_mib": 256 if n == "node1" else 0} for n in ("node0", "node1", "node2")}
VMS = [{"name": "mon1", "host": "node1", "state": "running", "vcpus": 2, "memory_mib": 256,
        "metadata": {"owner": "erin", "ip": "10.77.0.100"},
        "disks": [{"device": "disk", "capacity": 4 * GIB}]}]


@pytest.fixture
def gmetad():
    with open(os.path.join(FIXTURES, "gmetad-box.xml"), "rb") as f:
        xml = f.read().replace(b'<METRIC NAME="vm_disk" VAL="16.62"', b'<METRIC NAME="vm_disk" VAL="92.00"')

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(xml)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def cycle(task, gmetad, db, check=False):
    args = {"db": db, "host": "127.0.0.1", "port": gmetad, "allocations": ALLOCATIONS, "vms": VMS}
    return task("cloud1.iaas.balancer_cycle", args, check=check)


def test_a_full_disk_is_proposed_to_grow_once_and_check_mode_stores_nothing(task, gmetad, tmp_path):
    db = str(tmp_path / "balancer.db")
    dry = cycle(task, gmetad, db, check=True)
    assert [p["kind"] for p in dry["proposals"]] == ["grow"] and not os.path.exists(db)
    assert task("cloud1.iaas.balancer_proposals", {"db": db})["proposals"] == []   # nothing was stored
    first = cycle(task, gmetad, db)
    assert first["changed"] and first["judged"] == ["mon1"]
    (grow,) = first["proposals"]
    assert grow["status"] == "pending" and grow["owner"] == "erin" and grow["action"] == {"vm": "mon1", "disk_gib": 6}
    assert "mon1 disk 92% >= 90% at once" in grow["reason"]
    again = cycle(task, gmetad, db)
    assert again["proposals"] == [] and again["pending"] == ["vm:mon1:disk:up"]


def test_only_the_owner_or_an_admin_answers_and_the_limit_is_kept(task, gmetad, tmp_path):
    db = str(tmp_path / "balancer.db")
    (grow,) = cycle(task, gmetad, db)["proposals"]
    approve = {"db": db, "operation": "approve", "id": grow["id"]}
    other = task("cloud1.iaas.balancer_proposals", dict(approve, owner="mallory"))
    assert other["failed"] and other["msg"] == "there is no proposal %d for mallory" % grow["id"]
    assert task("cloud1.iaas.balancer_proposals", {"db": db, "owner": "mallory"})["proposals"] == []
    ok = task("cloud1.iaas.balancer_proposals", dict(approve, owner="erin", limit=5))
    # the approval claimed it: this run carries it out, and the next cycle does not hand it out again
    assert ok["changed"] and ok["carry_out"] and ok["proposal"]["status"] == "running"
    assert ok["proposal"]["action"]["disk_gib"] == 5 and ok["proposal"]["decided_by"] == "erin"
    assert cycle(task, gmetad, db)["to_carry_out"] == []
    outcome = {"db": db, "operation": "outcome", "id": grow["id"], "ok": True, "outcome": "grown online to 5 GiB"}
    done = task("cloud1.iaas.balancer_proposals", outcome)
    assert done["proposal"]["status"] == "done"


def test_bad_settings_are_refused_before_anything_is_read(task, tmp_path):
    res = task("cloud1.iaas.balancer_cycle", {"db": str(tmp_path / "b.db"), "port": 1, "allocations": {}, "vms": [],
                                              "settings": {"high": 99}})
    assert res["failed"] and "levels must rise" in res["msg"] and not os.path.exists(str(tmp_path / "b.db"))


def test_a_deleted_vms_pending_proposal_is_withdrawn_by_the_next_cycle(task, gmetad, tmp_path):
    db = str(tmp_path / "balancer.db")
    (grow,) = cycle(task, gmetad, db)["proposals"]
    # mon1 deleted: node1 answered the survey without it (gmetad still has its last figures)
    args = {"db": db, "host": "127.0.0.1", "port": gmetad, "allocations": ALLOCATIONS, "vms": []}
    after = task("cloud1.iaas.balancer_cycle", args)
    assert after["proposals"] == [] and after["to_carry_out"] == []
    (withdrawn,) = task("cloud1.iaas.balancer_proposals", {"db": db})["proposals"]
    assert withdrawn["id"] == grow["id"] and withdrawn["status"] == "expired"
    assert "mon1 is no longer on node1" in withdrawn["outcome"]
    refused = task("cloud1.iaas.balancer_proposals", {"db": db, "operation": "approve", "id": grow["id"]})
    assert refused["failed"] and "expired, not pending" in refused["msg"]
