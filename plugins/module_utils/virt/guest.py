# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands inside a running guest: qemu-guest-agent (guest-exec through libvirt) first, SSH to the VM's
address as the fallback. Both give back the exit code and the output.

The scripts a guest runs are text in ``core.guestscript``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile

from ansible_collections.cloud1.iaas.plugins.module_utils.core import hostkeys
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import ROOT_SIZE
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter


class GuestAccess:
    """Run commands in one guest. ``method``: auto (agent, then SSH), agent, ssh."""

    def __init__(self, dom, method="auto", address=None, ssh_user="root", ssh_private_key=None, timeout=120,
                 host_keys=None):
        self.dom = dom             # a virt.client.Domain
        self.name = dom.name
        self.method = method
        self.address = address
        self.host_keys = list(host_keys or [])   # the keys recorded at creation: the only ones SSH accepts
        self.ssh_user = ssh_user
        self.ssh_private_key = ssh_private_key
        self.timeout = timeout
        self.used = None           # "agent" or "ssh": what the last command went through
        self.agent_error = None    # why the agent was not used, when SSH was

    # -- the agent ---------------------------------------------------------------------------------

    def _agent(self, command, args=None, timeout=10):
        payload = {"execute": command}
        if args is not None:
            payload["arguments"] = args
        return json.loads(self.dom.agent_command(json.dumps(payload), timeout)).get("return")

    def agent_available(self):
        try:
            self._agent("guest-ping", timeout=5)
            return True
        except OperationFailed as exc:
            self.agent_error = exc.message
            return False

    def _agent_exec(self, argv, stdin=None):
        args = {"path": argv[0], "arg": list(argv[1:]), "capture-output": True}
        if stdin is not None:
            args["input-data"] = base64.b64encode(stdin.encode()).decode()
        pid = self._agent("guest-exec", args)["pid"]

        def probe():
            status = self._agent("guest-exec-status", {"pid": pid})
            return bool(status.get("exited")), status

        done, status = Waiter(self.timeout, interval=0.2).until(probe)
        if not done:
            raise OperationFailed("%s in %s did not finish within %d s (guest-exec pid %d)"
                                  % (" ".join(argv), self.name, self.timeout, pid))
        return (status.get("exitcode", -1 if status.get("signal") else 0), _b64(status, "out-data"),
                _b64(status, "err-data"))

    # -- SSH ------------------------------------------------------------------------------------------

    def _ssh_exec(self, argv, stdin=None):
        if not self.address:
            raise OperationFailed("%s has no address in its metadata to reach it by SSH" % self.name)
        if shutil.which("ssh") is None:
            raise OperationFailed("ssh is not installed where the module runs (openssh-client)")
        if not self.host_keys:
            raise OperationFailed("no SSH host key of %s is recorded, so SSH cannot tell the guest from whatever "
                                  "answers at %s: record its keys through the agent (vm_hostkeys; createvm.yml does "
                                  "it at creation)" % (self.name, self.address))
        tmp = tempfile.mkdtemp(prefix="cloud1-guest-")
        try:
            known = os.path.join(tmp, "known_hosts")
            with open(known, "w") as handle:
                handle.write(hostkeys.known_hosts(self.address, self.host_keys))
            cmd = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                   # only the keys recorded at creation: no trust on first use
                   "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=%s" % known,
                   "-o", "GlobalKnownHostsFile=/dev/null"]
            if self.ssh_private_key:
                key = os.path.join(tmp, "key")
                with os.fdopen(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
                    handle.write(self.ssh_private_key.rstrip("\n") + "\n")
                cmd += ["-i", key, "-o", "IdentitiesOnly=yes"]
            cmd += ["%s@%s" % (self.ssh_user, self.address), "--"] + [_quote(a) for a in argv]
            try:
                res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=self.timeout,
                                     check=False)
            except subprocess.TimeoutExpired:
                raise OperationFailed("SSH to %s (%s) did not finish within %d s"
                                      % (self.name, self.address, self.timeout))
            if res.returncode == 255 and "host key" in res.stderr.lower():
                raise OperationFailed("the SSH host key at %s is not one recorded for %s at its creation: refused (a "
                                      "guest given new keys, or another machine answering at its address); if the "
                                      "keys changed on purpose, record them again with vm_hostkeys accept_new=true"
                                      % (self.address, self.name))
            if res.returncode == 255:
                raise OperationFailed("SSH to %s at %s failed: %s" % (self.name, self.address, res.stderr.strip()))
            return res.returncode, res.stdout, res.stderr
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- either ---------------------------------------------------------------------------------------

    def run(self, argv, stdin=None):
        """(exit code, stdout, stderr) of ``argv`` in the guest."""
        if self.method in ("auto", "agent"):
            if self.used == "agent" or self.agent_available():
                self.used = "agent"
                return self._agent_exec(argv, stdin)
            if self.method == "agent":
                raise OperationFailed("cannot run commands in %s through qemu-guest-agent (%s): install and start "
                                      "qemu-guest-agent in the guest, or use guest_access=ssh"
                                      % (self.name, self.agent_error))
        try:
            result = self._ssh_exec(argv, stdin)
        except OperationFailed as exc:
            why = (" and the agent is not usable (%s)" % self.agent_error) if self.agent_error else ""
            raise OperationFailed(exc.message + why + ": start qemu-guest-agent in the guest or give an SSH key "
                                  "that reaches it")
        self.used = "ssh"
        return result

    def script(self, text, *args):
        """Run a shell script (fed on stdin) with ``args``."""
        return self.run(["/bin/sh", "-s", "--"] + list(args), stdin=text)

    def root_size(self):
        rc, out, err = self.run(["/bin/sh", "-c", ROOT_SIZE])
        if rc != 0:
            raise OperationFailed("cannot read the root filesystem's size in %s: %s" % (self.name, err.strip()))
        return int(out.strip())


def _b64(status, key):
    return base64.b64decode(status.get(key, "")).decode("utf-8", "replace")


def _quote(arg):
    """One argument for the remote shell SSH hands the command to."""
    return "'%s'" % arg.replace("'", "'\\''")
