# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gmetad reader and the live-load figures, on gmetad XML recorded from the box (fixtures/) and on small
hand-made documents for the edge cases (a dead host, a missing metric, a VM without an agent)."""
from __future__ import annotations

import os

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics, placement
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def recorded(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def host_xml(name, tn, tmax=20, metrics_xml=""):
    return ('<HOST NAME="%s" IP="10.77.0.1" REPORTED="1000" TN="%d" TMAX="%d" DMAX="0" LOCATION="x" '
            'GMOND_STARTED="0">%s</HOST>' % (name, tn, tmax, metrics_xml))


def metric_xml(name, val, kind="float", units="%"):
    return ('<METRIC NAME="%s" VAL="%s" TYPE="%s" UNITS="%s" TN="5" TMAX="60" DMAX="0" SLOPE="both">'
            '<EXTRA_DATA><EXTRA_ELEMENT NAME="GROUP" VAL="x"/></EXTRA_DATA></METRIC>' % (name, val, kind, units))


def doc(*hosts):
    return ('<?xml version="1.0" encoding="ISO-8859-1" standalone="yes"?>\n'
            '<GANGLIA_XML VERSION="3.7.2" SOURCE="gmetad"><GRID NAME="cloud1" AUTHORITY="x" LOCALTIME="1010">'
            '<CLUSTER NAME="cloud1" LOCALTIME="1010" OWNER="x" LATLONG="x" URL="x">%s</CLUSTER></GRID>'
            '</GANGLIA_XML>' % "".join(hosts))


NODE_METRICS = "".join([metric_xml("cpu_idle", 40.0), metric_xml("cpu_wio", 5.0), metric_xml("cpu_user", 50.0),
                        metric_xml("mem_total", 8000000, units="KB"), metric_xml("mem_free", 2000000, units="KB"),
                        metric_xml("mem_buffers", 0, units="KB"), metric_xml("mem_cached", 2000000, units="KB"),
                        metric_xml("disk_total", 100.0, units="GB"), metric_xml("disk_free", 25.0, units="GB"),
                        metric_xml("load_one", 1.5, units=" ")])


def test_ganglias_rule_a_host_silent_for_more_than_4_tmax_is_dead():
    parsed = metrics.parse_gmetad(doc(host_xml("node1", tn=80), host_xml("node2", tn=81), host_xml("node3", 10, 30)))
    hosts = metrics.hosts_of(parsed, "cloud1")
    assert hosts["node1"]["alive"] and hosts["node3"]["alive"]
    assert not hosts["node2"]["alive"]
    assert "81 s" in hosts["node2"]["why"] and "80 s" in hosts["node2"]["why"]


def test_a_views_age_is_its_oldest_live_report_and_dead_hosts_do_not_count():
    parsed = metrics.parse_gmetad(doc(host_xml("node1", tn=3), host_xml("node2", tn=81), host_xml("node3", 12, 30)))
    nodes = metrics.live_view(parsed)["nodes"]
    assert metrics.view_age(nodes) == 12   # node2 (81 s, dead by Ganglia's rule) is left out
    dead = metrics.live_view(metrics.parse_gmetad(doc(host_xml("node2", tn=81))))["nodes"]
    assert metrics.view_age(dead) is None
    assert metrics.view_age({}) is None


def test_node_load_from_gmond_metrics():
    view = metrics.live_view(metrics.parse_gmetad(doc(host_xml("node1", 5, metrics_xml=NODE_METRICS))))
    n1 = view["nodes"]["node1"]
    assert (n1["cpu"], n1["memory"], n1["io"], n1["disk"]) == (55.0, 50.0, 5.0, 75.0)
    assert n1["bands"] == {"cpu": "medium", "memory": "medium", "io": "low", "disk": "high"}
    assert n1["sources"]["io"].startswith("cpu_wio")
    assert view["vms"] == {}


def test_a_missing_metric_is_none_and_says_what_is_missing():
    only_cpu = metric_xml("cpu_idle", 90.0)
    n1 = metrics.live_view(metrics.parse_gmetad(doc(host_xml("node1", 5, metrics_xml=only_cpu))))["nodes"]["node1"]
    assert n1["cpu"] == 10.0 and n1["memory"] is None and n1["disk"] is None
    assert n1["bands"]["memory"] == "unknown" and n1["sources"]["memory"] == "missing"
    assert metrics.value(metrics.hosts_of(metrics.parse_gmetad(doc(host_xml("node1", 5))))["node1"], "load_one") is None


def test_vms_are_told_apart_and_a_vm_without_agent_says_so():
    vm = "".join([metric_xml("vm_cpu", 97.5), metric_xml("vm_memory", 40.0), metric_xml("vm_io_read", 0.0, units="bytes/sec"),
                  metric_xml("vm_io_write", 52428800.0, units="bytes/sec"), metric_xml("vm_node", "node1", "string", ""),
                  metric_xml("vm_disk_status", "no guest agent answers", "string", "")])
    view = metrics.live_view(metrics.parse_gmetad(doc(host_xml("web1", 5, metrics_xml=vm),
                                                      host_xml("node1", 5, metrics_xml=NODE_METRICS))))
    assert list(view["vms"]) == ["web1"] and list(view["nodes"]) == ["node1"]
    web1 = view["vms"]["web1"]
    assert web1["cpu"] == 97.5 and web1["bands"]["cpu"] == "full" and web1["io"] == 50.0 and web1["node"] == "node1"
    assert web1["disk"] is None and web1["sources"]["disk"] == "no guest agent answers"


def test_not_ganglias_xml_is_refused():
    with pytest.raises(InvalidInput, match="not XML"):
        metrics.parse_gmetad("HTTP/1.0 400 Bad Request")
    with pytest.raises(InvalidInput, match="not <GANGLIA_XML>"):
        metrics.parse_gmetad("<html/>")


def test_the_load_table_reads_at_a_glance():
    view = metrics.live_view(metrics.parse_gmetad(doc(host_xml("node1", 5, metrics_xml=NODE_METRICS),
                                                      host_xml("node2", 500))))
    lines = metrics.load_table(view["nodes"])
    assert lines[0].split() == ["NODE", "STATE", "CPU", "MEMORY", "IO", "DISK"]
    assert lines[1].split() == ["node1", "live", "medium", "55%", "medium", "50%", "low", "5%", "high", "75%"]
    assert lines[2].split() == ["node2", "dead", "-", "-", "-", "-"]


@pytest.mark.parametrize("text, seconds", [("3600", 3600), ("90s", 90), ("2h", 7200), ("1 day", 86400),
                                           ("2weeks", 1209600), ("15 minutes", 900)])
def test_periods(text, seconds):
    assert metrics.parse_period(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-5", "two hours", "5 fortnights", "1.5h", "h"])
def test_a_period_that_is_not_a_number_of_units_is_refused(text):
    with pytest.raises(InvalidInput, match="not a number of seconds, hours, days or weeks"):
        metrics.parse_period(text)


def test_vm_rates_from_two_bulk_samples():
    first = {"time": 100.0, "stats": {"cpu.time": 10 * 10 ** 9, "vcpu.current": 2, "balloon.current": 524288,
                                      "balloon.available": 500000, "balloon.unused": 400000, "block.count": 2,
                                      "block.0.rd.bytes": 1000, "block.0.wr.bytes": 0, "block.1.rd.bytes": 999,
                                      "block.1.backingIndex": 1, "net.count": 1, "net.0.rx.bytes": 0,
                                      "net.0.tx.bytes": 0}}
    second = {"time": 110.0, "stats": dict(first["stats"], **{"cpu.time": 25 * 10 ** 9, "block.0.rd.bytes": 11000,
                                                              "block.0.wr.bytes": 20480, "block.1.rd.bytes": 10 ** 9,
                                                              "net.0.rx.bytes": 5000})}
    assert metrics.vm_rates(None, first) == {"vm_vcpus": 2, "vm_memory_mib": 512, "vm_memory": 20.0}
    rates = metrics.vm_rates(first, second)
    assert rates["vm_cpu"] == 75.0           # 15 s of CPU in 10 s on 2 vCPUs
    assert rates["vm_io_read"] == 1000.0     # the backing file's figures are not counted twice
    assert rates["vm_io_write"] == 2048.0 and rates["vm_net_rx"] == 500.0 and rates["vm_net_tx"] == 0.0


def test_vm_rates_without_balloon_statistics_leave_memory_out():
    sample = {"time": 1.0, "stats": {"cpu.time": 0, "vcpu.current": 1, "balloon.current": 262144}}
    assert "vm_memory" not in metrics.vm_rates(None, sample)


def test_disk_usage_from_the_agents_filesystems():
    info = {"fs.count": 2, "fs.0.mountpoint": "/boot", "fs.0.total-bytes": 100, "fs.0.used-bytes": 99,
            "fs.1.mountpoint": "/", "fs.1.total-bytes": 1000, "fs.1.used-bytes": 850}
    assert metrics.vm_disk_usage(info) == 85.0
    assert metrics.vm_disk_usage({"fs.count": 0}) is None


def test_placement_excludes_a_dead_node_with_ganglias_reason_and_weighs_live_load():
    facts = {n: {"cpus": 2, "memory_mib": 8192, "arch": "x86_64"} for n in ("node0", "node1", "node2")}
    view = metrics.live_view(metrics.parse_gmetad(doc(
        host_xml("node0", 5, metrics_xml=NODE_METRICS.replace('"cpu_idle" VAL="40.0"', '"cpu_idle" VAL="95.0"')),
        host_xml("node1", 5, metrics_xml=NODE_METRICS.replace('"cpu_idle" VAL="40.0"', '"cpu_idle" VAL="2.0"')),
        host_xml("node2", 300))))
    decision = placement.decide(facts, vcpus=1, memory_mib=256, live=view["nodes"])
    assert decision["node"] == "node0"
    assert decision["reasons"]["node2"][0].startswith("rejected: Ganglia counts the node dead")
    assert "live load from Ganglia" in decision["reasons"]["node0"][0]
    assert decision["scores"]["node1"] < decision["scores"]["node0"]
    without = placement.decide(facts, vcpus=1, memory_mib=256)
    assert "node2" in without["scores"] and "allocations only" in without["reasons"]["node0"][0]


def test_recorded_box_every_node_live_with_its_own_load_and_the_vm_as_its_own_host():
    """gmetad's XML recorded on the box (3 nodes, mon1 on node1 publishing through the collector)."""
    view = metrics.live_view(metrics.parse_gmetad(recorded("gmetad-box.xml")), "cloud1")
    assert sorted(view["nodes"]) == ["node0", "node1", "node2"] and list(view["vms"]) == ["mon1"]
    assert all(n["alive"] for n in view["nodes"].values())
    for node in view["nodes"].values():
        assert None not in (node["cpu"], node["memory"], node["io"], node["disk"])
    mon1 = view["vms"]["mon1"]
    assert mon1["node"] == "node1" and mon1["cpu"] is not None and mon1["memory"] is not None
    assert mon1["disk"] is not None and mon1["sources"]["disk"] == "vm_disk"
    hosts = metrics.hosts_of(metrics.parse_gmetad(recorded("gmetad-box.xml")))
    assert hosts["node1"]["metrics"]["mem_total"]["units"] == "KB"
    assert hosts["mon1"]["metrics"]["vm_node"]["type"] == "string"


