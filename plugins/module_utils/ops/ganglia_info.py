# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ganglia_info`` module: the cluster's live state from gmetad (read-only): every node's and VM's load
in the seed's four dimensions with their bands, live or dead by Ganglia's rule, the seed's load table, and
one metric of one host when asked."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import ConnectionFailed, InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import ganglia

ARGUMENT_SPEC = dict(
    host=dict(type="str", default="localhost"),
    port=dict(type="int", default=ganglia.XML_PORT),
    interactive_port=dict(type="int", default=ganglia.INTERACTIVE_PORT),
    timeout=dict(type="float", default=5.0),
    cluster=dict(type="str", default="cloud1"),
    node=dict(type="str"),
    vm=dict(type="str"),
    metric=dict(type="str"),
    show=dict(type="str", default="all", choices=["all", "live", "dead"]),
    nodes=dict(type="list", elements="str"),
    required=dict(type="bool", default=True),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=[("node", "vm")])


def _unknown(kind, name, known):
    return InvalidInput("Ganglia knows no %s %r in cluster: the %ss it knows are %s" % (
        kind, name, kind, ", ".join(sorted(known)) or "none"))


def _read(params, query=None):
    if query is not None:
        return ganglia.read(params["host"], params["interactive_port"], params["timeout"], query=query)
    return ganglia.read(params["host"], params["port"], params["timeout"])


def _one_host(params, name):
    """The parsed state holding host ``name``: asked of the interactive port for that host alone; the whole
    XML when the host is unknown there (to list what exists)."""
    try:
        parsed = _read(params, "/%s/%s" % (params["cluster"], name))
        if name in metrics.hosts_of(parsed, params["cluster"]):
            return parsed
    except ConnectionFailed:
        pass   # the interactive port closed or refused: the full XML answers too
    return _read(params)


def ensure(params, check_mode=False):
    target = params.get("node") or params.get("vm")
    try:
        parsed = _one_host(params, target) if target else _read(params)
    except ConnectionFailed as exc:
        if params["required"]:
            raise
        return {"changed": False, "reachable": False, "error": exc.message, "nodes": {}, "vms": {},
                "warnings": ["%s; going on without live metrics" % exc.message]}
    if params["cluster"] not in parsed["clusters"]:
        raise InvalidInput("gmetad has no cluster %r: its clusters are %s" % (
            params["cluster"], ", ".join(sorted(parsed["clusters"])) or "none"))
    view = metrics.live_view(parsed, params["cluster"])
    hosts = metrics.hosts_of(parsed, params["cluster"])
    result = {"changed": False, "reachable": True, "cluster": params["cluster"], "nodes": view["nodes"],
              "vms": view["vms"], "age": metrics.view_age(view["nodes"])}
    if params.get("nodes") is not None:   # the inventory's hypervisors: those Ganglia has never heard of
        result["unknown"] = sorted(set(params["nodes"]) - set(view["nodes"]))
    if params.get("node") and params["node"] not in view["nodes"]:
        raise _unknown("node", params["node"], view["nodes"])
    if params.get("vm") and params["vm"] not in view["vms"]:
        raise _unknown("vm", params["vm"], view["vms"])
    subjects = view["vms"] if params.get("vm") else view["nodes"]
    if target:
        subjects = {target: subjects[target]}
    if params["show"] != "all":
        subjects = {n: e for n, e in subjects.items() if e["alive"] == (params["show"] == "live")}
    result["selected"] = sorted(subjects)
    result["live"] = sorted(n for n, e in view["nodes"].items() if e["alive"])
    result["dead"] = sorted(n for n, e in view["nodes"].items() if not e["alive"])
    result["table"] = metrics.load_table(subjects)
    if params.get("metric"):
        result["metric"] = _metric(params["metric"], {n: hosts[n] for n in subjects})
        result["metric_table"] = ["%s %s = %s %s (reported %d s ago)" % (name, params["metric"], m["value"],
                                                                         m["units"], m["tn"])
                                  for name, m in sorted(result["metric"].items())]
    return result


def _metric(name, hosts):
    """{host: {value, units, tn}} of metric ``name``; refused with the metrics that exist when no host has it."""
    found = {}
    for host_name, host in sorted(hosts.items()):
        m = host["metrics"].get(name)
        if m is not None:
            found[host_name] = {"value": m["value"], "units": m["units"], "tn": m["tn"]}
    if not found:
        known = sorted({k for h in hosts.values() for k in h["metrics"]})
        raise InvalidInput("no metric %r on %s: the metrics there are %s" % (
            name, ", ".join(sorted(hosts)) or "any host", ", ".join(known) or "none"))
    return found
