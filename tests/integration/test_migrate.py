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
