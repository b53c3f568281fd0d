# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check_request action: a request checked by the collection's rules on the controller, before anything
is touched; a refusal is the task's one clean ``msg`` (documented in plugins/modules/check_request.yml)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.cloud1.iaas.plugins.module_utils.core.rules import choice
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error, InvalidInput
from ansible_collections.cloud1.iaas.plugins.plugin_utils import requests

KINDS = ("vm", "scale")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        try:
            unknown = sorted(set(args) - {"request", "kind", "fact", "nodes"})
            if unknown:
                raise InvalidInput("unknown option(s) %s: give request, kind, nodes and fact" % ", ".join(unknown))
            kind = choice(args.get("kind"), "kind", KINDS, "vm")
            request = args.get("request")
            if not isinstance(request, dict):
                raise InvalidInput("request must be a dict of the request's fields, got %s" % type(request).__name__)
            nodes = args.get("nodes") or []
            if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
                raise InvalidInput("nodes must be a list of the cluster's node names")
            if kind == "vm":
                checked = requests.vm_request(request, nodes)
            else:
                hosts = task_vars.get("groups", {}).get("hypervisors", [])
                checked = requests.scale_request(request, task_vars.get("hostvars", {}), hosts)
        except Cloud1Error as exc:
            result.update(failed=True, msg=exc.message, error=type(exc).__name__)
            return result
        fact = args.get("fact") or "cloud1_request"
        result.update(changed=False, request=checked, ansible_facts={fact: checked})
        return result