def test_recorded_box_with_node2s_gmond_stopped_node2_is_dead():
    parsed = metrics.parse_gmetad(recorded("gmetad-box-node2-dead.xml"))
    view = metrics.live_view(parsed)
    assert not view["nodes"]["node2"]["alive"] and view["nodes"]["node1"]["alive"]
    assert "dead after 4 x TMAX" in view["nodes"]["node2"]["why"]
    assert metrics.load_table(view["nodes"])[3].split()[:2] == ["node2", "dead"]


GETENT = "10.0.0.10       node0\n10.0.0.11       node1.lab node1\n"


def test_every_node_named_by_its_address_first_name_is_no_problem():
    assert metrics.node_name_problems("10.0.0.10  node0\n10.0.0.11  node1 node1.lab\n",
                                      {"node0": "10.0.0.10", "node1": "10.0.0.11"}) == []


def test_a_node_named_otherwise_or_not_at_all_is_a_problem_each():
    problems = metrics.node_name_problems(GETENT, {"node0": "10.0.0.10", "node1": "10.0.0.11", "node2": "10.0.0.12"})
    assert problems == ["node1 (10.0.0.11) is named node1.lab first on the master",
                        "node2 (10.0.0.12) has no name on the master"]


def test_only_ipv4_addresses_are_looked_up_and_empty_output_means_no_names():
    assert metrics.node_name_problems("", {"node0": "node0.example", "node1": ""}) == []
    assert metrics.node_name_problems(None, {"node0": "10.0.0.10"}) == ["node0 (10.0.0.10) has no name on the master"]
