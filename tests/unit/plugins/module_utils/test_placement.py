# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core.placement import (
    NodeState,
    Policy,
    Request,
    band,
    decide,
    decide_batch,
    node_from_facts,
    place,
    place_batch,
)


def node(name, **kw):
    base = dict(cpus=8, memory_mib=32768)
    base.update(kw)
    return NodeState(name=name, **base)


@pytest.mark.parametrize("pct,name", [(0, "low"), (30, "low"), (30.1, "medium"), (70, "medium"),
                                      (70.5, "high"), (95, "high"), (95.1, "full")])
def test_seed_bands(pct, name):
    assert band(pct) == name


def test_prefers_the_emptier_node_and_says_why():
    d = place([node("node1", memory_allocated_mib=20000, vcpus_allocated=20), node("node2")],
              Request(vcpus=2, memory_mib=2048))
    assert d.node == "node2"
    assert d.scores["node2"] > d.scores["node1"]
    assert "band low" in d.reasons["node2"][0]
    assert "band medium" in d.reasons["node1"][0]


def test_filters_dead_arch_and_capacity_with_reasons():
    nodes = [node("dead", alive=False), node("arm", arch="aarch64"),
             node("cpu", cpus=1, vcpus_allocated=4), node("mem", memory_mib=4096, memory_allocated_mib=2048),
             node("disk", disk_free_gib=5), node("ok")]
    d = place(nodes, Request(vcpus=1, memory_mib=2048, disk_gib=10))
    assert d.node == "ok"
    assert d.reasons["dead"] == ["rejected: node is not alive"]
    assert "architecture aarch64" in d.reasons["arm"][0]
    assert "vCPUs: 4 allocated + 1 requested > 4" in d.reasons["cpu"][0]
    assert "memory: 2048 MiB allocated + 2048 MiB requested > 3072 MiB usable" in d.reasons["mem"][0]
    assert "disk: 10.0 GiB requested > 5.0 GiB free" in d.reasons["disk"][0]
    assert set(d.scores) == {"ok"}


def test_no_node_fits():
    d = place([node("node1", memory_mib=2048)], Request(vcpus=1, memory_mib=4096))
    assert d.node is None and d.scores == {}
    assert d.reasons["node1"][0].startswith("rejected: memory")


def test_live_metrics_raise_usage_and_full_nodes_take_nothing():
    busy = node("busy", metrics={"cpu": 60.0, "memory": 20.0})
    full = node("full", metrics={"cpu": 97.0})
    idle = node("idle", metrics={"cpu": 5.0})
    d = place([busy, full, idle], Request(vcpus=1, memory_mib=1024))
    assert d.node == "idle"
    assert "above 95%" in d.reasons["full"][0]
    assert "cpu 60%" in d.reasons["busy"][0]


def test_io_heavy_vm_avoids_io_busy_node():
    a = node("a", metrics={"io": 90.0})
    b = node("b", metrics={"io": 10.0}, memory_allocated_mib=4096)
    assert place([a, b], Request(vcpus=1, memory_mib=1024, io="high")).node == "b"


def test_overcommit_policy_changes_capacity():
    n = node("n", cpus=2, vcpus_allocated=4)
    assert place([n], Request(vcpus=2, memory_mib=512)).node == "n"                  # 6 <= 8
    assert place([n], Request(vcpus=2, memory_mib=512), Policy(cpu_overcommit=2.0)).node is None


def test_ties_go_to_the_first_name_and_the_result_is_stable():
    nodes = [node("node2"), node("node1")]
    assert place(nodes, Request(vcpus=1, memory_mib=512)).node == "node1"
    assert place(list(reversed(nodes)), Request(vcpus=1, memory_mib=512)).as_dict()["node"] == "node1"


def test_the_peak_weigher_prefers_the_node_whose_busiest_dimension_stays_lowest():
    # a: CPU nearly free but memory 60 % used; b: both at 40 %: free memory and free vCPUs sum alike, the peak
    # after placement decides (a would reach 60+ %, b stays near 40 %)
    nodes = [node("a", cpus=8, memory_mib=11264, vcpus_allocated=1, memory_allocated_mib=6144),
             node("b", cpus=8, memory_mib=11264, vcpus_allocated=13, memory_allocated_mib=4096)]
    d = place(nodes, Request(vcpus=1, memory_mib=512))
    assert d.node == "b", d.reasons


def test_node_from_facts_fills_each_field_from_its_fact():
    facts = {"cpus": 8, "memory_mib": 32768, "arch": "aarch64", "vcpus_allocated": 3, "memory_allocated_mib": 4096,
             "disk_free_gib": 12.5, "metrics": {"cpu": 40.0}}
    n = node_from_facts("n1", facts)
    assert n == NodeState(name="n1", alive=True, arch="aarch64", cpus=8, memory_mib=32768, vcpus_allocated=3,
                          memory_allocated_mib=4096, disk_free_gib=12.5, metrics={"cpu": 40.0})
    n.metrics["cpu"] = 99.0
    assert facts["metrics"] == {"cpu": 40.0}          # the node's metrics are its own copy
    assert node_from_facts("n2", {"failed": True}).alive is False
    assert node_from_facts("n3", None).alive is False


def test_decide_counts_pending_creations_and_live_load_where_they_are():
    facts = {n: {"cpus": 2, "memory_mib": 5120, "vcpus_allocated": 0, "memory_allocated_mib": 0} for n in ("a", "b")}
    d = decide(facts, 1, 1024, pending={"a": {"vcpus": 6, "memory_mib": 3072}})
    assert d["node"] == "b" and "cpu 88%" in d["reasons"]["a"][0] and "memory 100%" in d["reasons"]["a"][0]
    d = decide(facts, 1, 1024, live={"b": {"alive": True, "cpu": 96.0}})
    assert d["node"] == "a" and d["reasons"]["b"] == ["rejected: live load from Ganglia above 95% (cpu 96%): "
                                                      "the node takes no more requests"]
    d = decide(facts, 1, 1024, live={"a": {"alive": False, "why": "no report for 90 s"}, "b": {"cpu": 20.0}})
    assert d["node"] == "b" and d["reasons"]["a"] == ["rejected: Ganglia counts the node dead: no report for 90 s"]
    assert "live load from Ganglia" in d["reasons"]["b"][0]


