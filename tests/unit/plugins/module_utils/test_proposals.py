# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The balancer's store (SQLite in a temporary directory): the policy state across a restart, proposals from
pending to answered to carried out, who may answer, expiry, and the cycle -> store -> cycle round trip."""
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store

GROW = {"key": "vm:web1:disk:up", "kind": "grow", "subject": "web1", "node": "node1", "dimension": "disk",
        "owner": "alice", "forced": False, "action": {"vm": "web1", "disk_gib": 6}, "reason": "web1 disk 92%"}
MOVE = {"key": "node:node1:cpu", "kind": "move", "subject": "db1", "node": "node1", "dimension": "cpu",
        "owner": "bob", "forced": True, "action": {"vm": "db1", "from": "node1", "to": "node2"}, "reason": "forced"}


def test_a_restart_loses_no_wait_and_no_pending_proposal(tmp_path):
    db = str(tmp_path / "balancer.db")
    state = {"watches": {"vm:web1:cpu:up": {"since": 120.0, "armed": True}}, "cooldown": {"db1": 2000.0}}
    Store(db).record_cycle(state, [GROW], 300.0)
    again, keys = Store(db).load()            # a new process: only the file is shared
    assert again == state and keys == ["vm:web1:disk:up"]


def test_pending_approved_done_and_the_limit(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    (p,) = store.record_cycle({}, [GROW], 10.0)
    assert p["status"] == "pending" and p["action"] == {"vm": "web1", "disk_gib": 6}
    answered = store.answer(p["id"], True, "alice", 20.0, owner="alice", limit=8)
    assert answered["status"] == "approved" and answered["action"]["disk_gib"] == 8 and answered["decided_by"] == "alice"
    with pytest.raises(InvalidInput, match="not pending"):
        store.answer(p["id"], False, "admin", 21.0)
    done = store.outcome(p["id"], True, "grown online to 8 GiB", 30.0)
    assert done["status"] == "done" and done["outcome"] == "grown online to 8 GiB"


def test_forced_proposals_are_recorded_as_forced_and_need_no_answer(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    (p,) = store.record_cycle({}, [MOVE], 10.0)
    assert p["status"] == "forced" and p["forced"]
    with pytest.raises(InvalidInput, match="not pending"):
        store.answer(p["id"], False, "bob", 11.0, owner="bob")
    assert store.outcome(p["id"], False, "migration failed: x", 12.0)["status"] == "failed"


def test_only_the_owner_or_an_admin_sees_and_answers_a_proposal(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    (p,) = store.record_cycle({}, [GROW], 10.0)
    with pytest.raises(NotFound, match="there is no proposal %d for mallory" % p["id"]):
        store.answer(p["id"], True, "mallory", 11.0, owner="mallory")
    assert store.get(p["id"])["status"] == "pending"      # nothing changed
    assert store.list(owner="mallory") == [] and [x["id"] for x in store.list(owner="alice")] == [p["id"]]
    assert store.answer(p["id"], False, "admin", 12.0)["status"] == "declined"


def test_decline_with_a_limit_and_a_limit_on_a_move_are_refused(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    grow, move = store.record_cycle({}, [GROW, dict(MOVE, forced=False)], 10.0)
    with pytest.raises(InvalidInput, match="goes with an approval"):
        store.answer(grow["id"], False, "alice", 11.0, limit=8)
    with pytest.raises(InvalidInput, match="no size to limit"):
        store.answer(move["id"], True, "bob", 11.0, limit=8)
    with pytest.raises(InvalidInput, match="not a whole number"):
        store.answer(grow["id"], True, "alice", 11.0, limit="lots")
    assert store.get(grow["id"])["status"] == "pending" and store.get(move["id"])["status"] == "pending"


def test_unanswered_proposals_expire(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    (p,) = store.record_cycle({}, [GROW], 10.0)
    store.record_cycle({}, [], 4000.0, expire_after=3600)
    assert store.get(p["id"])["status"] == "expired" and "3600 s" in store.get(p["id"])["outcome"]
    assert store.load()[1] == []


def test_proposals_of_a_deleted_vm_are_withdrawn_and_a_silent_nodes_are_kept(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    other = dict(GROW, key="vm:app1:disk:up", subject="app1", node="node3")
    grow, move, app = store.record_cycle({}, [GROW, MOVE, other], 10.0)
    done = store.record_cycle({}, [dict(GROW, key="vm:web2:disk:up", subject="web2")], 11.0)[0]
    store.answer(done["id"], True, "alice", 12.0)
    store.outcome(done["id"], True, "grown", 12.0)
    # web1 and db1 are gone from node1, which answered; node3 (app1's) did not answer the survey
    store.record_cycle({}, [], 20.0, seen={"nodes": ["node1", "node2"], "vms": ["web2", "other"]})
    for p in (grow, move):
        after = store.get(p["id"])
        assert after["status"] == "expired" and "%s is no longer on node1" % p["subject"] in after["outcome"]
    assert store.get(app["id"])["status"] == "pending"
    assert store.get(done["id"])["status"] == "done"       # what was carried out keeps its outcome
    assert store.load()[1] == ["vm:app1:disk:up"]
    # a VM that moved (to node2) keeps its proposal
    (moved,) = store.record_cycle({}, [dict(GROW, key="vm:web3:disk:up", subject="web3")], 30.0)
    store.record_cycle({}, [], 31.0, seen={"nodes": ["node1", "node2"], "vms": ["web3"]})
    assert store.get(moved["id"])["status"] == "pending"


def test_cycle_store_cycle_a_pending_proposal_is_not_raised_twice(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    allocations = {n: {"cpus": 4, "memory_mib": 16384, "vcpus_allocated": 2, "memory_allocated_mib": 1024}
                   for n in ("node1", "node2")}
    view = {"nodes": {"node1": {"cpu": 10.0, "memory": 10.0, "io": 0.0}, "node2": {"cpu": 10.0, "memory": 10.0}},
            "vms": {"web1": {"node": "node1", "cpu": 40.0, "memory": 40.0, "disk": 93.0, "vcpus": 1,
                             "memory_mib": 512, "disk_gib": 4, "owner": "alice"}}}
    for t in (0.0, 60.0, 120.0):
        state, pending = store.load()
        res = balancer.cycle(view, allocations, t, state, pending=pending)
        store.record_cycle(res["state"], res["proposals"], t)
    assert [(p["kind"], p["dimension"], p["status"]) for p in store.list()] == [("grow", "disk", "pending")]


def test_a_ready_proposal_is_claimed_by_one_run_only(tmp_path):
    db = str(tmp_path / "b.db")
    grow, move = Store(db).record_cycle({}, [GROW, MOVE], 10.0)
    Store(db).answer(grow["id"], True, "alice", 11.0, owner="alice")
    first = Store(db).claim(12.0)                  # the timer's cycle
    want = [(grow["id"], "running", False), (move["id"], "running", True)]
    assert [(p["id"], p["status"], p["forced"]) for p in first] == want
    assert Store(db).claim(12.5) == [] and Store(db).claim(12.5, grow["id"]) == []   # a second run gets nothing
    assert Store(db).load()[1] == sorted([GROW["key"], MOVE["key"]])   # still open: not raised again meanwhile
    assert Store(db).outcome(move["id"], True, "moved to node2", 13.0)["status"] == "done"
    with pytest.raises(InvalidInput, match="not being carried out"):
        Store(db).outcome(move["id"], False, "again", 14.0)


def test_a_claim_with_no_outcome_fails_after_stale_after(tmp_path):
    store = Store(str(tmp_path / "b.db"))
    (p,) = store.record_cycle({}, [MOVE], 10.0)
    store.claim(20.0)
    store.record_cycle({}, [], 100.0, stale_after=100)         # 80 s since the claim: still running
    assert store.get(p["id"])["status"] == "running"
    store.record_cycle({}, [], 121.0, stale_after=100)         # 101 s: the run that claimed it stopped
    stale = store.get(p["id"])
    assert stale["status"] == "failed" and "no outcome recorded within 100 s" in stale["outcome"]


def test_the_cycle_lock_is_held_by_one_holder_at_a_time(tmp_path):
    import fcntl
    db = str(tmp_path / "b.db")
    with Store(db).cycle_lock():
        with open(db + ".lock") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(db + ".lock") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)    # released when the cycle ends
