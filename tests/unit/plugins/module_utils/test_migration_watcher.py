# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration's completion timeout, driven with a stand-in domain (the box's migration scenario drives the real
one): an abort that cancelled nothing is asked again while the job runs."""

from __future__ import annotations

import threading

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.virt import migration


class Dom:
    def __init__(self, ignore_aborts=0, refuse=False):
        self.ignore, self.refuse = ignore_aborts, refuse
        self.running, self.aborts, self.paused = True, 0, 0

    def job_stats(self):
        return {"type": 2, "data_total": 100, "data_remaining": 50} if self.running else {}

    def job_active(self, stats):
        return bool(stats)

    def abort_job(self):
        self.aborts += 1
        if self.refuse:
            raise OperationFailed("operation not valid: no job is active")
        if self.aborts > self.ignore:
            self.running = False

    def suspend(self):
        self.paused += 1

    def set_migration_speed(self, mib):
        pass


def req(action):
    return {"timeout": 4, "timeout_action": action, "postcopy": False, "bandwidth_mib": 2}


def tick(watcher, seconds):
    """Pretend ``seconds`` more have passed since the migration began, then probe once."""
    watcher.t0 -= seconds
    watcher.asked -= seconds
    watcher.on_timeout(watcher.poll())


def test_no_abort_before_the_timeout():
    dom = Dom()
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 3)
    assert dom.aborts == 0 and watcher.forced is None


def test_an_abort_that_cancelled_nothing_is_asked_again_until_the_job_ends():
    dom = Dom(ignore_aborts=2)
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 5)
    assert dom.aborts == 1 and dom.running
    tick(watcher, 1)                       # too soon to ask again
    assert dom.aborts == 1
    tick(watcher, migration.ABORT_RETRY_S)
    tick(watcher, migration.ABORT_RETRY_S)
    assert dom.aborts == 3 and not dom.running
    tick(watcher, migration.ABORT_RETRY_S)  # the job has ended: nothing more to cancel
    assert dom.aborts == 3
    assert watcher.forced == "aborted after 4 s (timeout_action=abort)"


def test_an_abort_libvirt_refuses_says_so():
    dom = Dom(refuse=True)
    watcher = migration.Watcher(dom, req("abort"))
    tick(watcher, 5)
    assert watcher.forced == "aborted after 4 s (timeout_action=abort) - failed: operation not valid: no job is active"


def test_force_pauses_once():
    dom = Dom()
    watcher = migration.Watcher(dom, req("force"))
    tick(watcher, 5)
    tick(watcher, 5)
    assert dom.paused == 1 and watcher.forced.startswith("paused the VM after 4 s")


class Lost(Dom):
    """A handle that stopped finding its VM while the move goes on."""

    def job_stats(self):
        raise OperationFailed("Domain not found: no domain with matching uuid")

    def abort_job(self):
        self.aborts += 1
        raise OperationFailed("Domain not found: no domain with matching uuid")


def test_a_handle_that_lost_the_vm_is_replaced_and_the_abort_reaches_the_job():
    lost, found = Lost(), Dom()
    opened = []

    def reopen():
        opened.append(1)
        return found

    watcher = migration.Watcher(lost, req("abort"), reopen=reopen)
    tick(watcher, 5)
    assert lost.aborts == 0 and found.aborts == 1 and not found.running and len(opened) == 1
    assert watcher.forced == "aborted after 4 s (timeout_action=abort)"


def test_an_abort_not_accepted_is_asked_again_though_the_job_cannot_be_seen():
    lost = Lost()
    watcher = migration.Watcher(lost, req("abort"), reopen=lambda: None)
    tick(watcher, 5)
    tick(watcher, migration.ABORT_RETRY_S)
    assert lost.aborts == 2 and watcher.forced.endswith("failed: Domain not found: no domain with matching uuid")


def test_new_connections_are_bounded():
    opened = []

    def reopen():
        opened.append(1)
        return Lost()

    watcher = migration.Watcher(Lost(), req("abort"), reopen=reopen)
    for _round in range(10):
        tick(watcher, migration.ABORT_RETRY_S)
    assert len(opened) == migration.REOPEN_MAX


def test_a_source_that_cannot_abort_has_the_migration_cancelled_at_the_destination():
    # a source that answers nothing useful (here: "Domain not found") to the abort, on any connection
    calls = []

    def cancel_incoming():
        calls.append(1)
        return True, "its incoming mig1 destroyed before it took over"

    watcher = migration.Watcher(Lost(), req("abort"), reopen=Lost, cancel_incoming=cancel_incoming)
    tick(watcher, 5)
    assert calls == [1] and watcher.aborted
    assert watcher.forced.startswith("aborted after 4 s (timeout_action=abort) at the destination (its incoming mig1 "
                                     "destroyed before it took over; the source could not be asked: Domain not found")
    tick(watcher, migration.ABORT_RETRY_S)
    assert calls == [1]            # not again once the destination has cancelled it (the job is not active)


def test_the_destination_leaves_alone_what_is_not_waiting_and_post_copy_is_never_cancelled_there():
    watcher = migration.Watcher(Lost(), req("abort"), reopen=lambda: None,
                                cancel_incoming=lambda: (False, "mig1 there is running, not waiting for a migration"))
    tick(watcher, 5)
    assert not watcher.aborted and watcher.forced.endswith(
        "failed: Domain not found: no domain with matching uuid; at the destination: mig1 there is running, not "
        "waiting for a migration")
    calls = []
    post = dict(req("abort"), postcopy=True)
    watcher = migration.Watcher(Lost(), post, reopen=lambda: None, cancel_incoming=lambda: calls.append(1))
    tick(watcher, 5)
    assert calls == [] and not watcher.aborted


class Stuck(Dom):
    """A handle whose abort, pause and speed calls libvirt answers only when the move ends (seen on the box for
    calls on the connection running the migration: 100 s later, "Domain not found")."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.speeds = []

    def abort_job(self):
        self.aborts += 1
        self.release.wait(10)
        raise OperationFailed("Domain not found: no domain with matching uuid")

    def suspend(self):
        self.release.wait(10)
        self.paused += 1

    def set_migration_speed(self, mib):
        self.speeds.append(mib)


