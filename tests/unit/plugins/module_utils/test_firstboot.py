# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""inject=smbios: the plan as SMBIOS OEM strings (pure), the domain XML that carries them, and the image's
first-boot script (tools/image/firstboot.sh, run by the real /bin/sh against a scratch root and a type 11
structure built the way the firmware lays it out). The box's lifecycle checks boot the real thing."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import domain, guestprep
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import GROW_ROOT

ADDR = {"ip": "10.77.0.120", "prefix": 24, "gateway": "10.77.0.1", "dns": ["10.77.0.1"]}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx admin@master"
SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "tools", "image", "firstboot.sh")
ID = "6f1c2a8e-0b7d-4c55-9d0e-2f3b4a5c6d7e"


def strings(**settings):
    return guestprep.smbios_strings(ID, **settings)


def test_the_plan_travels_as_one_operation_per_string():
    out = strings(hostname="web1", ssh_key=KEY, address=ADDR, grow_root=True)
    assert out[0] == "cloud1.v1 id " + ID
    ops = [entry.split(" ") for entry in out]
    assert all(op[0] == "cloud1.v1" for op in ops)
    files = {op[3]: (op[2], base64.b64decode(op[4]).decode()) for op in ops if op[1] == "file"}
    assert files["/etc/hostname"] == ("0644", "web1\n")
    network = files["/etc/systemd/network/10-eth0.network"][1].splitlines()
    assert {"Address=10.77.0.120/24", "Gateway=10.77.0.1", "DNS=10.77.0.1"} <= set(network)
    assert files[guestprep.GROW_SCRIPT] == ("0755", GROW_ROOT)
    assert files[guestprep.GROW_PENDING] == ("0644", "")
    assert ["cloud1.v1", "hosts", "web1"] in ops
    assert ["cloud1.v1", "mkdir", "0700", "/root/.ssh"] in ops
    appended = [op for op in ops if op[1] == "append"]
    assert appended == [["cloud1.v1", "append", "0600", "/root/.ssh/authorized_keys",
                         base64.b64encode(KEY.encode()).decode()]]
    assert ["cloud1.v1", "link", guestprep.GROW_UNIT, guestprep.GROW_WANTS] in ops
    assert ops[-1] == ["cloud1.v1", "start", "cloud1-grow-root.service"]
    # nothing of an identity reset and no host keys: the image is clean and the guest makes its own
    assert not any(op[1] in ("remove", "empty") or "ssh_host" in " ".join(op) for op in ops)


def test_without_growth_nothing_is_started():
    out = strings(hostname="web1")
    assert not [e for e in out if " start " in e or " link " in e]


@pytest.mark.parametrize("instance", ["", None, "a b"])
def test_an_instance_id_is_one_word(instance):
    with pytest.raises(ValueError):
        guestprep.smbios_strings(instance, hostname="web1")


@pytest.mark.parametrize("requested, from_vm, speaks, boots, chosen", [
    ("auto", False, True, True, "smbios"),
    ("auto", False, False, True, "guestfs"),     # another image: written into its disk
    ("auto", True, True, True, "guestfs"),       # a copy of a VM has an identity to reset
    ("auto", False, True, False, "guestfs"),     # created stopped: host keys made on the node, recorded now
    ("smbios", False, True, False, "smbios"),    # asked for: its keys are read after its first start
    ("guestfs", False, True, True, "guestfs"),
    ("sysprep", True, False, True, "sysprep"),
])
def test_which_injection_a_creation_uses(requested, from_vm, speaks, boots, chosen):
    assert guestprep.choose_injection(requested, from_vm, speaks, boots_now=boots) == chosen


@pytest.mark.parametrize("from_vm, speaks, words", [(True, True, "copy of a VM"),
                                                    (False, False, guestprep.FIRSTBOOT_MARKER)])
def test_smbios_is_refused_where_the_guest_would_not_apply_it(from_vm, speaks, words):
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        guestprep.choose_injection("smbios", from_vm, speaks)


def test_the_domain_carries_the_strings_in_its_sysinfo():
    oem = strings(hostname="web1", ssh_key=KEY)
    root = ET.fromstring(domain.build_domain({"name": "web1", "vcpus": 1, "memory_mib": 256, "disk": "/d.qcow2",
                                              "uuid": ID, "oem_strings": oem}))
    assert root.findtext("uuid") == ID
    assert [e.text for e in root.findall("sysinfo[@type='smbios']/oemStrings/entry")] == oem
    assert root.find("os/smbios").get("mode") == "sysinfo"
    plain = ET.fromstring(domain.build_domain({"name": "web2", "vcpus": 1, "memory_mib": 256, "disk": "/d.qcow2"}))
    assert plain.find("sysinfo") is None and plain.find("os/smbios") is None


