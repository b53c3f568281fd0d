# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where the collection's typed errors become fail_json."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error


def run(module, fn, *args, **kwargs):
    """Call ``fn`` and exit the module with its result dict, or fail with the error's message."""
    try:
        result = fn(*args, **kwargs)
    except Cloud1Error as exc:
        module.fail_json(msg=exc.message, error=type(exc).__name__, **exc.details)
    module.exit_json(**result)


def vm_argument_spec(**options):
    """The argument spec of a module acting on one VM: its name and the node's libvirt URI, then ``options``."""
    spec = dict(name=dict(type="str", required=True), uri=dict(type="str", default="qemu:///system"))
    spec.update(options)
    return spec


# sockets x cores x threads (the topology option of the modules that size a VM)
TOPOLOGY_SPEC = dict(type="dict", options=dict(sockets=dict(type="int", default=1), cores=dict(type="int", default=1),
                                               threads=dict(type="int", default=1)))
