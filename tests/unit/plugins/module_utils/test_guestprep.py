# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan for a new VM's disk (pure); the box's lifecycle checks boot what it writes."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import guestprep, vmspec
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT

ADDR = {"ip": "10.77.0.120", "prefix": 24, "gateway": "10.77.0.1", "dns": []}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx admin@master"


def paths(steps, kind):
    return [s[2] if kind == "link" else s[1] for s in steps if s[0] == kind]


def test_a_new_vm_gets_a_fresh_identity_and_its_own_settings():
    steps = guestprep.plan(hostname="web1", old_hostname="debian", ssh_key=KEY, address=ADDR)
    assert paths(steps, "empty")[0] == "/etc/machine-id"
    assert "/etc/ssh/ssh_host_*" in paths(steps, "remove")
    assert "/etc/udev/rules.d/70-persistent-net.rules" in paths(steps, "remove")
    writes = {s[1]: (s[2], s[3]) for s in steps if s[0] == "write"}
    assert writes["/etc/hostname"] == ("web1\n", "0644")
    assert writes["/etc/systemd/network/10-eth0.network"][0].splitlines()[-2:] == [
        "Address=10.77.0.120/24", "Gateway=10.77.0.1"]
    assert ("append", "/root/.ssh/authorized_keys", KEY, "0600", "the root SSH key") in steps
    assert ("mkdir", "/root/.ssh", "0700", "root's SSH directory") in steps
    # the reset comes before anything of the VM's own is written
    first_own = min(i for i, s in enumerate(steps) if s[0] in ("write", "append"))
    assert all(s[0] in ("empty", "remove", "edit_glob") for s in steps[:first_own])
    assert not paths(steps, "link")   # no growth asked


def test_an_existing_vms_disk_keeps_its_identity():
    steps = guestprep.plan(grow_root=True, reset_identity=False)
    assert not paths(steps, "empty") and not paths(steps, "remove")
    writes = {s[1]: s[2] for s in steps if s[0] == "write"}
    assert writes[guestprep.GROW_SCRIPT] == GROW_ROOT
    assert "ConditionPathExists=%s" % guestprep.GROW_PENDING in writes[guestprep.GROW_UNIT]
    assert "ExecStartPost=/bin/rm -f %s" % guestprep.GROW_PENDING in writes[guestprep.GROW_UNIT]
    assert paths(steps, "link") == [guestprep.GROW_WANTS]


def test_rhel_guests_get_their_flavour_and_lose_the_mac_pin():
    steps = guestprep.plan(hostname="db1", address=ADDR, network_config="nmkeyfile")
    writes = {s[1]: s[3] for s in steps if s[0] == "write"}
    assert writes["/etc/NetworkManager/system-connections/eth0.nmconnection"] == "0600"
    edit = [s for s in steps if s[0] == "edit_glob"][0]
    assert edit[1] == "/etc/sysconfig/network-scripts/ifcfg-*"
    assert edit[2]("DEVICE=eth0\nHWADDR=52:54:00:aa:bb:cc\nONBOOT=yes\n") == "DEVICE=eth0\nONBOOT=yes\n"


def test_hosts_follow_the_new_name():
    text = "127.0.0.1\tlocalhost\n127.0.1.1\tdebian.example debian\n::1 localhost ip6-localhost\n"
    assert guestprep.hosts_file(text, "debian", "web1") == (
        "127.0.0.1\tlocalhost\n127.0.1.1\tdebian.example\tweb1\n::1 localhost ip6-localhost\n")
    bare = guestprep.hosts_file("127.0.0.1 localhost\n", None, "web1")
    assert bare == "127.0.0.1 localhost\n127.0.1.1\tweb1\n"
    again = guestprep.hosts_file(bare, "web1", "web1")
    assert again == bare


def test_the_hostname_edit_reads_the_old_name_given():
    steps = guestprep.plan(hostname="web2", old_hostname="web1")
    edit = [s for s in steps if s[0] == "edit" and s[1] == "/etc/hosts"][0]
    assert edit[2]("127.0.1.1 web1 # the VM\n") == "127.0.1.1\tweb2 # the VM\n"


def test_every_step_is_described():
    steps = guestprep.plan(hostname="web1", ssh_key=KEY, address=ADDR, grow_root=True)
    lines = guestprep.describe(steps)
    assert len(lines) == len(steps)
    assert "link %s (enabled at the next boot)" % guestprep.GROW_WANTS in lines


def test_the_request_chooses_the_injection():
    assert vmspec.validate({"name": "web1"})["inject"] == "auto"
    assert vmspec.validate({"name": "web1", "inject": "sysprep"})["inject"] == "sysprep"
    try:
        vmspec.validate({"name": "web1", "inject": "cloud-init"})
    except Exception as exc:   # noqa: BLE001 - the rules' InvalidInput
        assert "inject" in str(exc) and "guestfs" in str(exc)
    else:
        raise AssertionError("an unknown injection was accepted")


def test_the_filesystems_a_plan_writes_under():
    fstab = ("/dev/mapper/vg0-root / xfs defaults 0 1\nLABEL=boot /boot ext4 defaults 0 2\n"
             "UUID=1234 /var xfs defaults 0 0\n/dev/vdb1 /var/log ext4 defaults 0 0\n"
             "/dev/vg0/swap none swap sw 0 0\ntmpfs /tmp tmpfs defaults 0 0\n# /dev/vdc /root ext4\n"
             "/dev/vdd /srv ext4 defaults 0 0\n/dev/vde /usr/local ext4 noauto 0 0\n")
    assert guestprep.fstab_mounts(fstab) == [("UUID=1234", "/var"), ("/dev/vdb1", "/var/log")]
