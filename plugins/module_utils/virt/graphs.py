# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Graphs of nodes and VMs from gmetad's RRDs (the seed's ``monitor --graph`` and ``generate_graphs.py``),
drawn with rrdtool's Python binding into PNG files of exactly the requested size.

``draw_all`` draws every host's graphs (the ganglia role's graphs timer on the master calls it)."""

from __future__ import annotations

import os
import sys

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, MissingDependency, NotFound, OperationFailed

try:
    import rrdtool
    HAS_RRDTOOL = True
except ImportError:  # pragma: no cover - depends on the host
    rrdtool = None
    HAS_RRDTOOL = False

NODE_METRICS = ("cpu_user", "load_one", "mem_free", "bytes_in")
VM_METRICS_DRAWN = ("vm_cpu", "vm_memory", "vm_disk", "vm_io_write")
# Ganglia's summary directory is not a host
SUMMARY = "__SummaryInfo__"


def hosts(rrd_dir, cluster):
    """The hosts with RRDs in the cluster's directory."""
    base = os.path.join(rrd_dir, cluster)
    if not os.path.isdir(base):
        raise NotFound("no RRDs for cluster %s under %s: does gmetad run on this host and poll the cluster?"
                       % (cluster, rrd_dir))
    return sorted(d for d in os.listdir(base) if d != SUMMARY and os.path.isdir(os.path.join(base, d)))


def host_metrics(rrd_dir, cluster, host):
    """The metrics with an RRD for ``host``."""
    base = os.path.join(rrd_dir, cluster, host)
    return sorted(f[:-4] for f in os.listdir(base) if f.endswith(".rrd"))


def rrd_path(rrd_dir, cluster, host, metric):
    """The RRD of ``metric`` of ``host``; NotFound listing what exists."""
    known = hosts(rrd_dir, cluster)
    if host not in known:
        raise NotFound("Ganglia has no host %s in cluster %s: known hosts are %s" % (host, cluster, ", ".join(known)))
    path = os.path.join(rrd_dir, cluster, host, metric + ".rrd")
    if not os.path.exists(path):
        raise NotFound("%s has no metric %s: its metrics are %s" % (host, metric,
                                                                    ", ".join(host_metrics(rrd_dir, cluster, host))))
    return path


def draw(rrd_dir, cluster, host, metric, period, out_dir, width=800, height=300):
    """Draw one graph; returns {"path", "width", "height", "period", "host", "metric"}."""
    if not HAS_RRDTOOL:
        raise MissingDependency("rrdtool's Python binding is not importable by %s: install python3-rrdtool (the "
                                "ganglia role does on the master)" % sys.executable)
    seconds = metrics.parse_period(period)
    if not (100 <= int(width) <= 4000 and 60 <= int(height) <= 3000):
        raise InvalidInput("graph size %sx%s is out of range (width 100-4000, height 60-3000)" % (width, height))
    src = rrd_path(rrd_dir, cluster, host, metric)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "%s-%s-%d.png" % (host, metric, seconds))
    units = (metrics.VM_METRICS.get(metric) or ("", "", ""))[1]
    tmp = out + ".tmp.png"
    try:
        rrdtool.graph(
            tmp, "--imgformat", "PNG", "--full-size-mode", "--width", str(int(width)), "--height", str(int(height)),
            "--start", "-%d" % seconds, "--end", "now", "--title", "%s %s (last %s)" % (host, metric, _span(seconds)),
            "--vertical-label", units or metric, "--lower-limit", "0", "--slope-mode",
            "DEF:v=%s:sum:AVERAGE" % src.replace(":", "\\:"),
            "AREA:v#7ba3d1", "LINE1:v#1f4e8c:%s" % metric,
            "GPRINT:v:LAST:now %.1lf", "GPRINT:v:AVERAGE:avg %.1lf", "GPRINT:v:MAX:max %.1lf\\l")
    except rrdtool.OperationalError as exc:
        raise OperationFailed("rrdtool could not draw %s of %s: %s" % (metric, host, exc))
    os.replace(tmp, out)
    return {"path": out, "width": int(width), "height": int(height), "period": seconds, "host": host,
            "metric": metric}


def _span(seconds):
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return "%d %s%s" % (count, unit, "s" if count > 1 else "")
    return "%d s" % seconds


def draw_all(rrd_dir, cluster, out_dir, periods=("3600",), width=800, height=300):
    """The graphs timer's round: the standard graphs of every node and VM that has them."""
    drawn, failed = [], []
    for host in hosts(rrd_dir, cluster):
        have = set(host_metrics(rrd_dir, cluster, host))
        wanted = VM_METRICS_DRAWN if "vm_cpu" in have else NODE_METRICS
        for metric in wanted:
            if metric not in have:
                continue
            for period in periods:
                try:
                    drawn.append(draw(rrd_dir, cluster, host, metric, period, out_dir, width, height)["path"])
                except OperationFailed as exc:
                    failed.append(exc.message)
    return drawn, failed
