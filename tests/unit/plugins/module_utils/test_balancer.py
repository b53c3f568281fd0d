# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The balancer's rules on synthetic series: waits, at-once levels, hysteresis edges, culprits, caps, consent
bookkeeping and determinism."""
from __future__ import annotations

import json

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import balancer
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

MIN = 60.0


def node(cpu=10.0, memory=10.0, io=0.0, alive=True):
    return {"alive": alive, "cpu": cpu, "memory": memory, "io": io, "disk": 30.0}


def vm(name_node, cpu=30.0, memory=30.0, disk=30.0, vcpus=2, memory_mib=1024, disk_gib=4, owner="alice"):
    return {"node": name_node, "cpu": cpu, "memory": memory, "disk": disk, "io": 0.0, "vcpus": vcpus,
            "memory_mib": memory_mib, "disk_gib": disk_gib, "owner": owner}


def allocations(**alloc):
    base = {n: {"cpus": 4, "memory_mib": 16384, "arch": "x86_64", "vcpus_allocated": 2, "memory_allocated_mib": 1024}
            for n in ("node0", "node1", "node2")}
    for name, values in alloc.items():
        base[name].update(values)
    return base


def run(series, settings=None, alloc=None, pending_keys=()):
    """Feed (t, view) pairs through cycle; return [(t, proposals)] and the last state."""
    state, out = None, []
    for t, view in series:
        res = balancer.cycle(view, alloc or allocations(), t, state, settings, pending=pending_keys)
        state = res["state"]
        out.append((t, res["proposals"]))
    return out, state


def vm_series(values, dim="cpu", step=MIN, **kw):
    return [(i * step, {"nodes": {"node0": node(), "node1": node(), "node2": node()},
                        "vms": {"web1": vm("node1", **dict(kw, **{dim: v}))}}) for i, v in enumerate(values)]


def fired(out):
    return [(t, p["kind"], p["dimension"]) for t, props in out for p in props]


def test_80_percent_for_10_minutes_proposes_growth_and_not_before():
    out, _state = run(vm_series([85] * 12))
    assert fired(out) == [(600.0, "grow", "cpu")]
    proposal = out[10][1][0]
    assert proposal["action"] == {"vm": "web1", "vcpus": 3} and "for 600 s" in proposal["reason"]
    assert proposal["owner"] == "alice" and not proposal["forced"]


def test_90_percent_proposes_at_once():
    out, _state = run(vm_series([50, 92]))
    assert fired(out) == [(60.0, "grow", "cpu")] and "at once" in out[1][1][0]["reason"]


def test_a_spike_shorter_than_the_wait_produces_nothing_and_the_wait_starts_again():
    out, _state = run(vm_series([85] * 9 + [60] + [85] * 9))
    assert fired(out) == []


def test_hysteresis_a_fired_watch_rearms_only_below_the_reset_level():
    # fires at 10 min; 75 % (above the 70 % reset) keeps it disarmed through another long 85 % stretch;
    # 69 % re-arms it; then a full wait fires again
    values = [85] * 11 + [75] + [85] * 11 + [69] + [85] * 11
    out, _state = run(vm_series(values))
    times = [t for t, _kind, _dim in fired(out)]
    assert times == [600.0, (24 + 10) * MIN]


def test_exactly_at_the_levels():
    assert fired(run(vm_series([80] * 11))[0]) == [(600.0, "grow", "cpu")]          # >= 80 counts
    assert fired(run(vm_series([79.9] * 11))[0]) == []
    assert fired(run(vm_series([90]))[0]) == [(0.0, "grow", "cpu")]                   # >= 90 at once
    out, _state = run(vm_series([90, 70, 90]))                                       # 70 is not below reset 70
    assert [t for t, _k, _d in fired(out)] == [0.0]


def test_disk_above_80_proposes_online_growth_and_a_disk_never_shrinks():
    out, _state = run(vm_series([95], dim="disk"))
    assert fired(out) == [(0.0, "grow", "disk")] and out[0][1][0]["action"] == {"vm": "web1", "disk_gib": 6}
    out, _state = run(vm_series([0] * 12, dim="disk"))
    assert all(kind != "shrink" or dim != "disk" for _t, kind, dim in fired(out))


def test_scale_down_after_10_minutes_at_10_percent_or_at_once_at_zero_never_below_the_floor():
    out, _state = run(vm_series([8] * 11, memory=50))
    assert fired(out) == [(600.0, "shrink", "cpu")] and out[10][1][0]["action"] == {"vm": "web1", "vcpus": 1}
    out, _state = run(vm_series([0], memory=50))
    assert fired(out) == [(0.0, "shrink", "cpu")]
    out, _state = run(vm_series([0], memory=50, vcpus=1))
    assert fired(out) == []                                                         # 1 vCPU is the floor
    out, _state = run(vm_series([50, 50, 0], dim="memory", memory_mib=256))
    assert fired(out) == []                                                         # 256 MiB is the floor


def test_scale_down_rearms_only_above_20_percent():
    out, _state = run(vm_series([0, 15, 0, 25, 0], memory=50))
    assert [t for t, _k, _d in fired(out)] == [0.0, 4 * MIN]


def hot_node_series(cpu_values, residents=None, others=10.0):
    residents = residents or {"big": vm("node1", cpu=90, vcpus=2), "small": vm("node1", cpu=90, vcpus=1)}
    return [(i * MIN, {"nodes": {"node0": node(cpu=others), "node1": node(cpu=v), "node2": node(cpu=others + 5)},
                       "vms": residents}) for i, v in enumerate(cpu_values)]


def _settings_without_vm_rules(**kw):
    # the residents' own CPU is high too: keep the VM rules quiet so the node rule is seen alone
    return dict({"wait": 600}, **kw)


def test_a_hot_node_moves_the_vm_with_the_largest_share_to_the_node_placement_picks():
    series = hot_node_series([85] * 11)
    out, _state = run(series)
    moves = [p for _t, props in out for p in props if p["kind"] == "move"]
    assert len(moves) == 1
    move = moves[0]
    assert move["action"] == {"vm": "big", "from": "node1", "to": "node0"} and move["dimension"] == "cpu"
    assert "node node1 cpu 85% >= 80% for 600 s" in move["reason"] and not move["forced"]


def test_95_percent_is_forced_at_once():
    out, _state = run(hot_node_series([96]))
    move = [p for p in out[0][1] if p["kind"] == "move"][0]
    assert move["forced"] and "forced" in move["reason"]


def test_no_move_puts_the_target_above_80_percent():
    out, _state = run(hot_node_series([92], others=76.0))
    assert [p for p in out[0][1] if p["kind"] == "move"] == []


def test_at_most_one_move_per_node_and_a_cap_per_cycle():
    nodes = {"node%d" % i: node(cpu=92 if i < 5 else 5) for i in range(10)}
    vms = {}
    for i in range(5):
        vms["a%d" % i] = vm("node%d" % i, cpu=90, vcpus=1)
        vms["b%d" % i] = vm("node%d" % i, cpu=80, vcpus=1)
    alloc = {n: {"cpus": 4, "memory_mib": 16384, "vcpus_allocated": 2, "memory_allocated_mib": 2048} for n in nodes}
    res = balancer.cycle({"nodes": nodes, "vms": vms}, alloc, 0.0, None, {"moves_per_cycle": 3})
    moves = [p for p in res["proposals"] if p["kind"] == "move"]
    assert len(moves) == 3 and len({m["node"] for m in moves}) == 3


def test_a_moved_vm_cools_down():
    series = hot_node_series([96] * 3, residents={"big": vm("node1", cpu=50, vcpus=2)})
    out, state = run(series)
    assert [t for t, props in out for p in props if p["kind"] == "move"] == [0.0]
    assert state["cooldown"]["big"] == 1800.0


def test_growth_the_node_cannot_hold_becomes_move_then_grow():
    alloc = allocations(node1={"cpus": 1, "vcpus_allocated": 4})   # 4 of 4 vCPUs (1 CPU x overcommit 4) used
    out, _state = run(vm_series([95]), alloc=alloc)
    proposal = out[0][1][0]
    assert proposal["kind"] == "move_and_grow" and proposal["action"]["vcpus"] == 3
    assert proposal["action"]["from"] == "node1" and proposal["action"]["to"] in ("node0", "node2")


def test_a_pending_or_declined_proposal_is_not_raised_again_while_the_load_stays():
    out, state = run(vm_series([92] * 5))
    assert [t for t, _k, _d in fired(out)] == [0.0]     # fired once, then disarmed (declined: stays so)
    out, _state = run(vm_series([92] * 3), pending_keys={"vm:web1:cpu:up"})
    assert fired(out) == []


def test_a_restart_in_the_middle_of_a_wait_keeps_the_wait():
    series = vm_series([85] * 12)
    first, state = run(series[:6])
    stored = json.loads(json.dumps(state))              # what the store keeps across a restart
    res = [balancer.cycle(view, allocations(), t, stored, None) for t, view in series[6:11]]
    for r in res:
        stored = r["state"]
    assert fired(first) == [] and [p["kind"] for p in res[-1]["proposals"]] == ["grow"]


def test_a_level_not_watched_for_longer_than_the_gap_starts_its_hold_over():
    # 5 readings at 85 %, then the loop stops for 10 minutes (no cycle reads the load, which may have fallen),
    # then 85 % again: the 10 minutes are counted from the first reading after the gap, not from the first one
    series = vm_series([85] * 5) + [(t + 600.0 + 4 * MIN, view) for t, view in vm_series([85] * 12)]
    out, _state = run(series)
    assert fired(out) == [(600.0 + 4 * MIN + 600.0, "grow", "cpu")]
    short, _state = run(vm_series([85] * 12), settings={"gap": 60})   # readings a minute apart: within the gap
    assert fired(short) == [(600.0, "grow", "cpu")]


def test_the_same_inputs_give_the_same_proposals():
    series = hot_node_series([96])
    a = balancer.cycle(series[0][1], allocations(), 0.0)
    b = balancer.cycle(series[0][1], allocations(), 0.0)
    assert a == b


def test_a_dead_node_is_not_relieved_and_its_vms_are_not_judged_on_stale_figures():
    view = {"nodes": {"node1": node(cpu=99, alive=False), "node0": node()}, "vms": {}}
    assert balancer.cycle(view, allocations(), 0.0)["proposals"] == []


@pytest.mark.parametrize("values, match", [({"high": 60}, "levels must rise"), ({"low": 30}, "low levels"),
                                           ({"wait": -1}, "not negative"), ({"gap": 0}, "more than 0"),
                                           ({"bogus": 1}, "unknown balancer")])
def test_bad_settings_are_refused(values, match):
    with pytest.raises(InvalidInput, match=match):
        balancer.Settings.from_dict(values)
