# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live metrics as plain data. Pure Python (no Ansible, no libvirt): the gmetad reader, placement, the
status and loadbalance playbooks, the per-VM collector and (later) the balancer share it.

- ``parse_gmetad``: gmetad's XML (port 8651, or 8652 for one host) into clusters, hosts and metrics, each
  host alive or dead by Ganglia's own rule (dead when its last report is older than 4 x its TMAX);
- ``node_load`` / ``vm_load``: a host's four usage dimensions in percent (the seed's cpu, memory, io and
  disk), each with the metrics it came from, or None and why when they are missing;
- ``vm_rates``: two samples of libvirt's bulk domain statistics into the per-VM figures the collector
  publishes (CPU %, memory used %, block and network byte rates), and ``vm_disk_usage`` from the guest
  agent's filesystem list;
- ``node_name_problems``: whether the master's gmond will name every node as the inventory does.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from ansible_collections.cloud1.iaas.plugins.module_utils.core.placement import band
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

DEAD_FACTOR = 4   # Ganglia: a host is down when nothing was heard from it for 4 x TMAX seconds
DIMENSIONS = ("cpu", "memory", "io", "disk")

# what the collector publishes for each VM (a spoofed host of the cluster); name -> (type, units, what)
VM_METRICS = {
    "vm_cpu": ("float", "%", "CPU used, per cent of the VM's vCPUs"),
    "vm_memory": ("float", "%", "memory used by the guest, per cent of its current memory (balloon)"),
    "vm_disk": ("float", "%", "root filesystem used, per cent (guest agent)"),
    "vm_io_read": ("float", "bytes/sec", "disk bytes read per second"),
    "vm_io_write": ("float", "bytes/sec", "disk bytes written per second"),
    "vm_net_rx": ("float", "bytes/sec", "network bytes received per second"),
    "vm_net_tx": ("float", "bytes/sec", "network bytes sent per second"),
    "vm_vcpus": ("uint32", "vCPUs", "vCPUs the VM runs with"),
    "vm_memory_mib": ("uint32", "MiB", "memory the VM runs with"),
    "vm_node": ("string", "", "the hypervisor the VM runs on"),
    "vm_disk_status": ("string", "", "where the disk figure comes from, or why there is none"),
}
VM_GROUP = "cloud1_vm"
# a VM's I/O in percent of this many bytes per second (the seed's io dimension needs a share, not a rate)
VM_IO_FULL_BPS = 100 * 1024 * 1024


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _metric(elem):
    kind = elem.get("TYPE") or "string"
    raw = elem.get("VAL")
    value = raw if kind == "string" else _number(raw)
    return {"value": value, "type": kind, "units": (elem.get("UNITS") or "").strip(),
            "tn": int(_number(elem.get("TN")) or 0), "tmax": int(_number(elem.get("TMAX")) or 0),
            "dmax": int(_number(elem.get("DMAX")) or 0)}


def _host(elem, localtime):
    tn = int(_number(elem.get("TN")) or 0)
    tmax = int(_number(elem.get("TMAX")) or 0) or 20
    reported = int(_number(elem.get("REPORTED")) or 0)
    metrics = {}
    for m in elem.iter("METRIC"):
        metrics[m.get("NAME")] = _metric(m)
    for m in elem.iter("CUSTOM_METRIC"):   # older gmond spelling of a gmetric-sent metric
        metrics.setdefault(m.get("NAME"), _metric(m))
    alive = tn <= DEAD_FACTOR * tmax
    return {"name": elem.get("NAME"), "ip": elem.get("IP"), "reported": reported, "tn": tn, "tmax": tmax,
            "alive": alive, "localtime": localtime,
            "why": None if alive else "Ganglia heard nothing from it for %d s (dead after %d x TMAX = %d s)"
                                      % (tn, DEAD_FACTOR, DEAD_FACTOR * tmax),
            "metrics": metrics}


