# -*- coding: utf-8 -*-
"""module_utils against libvirt's in-process test driver (one connection, so changes are visible)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils import errors  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient  # noqa: E402


def test_metadata_written_through_libvirt_reads_back():
    with LibvirtClient("test:///default") as c:
        dom = c.lookup("test")
        assert dom.describe()["metadata"] == {}
        dom.set_metadata({"owner": "carol", "io": "medium", "ip": "10.77.0.120"})
        assert dom.describe()["metadata"] == {"owner": "carol", "io": "medium", "ip": "10.77.0.120"}
        dom.set_metadata({"owner": "dave"})
        assert dom.describe()["metadata"] == {"owner": "dave"}


def test_lookup_unknown_domain_is_not_found():
    with LibvirtClient("test:///default") as c:
        with pytest.raises(errors.NotFound, match="no domain named 'ghost'"):
            c.lookup("ghost")


def test_connection_closed_after_context():
    c = LibvirtClient("test:///default")
    with c:
        assert c.hostname()
    assert c._conn is None   # the client's own test: the connection is gone


def test_built_domain_defines_in_libvirt_and_reads_back():
    """The XML the domain model builds is accepted by libvirt's own parser and reads back unchanged."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain, stable_mac
    spec = {"name": "built1", "domain_type": "test", "vcpus": 1, "max_vcpus": 2, "memory_mib": 256,
            "max_memory_mib": 512, "disk": "/var/lib/cloud1/images/built1.qcow2",
            "metadata": {"owner": "erin", "ip": "10.77.0.130"}}
    with LibvirtClient("test:///default") as c:
        c.define(build_domain(spec))
        vm = c.lookup("built1").describe()
    assert (vm["vcpus"], vm["max_vcpus"], vm["memory_mib"], vm["max_memory_mib"]) == (1, 2, 256, 512)
    assert vm["metadata"] == {"owner": "erin", "ip": "10.77.0.130"}
    assert vm["nics"][0]["mac"] == stable_mac("built1") and vm["state"] == "shutoff"


def test_a_domain_deleted_while_the_node_is_read_is_left_out(conn):
    """Another run undefines a VM between the listing and the reading of it: the listing leaves it out
    (vm_info, node_info and the image check all read through each_domain) instead of failing the survey."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import build_domain
    client = LibvirtClient("test:///default", conn=conn)
    for name in ("gone1", "kept1"):
        client.define(build_domain({"name": name, "domain_type": "test", "vcpus": 1, "memory_mib": 128,
                                    "disk": "/images/%s.qcow2" % name}))

    def read(dom):
        if dom.name == "gone1":
            conn.lookupByName("gone1").undefine()   # the other run wins the race
        return dom.describe()

    names = [dom.name for dom, info in client.each_domain(read)]
    assert "gone1" not in names and "kept1" in names and "test" in names
    facts = client.node_facts()
    assert facts["domains_active"] + facts["domains_inactive"] == len(conn.listAllDomains())


def test_an_error_other_than_vanishing_still_fails_the_listing(conn):
    client = LibvirtClient("test:///default", conn=conn)

    def read(dom):
        raise errors.OperationFailed("failed to read %s" % dom.name, code=1)

    with pytest.raises(errors.OperationFailed, match="failed to read"):
        list(client.each_domain(read))


def test_a_disk_deleted_while_its_neighbours_are_read_is_left_out(conn):
    """storage.dependents reads every volume next to a disk: one deleted since the listing is skipped."""
    import libvirt
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt import storage
    client = LibvirtClient("test:///default", conn=conn)
    base = storage.find_volume(client, "/images/debian12.qcow2")
    storage.clone_volume(client, base, "/images/child1.qcow2")
    storage.clone_volume(client, base, "/images/child2.qcow2")
    pool = storage.pool_for_dir(client, "/images")
    listed = pool.listAllVolumes(0)
    pool.storageVolLookupByName("child2.qcow2").delete(0)

    class Listed:   # the pool as it was listed a moment before the other run deleted child2
        def __init__(self, real):
            self.real = real

        def refresh(self, flags):
            return 0

        def listAllVolumes(self, flags):
            return listed

        def __getattr__(self, attr):
            return getattr(self.real, attr)

    real_pool_for_dir = storage.pool_for_dir
    storage.pool_for_dir = lambda c, path: Listed(real_pool_for_dir(c, path))
    try:
        assert storage.dependents(client, "/images/debian12.qcow2") == ["/images/child1.qcow2"]
    finally:
        storage.pool_for_dir = real_pool_for_dir
    with pytest.raises(libvirt.libvirtError):   # the stale handle really fails: the skip above was exercised
        storage.volume_info(listed[[v.name() for v in listed].index("child2.qcow2")])


def test_bulk_description_equals_one_domain_at_a_time():
    """describe_all (one bulk state/block call) describes every domain as describe does one by one, in every
    state (the test driver's bulk record has no block group: the sizes then come from blockInfo)."""
    with LibvirtClient("test:///default") as c:
        c.lookup("test").suspend()
        try:
            bulk = {dom.name: info for dom, info in c.describe_all()}
            single = {dom.name: dom.describe() for dom in c.domains()}
        finally:
            c.lookup("test").resume()
    assert bulk == single and bulk["test"]["state"] == "paused"
    assert bulk["test"]["disks"][0]["capacity"] > 0


def test_block_sizes_from_a_qemu_bulk_record():
    """A record as QEMU's driver gives it for a stopped domain (read on the box): its disks sized by target."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import _block_sizes
    record = {"state.state": 5, "state.reason": 3, "block.count": 2, "block.0.name": "vda",
              "block.0.allocation": 7614464, "block.0.capacity": 3221225472, "block.1.name": "sda"}
    assert _block_sizes(record) == {"vda": (3221225472, 7614464)}   # sda (a CD-ROM, no medium): not sized
    assert _block_sizes({"state.state": 1}) == {}


def test_a_busy_domain_keeps_its_disk_sizes_unknown_in_the_survey():
    """A bulk record whose block group lacks a disk's size (libvirt's NOWAIT skipped a domain busy with a job,
    a migration) leaves that size unknown in the survey's description instead of waiting for the job through
    blockInfo; a single description (busy_ok) still asks blockInfo."""
    busy = {"state.state": 1, "block.count": 1, "block.0.name": "vda"}
    with LibvirtClient("test:///default") as c:
        dom = c.lookup("test")
        survey = dom.describe(stats=busy, busy_ok=False)
        single = dom.describe(stats=busy)
    assert survey["state"] == "running"
    assert [(d["target"], d["capacity"]) for d in survey["disks"] if d["device"] == "disk"] == [("vda", None)]
    assert [d["capacity"] > 0 for d in single["disks"] if d["device"] == "disk"] == [True]
