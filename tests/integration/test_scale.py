# -*- coding: utf-8 -*-
"""vm_scale and vm_snapshot cores against libvirt's test driver, in process (one connection per test): live
and next-boot vCPU/memory changes with check mode, diff and idempotence; refusals that change nothing;
snapshots create/list/current/revert/delete and rotation. Disk growth needs a real guest: the box's
`scaling` scenario drives it."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
import libvirt  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils import errors
from ansible_collections.cloud1.iaas.plugins.module_utils.ops import vm, vm_scale, vm_snapshot  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import parse_domain  # noqa: E402

from test_vm import NEW, snapshot as node_state  # noqa: E402

SCALE = dict(uri="test:///default", name="web1")


def make(c, **extra):
    vm.ensure(dict(NEW, vcpus=1, max_vcpus=2, memory_mib=256, max_memory_mib=512, **extra), conn=c)
    return c.lookupByName("web1")


def sizes(dom):
    """(vcpus, max vcpus, memory MiB, max memory MiB) of the running domain and of its definition."""
    out = {}
    for key, flags in (("live", 0), ("config", libvirt.VIR_DOMAIN_XML_INACTIVE)):
        info = parse_domain(dom.XMLDesc(flags))
        out[key] = (info["vcpus"], info["max_vcpus"], info["memory_mib"], info["max_memory_mib"])
    return out


def test_live_within_the_maxima_check_real_check(conn):
    dom = make(conn)
    want = dict(SCALE, vcpus=2, memory_mib=512)
    before = sizes(dom)
    check = vm_scale.ensure(want, check_mode=True, conn=conn)
    assert check["changed"] and check["applied"] == {"vcpus": "live", "memory": "live", "disk": "unchanged"}
    assert check["diff"]["after"]["vcpus"] == 2 and check["diff"]["after"]["memory_mib"] == 512
    assert sizes(dom) == before, "check mode changed the domain"
    real = vm_scale.ensure(want, conn=conn)
    assert real["changed"] and real["applied"] == check["applied"] and not real["restart_pending"]
    assert sizes(dom) == {"live": (2, 2, 512, 512), "config": (2, 2, 512, 512)}
    # the test driver has no guest agent: onlining the new vCPU stops at the first answer that says so (no
    # waiting for a guest that cannot register it) and the result tells the user how to do it by hand
    notes = [a for a in real["actions"] if "new vCPUs" in a]
    assert len(notes) == 1 and notes[0].startswith("could not online the new vCPUs inside web1 through qemu-guest-agent")
    again = vm_scale.ensure(want, conn=conn)
    assert not again["changed"] and "diff" not in again
    assert not vm_scale.ensure(want, check_mode=True, conn=conn)["changed"]


def test_above_the_maxima_waits_for_the_next_boot(conn):
    dom = make(conn)
    res = vm_scale.ensure(dict(SCALE, vcpus=3, memory_mib=640), conn=conn)
    assert res["changed"] and res["applied"] == {"vcpus": "next boot", "memory": "next boot", "disk": "unchanged"}
    assert res["restart_pending"] and any("next power cycle" in a for a in res["actions"])
    assert sizes(dom) == {"live": (1, 2, 256, 512), "config": (3, 3, 640, 640)}
    assert res["vm"]["next_boot"] == {"vcpus": 3, "max_vcpus": 3, "memory_mib": 640, "max_memory_mib": 640}
    assert not vm_scale.ensure(dict(SCALE, vcpus=3, memory_mib=640), conn=conn)["changed"]
    res = vm_scale.ensure(dict(SCALE, vcpus=3, restart=True, shutdown_timeout=5), conn=conn)
    # the test driver powers off at once on an ACPI request; a power cycle was asked for and done
    assert res["changed"] and any(a.startswith("power-cycle web1") for a in res["actions"])
    assert sizes(dom)["live"] == (3, 3, 640, 640) and dom.isActive()


def test_a_stopped_vm_changes_its_definition_and_topology(conn):
    dom = make(conn, state="stopped")
    topo = {"sockets": 2, "cores": 2, "threads": 1}
    res = vm_scale.ensure(dict(SCALE, vcpus=4, topology=topo), conn=conn)
    assert res["changed"] and res["applied"]["vcpus"] == "next boot"
    assert res["vm"]["topology"] == {"sockets": 2, "dies": 1, "cores": 2, "threads": 1}
    assert not vm_scale.ensure(dict(SCALE, vcpus=4, topology=topo), conn=conn)["changed"]


@pytest.mark.parametrize("params, message", [
    (dict(disk_gib=1), "shrinking is refused because the root filesystem \\(xfs\\) cannot shrink"),
    (dict(vcpus=3, max_vcpus=2), "above max_vcpus"),
    (dict(vcpus=6, topology={"sockets": 2, "cores": 2, "threads": 1}), "above the maximum 4"),
    (dict(memory_mib=64), "memory_mib must be between 128"),
    (dict(), "nothing to scale"),
])
def test_refusals_change_nothing(conn, params, message):
    dom = make(conn)
    before, state = sizes(dom), node_state(conn)
    with pytest.raises(errors.InvalidInput, match=message):
        vm_scale.ensure(dict(SCALE, **params), conn=conn)
    assert sizes(dom) == before and node_state(conn) == state


def test_unknown_vm(conn):
    with pytest.raises(errors.NotFound, match="VM nope does not exist on test:///default"):
        vm_scale.ensure(dict(SCALE, name="nope", vcpus=1), conn=conn)


SNAP = dict(uri="test:///default", name="web1")


def test_snapshots_create_list_current_revert_delete(conn):
    dom = make(conn)
    check = vm_snapshot.ensure(dict(SNAP, snapshot="s1"), check_mode=True, conn=conn)
    assert check["changed"] and dom.snapshotNum(0) == 0
    res = vm_snapshot.ensure(dict(SNAP, snapshot="s1", description="before"), conn=conn)
    assert res["changed"] and [s["name"] for s in res["snapshots"]] == ["s1"] and res["current"] == "s1"
    assert res["snapshots"][0]["description"] == "before" and res["snapshots"][0]["memory"]
    assert not vm_snapshot.ensure(dict(SNAP, snapshot="s1"), conn=conn)["changed"]
    vm_snapshot.ensure(dict(SNAP, snapshot="s2"), conn=conn)
    listed = vm_snapshot.ensure(dict(SNAP, state="listed"), conn=conn)
    assert not listed["changed"] and [s["name"] for s in listed["snapshots"]] == ["s1", "s2"]
    assert listed["current"] == "s2" and listed["snapshots"][1]["parent"] == "s1"
    reverted = vm_snapshot.ensure(dict(SNAP, snapshot="s1", state="reverted"), conn=conn)
    assert reverted["changed"] and reverted["current"] == "s1"
    gone = vm_snapshot.ensure(dict(SNAP, snapshot="s2", state="absent"), conn=conn)
    assert gone["changed"] and gone["diff"] == {"before": {"snapshots": ["s1", "s2"], "current": "s1"},
                                                "after": {"snapshots": ["s1"], "current": "s1"}}
    assert not vm_snapshot.ensure(dict(SNAP, snapshot="s2", state="absent"), conn=conn)["changed"]
    with pytest.raises(errors.NotFound, match="has no snapshot s9 \\(it has: s1\\)"):
        vm_snapshot.ensure(dict(SNAP, snapshot="s9", state="reverted"), conn=conn)


def test_rotation_drops_exactly_what_the_policy_says(conn):
    dom = make(conn)
    for name in ("auto-1", "auto-2", "auto-3", "mine"):
        vm_snapshot.ensure(dict(SNAP, snapshot=name), conn=conn)
        time.sleep(1.1)   # creation times are in whole seconds
    check = vm_snapshot.ensure(dict(SNAP, state="rotated", keep=1), check_mode=True, conn=conn)
    assert check["dropped"] == ["auto-1", "auto-2"] and dom.snapshotNum(0) == 4
    res = vm_snapshot.ensure(dict(SNAP, state="rotated", keep=1), conn=conn)
    assert res["dropped"] == ["auto-1", "auto-2"]
    assert sorted(s["name"] for s in res["snapshots"]) == ["auto-3", "mine"]
    res = vm_snapshot.ensure(dict(SNAP, state="rotated", keep=5, create=True), conn=conn)
    taken = [s["name"] for s in res["snapshots"] if s["name"] not in ("auto-3", "mine")]
    assert res["changed"] and res["dropped"] == [] and len(taken) == 1 and taken[0].startswith("auto-")
    reports = list(vm_snapshot.rotate_node("test:///default", keep=1, take=False, vms=["web1"]))
    assert reports[0]["vm"] == "web1" and reports[0]["dropped"] == ["auto-3"]


@pytest.mark.parametrize("params, message", [
    (dict(state="present"), "needs snapshot"),
    (dict(state="present", snapshot="../x"), "not valid"),
    (dict(state="rotated"), "needs keep"),
    (dict(state="rotated", max_age="soon"), "is not an age"),
    (dict(state="frozen"), "state must be one of"),
])
def test_snapshot_refusals(conn, params, message):
    dom = make(conn)
    with pytest.raises(errors.InvalidInput, match=message):
        vm_snapshot.ensure(dict(SNAP, **params), conn=conn)
    assert dom.snapshotNum(0) == 0