def _peak(nodes, plan, requests, policy=Policy()):
    worst = 0.0
    for n in nodes:
        mine = [requests[vm] for vm, d in plan.items() if d.node == n.name]
        cpu = (n.vcpus_allocated + sum(r.vcpus for r in mine)) / (n.cpus * policy.cpu_overcommit)
        mem = (n.memory_allocated_mib + sum(r.memory_mib for r in mine)) / (n.memory_mib - policy.reserved_memory_mib)
        worst = max(worst, cpu, mem)
    return worst


def test_a_batch_places_the_largest_first_and_keeps_the_peak_lower_than_one_by_one():
    # two equal nodes; arrival order: two small VMs, then a big one. One by one the small ones spread over both
    # nodes and the big one lands on a node already holding one; together the big one goes first, alone
    nodes = [node("a", cpus=4, memory_mib=9216), node("b", cpus=4, memory_mib=9216)]
    requests = {"s1": Request(vcpus=1, memory_mib=2048), "s2": Request(vcpus=1, memory_mib=2048),
                "big": Request(vcpus=4, memory_mib=6144)}
    together = place_batch(nodes, requests)
    assert together["big"].node != together["s1"].node == together["s2"].node
    assert together["big"].reasons[together["big"].node][0].startswith("placed with the batch")
    one_by_one, placed = {}, [node("a", cpus=4, memory_mib=9216), node("b", cpus=4, memory_mib=9216)]
    for vm in ("s1", "s2", "big"):
        d = place(placed, requests[vm])
        one_by_one[vm] = d
        chosen = next(n for n in placed if n.name == d.node)
        chosen.vcpus_allocated += requests[vm].vcpus
        chosen.memory_allocated_mib += requests[vm].memory_mib
    assert _peak(nodes, together, requests) == 0.75 < _peak(nodes, one_by_one, requests) == 1.0
    assert [(n.vcpus_allocated, n.memory_allocated_mib) for n in nodes] == [(0, 0), (0, 0)]   # inputs unchanged


def test_a_batch_that_does_not_fit_leaves_the_rest_unplaced_with_the_reasons():
    facts = {"a": {"cpus": 1, "memory_mib": 3072}, "b": {"cpus": 1, "memory_mib": 2048, "arch": "aarch64"}}
    got = decide_batch(facts, [{"name": "x", "vcpus": 1, "memory_mib": 1536}, {"name": "y", "vcpus": 1, "memory_mib": 1024}])
    assert got["placement"] == {"x": "a", "y": None} and got["unplaced"] == ["y"]
    assert got["decisions"]["y"]["reasons"]["a"] == ["rejected: memory: 1536 MiB allocated + 1024 MiB requested > "
                                                     "2048 MiB usable"]
    assert "architecture aarch64" in got["decisions"]["y"]["reasons"]["b"][0]
    again = decide_batch(dict(reversed(list(facts.items()))), [{"name": "y", "vcpus": 1, "memory_mib": 1024},
                                                               {"name": "x", "vcpus": 1, "memory_mib": 1536}])
    assert again == got                                   # the same batch in any order: the same plan


@pytest.mark.parametrize("vms,message", [
    ([{"name": "a", "vcpus": 1, "memory_mib": 512}, {"name": "a", "vcpus": 1, "memory_mib": 512}],
     "a is asked for twice in the batch"),
    ([{"vcpus": 1, "memory_mib": 512}], "item 0 of the batch has no name"),
    ([{"name": "a", "vcpus": "many", "memory_mib": 512}], "a: vcpus, memory_mib and disk_gib are numbers"),
    ([{"name": "a", "vcpus": 0, "memory_mib": 512}], "a: at least 1 vCPU"),
    ([{"name": "a", "vcpus": 1, "memory_mib": 512, "io": "extreme"}], "io low, medium or high"),
])
def test_a_bad_batch_is_refused_by_name(vms, message):
    with pytest.raises(ValueError, match=message):
        decide_batch({"a": {"cpus": 4, "memory_mib": 8192}}, vms)


def test_a_large_cluster_explains_its_ten_best_nodes_and_every_rejected_one():
    from ansible_collections.cloud1.iaas.plugins.module_utils.core import placement as core
    nodes = [node("n%03d" % i, vcpus_allocated=i % 34) for i in range(core.EXPLAIN_ALL + 50)]   # 32,33: full
    nodes.append(node("dead", alive=False))
    d = place(nodes, Request(vcpus=1, memory_mib=512))
    weighed = {n: r for n, r in d.reasons.items() if not r[0].startswith("rejected")}
    rejected = [n for n, r in d.reasons.items() if r[0].startswith("rejected: ")]
    assert len(rejected) == 9 and len(d.scores) + len(rejected) == len(nodes)
    assert d.reasons["dead"] == ["rejected: node is not alive"]
    assert len(weighed) == core.EXPLAIN_TOP and d.node in weighed
    assert sorted(weighed) == sorted(sorted(d.scores, key=lambda n: (-d.scores[n], n))[:core.EXPLAIN_TOP])
    small = place(nodes[:core.EXPLAIN_ALL], Request(vcpus=1, memory_mib=512))
    assert set(small.reasons) == {n.name for n in nodes[:core.EXPLAIN_ALL]}
