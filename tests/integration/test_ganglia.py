# -*- coding: utf-8 -*-
"""ganglia_info through ansible-playbook against gmetad's XML recorded on the box, served on a local port (the
real reader reads a real socket); the collector's round against libvirt's test driver."""

import json
import os
import socket
import socketserver
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "plugins", "module_utils", "fixtures")


class _Gmetad(socketserver.BaseRequestHandler):
    xml = b""

    def handle(self):
        self.request.sendall(self.xml)


@pytest.fixture
def gmetad():
    """A port that answers like gmetad with the XML recorded on the box (node2 dead)."""
    with open(os.path.join(FIXTURES, "gmetad-box-node2-dead.xml"), "rb") as f:
        handler = type("Handler", (_Gmetad,), {"xml": f.read()})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_load_table_and_live_dead_from_gmetad(task, gmetad):
    res = task("cloud1.iaas.ganglia_info", {"host": "127.0.0.1", "port": gmetad, "interactive_port": gmetad,
                                            "nodes": ["node0", "node1", "node2", "node3"]})
    assert not res.get("failed"), res
    assert res["reachable"] and res["live"] == ["node0", "node1"] and res["dead"] == ["node2"]
    assert res["unknown"] == ["node3"] and list(res["vms"]) == ["mon1"]
    assert res["table"][0].split()[:2] == ["NODE", "STATE"] and len(res["table"]) == 4
    one = task("cloud1.iaas.ganglia_info", {"host": "127.0.0.1", "port": gmetad, "interactive_port": gmetad,
                                            "node": "node1", "metric": "load_one"})
    assert one["selected"] == ["node1"] and one["metric_table"][0].startswith("node1 load_one = ")
    dead = task("cloud1.iaas.ganglia_info", {"host": "127.0.0.1", "port": gmetad, "show": "dead"})
    assert dead["selected"] == ["node2"]


def test_unknown_names_are_refused_with_what_exists(task, gmetad):
    args = {"host": "127.0.0.1", "port": gmetad, "interactive_port": gmetad}
    res = task("cloud1.iaas.ganglia_info", dict(args, node="node9"))
    assert res["failed"] and "knows no node 'node9'" in res["msg"] and "node0, node1, node2" in res["msg"]
    res = task("cloud1.iaas.ganglia_info", dict(args, vm="mon1", metric="cpu_user"))
    assert res["failed"] and "no metric 'cpu_user'" in res["msg"] and "vm_cpu" in res["msg"]


def test_gmetad_down_fails_in_one_line_or_warns_when_not_required(task):
    port = free_port()
    res = task("cloud1.iaas.ganglia_info", {"host": "127.0.0.1", "port": port, "interactive_port": port, "timeout": 2})
    assert res["failed"] and "cannot be read" in res["msg"] and "\n" not in res["msg"]
    res = task("cloud1.iaas.ganglia_info", {"host": "127.0.0.1", "port": port, "required": False, "timeout": 2})
    assert not res.get("failed") and res["reachable"] is False and res["nodes"] == {}
    assert any("going on without live metrics" in w for w in res.get("warnings", []))


def test_a_silent_gmetad_times_out():
    """A port that accepts and never answers: the reader gives up at its timeout instead of hanging."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.errors import ConnectionFailed
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt import ganglia
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with pytest.raises(ConnectionFailed, match="cannot be read"):
            ganglia.read_xml("127.0.0.1", listener.getsockname()[1], timeout=1.0)


def test_the_collector_publishes_each_running_vm_as_its_own_host(conn):
    """One round against the test driver: every running domain is published under "name:name" (never its IP,
    which the next VM reuses once it is deleted, and gmond keys hosts by that part) with a heartbeat;
    the driver has no guest agent, so no disk figure and the reason instead."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt.collector import Collector
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt.ganglia import Publisher
    sent = []

    def runner(cmd, **kw):
        sent.append(cmd)
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    client = LibvirtClient("test:///default", conn=conn)
    client.lookup("test").set_metadata({"owner": "carol", "ip": "10.77.0.150"})
    try:
        out = Collector(client, Publisher(runner=runner), node="node7").round()
    finally:
        client.lookup("test").set_metadata({})   # the driver's domain as the next test expects it
    assert out["test"]["vm_node"] == "node7" and out["test"]["vm_disk_status"] == "no guest agent answers"
    assert "vm_disk" not in out["test"]
    spoofs = {cmd[cmd.index("-S") + 1] for cmd in sent}
    assert spoofs == {"test:test"}
    assert any("-H" in cmd for cmd in sent)
    names = {cmd[cmd.index("-n") + 1] for cmd in sent if "-n" in cmd}
    assert {"vm_node", "vm_disk_status"} <= names
    assert json.loads(json.dumps(out)) == out   # what --once prints
