# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import multiprocessing

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, OperationFailed
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
