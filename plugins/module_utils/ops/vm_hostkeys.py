# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm_hostkeys`` module: a running VM's SSH host keys read through qemu-guest-agent (never over the
network) and recorded in its metadata; a guest whose keys differ from the recorded ones is refused unless the
change is accepted explicitly."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core import domain, hostkeys, rules, tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.core.guestscript import HOST_KEYS
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.actions import ActionLog
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.entry import vm_argument_spec
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.guest import GuestAccess
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

ARGUMENT_SPEC = vm_argument_spec(
    timeout=dict(type="int", default=300),
    accept_new=dict(type="bool", default=False),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)


def still_running(dom, awaited):
    """Raise when ``dom`` crashed or powered off while ``awaited`` (a wait on a booting guest): no use waiting on."""
    state = dom.state()
    if not rules.is_executing(state):
        raise OperationFailed("%s is %s while %s: the guest stopped during its boot; its serial console (%s on its "
                              "node) says why" % (dom.name, state, awaited, domain.serial_log_path(dom.name)))


def read_keys(dom, timeout):
    """The guest's host keys through its agent, waiting up to ``timeout`` s for the agent and for sshd's first
    start to have made them all (a read while it makes them one type after another would record a part)."""
    access = GuestAccess(dom, method="agent", timeout=30)

    def probe():
        still_running(dom, "its host keys were awaited")
        if not access.agent_available():
            return False, "qemu-guest-agent does not answer (%s)" % access.agent_error
        rc, out, err = access.run(["/bin/sh", "-c", HOST_KEYS, "sh", "/etc/ssh"])
        keys = hostkeys.parse(out) if rc == 0 else []
        return bool(keys), keys or "no host key in /etc/ssh yet (%s)" % (err.strip() or "exit %d" % rc)

    done, value = Waiter(timeout, interval=2).until(probe)
    if not done:
        raise OperationFailed("cannot read the SSH host keys of %s within %d s: %s; the guest needs "
                              "qemu-guest-agent running (the keys are never taken from the network)"
                              % (dom.name, timeout, value))
    return value


def ensure(params, check_mode=False):
    name = params["name"]
    timeout = rules.whole(params.get("timeout"), "timeout", 1, 3600) or 300
    log = ActionLog(check_mode)
    with LibvirtClient(params.get("uri") or "qemu:///system") as client:
        dom = client.lookup(name)
        info = dom.describe()
        meta = dict(info["metadata"])
        tenancy.check_access(name, meta.get("owner"), params.get("owner"))
        if not rules.is_executing(info["state"]):
            raise InvalidInput("%s is %s: its host keys are read from the running guest; start it first"
                               % (name, info["state"]))
        recorded = hostkeys.from_metadata(meta.get("hostkeys"))
        seen = read_keys(dom, timeout)
        verdict = hostkeys.compare(recorded, seen)
        if verdict == "changed" and not params.get("accept_new"):
            raise OperationFailed(
                "the SSH host keys of %s are not the ones recorded at its creation (recorded %s; the guest has %s): "
                "refused, nothing was changed; if the guest was given new keys on purpose, accept them with "
                "accept_new=true" % (name, ", ".join(k.split()[0] for k in recorded), ", ".join(seen)))
        if verdict != "same":
            meta["hostkeys"] = hostkeys.to_metadata(seen)
            log.change("record the SSH host keys of %s (%s)" % (name, ", ".join(k.split()[0] for k in seen)),
                       dom.set_metadata, meta)
    return log.result({"hostkeys": recorded}, {"hostkeys": seen}, name=name, hostkeys=seen,
                      known_hosts=hostkeys.known_hosts(meta.get("ip"), seen) if meta.get("ip") else None)
