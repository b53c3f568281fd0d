# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest-side read of the SSH host keys (core.guestscript.HOST_KEYS), run by the real /bin/sh against a
scratch key directory, with a stand-in systemctl that answers as a guest's would at each step of sshd's start.
The box's lifecycle checks read a real guest's keys through its agent."""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import hostkeys
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import HOST_KEYS


def _key(kind, body):
    blob = struct.pack(">I", len(kind)) + kind.encode() + body
    return "%s %s root@web1" % (kind, base64.b64encode(blob).decode())


ED = _key("ssh-ed25519", b"\x00\x00\x00\x20" + b"e" * 32)
EC = _key("ecdsa-sha2-nistp256", b"\x00\x00\x00\x08nistp256" + b"c" * 65)

SYSTEMCTL = """#!/bin/sh
case "$1" in
    is-active) unit=$(echo "$2" | tr '.-' '__'); eval "echo \\${STATE_$unit:-inactive}" ;;
    list-units) printf '%s' "${ACTIVATING:-}" ;;
esac
"""


@pytest.fixture
def guest(tmp_path):
    """(run, keydir): run(systemd=True, **states) runs the script in a guest whose units are in those states."""
    keys = tmp_path / "ssh"
    keys.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("cat", "tr"):
        os.symlink(shutil.which(tool), str(bindir / tool))

    def run(systemd=True, activating="", **states):
        if systemd:
            (bindir / "systemctl").write_text(SYSTEMCTL)
            (bindir / "systemctl").chmod(0o755)
        elif (bindir / "systemctl").exists():
            (bindir / "systemctl").unlink()
        env = {"PATH": str(bindir), "ACTIVATING": activating}
        env.update({"STATE_" + unit.replace(".", "_"): state for unit, state in states.items()})
        return subprocess.run(["/bin/sh", "-c", HOST_KEYS, "sh", str(keys)], capture_output=True, text=True,
                              env=env, timeout=30, check=False)

    return run, keys


def test_keys_are_read_once_sshd_is_active(guest):
    run, keys = guest
    (keys / "ssh_host_ed25519_key.pub").write_text(ED + "\n")
    (keys / "ssh_host_ecdsa_key.pub").write_text(EC + "\n")
    res = run(**{"ssh.service": "active"})
    assert res.returncode == 0, res.stderr
    assert sorted(hostkeys.parse(res.stdout)) == sorted(" ".join(k.split()[:2]) for k in (ED, EC))


def test_a_part_of_the_keys_made_while_sshd_starts_is_not_an_answer(guest):
    """sshd's ExecStartPre makes ed25519, then ECDSA: read between the two, one key would be recorded."""
    run, keys = guest
    (keys / "ssh_host_ed25519_key.pub").write_text(ED + "\n")
    res = run(**{"ssh.service": "activating"})
    assert res.returncode == 3 and res.stdout == ""
    assert "sshd has not started yet" in res.stderr


def test_a_socket_activated_sshd_still_making_keys_is_waited_for(guest):
    run, keys = guest
    (keys / "ssh_host_ed25519_key.pub").write_text(ED + "\n")
    res = run(activating="ssh.service loaded activating start-pre OpenBSD Secure Shell server",
              **{"ssh.socket": "active", "ssh.service": "activating"})
    assert res.returncode == 3 and res.stdout == ""
    assert "still under way" in res.stderr and "ssh.service" in res.stderr


def test_sshd_not_started_yet(guest):
    run, keys = guest
    res = run()
    assert res.returncode == 3 and "not started" in res.stderr


@pytest.mark.parametrize("unit", ["sshd.service", "ssh.socket", "sshd.socket"])
def test_other_names_of_sshd_count(guest, unit):
    run, keys = guest
    (keys / "ssh_host_ed25519_key.pub").write_text(ED + "\n")
    res = run(**{unit: "active"})
    assert res.returncode == 0 and hostkeys.parse(res.stdout) == [" ".join(ED.split()[:2])]


def test_a_guest_without_systemd_is_read_as_it_is(guest):
    run, keys = guest
    (keys / "ssh_host_ed25519_key.pub").write_text(ED + "\n")
    res = run(systemd=False)
    assert res.returncode == 0 and hostkeys.parse(res.stdout) == [" ".join(ED.split()[:2])]
