# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The survey's fan-out (ops.cluster_info.survey): each node read in its own thread, a silent node failed after the
timeout without holding the others, an error kept to its node. The reader of one node is replaced (the real one
is driven against libvirt's test driver in tests/integration/test_node_info.py and on the box)."""
from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import ConnectionFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import cluster_info


def test_a_silent_node_is_failed_at_the_timeout_and_the_others_answer(monkeypatch):
    release = threading.Event()

    def read(uri, vms=False):
        if uri.endswith("hang"):
            release.wait(30)
        if uri.endswith("down"):
            raise ConnectionFailed("cannot connect to libvirt at %s: refused" % uri)
        if uri.endswith("odd"):
            raise KeyError("cpus")
        return {"uri": uri, "vms": [] if vms else None, "disk_free_gib": None}

    monkeypatch.setattr(cluster_info, "node_facts", read)
    nodes = {"n1": "x://n1", "n2": "x://hang", "n3": "x://down", "n4": "x://odd"}
    t0 = time.monotonic()
    try:
        out = cluster_info.survey(nodes, disk_dir="/", timeout=1, workers=2, retry_after=0.01)
    finally:
        release.set()
    assert time.monotonic() - t0 < 10
    assert out["n1"]["uri"] == "x://n1" and out["n1"]["vms"] == [] and out["n1"]["disk_free_gib"] > 0
    assert out["n2"]["failed"] and "n2 did not answer within 1 s at x://hang" in out["n2"]["msg"]
    assert out["n3"] == {"failed": True, "uri": "x://down", "msg": "cannot connect to libvirt at x://down: refused"}
    assert out["n4"]["failed"] and "KeyError" in out["n4"]["msg"]
    assert "disk_free_gib" not in out["n3"]


def test_a_refused_connection_is_tried_once_more(monkeypatch):
    calls = []

    def read(uri, vms=False):
        calls.append(uri)
        if uri.endswith("flaky") and calls.count(uri) == 1:
            raise ConnectionFailed("cannot connect to libvirt at %s: Connection reset by peer" % uri)
        if uri.endswith("down"):
            raise ConnectionFailed("cannot connect to libvirt at %s: refused" % uri)
        return {"uri": uri, "disk_free_gib": None}

    monkeypatch.setattr(cluster_info, "node_facts", read)
    out = cluster_info.survey({"n1": "x://flaky", "n2": "x://down"}, timeout=5, retry_after=0.01)
    assert out["n1"] == {"uri": "x://flaky", "disk_free_gib": None}
    assert out["n2"]["failed"] and sorted(calls) == ["x://down", "x://down", "x://flaky", "x://flaky"]


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError):
        cluster_info.survey({"n1": "x://n1"}, timeout=0)
    with pytest.raises(ValueError):
        cluster_info.survey({"n1": "x://n1"}, workers=0)
