# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may act on a VM. Pure: every executor that acts on an existing VM asks ``check_access`` before it
changes anything, with the owner the request is made for (the console always passes the logged-in tenant; an
admin at the shell may leave it out). The VM's owner is the ``owner`` of its libvirt metadata.

A request made for another owner is refused without saying whose the VM is (a tenant learns nothing about
other tenants' VMs). A VM's owner changes only through the explicit ``new_owner`` of the vm module, never as a
side effect of a creation request.
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.core.vmspec import check_owner
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput


class NotOwner(InvalidInput):
    """The request is made for an owner the VM does not belong to; nothing was changed."""


def check_access(name, vm_owner, asking):
    """Refuse when ``asking`` (an owner, or None/empty for an admin) may not act on VM ``name`` owned by
    ``vm_owner``. A VM without an owner is only an admin's."""
    asking = check_owner(asking)
    if asking is None:
        return None
    if vm_owner != asking:
        raise NotOwner("VM %s is not %s's: a request made for one owner acts only on that owner's VMs; nothing "
                       "was changed" % (name, asking), name=name)
    return asking


def owner_for_creation(requested, inherited=None):
    """The owner a new VM gets: the one asked for (a clone of another VM inherits its source's only when none is
    asked for). A VM is never created without an owner."""
    owner = check_owner(requested) or check_owner(inherited)
    if owner is None:
        raise InvalidInput("owner is required to create a VM (the tenant it belongs to): give -e owner=NAME; "
                           "nothing was changed")
    return owner
