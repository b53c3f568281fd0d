# -*- coding: utf-8 -*-
"""cloud1.iaas.node_info against libvirt's in-process test driver."""

from nodes import domain_xml, write_node


def test_node_facts_of_test_driver(task):
    r = task("cloud1.iaas.node_info", {"uri": "test:///default"})
    assert not r.get("failed"), r
    assert r["changed"] is False
    assert r["hypervisor"] == "TEST"
    assert r["domain_type"] == "test" and r["domain_types"] == {"i686": ["test"]}
    assert r["cpus"] == 16 and r["memory_mib"] == 3072
    assert (r["domains_active"], r["domains_inactive"]) == (1, 0)
    assert r["libvirt_version"].count(".") == 2


def test_node_facts_count_domains_by_state(task, tmp_path):
    uri = write_node(tmp_path, domain_xml("a", state=1), domain_xml("b", state=5), domain_xml("c", state=3))
    r = task("cloud1.iaas.node_info", {"uri": uri}, check=True)
    assert (r["domains_active"], r["domains_inactive"]) == (2, 1)
    assert r["cpus"] == 4 and r["memory_mib"] == 8192


def test_node_facts_with_its_vms_in_one_call(task, tmp_path):
    """survey.yml's one call per node: the facts and the VMs, each as the two modules give them apart."""
    uri = write_node(tmp_path, domain_xml("a", state=1, vcpus=2, memory_mib=512), domain_xml("b", state=5),
                     domain_xml("c", state=3, vcpus=3, memory_mib=1024))
    both = task("cloud1.iaas.node_info", {"uri": uri, "vms": True})
    facts = task("cloud1.iaas.node_info", {"uri": uri})
    vms = task("cloud1.iaas.vm_info", {"uri": uri})
    assert not both.get("failed"), both
    assert both["vms"] == vms["vms"] and both["node"] == vms["node"]
    assert [v["name"] for v in both["vms"]] == ["a", "b", "c"]
    for key in ("domains_active", "domains_inactive", "vcpus_allocated", "memory_allocated_mib", "cpus",
                "memory_mib", "domain_type"):
        assert both[key] == facts[key], key
    assert (both["domains_active"], both["domains_inactive"]) == (2, 1)
    assert (both["vcpus_allocated"], both["memory_allocated_mib"]) == (6, 1792)
    assert "vms" not in facts and "node" not in facts


def test_cluster_info_reads_every_node_as_node_info_does(task, tmp_path):
    """survey.yml's one module run on the master: each node's answer is node_info's (facts and VMs), a node that
    cannot be read is failed with the reason and the others still answer; the free space of disk_dir is every
    answering node's."""
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    a = write_node(tmp_path / "a", domain_xml("a1", state=1, vcpus=2, memory_mib=512), domain_xml("a2", state=5))
    b = write_node(tmp_path / "b", domain_xml("b1", state=3, vcpus=3, memory_mib=1024))
    missing = "test://%s/nothing-here.xml" % tmp_path
    r = task("cloud1.iaas.cluster_info", {"nodes": {"na": a, "nb": b, "gone": missing}, "disk_dir": str(tmp_path)},
             check=True)
    assert not r.get("failed"), r
    assert r["changed"] is False
    assert (r["answered"], r["failed_nodes"]) == (2, ["gone"])
    for name, uri in (("na", a), ("nb", b)):
        alone = task("cloud1.iaas.node_info", {"uri": uri, "vms": True, "disk_dir": str(tmp_path)})
        got = r["nodes"][name]
        assert got["vms"] == alone["vms"] and got["node"] == alone["node"], name
        for key in ("domains_active", "domains_inactive", "vcpus_allocated", "memory_allocated_mib", "cpus",
                    "memory_mib", "domain_type", "uri"):
            assert got[key] == alone[key], (name, key)
        assert isinstance(got["disk_free_gib"], float) and got["disk_free_gib"] > 0
    assert [v["name"] for v in r["nodes"]["na"]["vms"]] == ["a1", "a2"]
    gone = r["nodes"]["gone"]
    assert gone["failed"] is True and gone["uri"] == missing
    assert "cannot connect to libvirt at %s" % missing in gone["msg"], gone["msg"]


def test_cluster_info_refuses_a_timeout_below_one_second(task, tmp_path):
    r = task("cloud1.iaas.cluster_info", {"nodes": {"na": write_node(tmp_path, domain_xml("a1"))}, "timeout": 0})
    assert r.get("failed") and "timeout and workers must be at least 1" in r["msg"], r
