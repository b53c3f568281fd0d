# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import cluster
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.core.placement import decide


def vm(name, owner=None, ip=None, state="running"):
    meta = {k: v for k, v in (("owner", owner), ("ip", ip)) if v}
    return {"name": name, "state": state, "vcpus": 1, "memory_mib": 512, "metadata": meta}


RESULTS = {
    "node1": {"vms": [vm("web1", "alice", "10.0.0.100"), vm("db1", "bob", "10.0.0.101", "shutoff")]},
    "node2": {"vms": [vm("web2", "alice", "10.0.0.102")]},
    "node3": {"failed": True, "msg": "unreachable"},
    "node4": None,
}


def test_cluster_vms_join_the_nodes_and_skip_the_silent_ones():
    vms = cluster.cluster_vms(RESULTS)
    assert [(v["name"], v["host"]) for v in vms] == [("db1", "node1"), ("web1", "node1"), ("web2", "node2")]


def test_locate():
    assert cluster.locate(RESULTS, "web2") == "node2"
    assert cluster.locate(RESULTS, "ghost", required=False) is None
    with pytest.raises(NotFound, match="no VM named ghost on any node that answered .no answer from node3, node4"):
        cluster.locate(RESULTS, "ghost")


def test_a_vm_on_two_nodes_is_an_error():
    twice = dict(RESULTS, node4={"vms": [vm("web1")]})
    with pytest.raises(InvalidInput, match="web1 is defined on several nodes .node1, node4."):
        cluster.locate(twice, "web1")


def test_by_owner_by_node_and_addresses():
    owners = cluster.by_owner(RESULTS)
    assert [v["name"] for v in owners["alice"]] == ["web1", "web2"] and owners["bob"][0]["state"] == "shutoff"
    nodes = cluster.by_node(RESULTS)
    assert sorted(nodes) == ["node1", "node2"] and [v["name"] for v in nodes["node2"]] == ["web2"]
    assert cluster.addresses_in_use(RESULTS) == ["10.0.0.100", "10.0.0.101", "10.0.0.102"]


def test_decide_from_plain_node_facts():
    facts = {
        "node1": {"cpus": 4, "memory_mib": 8192, "arch": "x86_64", "vcpus_allocated": 8, "memory_allocated_mib": 4096},
        "node2": {"cpus": 4, "memory_mib": 8192, "arch": "x86_64", "vcpus_allocated": 0, "memory_allocated_mib": 0},
        "node3": {"failed": True},
        "node4": {"failed": True, "msg": "cannot connect to libvirt at qemu+ssh://root@node4/system:\n  refused"},
    }
    decision = decide(facts, vcpus=1, memory_mib=512)
    assert decision["node"] == "node2"
    assert decision["reasons"]["node3"] == ["rejected: the survey has no answer from it"]
    assert decision["reasons"]["node4"] == ["rejected: the survey has no answer from it: cannot connect to libvirt "
                                            "at qemu+ssh://root@node4/system: refused"]
    assert decide(facts, vcpus=64, memory_mib=512)["node"] is None


def test_image_users_are_the_vms_made_from_it_or_running_it():
    base = "/var/lib/cloud1/images/base/export.qcow2"
    made = dict(vm("web1"), metadata={"image": base}, disks=[{"source": "/var/lib/cloud1/images/web1.qcow2"}])
    copy = dict(vm("web2"), metadata={"image": "vm:web1"}, disks=[{"source": "/var/lib/cloud1/images/web2.qcow2"}])
    runs_it = dict(vm("odd"), metadata={}, disks=[{"source": base}, {"source": None}])
    linked_elsewhere = dict(vm("web3"), metadata={"image": "/srv/other/export.qcow2"}, disks=[])
    results = {"node1": {"vms": [made, copy]}, "node2": {"vms": [runs_it, linked_elsewhere]}, "node3": None}
    assert cluster.image_users(results, base) == ["odd", "web1", "web3"]   # same file name: counted, to be safe
    assert cluster.image_users(results, base, exclude=["web1", "odd", "web3"]) == []
    assert cluster.image_users(results, "/var/lib/cloud1/images/base/other.qcow2") == []
    assert cluster.image_users({}, base) == []


def test_a_vm_on_two_nodes_during_a_migration_is_said_to_be_moving():
    moving = {"node1": {"vms": [dict(vm("web1"), persistent=True)]},
              "node2": {"vms": [dict(vm("web1", state="paused"), persistent=False)]}}
    with pytest.raises(InvalidInput, match="web1 is being migrated from node1 to node2 .* wait until it has finished"):
        cluster.locate(moving, "web1")
    stale = {"node1": {"vms": [dict(vm("web1"), persistent=True)]}, "node2": {"vms": [dict(vm("web1"), persistent=True)]}}
    with pytest.raises(InvalidInput, match="defined on several nodes .node1, node2.: undefine the stale copy"):
        cluster.locate(stale, "web1")


def test_pending_allocations_count_creations_under_way_once():
    leases = [
        {"vm": "a", "node": "node1", "state": "creating", "holder": "run-a", "expires": 200, "vcpus": 2, "memory_mib": 512},
        {"vm": "b", "node": "node1", "state": "creating", "holder": "run-b", "expires": 200, "vcpus": 1, "memory_mib": 256},
        {"vm": "c", "node": "node2", "state": "creating", "holder": "run-c", "expires": 50, "vcpus": 4, "memory_mib": 4096},
        {"vm": "d", "node": "node2", "state": "creating", "holder": "run-d", "expires": 200, "vcpus": 1, "memory_mib": 128},
        {"vm": "web1", "node": "node2", "state": "bound", "holder": None, "expires": None, "vcpus": 8, "memory_mib": 8192},
        {"vm": "mine", "node": "node3", "state": "creating", "holder": "me", "expires": 200, "vcpus": 1, "memory_mib": 128},
    ]
    # c expired, d already defined (the survey saw it), web1 bound, mine is this run's own
    assert cluster.pending_allocations(leases, ["d", "web1"], now=100, me="me") == {
        "node1": {"vcpus": 3, "memory_mib": 768}}


def test_placement_counts_pending_creations():
    facts = {"node1": {"cpus": 4, "memory_mib": 8192, "vcpus_allocated": 0, "memory_allocated_mib": 0},
             "node2": {"cpus": 4, "memory_mib": 8192, "vcpus_allocated": 1, "memory_allocated_mib": 512}}
    assert decide(facts, vcpus=1, memory_mib=512)["node"] == "node1"
    assert decide(facts, vcpus=1, memory_mib=512, pending={"node1": {"vcpus": 4, "memory_mib": 4096}})["node"] == "node2"


def test_node_uris_reach_the_others_by_ssh_and_here_locally():
    uris = cluster.node_uris(["node0", "node1"], "node0")
    assert uris == {"node0": "qemu:///system", "node1": "qemu+ssh://root@node1/system"}
    assert cluster.node_uris(["node1"], "master") == {"node1": "qemu+ssh://root@node1/system"}
    assert cluster.node_uris([], "node0") == {}
