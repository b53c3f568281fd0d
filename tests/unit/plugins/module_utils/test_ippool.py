# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import multiprocessing

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.state.leases import Pool


def pool(tmp_path, **kw):
    args = dict(gateway="10.77.0.1", excluded=["10.77.0.10", "10.77.0.11"])
    args.update(kw)
    return Pool(str(tmp_path / "leases.db"), "10.77.0.0/24", **args)


def test_first_free_skips_network_gateway_nodes_and_in_use(tmp_path):
    p = pool(tmp_path, first="10.77.0.9", last="10.77.0.14", in_use=["10.77.0.12"])
    assert p.free(10) == ["10.77.0.9", "10.77.0.13", "10.77.0.14"]
    assert Pool(str(tmp_path / "x.db"), "10.0.0.0/30").free(5) == ["10.0.0.1", "10.0.0.2"]


def test_allocate_is_idempotent_per_vm_and_release_frees(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    assert p.allocate("alice-web1", owner="alice") == ("10.77.0.100", True)
    assert p.allocate("alice-web1", owner="alice") == ("10.77.0.100", False)
    assert p.allocate("bob-db1") == ("10.77.0.101", True)
    assert [lease["vm"] for lease in p.leases()] == ["alice-web1", "bob-db1"]
    assert p.release("alice-web1") == "10.77.0.100"
    assert p.release("alice-web1") is None
    assert p.free(1) == ["10.77.0.100"]


def test_requested_address(tmp_path):
    p = pool(tmp_path)
    assert p.allocate("a", requested="10.77.0.50") == ("10.77.0.50", True)
    with pytest.raises(InvalidInput, match="already leased"):
        p.allocate("b", requested="10.77.0.50")
    with pytest.raises(InvalidInput, match="already holds 10.77.0.50"):
        p.allocate("a", requested="10.77.0.51")


@pytest.mark.parametrize("ip,msg", [
    ("10.78.0.5", "outside the subnet"), ("10.77.0.0", "network address"), ("10.77.0.255", "broadcast address"),
    ("10.77.0.1", "reserved or already in use"), ("10.77.0.10", "reserved or already in use"),
    ("10.77.0.300", "not an IP address"), ("eth0", "not an IP address"),
])
def test_bad_requested_addresses_change_nothing(tmp_path, ip, msg):
    p = pool(tmp_path)
    with pytest.raises(InvalidInput, match=msg):
        p.allocate("x", requested=ip)
    assert p.leases() == []


def test_exhaustion_and_bad_ranges(tmp_path):
    p = pool(tmp_path, first="10.77.0.200", last="10.77.0.201")
    p.allocate("a")
    p.allocate("b")
    with pytest.raises(OperationFailed, match="no free address left"):
        p.allocate("c")
    with pytest.raises(InvalidInput, match="start is after its end"):
        pool(tmp_path, first="10.77.0.50", last="10.77.0.40")
    with pytest.raises(InvalidInput, match="outside the subnet"):
        pool(tmp_path, first="10.1.1.1")
    with pytest.raises(InvalidInput, match="count must be at least 1"):
        p.free(0)


def _take(args):
    db, name = args
    return Pool(db, "10.77.0.0/24", gateway="10.77.0.1").allocate(name)[0]


def test_twenty_concurrent_allocations_never_share(tmp_path):
    db = str(tmp_path / "leases.db")
    Pool(db, "10.77.0.0/24").leases()   # create the schema once, as the master does
    with multiprocessing.get_context("fork").Pool(20) as workers:
        ips = workers.map(_take, [(db, "vm%02d" % i) for i in range(20)])
    assert len(set(ips)) == 20
    assert sorted(lease["ip"] for lease in Pool(db, "10.77.0.0/24").leases()) == sorted(ips)


def test_dry_run_writes_nothing(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    assert p.allocate("a", dry_run=True) == ("10.77.0.100", True)
    assert p.leases() == []
    p.allocate("a")
    assert p.allocate("a", dry_run=True) == ("10.77.0.100", False)
    assert p.release("a", dry_run=True) == "10.77.0.100"
    assert [lease["vm"] for lease in p.leases()] == ["a"]


# -- the name's reservation by a creation run ---------------------------------------------------------

def test_a_second_run_for_a_name_is_refused_while_the_first_holds_it(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    assert p.allocate("web1", owner="alice", node="node1", holder="run-a") == ("10.77.0.100", True)
    held = p.lease("web1")
    assert (held["state"], held["holder"], held["node"], held["owner"]) == ("creating", "run-a", "node1", "alice")
    with pytest.raises(InvalidInput, match="web1 is being created by another run .run-a, on node node1"):
        p.allocate("web1", owner="alice", node="node2", holder="run-b")
    with pytest.raises(InvalidInput, match="the name web1 is taken"):
        p.allocate("web1", owner="mallory", holder="run-c", takeover="run-a")
    assert p.allocate("web1", owner="alice", node="node1", holder="run-a") == ("10.77.0.100", False)
    assert p.lease("web1") == held   # refusals and the holder's own rerun changed nothing


def test_a_dead_runs_reservation_passes_to_the_run_that_names_it(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    p.allocate("web1", owner="alice", node="node1", holder="run-a")
    with pytest.raises(InvalidInput, match="being created by another run"):
        p.allocate("web1", owner="alice", holder="run-b", takeover="run-x")   # not the holder: refused
    assert p.allocate("web1", owner="alice", holder="run-b", takeover="run-a") == ("10.77.0.100", True)
    now = p.lease("web1")
    assert (now["holder"], now["node"], now["state"]) == ("run-b", "node1", "creating")   # the node is kept
    assert p.allocate("web1", owner="alice", holder="run-b", dry_run=True) == ("10.77.0.100", False)


def test_an_expired_reservation_passes_without_takeover(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    p.allocate("web1", owner="alice", holder="run-a", ttl=-1)
    assert p.allocate("web1", owner="alice", holder="run-b") == ("10.77.0.100", True)
    assert p.lease("web1")["holder"] == "run-b"


def test_bind_ends_the_reservation_and_is_idempotent(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    p.allocate("web1", owner="alice", holder="run-a")
    with pytest.raises(InvalidInput, match="reserved by another run .run-a."):
        p.bind("web1", holder="run-b")
    assert p.bind("web1", holder="run-a", dry_run=True) == ("10.77.0.100", True)
    assert p.lease("web1")["state"] == "creating"
    assert p.bind("web1", holder="run-a") == ("10.77.0.100", True)
    lease = p.lease("web1")
    assert (lease["state"], lease["holder"], lease["expires"]) == ("bound", None, None)
    assert p.bind("web1", holder="run-a") == ("10.77.0.100", False)
    # a bound lease is the VM's: a later run asking for it (a rerun, the VM exists) gets it unchanged
    assert p.allocate("web1", owner="alice", holder="run-c") == ("10.77.0.100", False)
    assert p.lease("web1")["state"] == "bound"
    with pytest.raises(NotFound, match="holds no lease"):
        p.bind("web2")


def test_stale_leases_leave_out_creations_in_progress(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    p.allocate("web1")                              # bound, its VM exists
    p.allocate("gone")                              # bound, its VM was deleted outside the playbooks
    p.allocate("new", holder="run-a")               # a creation in progress: no VM yet
    p.allocate("dead", holder="run-b", ttl=-1)      # a reservation that expired
    assert [lease["vm"] for lease in p.stale(["web1"])] == ["gone", "dead"]
    assert p.stale(["web1", "gone", "new", "dead"]) == []


def test_release_older_than_spares_a_lease_touched_since(tmp_path):
    p = pool(tmp_path, first="10.77.0.100")
    p.allocate("old")
    survey = p.lease("old")["updated"] + 0.001
    p.allocate("young")
    young = p.lease("young")["updated"]
    assert p.release("young", older_than=young) is None        # touched at (not before) that time: kept
    assert p.release("old", older_than=survey) == "10.77.0.100"
    assert [lease["vm"] for lease in p.leases()] == ["young"]


def test_free_count_says_how_many_are_left(tmp_path):
    p = pool(tmp_path, first="10.77.0.200", last="10.77.0.203")
    assert p.free_count() == 4
    p.allocate("a")
    assert p.free_count() == 3 and p.free(10) == ["10.77.0.201", "10.77.0.202", "10.77.0.203"]


def test_a_database_of_the_first_release_gains_the_new_columns(tmp_path):
    import sqlite3
    db = str(tmp_path / "leases.db")
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE leases (subnet TEXT NOT NULL, ip TEXT NOT NULL, vm TEXT NOT NULL, owner TEXT, "
                       "created REAL NOT NULL, PRIMARY KEY (subnet, ip));"
                       "INSERT INTO leases VALUES ('10.77.0.0/24', '10.77.0.150', 'web1', 'alice', 1.0);")
    conn.commit()
    conn.close()
    p = Pool(db, "10.77.0.0/24")
    lease = p.lease("web1")
    assert (lease["ip"], lease["state"], lease["holder"]) == ("10.77.0.150", "bound", None)
    assert p.allocate("web1", owner="alice", holder="run-a") == ("10.77.0.150", False)


def _reserve(args):
    db, holder = args
    try:
        return Pool(db, "10.77.0.0/24").allocate("same", owner="alice", holder=holder)[0]
    except InvalidInput as exc:
        return exc.message


def test_concurrent_runs_for_one_name_exactly_one_wins(tmp_path):
    db = str(tmp_path / "leases.db")
    Pool(db, "10.77.0.0/24").leases()
    with multiprocessing.get_context("fork").Pool(8) as workers:
        answers = workers.map(_reserve, [(db, "run-%d" % i) for i in range(8)])
    winners = [a for a in answers if "being created" not in a]
    assert len(winners) == 1 and len(Pool(db, "10.77.0.0/24").leases()) == 1


# -- placement inside the reservation's transaction (ip_lease place=) ----------------------------------------

NODES = {"node%d" % i: {"cpus": 2, "memory_mib": 8035, "vcpus_allocated": 0, "memory_allocated_mib": 0,
                        "disk_free_gib": 100.0, "arch": "x86_64"} for i in range(3)}


def _lease_placed(args):
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import ip_lease
    db, name = args
    params = dict(db=db, subnet="10.77.0.0/24", range_start=None, range_end=None, gateway="10.77.0.1", exclude=[],
                  in_use=[], vm=name, owner="stress", address=None, node=None, holder="run-" + name, takeover=None,
                  ttl=3600, vcpus=1, memory_mib=256, older_than=None, state="present",
                  place={"nodes": NODES, "existing": [], "request": {"vcpus": 1, "memory_mib": 256, "io": "medium"}})
    try:
        return ip_lease.ensure(params)["node"]
    except InvalidInput as exc:
        return exc.message


def test_runs_started_together_spread_out_when_placed_with_the_reservation(tmp_path):
    """20 runs that surveyed the same empty cluster: each places inside the lease transaction, seeing the
    reservations taken before it, so they spread over the nodes (make stress put all 20 on one node when each
    placed from its survey alone)."""
    db = str(tmp_path / "leases.db")
    Pool(db, "10.77.0.0/24").leases()
    with multiprocessing.get_context("fork").Pool(8) as workers:
        nodes = workers.map(_lease_placed, [(db, "stress%02d" % i) for i in range(20)])
    counts = {n: nodes.count(n) for n in set(nodes)}
    assert set(counts) == set(NODES) and max(counts.values()) - min(counts.values()) <= 1, counts
    rows = Pool(db, "10.77.0.0/24").leases()
    assert sorted(r["node"] for r in rows) == sorted(nodes) and {r["state"] for r in rows} == {"creating"}


def test_no_node_left_refuses_the_reservation_and_writes_nothing(tmp_path):
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import ip_lease
    db = str(tmp_path / "leases.db")
    full = {"node0": dict(NODES["node0"], memory_mib=1024)}   # all of it reserved for the node itself
    params = dict(db=db, subnet="10.77.0.0/24", range_start=None, range_end=None, gateway="10.77.0.1", exclude=[],
                  in_use=[], vm="big", owner="alice", address=None, node=None, holder="run-1", takeover=None,
                  ttl=3600, vcpus=1, memory_mib=4096, older_than=None, state="present",
                  place={"nodes": full, "existing": [], "request": {"vcpus": 1, "memory_mib": 4096}})
    with pytest.raises(InvalidInput, match="no node can take the VM now"):
        ip_lease.ensure(params)
    assert Pool(db, "10.77.0.0/24").leases() == []
    with pytest.raises(InvalidInput, match="place needs nodes"):
        ip_lease.ensure(dict(params, place={"request": {}}))
