# -*- coding: utf-8 -*-
"""Who may act on a VM (pure rules; the executors call them before anything changes)."""

from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import tenancy
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput


@pytest.mark.parametrize("vm_owner,asking", [("alice", "alice"), ("alice", None), ("alice", ""), (None, None)])
def test_the_owner_and_an_admin_may_act(vm_owner, asking):
    tenancy.check_access("web1", vm_owner, asking)


@pytest.mark.parametrize("vm_owner", ["alice", None, ""])
def test_another_owner_is_refused_without_learning_whose_it_is(vm_owner):
    with pytest.raises(tenancy.NotOwner) as refused:
        tenancy.check_access("web1", vm_owner, "mallory")
    assert refused.value.message.startswith("VM web1 is not mallory's") and "alice" not in refused.value.message
    assert isinstance(refused.value, InvalidInput)


def test_the_asking_owner_follows_the_owner_rules():
    with pytest.raises(InvalidInput, match="owner 'alice\\\\n' is not valid"):
        tenancy.check_access("web1", "alice", "alice\n")


def test_creation_needs_an_owner():
    assert tenancy.owner_for_creation("alice") == "alice"
    assert tenancy.owner_for_creation(None, inherited="alice") == "alice"   # a clone of alice's VM
    assert tenancy.owner_for_creation("bob", inherited="alice") == "bob"
    for missing in (None, ""):
        with pytest.raises(InvalidInput, match="owner is required to create a VM"):
            tenancy.owner_for_creation(missing, inherited=missing)