def type11(entries, handle=0x1100):
    """An SMBIOS type 11 structure as /sys/firmware/dmi/entries/11-0/raw holds it: type, length, handle, count,
    then the strings, each NUL-terminated, and a final NUL."""
    body = b"".join(e.encode() + b"\0" for e in entries) + b"\0"
    return struct.pack("<BBHB", 11, 5, handle, len(entries)) + body


def run_firstboot(tmp_path, entries):
    root, dmi = tmp_path / "root", tmp_path / "dmi"
    (dmi / "11-0").mkdir(parents=True, exist_ok=True)
    (dmi / "11-0" / "raw").write_bytes(type11(entries))
    (root / "etc").mkdir(parents=True, exist_ok=True)
    if not (root / "etc" / "hosts").exists():
        (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 debian12\n")
    env = dict(os.environ, CLOUD1_FIRSTBOOT_ROOT=str(root), CLOUD1_FIRSTBOOT_DMI=str(dmi), TMPDIR=str(tmp_path))
    res = subprocess.run(["/bin/sh", SCRIPT], env=env, capture_output=True, text=True, timeout=30, check=False)
    return root, res


def test_the_image_applies_the_strings_once(tmp_path):
    oem = strings(hostname="web1", ssh_key=KEY, address=ADDR, grow_root=True)
    root, res = run_firstboot(tmp_path, ["other vendor string"] + oem)
    assert res.returncode == 0, res.stderr
    assert (root / "etc/hostname").read_text() == "web1\n"
    assert (root / "etc/hosts").read_text() == "127.0.0.1 localhost\n127.0.1.1\tweb1\n"
    assert (root / "root/.ssh/authorized_keys").read_text() == KEY + "\n"
    assert oct((root / "root/.ssh").stat().st_mode & 0o777) == "0o700"
    assert oct((root / "root/.ssh/authorized_keys").stat().st_mode & 0o777) == "0o600"
    assert "Address=10.77.0.120/24" in (root / "etc/systemd/network/10-eth0.network").read_text()
    assert (root / guestprep.GROW_SCRIPT.lstrip("/")).read_text() == GROW_ROOT
    assert os.access(root / guestprep.GROW_SCRIPT.lstrip("/"), os.X_OK)
    assert os.readlink(root / guestprep.GROW_WANTS.lstrip("/")) == guestprep.GROW_UNIT
    assert (root / guestprep.GROW_PENDING.lstrip("/")).exists()
    assert (root / "var/lib/cloud1/firstboot.id").read_text() == ID + "\n"
    # a later boot (same instance) leaves what the VM has since changed alone
    (root / "etc/hostname").write_text("renamed\n")
    (root / "root/.ssh/authorized_keys").write_text("")
    root, res = run_firstboot(tmp_path, oem)
    assert res.returncode == 0 and "earlier boot" in res.stderr
    assert (root / "etc/hostname").read_text() == "renamed\n"
    assert (root / "root/.ssh/authorized_keys").read_text() == ""


def test_the_key_is_appended_once(tmp_path):
    oem = strings(ssh_key=KEY)
    root, res = run_firstboot(tmp_path, oem)
    (root / "var/lib/cloud1/firstboot.id").unlink()
    root, res = run_firstboot(tmp_path, oem)
    assert res.returncode == 0, res.stderr
    assert (root / "root/.ssh/authorized_keys").read_text() == KEY + "\n"


def test_no_strings_nothing_done(tmp_path):
    root, res = run_firstboot(tmp_path, ["other vendor string"])
    assert res.returncode == 0 and "no settings" in res.stderr
    assert not (root / "var/lib/cloud1").exists()


@pytest.mark.parametrize("entries, why", [
    (["cloud1.v1 hosts web1"], "without an instance id"),
    (["cloud1.v1 id x", "cloud1.v1 format / now"], "unknown operation"),
    (["cloud1.v1 id x", "cloud1.v1 file 0644 etc/relative Zm9v"], "not an absolute path"),
])
def test_settings_it_cannot_apply_are_refused(tmp_path, entries, why):
    root, res = run_firstboot(tmp_path, entries)
    assert res.returncode != 0 and why in res.stderr
    assert not (root / "var/lib/cloud1/firstboot.id").exists()
