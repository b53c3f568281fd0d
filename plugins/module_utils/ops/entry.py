# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one module entry: call the executor, turn the collection's typed errors into ``fail_json`` with their
message (and, when they wrap libvirt's or a tool's error, that exception), and any other exception into
``fail_json`` with the exception; ansible-core puts its traceback in the result's ``exception``
(with ``ANSIBLE_DISPLAY_TRACEBACK=error``). Warnings go through ``module.warn``.
Also the argument-spec pieces modules share (their ``choices`` come from the core)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core.rules import TOPOLOGY_KEYS
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error


def run(module, fn):
    """Exit the module with ``fn(module.params, check_mode=...)``'s result dict, or fail with a message that says
    what to do."""
    try:
        result = fn(module.params, check_mode=module.check_mode)
    except Cloud1Error as exc:
        details = dict(exc.details)
        if exc.__cause__ is not None or exc.__context__ is not None:   # it wraps libvirt's (or a tool's) error
            details["exception"] = exc
        module.fail_json(msg=exc.message, error=type(exc).__name__, **details)
    except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes a failed task
        module.fail_json(msg="%s failed unexpectedly: %s: %s (its traceback is in the result's 'exception' with "
                             "ANSIBLE_DISPLAY_TRACEBACK=error; please report it to cloud1.iaas)"
                             % (module._name, type(exc).__name__, exc), error=type(exc).__name__, exception=exc)
    for text in result.pop("warnings", None) or []:
        module.warn(text)
    module.exit_json(**result)


def vm_argument_spec(**options):
    """The argument spec of a module acting on one VM: its name, the owner the request is made for (checked
    against the VM's before anything changes) and the node's libvirt URI, then ``options``."""
    spec = dict(name=dict(type="str", required=True), owner=dict(type="str"),
                uri=dict(type="str", default="qemu:///system"))
    spec.update(options)
    return spec


# sockets x cores x threads (the topology option of the modules that size a VM)
TOPOLOGY_SPEC = dict(type="dict", options={key: dict(type="int", default=1) for key in TOPOLOGY_KEYS})
