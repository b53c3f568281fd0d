# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM, one changer per node: an exclusive lock (flock) per VM name in the node's /run/lock.

A playbook run killed on the controller leaves its module running on the node (it finishes its clone,
virt-sysprep and define, or rolls them back); a rerun that takes the dead run's reservation over waits here
until that module has finished, so the two never act on the same disk at once."""

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
            return os.path.join(directory, "vm-%s.lock" % name)
        except OSError:
            continue
    raise OperationFailed("no directory for the VM locks is writable (%s)" % ", ".join(LOCK_DIRS))


@contextlib.contextmanager
def vm_lock(name, timeout=900, waiter=None):
    """Hold VM ``name``'s lock on this node; wait up to ``timeout`` s for another holder to finish."""
    path = _lock_path(name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        def probe():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True, None
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                return False, None

        done, _value = (waiter or Waiter(timeout, interval=1.0)).until(probe)
        if not done:
            raise OperationFailed("another run has been creating or changing VM %s on this node for over %d s "
                                  "(lock %s): wait for it to finish, then run the request again"
                                  % (name, timeout, path))
        yield
    finally:
        os.close(fd)   # closing the descriptor releases the lock
