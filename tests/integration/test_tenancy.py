# -*- coding: utf-8 -*-
"""A VM stays its owner's: a request made for another owner is refused by every module that acts on a VM, in
check mode and for real, with nothing changed (domains, definitions, metadata, snapshots, disks compared); an
admin's request (no owner) goes through; creation needs an owner and never adopts or re-owns an existing VM."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils import errors  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import (  # noqa: E402
    vm,
    vm_job_info,
    vm_migrate,
    vm_scale,
    vm_snapshot,
)

BASE = dict(uri="test:///default", image_dir="/images", disk_dir="/images", bridge="br0", domain_type="test",
            shutdown_timeout=5)
ALICE = dict(BASE, name="web1", image="debian12.qcow2", vcpus=1, max_vcpus=2, memory_mib=256, max_memory_mib=512,
             owner="alice", state="running")


def cluster(conn):
    """Everything a refused request must leave as it was: each domain's definition (metadata included), state,
    snapshots, and the volumes."""
    doms = {}
    for dom in conn.listAllDomains():
        doms[dom.name()] = (dom.state()[0], dom.XMLDesc(2), sorted(s.getName() for s in dom.listAllSnapshots(0)))
    vols = sorted(v.path() for p in conn.listAllStoragePools() if p.isActive() for v in p.listAllVolumes())
    return doms, vols


MALLORY = dict(BASE, name="web1", owner="mallory")
ON_WEB1 = dict(uri="test:///default", name="web1", owner="mallory")
# (what, executor, its request): each made for mallory on alice's web1
REFUSED = [
    ("vm: reconcile sizes", vm.ensure, dict(MALLORY, vcpus=2)),
    ("vm: createvm's re-own", vm.ensure, dict(ALICE, owner="mallory")),
    ("vm: stop", vm.ensure, dict(MALLORY, state="stopped", force=True)),
    ("vm: delete", vm.ensure, dict(MALLORY, state="absent")),
    ("vm: take it", vm.ensure, dict(MALLORY, new_owner="mallory")),
    ("vm: clone it", vm.ensure, dict(MALLORY, name="copy1", source_vm="web1")),
    ("vm_scale", vm_scale.ensure, dict(ON_WEB1, vcpus=2, memory_mib=512)),
    ("vm_snapshot: create", vm_snapshot.ensure, dict(ON_WEB1, snapshot="s2")),
    ("vm_snapshot: revert", vm_snapshot.ensure, dict(ON_WEB1, snapshot="s1", state="reverted")),
    ("vm_snapshot: delete", vm_snapshot.ensure, dict(ON_WEB1, snapshot="s1", state="absent")),
    ("vm_snapshot: list", vm_snapshot.ensure, dict(ON_WEB1, state="listed")),
]


@pytest.fixture
def alices(conn):
    vm.ensure(ALICE, conn=conn)
    vm_snapshot.ensure(dict(uri="test:///default", name="web1", owner="alice", snapshot="s1"), conn=conn)
    return conn


@pytest.mark.parametrize("check", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("what,executor,params", REFUSED, ids=[r[0] for r in REFUSED])
def test_another_owner_is_refused_and_nothing_changes(alices, what, executor, params, check):
    before = cluster(alices)
    with pytest.raises(errors.InvalidInput, match="VM web1 is not mallory's") as refused:
        executor(params, check_mode=check, conn=alices)
    assert "alice" not in refused.value.message, "the refusal must not say whose the VM is"
    assert cluster(alices) == before


def test_migration_and_job_of_another_owner_are_refused(alices):
    before = cluster(alices)
    # the owner is checked before any other check (even the same-node refusal this request would get)
    with pytest.raises(errors.InvalidInput, match="VM web1 is not mallory's"):
        vm_migrate.ensure(dict(uri="test:///default", name="web1", owner="mallory", dest="test:///default"))
    with pytest.raises(errors.InvalidInput, match="VM web1 is not mallory's"):
        vm_job_info.job_info("test:///default", "web1", owner="mallory")
    assert cluster(alices) == before


def test_the_owner_and_an_admin_may_act(alices):
    assert vm_scale.ensure(dict(uri="test:///default", name="web1", owner="alice", vcpus=2), conn=alices)["changed"]
    assert vm_scale.ensure(dict(uri="test:///default", name="web1", memory_mib=512), conn=alices)["changed"]
    listed = vm_snapshot.ensure(dict(uri="test:///default", name="web1", owner="alice", state="listed"), conn=alices)
    assert [s["name"] for s in listed["snapshots"]] == ["s1"]
    assert vm_job_info.job_info("test:///default", "web1", owner="alice")["exists"]


def test_creation_needs_an_owner_and_changes_nothing_without(conn):
    before = cluster(conn)
    for owner in (None, ""):
        with pytest.raises(errors.InvalidInput, match="owner is required to create a VM"):
            vm.ensure(dict(ALICE, owner=owner), conn=conn)
    with pytest.raises(errors.InvalidInput, match="new_owner changes the owner of an existing VM"):
        vm.ensure(dict(ALICE, new_owner="bob"), conn=conn)
    assert cluster(conn) == before


def test_an_ownerless_vm_is_only_an_admins(conn):
    vm.ensure(ALICE, conn=conn)
    vm.ensure(dict(BASE, name="web1", new_owner="alice"), conn=conn)   # no-op; then strip the owner as libvirt would
    dom = conn.lookupByName("web1")
    dom.setMetadata(2, "<vm/>", "cloud1", "https://cloud1.example/iaas/vm/1", 2 | 1)
    with pytest.raises(errors.InvalidInput, match="VM web1 is not alice's"):
        vm_scale.ensure(dict(uri="test:///default", name="web1", owner="alice", vcpus=2), conn=conn)
    res = vm.ensure(dict(BASE, name="web1", new_owner="alice"), conn=conn)   # an admin records an owner
    assert res["changed"] and res["vm"]["metadata"]["owner"] == "alice"
