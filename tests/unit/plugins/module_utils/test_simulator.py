# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator over the balancer's core: a hot host relieved once, a diurnal day without moves back and
forth, arrivals placed on live load."""
from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import simulator

HOSTS = {"h%d" % i: {"cpus": 8, "memory_mib": 32768} for i in range(4)}


def test_a_hot_host_is_relieved_once_after_the_wait_and_stays_so():
    sim = simulator.Simulator(HOSTS)
    for i in range(4):   # placement spreads them; then all four end up hot on h0 by hand
        sim.arrive("vm%d" % i, 2, 2048, simulator.constant(85.0 if i < 2 else 80.0))
    for name in sim.vms:
        sim.vms[name]["node"] = "h0"
    sim.run(3 * 3600)
    moves = list(sim.moves)
    assert moves and all(src == "h0" for _t, _vm, src, _dst in moves)
    assert moves[0][0] >= 600.0                       # not before the wait
    assert sim.back_and_forth() == []
    assert max(sim.peaks[-10:]) <= 80.0               # relieved: no host above the target cap at the end


def test_a_diurnal_day_moves_no_vm_back_and_forth():
    hosts = {"h%d" % i: {"cpus": 8, "memory_mib": 65536} for i in range(6)}
    sim = simulator.Simulator(hosts)
    for i in range(30):
        sim.arrive("vm%02d" % i, 2, 2048, simulator.diurnal(10.0 + (i % 5) * 8, 50.0, phase=(i % 4) * 2.0))
    sim.run(86400)
    assert sim.back_and_forth() == []
    assert len(sim.rejected) == 0
    per_vm = {}
    for _t, vm, _src, _dst in sim.moves:
        per_vm[vm] = per_vm.get(vm, 0) + 1
    assert all(count <= 3 for count in per_vm.values()), per_vm


def test_arrivals_go_where_the_live_load_is_low():
    sim = simulator.Simulator({"a": {"cpus": 4, "memory_mib": 16384}, "b": {"cpus": 4, "memory_mib": 16384}})
    sim.arrive("busy", 4, 2048, simulator.constant(90.0))
    first = sim.vms["busy"]["node"]
    sim.arrive("next", 1, 1024, simulator.constant(10.0))
    assert sim.vms["next"]["node"] != first