def parse_gmetad(text):
    """gmetad's XML as {"source", "version", "clusters": {name: {"localtime", "hosts": {name: host}}}};
    a host is {"name", "ip", "reported", "tn", "tmax", "alive", "why", "metrics": {name: {"value",
    "type", "units", "tn", "tmax", "dmax"}}}. Raises InvalidInput on text that is not Ganglia's XML."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidInput("gmetad's answer is not XML (%s): is the port gmetad's XML port (8651/8652)?" % exc)
    if root.tag != "GANGLIA_XML":
        raise InvalidInput("gmetad's answer is <%s>, not <GANGLIA_XML>: is the port gmetad's?" % root.tag)
    clusters = {}
    for cl in root.iter("CLUSTER"):
        localtime = int(_number(cl.get("LOCALTIME")) or 0)
        hosts = {}
        for h in cl.findall("HOST"):
            host = _host(h, localtime)
            hosts[host["name"]] = host
        clusters[cl.get("NAME")] = {"localtime": localtime, "hosts": hosts}
    return {"source": root.get("SOURCE"), "version": root.get("VERSION"), "clusters": clusters}


def node_name_problems(getent_text, addresses):
    """Why the master's gmond would not name every node as the inventory does, as a list of sentences (empty
    when it will). gmond names a node that reports without spoofing by the reverse lookup of the address it
    sends from (the resolver's first name for it, /etc/hosts first), so each node's address must resolve to
    the node's own name first. ``getent_text`` is the master's ``getent hosts ADDRESS...`` output, ``addresses``
    {node: address}; a node whose address is not an IPv4 address is not looked up (gmond's ACL admits none)."""
    first = {}
    for line in str(getent_text or "").splitlines():
        fields = line.split()
        if len(fields) >= 2:
            first.setdefault(fields[0], fields[1])
    problems = []
    for node, address in sorted(dict(addresses).items()):
        try:
            ipaddress.IPv4Address(str(address))
        except ValueError:
            continue
        name = first.get(str(address))
        if name is None:
            problems.append("%s (%s) has no name on the master" % (node, address))
        elif name != node:
            problems.append("%s (%s) is named %s first on the master" % (node, address, name))
    return problems


def hosts_of(parsed, cluster=None):
    """The hosts of one cluster (or of all, when ``cluster`` is None) as {name: host}."""
    found = {}
    for name, cl in parsed["clusters"].items():
        if cluster is None or name == cluster:
            found.update(cl["hosts"])
    return found


def value(host, name):
    """A metric's value, or None when the host does not report it."""
    metric = host.get("metrics", {}).get(name)
    return None if metric is None else metric["value"]


def _pct(part, whole):
    if part is None or not whole:
        return None
    return max(0.0, min(100.0, 100.0 * part / whole))


def node_load(host):
    """A node's usage in percent from its gmond metrics: {"cpu", "memory", "io", "disk"} (None where a
    metric it needs is missing) and "sources" naming what each came from (or what was missing)."""
    m = {k: value(host, k) for k in ("cpu_idle", "cpu_wio", "mem_total", "mem_free", "mem_buffers", "mem_cached",
                                     "disk_total", "disk_free", "io_busymax")}
    load, sources = {}, {}
    if m["cpu_idle"] is not None:
        load["cpu"] = max(0.0, min(100.0, 100.0 - m["cpu_idle"] - (m["cpu_wio"] or 0.0)))
        sources["cpu"] = "100 - cpu_idle - cpu_wio"
    if m["mem_total"] and m["mem_free"] is not None:
        used = m["mem_total"] - m["mem_free"] - (m["mem_buffers"] or 0.0) - (m["mem_cached"] or 0.0)
        load["memory"] = _pct(used, m["mem_total"])
        sources["memory"] = "mem_total - mem_free - mem_buffers - mem_cached"
    if m["io_busymax"] is not None:
        load["io"] = max(0.0, min(100.0, m["io_busymax"]))
        sources["io"] = "io_busymax"
    elif m["cpu_wio"] is not None:
        load["io"] = max(0.0, min(100.0, m["cpu_wio"]))
        sources["io"] = "cpu_wio (no io_busymax)"
    if m["disk_total"] and m["disk_free"] is not None:
        load["disk"] = _pct(m["disk_total"] - m["disk_free"], m["disk_total"])
        sources["disk"] = "disk_total - disk_free"
    return _complete(load, sources)


def vm_load(host):
    """A VM's usage in percent from what the collector published for it (see VM_METRICS)."""
    load, sources = {}, {}
    for dim, metric in (("cpu", "vm_cpu"), ("memory", "vm_memory"), ("disk", "vm_disk")):
        v = value(host, metric)
        if v is not None:
            load[dim] = max(0.0, min(100.0, v))
            sources[dim] = metric
    rd, wr = value(host, "vm_io_read"), value(host, "vm_io_write")
    if rd is not None and wr is not None:
        load["io"] = _pct(rd + wr, VM_IO_FULL_BPS)
        sources["io"] = "(vm_io_read + vm_io_write) / %d MiB/s" % (VM_IO_FULL_BPS // 1024 // 1024)
    if "disk" not in load:
        sources["disk"] = value(host, "vm_disk_status") or "not reported"
    return _complete(load, sources)


def _complete(load, sources):
    out = {dim: (round(load[dim], 1) if load.get(dim) is not None else None) for dim in DIMENSIONS}
    out["bands"] = {dim: (band(out[dim]) if out[dim] is not None else "unknown") for dim in DIMENSIONS}
    out["sources"] = {dim: sources.get(dim, "missing") for dim in DIMENSIONS}
    return out


def is_vm(host):
    """A host of the cluster that is a VM (published by the collector), not a node."""
    return "vm_cpu" in host.get("metrics", {}) or "vm_node" in host.get("metrics", {})


def live_view(parsed, cluster=None):
    """What placement and status need: {"nodes": {name: {alive, why, tn, load...}}, "vms": {...}}."""
    nodes, vms = {}, {}
    for name, host in sorted(hosts_of(parsed, cluster).items()):
        entry = {"alive": host["alive"], "why": host["why"], "tn": host["tn"], "ip": host["ip"]}
        if is_vm(host):
            entry.update(vm_load(host))
            entry["node"] = value(host, "vm_node")
            vms[name] = entry
        else:
            entry.update(node_load(host))
            nodes[name] = entry
    return {"nodes": nodes, "vms": vms}


def view_age(entries):
    """How old a live view is, in seconds: the largest ``tn`` (seconds since the host last reported) of its live
    entries; None when none is live (a view of dead hosts has no age that placement could trust)."""
    ages = [int(e["tn"]) for e in entries.values() if e.get("alive") and e.get("tn") is not None]
    return max(ages) if ages else None


# ---------------------------------------------------------------------------- the per-VM collector

def vm_rates(prev, cur):
    """The published figures of one VM from two samples of libvirt's bulk statistics ({"time": seconds,
    "stats": {key: value}} as getAllDomainStats gives them). ``prev`` None (the first sample): the
    figures that need a rate are left out."""
    st = cur["stats"]
    out = {}
    vcpus = int(st.get("vcpu.current") or 0)
    if vcpus:
        out["vm_vcpus"] = vcpus
    balloon = st.get("balloon.current")
    if balloon:
        out["vm_memory_mib"] = int(balloon // 1024)
    avail, unused = st.get("balloon.available"), st.get("balloon.unused")
    if avail and unused is not None:
        out["vm_memory"] = round(_pct(avail - unused, avail), 2)
    if prev is None:
        return out
    dt = cur["time"] - prev["time"]
    if dt <= 0:
        return out
    pst = prev["stats"]
    if "cpu.time" in st and "cpu.time" in pst and vcpus:
        out["vm_cpu"] = round(_pct((st["cpu.time"] - pst["cpu.time"]) / 1e9, dt * vcpus), 2)
    for metric, kind, field in (("vm_io_read", "block", "rd.bytes"), ("vm_io_write", "block", "wr.bytes"),
                                ("vm_net_rx", "net", "rx.bytes"), ("vm_net_tx", "net", "tx.bytes")):
        now, before = _sum(st, kind, field), _sum(pst, kind, field)
        if now is not None and before is not None:
            out[metric] = round(max(0.0, (now - before) / dt), 1)
    return out


def _sum(stats, kind, field):
    count = stats.get("%s.count" % kind)
    if count is None:
        return None
    total = 0
    for i in range(int(count)):
        if kind == "block" and stats.get("block.%d.backingIndex" % i):
            continue   # a backing file's figures are already in its top image's
        total += stats.get("%s.%d.%s" % (kind, i, field)) or 0
    return total


def vm_disk_usage(fsinfo, mountpoint="/"):
    """Used per cent of the filesystem mounted at ``mountpoint`` from the guest agent's filesystem info
    (libvirt's guestInfo keys fs.N.mountpoint, fs.N.total-bytes, fs.N.used-bytes), or None."""
    for i in range(int(fsinfo.get("fs.count") or 0)):
        if fsinfo.get("fs.%d.mountpoint" % i) == mountpoint:
            total, used = fsinfo.get("fs.%d.total-bytes" % i), fsinfo.get("fs.%d.used-bytes" % i)
            if total:
                return round(_pct(used or 0, total), 2)
    return None


# ------------------------------------------------------------------------------- the seed's table

def load_table(view, names=None):
    """The seed's Table 1.1 as text: for each node the band of cpu, memory, io and disk (with the percent)
    and live/dead."""
    rows = [("NODE", "STATE", "CPU", "MEMORY", "IO", "DISK")]
    for name, entry in sorted(view.items()):
        if names is not None and name not in names:
            continue
        cells = [name, "live" if entry["alive"] else "dead"]
        for dim in DIMENSIONS:
            pct = entry.get(dim)
            cells.append("-" if pct is None else "%s %3.0f%%" % (entry["bands"][dim], pct))
        rows.append(tuple(cells))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


PERIOD_UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60,
                "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
                "w": 604800, "week": 604800, "weeks": 604800}


def parse_period(text):
    """A graph period ('3600', '90s', '2 hours', '1d', '2weeks') in seconds; InvalidInput otherwise."""
    raw = str(text).strip().lower()
    digits = raw
    unit = ""
    for i, ch in enumerate(raw):
        if not (ch.isdigit()):
            digits, unit = raw[:i], raw[i:].strip()
            break
    if not digits.isdigit() or int(digits) <= 0 or (unit and unit not in PERIOD_UNITS):
        raise InvalidInput("period %r is not a number of seconds, hours, days or weeks (examples: 3600, 90s, 2h, "
                           "1 day, 2weeks); nothing was done" % (text,))
    return int(digits) * PERIOD_UNITS.get(unit, 1)
