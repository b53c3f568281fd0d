# -*- coding: utf-8 -*-
"""cloud1.iaas.vm_info against libvirt's in-process test driver, run as Ansible runs it."""

import os
import subprocess
import sys

from conftest import ansible_env
from nodes import domain_xml, write_node

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import metadata_xml  # noqa: E402

ALICE = metadata_xml({"owner": "alice", "os": "debian", "io": "high", "ip": "10.77.0.100", "prefix": "24"})
BOB = metadata_xml({"owner": "bob", "os": "centos", "io": "low", "ip": "10.77.0.101"})


def two_vm_node(tmp_path):
    return write_node(tmp_path,
                      domain_xml("alice-web1", state=1, vcpus=2, memory_mib=512, meta=ALICE),
                      domain_xml("bob-db1", state=5, vcpus=1, memory_mib=1024, meta=BOB),
                      domain_xml("plain", state=3))


def test_default_test_node_lists_its_domain(task):
    r = task("cloud1.iaas.vm_info", {"uri": "test:///default"})
    assert not r.get("failed"), r
    assert r["changed"] is False
    assert r["uri"] == "test:///default"
    assert [v["name"] for v in r["vms"]] == ["test"]
    vm = r["vms"][0]
    assert vm["state"] == "running" and vm["persistent"] is True
    # the test driver's built-in domain: 2 vCPUs, 8 GiB maximum, 2 GiB current
    assert (vm["vcpus"], vm["max_memory_mib"], vm["memory_mib"]) == (2, 8192, 2048)
    assert vm["node"] == r["node"]


def test_states_sizes_and_metadata_from_node(task, tmp_path):
    r = task("cloud1.iaas.vm_info", {"uri": two_vm_node(tmp_path)})
    assert not r.get("failed"), r
    by = {v["name"]: v for v in r["vms"]}
    assert list(by) == ["alice-web1", "bob-db1", "plain"]
    assert [by[n]["state"] for n in by] == ["running", "shutoff", "paused"]
    assert by["alice-web1"]["metadata"] == {"owner": "alice", "os": "debian", "io": "high",
                                            "ip": "10.77.0.100", "prefix": "24"}
    assert by["bob-db1"]["metadata"]["owner"] == "bob"
    assert by["plain"]["metadata"] == {}
    assert (by["alice-web1"]["vcpus"], by["alice-web1"]["memory_mib"]) == (2, 512)
    assert by["bob-db1"]["disks"][0]["source"] == "/var/lib/cloud1/images/bob-db1.qcow2"
    assert by["alice-web1"]["nics"][0]["source"] == "br0"


def test_owner_and_name_filters(task, tmp_path):
    uri = two_vm_node(tmp_path)
    assert [v["name"] for v in task("cloud1.iaas.vm_info", {"uri": uri, "owner": "bob"})["vms"]] == ["bob-db1"]
    assert [v["name"] for v in task("cloud1.iaas.vm_info", {"uri": uri, "name": "plain"})["vms"]] == ["plain"]
    r = task("cloud1.iaas.vm_info", {"uri": uri, "name": "nosuchvm"})
    assert not r.get("failed") and r["vms"] == []


def test_check_mode_reports_the_same(task, tmp_path):
    uri = two_vm_node(tmp_path)
    real = task("cloud1.iaas.vm_info", {"uri": uri})
    check = task("cloud1.iaas.vm_info", {"uri": uri}, check=True)
    assert check["changed"] is False
    assert check["vms"] == real["vms"]


def test_unreachable_node_fails_with_actionable_message(task, tmp_path):
    r = task("cloud1.iaas.vm_info", {"uri": "test://%s/missing.xml" % tmp_path})
    assert r["failed"] is True
    assert r["error"] == "ConnectionFailed"
    assert "cannot connect to libvirt at test://" in r["msg"] and "libvirtd" in r["msg"]


def test_bad_argument_type_is_refused(task):
    r = task("cloud1.iaas.vm_info", {"uri": "test:///default", "colour": "blue"})
    assert r["failed"] is True and "colour" in r["msg"]


def test_missing_libvirt_bindings_named(task, tmp_path):
    """An interpreter without libvirt-python gets a message naming the missing library and the fix."""
    bare = "/usr/bin/python3"
    probe = subprocess.run([bare, "-c", "import libvirt"], capture_output=True, check=False)
    assert probe.returncode != 0, "%s imports libvirt: this test needs an interpreter without it" % bare
    r = task("cloud1.iaas.vm_info", {"uri": "test:///default"}, python=bare)
    assert r["failed"] is True and r["error"] == "MissingDependency"
    assert "libvirt Python bindings" in r["msg"] and "libvirt-python" in r["msg"]


def test_ansible_doc_renders_and_lists():
    env = ansible_env()
    bindir = os.path.dirname(sys.executable)
    listing = subprocess.run([os.path.join(bindir, "ansible-doc"), "-l", "cloud1.iaas"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "cloud1.iaas.vm_info" in listing
    doc = subprocess.run([os.path.join(bindir, "ansible-doc"), "cloud1.iaas.vm_info"], env=env,
                         capture_output=True, text=True, check=True).stdout
    for text in ("libvirt connection URI", "EXAMPLES", "RETURN VALUES", "max_memory_mib"):
        assert text in doc
