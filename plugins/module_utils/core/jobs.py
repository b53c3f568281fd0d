# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the console may run, as rules: each operation a person can ask for is one of the collection's own
playbooks with the extra variables it may be given (the console never re-implements an operation). A request
becomes a job only through ``job_request``: an unknown operation or field is refused, an admin's operation is
refused to a tenant as if it did not exist, and a tenant's job always carries ``owner=<the tenant>``, which
the playbook then matches against the VM's owner (core.tenancy) before anything changes. Pure: no Ansible, no
libvirt, no process.
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core.accounts import ADMIN, owner_filter
from ansible_collections.cloud1.iaas.plugins.module_utils.core import vmspec
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound

_INT, _STR, _BOOL, _KEY = "int", "str", "bool", "key"
TEXT_MAX = {_STR: 256, _KEY: 16384}   # an SSH public key line (RSA 16384 bits) is longer than a name
_VM = {"vm": _STR}

# operation -> (playbook, {field: type}, admins only, fields required)
CATALOGUE = {
    "create": ("createvm.yml", {"vm": _STR, "memory": _INT, "disk": _INT, "os": _STR, "cpu": _INT, "io": _STR,
                                "ssh_key": _KEY}, False, ("vm",)),
    "create_existing": ("createexistingvm.yml", {"vm": _STR, "img": _STR, "memory": _INT, "cpu": _INT, "io": _STR},
                        False, ("vm", "img")),
    "start": ("startvm.yml", _VM, False, ("vm",)),
    "shutdown": ("shutdownvm.yml", _VM, False, ("vm",)),
    "reboot": ("rebootvm.yml", _VM, False, ("vm",)),
    "pause": ("pausevm.yml", _VM, False, ("vm",)),
    "resume": ("resumevm.yml", _VM, False, ("vm",)),
    "delete": ("deletevm.yml", _VM, False, ("vm",)),
    "snapshot_create": ("snapshot.yml", {"vm": _STR, "snapshot": _STR}, False, ("vm", "snapshot")),
    "snapshot_revert": ("snapshot.yml", {"vm": _STR, "snapshot": _STR}, False, ("vm", "snapshot")),
    "scale": ("scale.yml", {"vm": _STR, "cpu": _INT, "memory": _INT, "disk": _INT}, True, ("vm",)),
    "migrate": ("migrate.yml", {"vm": _STR, "to": _STR}, True, ("vm", "to")),
    "proposal_approve": ("proposals.yml", {"id": _INT, "limit": _INT}, False, ("id",)),
    "proposal_decline": ("proposals.yml", {"id": _INT}, False, ("id",)),
}
# a form's field -> the request rules' name for it (core.vmspec, as playbooks/vars/request.yml maps them)
RULE_NAMES = {"vm": "name", "memory": "memory_mib", "disk": "disk_gib", "cpu": "vcpus", "img": "image", "ssh_key": "ssh_key"}
# fixed extra variables of an operation (what the playbook's own -e operation= is for it)
FIXED = {"snapshot_create": {"operation": "create"}, "snapshot_revert": {"operation": "revert"},
         "proposal_approve": {"operation": "approve"}, "proposal_decline": {"operation": "decline"}}


def _typed(op, field, kind, value):
    if kind == _INT:
        if isinstance(value, bool):
            raise InvalidInput("%s: %s is a whole number, got %r" % (op, field, value))
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            raise InvalidInput("%s: %s is a whole number, got %r" % (op, field, value)) from None
    if kind == _BOOL:
        if isinstance(value, bool):
            return value
        raise InvalidInput("%s: %s is true or false, got %r" % (op, field, value))
    # a key pasted into a form may end with a line break; nothing else may hold one
    text = value.strip() if kind == _KEY and isinstance(value, str) else value
    if not isinstance(text, str) or not text or "\n" in text or len(text) > TEXT_MAX[kind]:
        shown = text[:80] if isinstance(text, str) else text
        raise InvalidInput("%s: %s is a one-line text, got %r" % (op, field, shown))
    return text


def job_request(account, operation, fields):
    """(playbook, extra variables) for ``account`` ({name, role}) asking for ``operation`` with ``fields``
    (empty values left out). Refused: an operation that does not exist for the account (NotFound, the same for
    an admin's operation asked by a tenant), a field the operation does not take, a value of the wrong type, a
    missing required field, a VM name that breaks the name rules."""
    entry = CATALOGUE.get(operation)
    if entry is None or (entry[2] and account.get("role") != ADMIN):
        raise NotFound("there is no operation %r" % operation)
    playbook, spec, _admin, required = entry
    given = {k: v for k, v in (fields or {}).items() if v not in (None, "")}
    extra = sorted(set(given) - set(spec))
    if extra:
        raise InvalidInput("%s does not take %s (it takes %s)" % (operation, ", ".join(extra), ", ".join(sorted(spec))))
    missing = [f for f in required if f not in given]
    if missing:
        raise InvalidInput("%s needs %s" % (operation, ", ".join(missing)))
    out = {k: _typed(operation, k, spec[k], v) for k, v in sorted(given.items())}
    if "vm" in out:   # the playbooks' own request rules, with their messages, before a job exists
        vmspec.validate({RULE_NAMES.get(k, k): v for k, v in out.items() if k in RULE_NAMES or k in ("os", "io")})
    out.update(FIXED.get(operation, {}))
    owner = owner_filter(account)
    if owner is not None:
        out["owner"] = owner     # the playbook refuses another owner's VM; a creation is the tenant's
    elif operation in ("create", "create_existing"):
        raise InvalidInput("%s: an admin creates a VM for a tenant through the tenant's account or "
                           "createvm.yml -e owner=; the console does not guess one" % operation)
    return playbook, out
