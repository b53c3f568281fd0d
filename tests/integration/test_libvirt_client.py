# -*- coding: utf-8 -*-
"""module_utils against libvirt's in-process test driver (one connection, so changes are visible)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils import errors  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.libvirt_client import LibvirtClient  # noqa: E402


def test_metadata_written_through_libvirt_reads_back():
    with LibvirtClient("test:///default") as c:
        dom = c.lookup("test")
        assert c.describe(dom)["metadata"] == {}
        c.set_metadata(dom, {"owner": "carol", "io": "medium", "ip": "10.77.0.120"})
        assert c.describe(dom)["metadata"] == {"owner": "carol", "io": "medium", "ip": "10.77.0.120"}
        c.set_metadata(dom, {"owner": "dave"})
        assert c.describe(dom)["metadata"] == {"owner": "dave"}


def test_lookup_unknown_domain_is_not_found():
    with LibvirtClient("test:///default") as c:
        with pytest.raises(errors.NotFound, match="no domain named 'ghost'"):
            c.lookup("ghost")


def test_connection_closed_after_context():
    c = LibvirtClient("test:///default")
    with c:
        assert c.conn is not None
    assert c.conn is None
