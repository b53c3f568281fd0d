# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the cluster-in-a-box tool (addresses, names, inventory, recipe hashes)."""
from __future__ import annotations

import importlib
import json
import os
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "box")


@pytest.fixture
def box(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUD1_BOX_DIR", str(tmp_path / "box"))
    monkeypatch.setenv("CLOUD1_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(TOOLS)
    for mod in ("common", "base", "box"):
        sys.modules.pop(mod, None)
    return importlib.import_module("box")


def test_addresses_and_names(box):
    assert [str(box.node_ip(i)) for i in (0, 1, 5)] == ["10.77.0.10", "10.77.0.11", "10.77.0.15"]
    assert str(box.HOST_IP) == "10.77.0.1"
    assert box.veth_name("node1") == "vb-node1"
    assert len(box.veth_name("node-with-a-long-name")) == 15


def test_inventory_groups_and_pinned_host_keys(box, tmp_path):
    if not os.path.exists("/usr/bin/ssh-keygen"):
        pytest.fail("ssh-keygen is missing: install openssh-client (make deps)")
    key = box.ensure_keys()
    box.write_access_files(6, key)
    inv = json.loads((tmp_path / "box" / "inventory.yml").read_text())["all"]
    assert list(inv["children"]["master"]["hosts"]) == ["node0"]
    assert list(inv["children"]["workers"]["hosts"]) == ["node1", "node2", "node3", "node4", "node5"]
    assert inv["children"]["hypervisors"]["children"] == {"master": {}, "workers": {}}
    assert inv["children"]["workers"]["hosts"]["node5"]["ansible_host"] == "10.77.0.15"
    assert "StrictHostKeyChecking=yes" in inv["vars"]["ansible_ssh_common_args"]
    known = (tmp_path / "box" / "ssh" / "known_hosts").read_text().splitlines()
    assert len(known) == 6 and known[0].startswith("node0,10.77.0.10 ssh-ed25519 ")


def test_nspawn_command_binds_images_read_only(box):
    cmd = box.nspawn_cmd("node1", "/x/root")
    assert "--bind-ro=%s" % box.IMAGES in cmd
    assert "--network-bridge=%s" % box.BRIDGE in cmd and "--machine=node1" in cmd
    assert "--boot" in cmd and "--register=no" in cmd


def test_recipe_hash_follows_content(box, tmp_path):
    common = sys.modules["common"]
    f = tmp_path / "pkgs.txt"
    f.write_text("a\nb\n")
    h1 = common.recipe_hash(str(f))
    assert h1 == common.recipe_hash(str(f))
    f.write_text("a\nc\n")
    assert common.recipe_hash(str(f)) != h1


def test_read_list_skips_comments_and_blanks(box, tmp_path):
    f = tmp_path / "l.txt"
    f.write_text("# head\n\nsystemd\n  # indented comment\nsudo \n")
    assert sys.modules["common"].read_list(str(f)) == ["systemd", "sudo"]
