# -*- coding: utf-8 -*-
"""The cluster inventory plugin against two test-driver nodes: VMs become hosts, grouped by owner, node
and state, reachable at the static address of their metadata; a node that does not answer is left out."""

import json
import os
import subprocess
import sys

from conftest import ansible_env, _require_collection
from nodes import domain_xml, node_xml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import metadata_xml  # noqa: E402


def inventory(tmp_path, nodes, name="vms.cluster.yml"):
    _require_collection()
    cfg = tmp_path / name
    cfg.write_text(json.dumps({"plugin": "cloud1.iaas.cluster", "nodes": nodes,
                               "compose": {"ansible_user": "'root'"}}))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(cfg), "--list"]
    res = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0 and res.stdout.strip(), "ansible-inventory failed (rc=%d):\n%s" % (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr and "ERROR" not in res.stderr, res.stderr
    return res, json.loads(res.stdout)


def plain(value):
    """ansible-inventory marks values that came from a plugin as unsafe ({'__ansible_unsafe': ...})."""
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def test_vms_of_every_node_grouped_and_addressed(tmp_path):
    n1, n2 = tmp_path / "n1.xml", tmp_path / "n2.xml"
    n1.write_text(node_xml(domain_xml("web1", 1, meta=metadata_xml({"owner": "alice", "ip": "10.77.0.100"})),
                           domain_xml("db1", 5, meta=metadata_xml({"owner": "bob", "ip": "10.77.0.101"}))))
    n2.write_text(node_xml(domain_xml("web2", 3, meta=metadata_xml({"owner": "alice", "ip": "10.77.0.102"})),
                           domain_xml("orphan", 1)))
    res, inv = inventory(tmp_path, {"node1": "test://%s" % n1, "node2": "test://%s" % n2,
                                    "node3": "test://%s/missing.xml" % tmp_path})
    assert "Failed to parse" not in res.stderr, res.stderr   # the plugin itself parsed the source
    assert sorted(inv["owner_alice"]["hosts"]) == ["web1", "web2"]
    assert inv["owner_bob"]["hosts"] == ["db1"]
    assert sorted(inv["node_node1"]["hosts"]) == ["db1", "web1"]
    assert sorted(inv["state_running"]["hosts"]) == ["orphan", "web1"]
    assert inv["state_paused"]["hosts"] == ["web2"] and inv["state_shutoff"]["hosts"] == ["db1"]
    hv = inv["_meta"]["hostvars"]
    assert plain(hv["web1"]["ansible_host"]) == "10.77.0.100" and plain(hv["web1"]["ansible_user"]) == "root"
    assert plain(hv["web2"]["cloud1_node"]) == "node2" and plain(hv["web2"]["cloud1_owner"]) == "alice"
    assert "ansible_host" not in hv["orphan"]
    assert "node node3 left out" in res.stderr


def test_only_cluster_yml_files_are_taken(tmp_path):
    res, inv = inventory(tmp_path, {"node1": "test:///default"}, name="vms.yml")
    hosts = set(inv.get("_meta", {}).get("hostvars", {}))
    assert "test" not in hosts and not any(group.startswith(("owner_", "node_", "state_")) for group in inv), inv
