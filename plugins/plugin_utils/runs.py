# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who a playbook run is, and whether a run is still alive (controller side).

A run is named by the controller's ansible-playbook process: ``host:boot:pid:start`` (the machine, its boot,
the process and the process's start time, so a reused PID or a reboot never passes for the same run). Only
the controller that started a run can tell it dead; a run of another controller counts as alive (its
reservation expires instead)."""

from __future__ import annotations

import os
import socket

PROC = "/proc"


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _start_time(pid, proc=PROC):
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    stat = _read(os.path.join(proc, str(pid), "stat"))
    if stat is None:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()   # the name in parentheses may hold spaces
    return int(fields[19])


def _parent(pid, proc=PROC):
    stat = _read(os.path.join(proc, str(pid), "stat"))
    return int(stat[stat.rindex(b")") + 2:].split()[1]) if stat else 0


def _boot(proc=PROC):
    return (_read(os.path.join(proc, "sys/kernel/random/boot_id")) or b"unknown").decode().strip()[:8]


def run_pid(pid=None, proc=PROC):
    """The ansible-playbook process a (worker) process belongs to: the topmost ancestor with the same command
    line (Ansible's workers are forks of the playbook process)."""
    pid = pid or os.getpid()
    cmdline = _read(os.path.join(proc, str(pid), "cmdline"))
    while True:
        parent = _parent(pid, proc)
        if parent <= 1 or _read(os.path.join(proc, str(parent), "cmdline")) != cmdline:
            return pid
        pid = parent


def this_run(pid=None, proc=PROC, host=None):
    top = run_pid(pid, proc)
    return "%s:%s:%d:%s" % (host or socket.gethostname(), _boot(proc), top, _start_time(top, proc))


def is_alive(holder, proc=PROC, host=None):
    """False when ``holder`` (a run's name) is a run of this controller that has ended; True otherwise
    (still running, or another controller's run, which only that controller can tell)."""
    parts = str(holder or "").rsplit(":", 3)
    if len(parts) != 4:
        return False   # not a run's name: nothing holds it
    who, boot, pid, start = parts
    if who != (host or socket.gethostname()):
        return True
    if boot != _boot(proc):
        return False   # this machine rebooted since: every run of before has ended
    if not pid.isdigit():
        return False
    return str(_start_time(int(pid), proc)) == start
