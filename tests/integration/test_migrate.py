# -*- coding: utf-8 -*-
"""vm_migrate's checks against libvirt's test driver: what must be refused before anything moves, and
vm_job_info on a VM without a job. The migrations themselves need two real nodes: the box's `migration`
scenario drives them."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils import errors
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm, vm_job_info, vm_migrate  # noqa: E402

from test_vm import NEW, snapshot as node_state  # noqa: E402

MIGRATE = dict(uri="test:///default", name="web1")


def test_the_same_node_is_refused(conn):
    vm.ensure(NEW, conn=conn)
    before = node_state(conn)
    with pytest.raises(errors.InvalidInput, match="web1 is already on .*the destination is the node it runs on"):
        vm_migrate.ensure(dict(MIGRATE, dest="test:///default"))
    assert node_state(conn) == before


def test_an_unreachable_destination_is_refused(conn):
    vm.ensure(NEW, conn=conn)
    before = node_state(conn)
    with pytest.raises(errors.ConnectionFailed, match="the destination test:///nonexistent/node.xml is not reachable"):
        vm_migrate.ensure(dict(MIGRATE, dest="test:///nonexistent/node.xml"))
    assert node_state(conn) == before


@pytest.mark.parametrize("params, message", [
    (dict(dest=None), "dest .* is required"),
    (dict(dest="test:///default", bandwidth_mib=-1), "bandwidth_mib must be between 1 and 100000"),
    (dict(dest="test:///default", timeout_action="force"), "needs timeout"),
])
def test_bad_requests_touch_nothing(conn, params, message):
    before = node_state(conn)
    with pytest.raises(errors.InvalidInput, match=message):
        vm_migrate.ensure(dict(MIGRATE, **params))
    assert node_state(conn) == before


def test_job_info_without_a_job(conn):
    vm.ensure(NEW, conn=conn)
    job = vm_job_info.job_info("test:///default", "web1")
    # the test driver has no job statistics: said, not hidden (the box's migrations show real progress)
    assert job["exists"] and not job["active"] and job["percent_remaining"] is None
    assert job["supported"] is False and "virDomainGetJobStats" in job["msg"]
    assert vm_job_info.job_info("test:///default", "nope")["exists"] is False


def test_lifted_snapshot_metadata_is_on_disk_first_and_a_rerun_restores_it(conn, tmp_path, monkeypatch):
    """A migration that dies after lifting the snapshots loses nothing: the stash is written before the
    metadata goes, and restoring it defines what is missing again (the current one marked), once."""
    from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm_snapshot
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt import migration as moving
    from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient

    stash = tmp_path / "stash" / "web1.json"
    monkeypatch.setattr(moving, "stash_path", lambda info: str(stash))   # /images exists only in the driver
    vm.ensure(NEW, conn=conn)
    for name in ("s1", "s2"):
        vm_snapshot.ensure(dict(uri="test:///default", name="web1", snapshot=name), conn=conn)
    client = LibvirtClient("test:///default", conn=conn)
    dom = client.lookup("web1")
    info = dom.describe()
    before = (sorted(n for n, _x in dom.snapshots()), dom.current_snapshot())
    # lift_snapshots deletes metadata only, which the test driver cannot (the box's migration scenario runs
    # the real one): what it leaves when the migration dies is its stash and no metadata
    with pytest.raises(errors.OperationFailed, match="unsupported flags"):
        moving.lift_snapshots(dom, info)
    assert stash.exists() and oct(stash.stat().st_mode & 0o777) == "0o600"   # written before any deletion
    saved = moving.read_stash(str(stash), info["uuid"])
    assert [(x.split("<name>")[1].split("</name>")[0], c) for x, c in saved] == [("s1", False), ("s2", True)]
    assert moving.read_stash(str(stash), "another-vm's-uuid") == []
    for name in ("s2", "s1"):
        dom.delete_snapshot(name)
    assert dom.snapshots() == []
    assert moving.restore_stash(dom, info) == ["s1", "s2"]
    assert (sorted(n for n, _x in dom.snapshots()), dom.current_snapshot()) == before
    assert not stash.exists() and moving.restore_stash(dom, info) == []
