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
