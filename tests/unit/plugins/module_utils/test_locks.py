# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-VM lock of a node: a second holder waits, and gives up with a clear message after its timeout."""
from __future__ import annotations

import os

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import locks


def test_a_second_holder_waits_then_gets_it(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "LOCK_DIRS", (str(tmp_path),))
    held, go = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:   # another process holds web1's lock until told to let go
        with locks.vm_lock("web1"):
            os.write(held[1], b"x")
            os.read(go[0], 1)
        os._exit(0)
    os.read(held[0], 1)
    with pytest.raises(OperationFailed, match="another run has been creating or changing VM web1 on this node"):
        with locks.vm_lock("web1", timeout=0.2):
            pass
    with locks.vm_lock("web2", timeout=0.2):   # another VM's lock is free
        pass
    os.write(go[1], b"x")
    with locks.vm_lock("web1", timeout=10):
        pass
    os.waitpid(child, 0)


def test_slots_let_count_holders_in_and_the_next_waits(tmp_path, monkeypatch):
    monkeypatch.setattr(locks, "LOCK_DIRS", (str(tmp_path),))
    held, go = os.pipe(), os.pipe()
    child = os.fork()
    if child == 0:   # another process takes one of the two slots and keeps it until told
        with locks.slot("sysprep", 2):
            os.write(held[1], b"x")
            os.read(go[0], 1)
        os._exit(0)
    os.read(held[0], 1)
    with locks.slot("sysprep", 2, timeout=0.2):          # the second slot is free
        with pytest.raises(OperationFailed, match="no sysprep slot of this node came free within 0 s .2 at a time."):
            with locks.slot("sysprep", 2, timeout=0.2):  # both taken
                pass
    os.write(go[1], b"x")
    os.waitpid(child, 0)
    with locks.slot("sysprep", 2, timeout=10):
        with locks.slot("sysprep", 2, timeout=10):
            pass
