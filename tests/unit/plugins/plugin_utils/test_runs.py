# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's name and its liveness, read from this machine's real /proc (processes the test starts and ends)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from ansible_collections.cloud1.iaas.plugins.plugin_utils import runs


def test_this_process_is_alive_and_named_after_its_top_fork():
    me = runs.this_run()
    host, boot, pid, start = me.rsplit(":", 3)
    assert host == socket.gethostname() and len(boot) == 8 and start.isdigit()
    assert int(pid) == runs.run_pid()
    assert runs.is_alive(me) is True


def test_a_fork_names_its_parent_run():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:   # a worker forked from this process, like Ansible's: same command line
        os.write(write, runs.this_run().encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 200).decode() == runs.this_run()


def test_an_ended_process_is_dead_and_a_reused_pid_is_not_the_same_run():
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    name = runs.this_run(pid=proc.pid)
    assert name.rsplit(":", 3)[2] == str(proc.pid) and runs.is_alive(name) is True
    proc.communicate(b"")
    assert runs.is_alive(name) is False
    mine = runs.this_run().rsplit(":", 1)[0]
    assert runs.is_alive(mine + ":1") is False   # this PID with another start time: an earlier process


def test_other_controllers_and_non_names():
    boot = runs.this_run().split(":")[1]
    assert runs.is_alive("elsewhere:%s:1:1" % boot) is True   # only that controller can tell
    assert runs.is_alive("%s:00000000:1:1" % socket.gethostname()) is False   # before this machine's boot
    for value in (None, "", "garbage", "%s:%s:x:1" % (socket.gethostname(), boot)):
        assert runs.is_alive(value) is False
