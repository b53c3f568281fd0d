# -*- coding: utf-8 -*-
"""The disk preparation's host keys, made with the real ssh-keygen (the box's lifecycle scenario boots a guest
prepared with them and checks that SSH accepts only them)."""

import glob
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "collections"))
from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep, hostkeys  # noqa: E402
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import inject  # noqa: E402


def test_host_keys_are_made_of_every_type_and_leave_nothing_behind():
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "cloud1-hostkeys-*")))
    keys = inject.make_host_keys("root@web1")
    assert sorted(keys) == sorted(guestprep.HOST_KEY_TYPES)
    for private, public in keys.values():
        assert private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
        assert public.rstrip().endswith(" root@web1")
    parsed = hostkeys.parse("".join(pub for _priv, pub in keys.values()))
    assert [k.split()[0] for k in parsed] == ["ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa"]
    assert set(glob.glob(os.path.join(tempfile.gettempdir(), "cloud1-hostkeys-*"))) == before
    again = inject.make_host_keys("root@web1")
    assert again["ed25519"] != keys["ed25519"]   # every VM its own


def test_the_plan_writes_them_private_and_public():
    keys = inject.make_host_keys("root@web1")
    steps = guestprep.plan(hostname="web1", host_keys=keys)
    writes = {s[1]: s[3] for s in steps if s[0] == "write"}
    for kind in guestprep.HOST_KEY_TYPES:
        assert writes["/etc/ssh/ssh_host_%s_key" % kind] == "0600"
        assert writes["/etc/ssh/ssh_host_%s_key.pub" % kind] == "0644"
    # the old keys are removed before the new ones are written
    order = [s[1] for s in steps]
    assert order.index("/etc/ssh/ssh_host_*") < order.index("/etc/ssh/ssh_host_ed25519_key")
    # nothing private reaches the module's result
    assert not [line for line in guestprep.describe(steps) if "PRIVATE KEY" in line]
