# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``console_user`` and ``console_user_info`` modules: the console's accounts on the master (users.yml): an
admin or a tenant (whose name is the owner its VMs carry) made present with a password, changed, disabled,
removed; listed by the info module. The
password is only ever stored as its scrypt hash, and never returned."""

from __future__ import annotations

import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core.accounts import ROLES
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts

ARGUMENT_SPEC = dict(
    db=dict(type="path", default="/var/lib/cloud1/console.db"),
    name=dict(type="str", required=True),
    role=dict(type="str", choices=list(ROLES)),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
    disabled=dict(type="bool"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
MODULE_ARGS = dict(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
INFO_ARGS = dict(argument_spec=dict(db=ARGUMENT_SPEC["db"]), supports_check_mode=True)


def info(params, check_mode=False):
    """console_user_info: every account, without hashes."""
    return {"changed": False, "accounts": Accounts(params["db"]).list()}


def ensure(params, check_mode=False):
    accounts = Accounts(params["db"])
    state, name = params["state"], params.get("name")
    if state == "absent":
        before = accounts.remove(name, check=check_mode)
        return {"changed": before is not None, "account": None,
                "diff": {"before": before or {}, "after": {}}}
    wanted = dict(role=params.get("role"), password=params.get("password"), update_password=params["update_password"],
                  disabled=params.get("disabled"))
    if check_mode:
        before, after = accounts.plan(name, **wanted)
    else:
        before, after = accounts.ensure(name, time.time(), **wanted)
    changed = after is not None
    return {"changed": changed, "account": accounts.get(name) if not check_mode else (after or before),
            "diff": {"before": before or {}, "after": after or before or {}}}
