# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Locks of a node, in its /run/lock (flock: released when the holder ends, however it ends).

- One VM, one changer: an exclusive lock per VM name. A playbook run killed on the controller leaves its
  module running on the node (it finishes its clone, virt-sysprep and define, or rolls them back); a rerun that
  takes the dead run's reservation over waits here until that module has finished, so the two never act on the
  same disk at once.
- A few at a time: ``slot`` hands out one of N slots of a kind (virt-sysprep's appliance is a whole VM: twenty
  at once on two cores all miss their timeout; a few at a time all finish)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.wait import Waiter

LOCK_DIRS = ("/run/lock/cloud1", os.path.join(tempfile.gettempdir(), "cloud1-locks"))


def _lock_path(name):
    for directory in LOCK_DIRS:
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            return os.path.join(directory, "%s.lock" % name)
        except OSError:
            continue
    raise OperationFailed("no directory for the VM locks is writable (%s)" % ", ".join(LOCK_DIRS))


def _try_lock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False


@contextlib.contextmanager
def slot(kind, count, timeout=3600, waiter=None):
    """Hold one of ``count`` slots of ``kind`` on this node; wait up to ``timeout`` s for one to free."""
    count = max(1, int(count))
    fds = [os.open(_lock_path("%s-slot%d" % (kind, i)), os.O_RDWR | os.O_CREAT, 0o600) for i in range(count)]
    try:
        def probe():
            for fd in fds:
                if _try_lock(fd):
                    return True, fd
            return False, None

        done, held = (waiter or Waiter(timeout, interval=1.0)).until(probe)
        if not done:
            raise OperationFailed("no %s slot of this node came free within %d s (%d at a time): the node is busy "
                                  "with other creations; try again later" % (kind, timeout, count))
        yield held
    finally:
        for fd in fds:
            os.close(fd)


@contextlib.contextmanager
def vm_lock(name, timeout=900, waiter=None):
    """Hold VM ``name``'s lock on this node; wait up to ``timeout`` s for another holder to finish."""
    path = _lock_path("vm-%s" % name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        def probe():
            return _try_lock(fd), None

        done, _value = (waiter or Waiter(timeout, interval=1.0)).until(probe)
        if not done:
            raise OperationFailed("another run has been creating or changing VM %s on this node for over %d s "
                                  "(lock %s): wait for it to finish, then run the request again"
                                  % (name, timeout, path))
        yield
    finally:
        os.close(fd)   # closing the descriptor releases the lock
