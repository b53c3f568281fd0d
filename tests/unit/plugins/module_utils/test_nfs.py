# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import re

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput
from ansible_collections.cloud1.iaas.plugins.module_utils.core.nfs import export_lines


def test_one_line_per_path_every_client():
    lines = export_lines(["/var/lib/cloud1/images", "/var/lib/cloud1/xml"], ["node1", "192.168.1.30"],
                         "rw, sync,no_subtree_check,no_root_squash")
    assert lines == [
        "/var/lib/cloud1/images node1(rw,sync,no_subtree_check,no_root_squash) "
        "192.168.1.30(rw,sync,no_subtree_check,no_root_squash)",
        "/var/lib/cloud1/xml node1(rw,sync,no_subtree_check,no_root_squash) "
        "192.168.1.30(rw,sync,no_subtree_check,no_root_squash)",
    ]


def test_valued_options_and_cidr_clients():
    assert export_lines(["/x"], ["10.0.0.0/24"], "ro,sec=sys,anonuid=107") == ["/x 10.0.0.0/24(ro,sec=sys,anonuid=107)"]


@pytest.mark.parametrize("clients,options,path,msg", [
    (["*"], "rw", "/x", "wildcards and the world are refused"),
    (["0.0.0.0/0"], "rw", "/x", "spans a /0 network: the world"),
    (["10.77.0.11", "10.0.0.0/7"], "rw", "/x", "spans a /7 network"),
    (["node1\n"], "rw", "/x", "not a host name or address"),
    (["*.example.com"], "rw", "/x", "wildcards"),
    ([], "rw", "/x", "no NFS clients"),
    (["node1"], "rw,insecure_everything", "/x", "insecure_everything"),
    (["node1"], "rw,ro", "/x", "both rw and ro"),
    (["node1"], "rw", "relative/dir", "must be absolute"),
    (["node1"], "rw", "/a/../etc", "without '..'"),
    (["node1"], "rw", "/a b", "spaces"),
    (["node1 (rw)"], "rw", "/x", "not a host name"),
])
def test_refused_with_reason(clients, options, path, msg):
    with pytest.raises(InvalidInput, match=re.escape(msg)):
        export_lines([path], clients, options)
