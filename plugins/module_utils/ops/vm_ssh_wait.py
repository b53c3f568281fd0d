# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_ssh_wait`` module: wait, on the VM's node, until sshd answers at the VM's address, and fail at once
when the guest stops while it is awaited (a wait from elsewhere cannot tell a crashed guest from a slow one)."""

from __future__ import annotations

import socket
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import net, rules, tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm_hostkeys import still_running
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

ARGUMENT_SPEC = vm_argument_spec(
    ip=dict(type="str"),
    port=dict(type="int", default=22),
    timeout=dict(type="int", default=300),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def ssh_banner(ip, port, timeout=5.0):
    """The first line the server at ``ip``:``port`` sends (an SSH server's starts with ``SSH-``); OSError when
    it cannot be read (refused, unreachable, closed before a line, no line within ``timeout`` s)."""
    with socket.create_connection((ip, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        data = b""
        while b"\n" not in data and len(data) < 255:   # RFC 4253: the identification line, at most 255 bytes
            chunk = sock.recv(255 - len(data))
            if not chunk:
                raise OSError("the connection was closed before a line was sent")
            data += chunk
    return data.split(b"\n", 1)[0].decode("ascii", "replace").strip()


def ensure(params, check_mode=False):
    """Wait for the VM's sshd; reads only, so a check run waits as well and nothing ever changes."""
    name = params["name"]
    port = rules.whole(params.get("port"), "port", 1, 65535) or 22
    timeout = rules.whole(params.get("timeout"), "timeout", 1, 3600) or 300
    with LibvirtClient(params.get("uri") or "qemu:///system") as client:
        dom = client.lookup(name)
        info = dom.describe()
        tenancy.check_access(name, info["metadata"].get("owner"), params.get("owner"))
        recorded = info["metadata"].get("ip")
        ip = params.get("ip") or recorded
        if not ip:
            raise InvalidInput("%s has no recorded address: give the address to wait on as ip=" % name)
        if not net.is_address(ip):
            raise InvalidInput("ip=%r is not an address (like 10.77.0.120)" % ip)
        if recorded and ip != recorded:   # the wait connects from the node: only to the VM's own address
            raise InvalidInput("%s's address is %s, not %s: leave ip= out to wait on its own" % (name, recorded, ip))
        if not rules.is_executing(info["state"]):
            raise InvalidInput("%s is %s: sshd is awaited on a running guest; start it first" % (name, info["state"]))

        def probe():
            still_running(dom, "its SSH was awaited at %s:%d" % (ip, port))
            try:
                line = ssh_banner(ip, port)
            except OSError as exc:
                return False, "no answer at %s:%d (%s)" % (ip, port, exc)
            if not line.startswith("SSH-"):
                return False, "%s:%d answers %r, not an SSH server" % (ip, port, line[:80])
            return True, line

        started = time.monotonic()
        done, value = Waiter(timeout, interval=2).until(probe)
        if not done:
            raise OperationFailed("%s does not answer SSH within %d s: %s; the guest runs: its serial console on "
                                  "its node says how far its boot got" % (name, timeout, value))
    return dict(changed=False, name=name, ip=ip, port=port, banner=value,
                seconds=round(time.monotonic() - started, 1))