def test_an_abort_not_answered_in_time_is_asked_on_a_new_connection():
    stuck, fresh = Stuck(), Dom()
    watcher = migration.Watcher(stuck, req("abort"), reopen=lambda: fresh, call_wait=0.2)
    tick(watcher, 5)
    stuck.release.set()
    assert stuck.aborts == 1 and fresh.aborts == 1 and not fresh.running and watcher.aborted
    assert watcher.forced == "aborted after 4 s (timeout_action=abort)"


def test_an_abort_never_answered_is_cancelled_at_the_destination():
    calls = []

    def cancel_incoming():
        calls.append(1)
        return True, "its incoming mig1 destroyed before it took over"

    stuck = Stuck()
    watcher = migration.Watcher(stuck, req("abort"), reopen=lambda: None, cancel_incoming=cancel_incoming,
                                call_wait=0.2)
    tick(watcher, 5)
    stuck.release.set()
    assert calls == [1] and watcher.aborted and "libvirt did not answer within 0.2 s" in watcher.forced


def test_force_pauses_and_lifts_the_bandwidth_through_a_new_connection_when_the_first_does_not_answer():
    stuck, fresh = Stuck(), Stuck()
    fresh.release.set()
    watcher = migration.Watcher(stuck, req("force"), reopen=lambda: fresh, call_wait=0.2)
    tick(watcher, 5)
    stuck.release.set()
    assert fresh.paused == 1 and fresh.speeds == [migration.UNLIMITED_MIB]
    assert watcher.forced.startswith("paused the VM after 4 s") and "failed" not in watcher.forced
