# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ganglia_graph`` module: a PNG graph of one metric of a node or a VM over a period, drawn from gmetad's
RRDs on the host that keeps them (the master)."""

from __future__ import annotations

import os

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import graphs

ARGUMENT_SPEC = dict(
    metric=dict(type="str", required=True),
    node=dict(type="str"),
    vm=dict(type="str"),
    period=dict(type="str", default="3600"),
    width=dict(type="int", default=800),
    height=dict(type="int", default=300),
    cluster=dict(type="str", default="cloud1"),
    rrd_dir=dict(type="path", default="/var/lib/ganglia/rrds"),
    dest_dir=dict(type="path", default="/var/lib/ganglia/graphs/cloud1"),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_one_of=[("node", "vm")],
                   mutually_exclusive=[("node", "vm")])


def ensure(params, check_mode=False):
    host = params.get("node") or params.get("vm")
    seconds = metrics.parse_period(params["period"])   # bad input refused before anything is read
    src = graphs.rrd_path(params["rrd_dir"], params["cluster"], host, params["metric"])
    if check_mode:
        path = os.path.join(params["dest_dir"], "%s-%s-%d.png" % (host, params["metric"], seconds))
        return {"changed": True, "path": path, "rrd": src, "period": seconds, "width": params["width"],
                "height": params["height"]}
    drawn = graphs.draw(params["rrd_dir"], params["cluster"], host, params["metric"], params["period"],
                        params["dest_dir"], params["width"], params["height"])
    drawn.update({"changed": True, "rrd": src})
    return drawn
