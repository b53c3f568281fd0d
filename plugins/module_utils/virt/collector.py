# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-VM collector of a hypervisor: every interval, libvirt's bulk statistics of all running VMs in one
call (CPU time, balloon, block and network bytes), the guest agent's filesystems where it answers (root
filesystem used %), turned into figures by ``core.metrics.vm_rates`` and published to Ganglia, each VM as
its own spoofed host ("name:name": see Collector._spoof), so gmetad keeps RRDs for every VM as for every node.

Run by the ganglia role's ``cloud1-vm-metrics`` service (its command is the role's template, which calls
``serve``)."""

from __future__ import annotations

import socket
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import AgentUnavailable, Cloud1Error
from ansible_collections.cloud1.iaas.plugins.module_utils.virt.client import LibvirtClient


class Collector:
    """One node's collector. ``round()`` samples every running VM and publishes what it has."""

    def __init__(self, client, publisher, node=None, agent=True, clock=time.monotonic, agent_every=6):
        self.client, self.publisher, self.agent, self.clock = client, publisher, agent, clock
        # the guest agent is asked every ``agent_every`` rounds (its answer holds the domain's agent job, which
        # the playbooks' own agent calls then wait for); the last disk figure is published in between
        self.agent_every = max(1, int(agent_every))
        self.disk = {}          # VM name -> (figure, why) from the agent's last answer
        self.node = node or socket.gethostname()
        self.previous = {}      # VM name -> last sample
        self.rounds = 0

    @staticmethod
    def _spoof(dom):
        """The VM as gmond's host: "name:name". gmond keys its hosts by the address part and keeps a host until
        its dmax, so a VM's IP (handed to the next VM once it is deleted) would publish the new VM under the
        old one's name. The name is unique in the cluster and has no dot, so it never takes a node's key (the
        master keys a node by its IPv4 address), and createvm refuses a VM named as a node."""
        return "%s:%s" % (dom.name, dom.name)

    def _disk(self, dom):
        if not self.agent:
            return None, "agent not asked (collector option)"
        if dom.name in self.disk and self.rounds % self.agent_every:
            return self.disk[dom.name]
        try:
            used = metrics.vm_disk_usage(dom.filesystems())
            found = (used, "guest agent") if used is not None else (None, "the guest agent lists no root filesystem")
        except AgentUnavailable:
            found = (None, "no guest agent answers")
        except Cloud1Error as exc:   # paused, shutting down, the agent busy: no figure this time, and why
            found = (None, "guest agent: %s" % exc.message)
        self.disk[dom.name] = found
        return found

    def sample(self):
        """{VM name: figures} of this round (nothing is published)."""
        now = self.clock()
        figures = {}
        seen = set()
        for dom, stats in self.client.domain_stats():
            seen.add(dom.name)
            try:
                figures[dom.name] = self._sample_one(dom, stats, now)
            except Cloud1Error:   # this VM went away or cannot be read now: the others are still published
                self.previous.pop(dom.name, None)
        for gone in set(self.previous) - seen:   # stopped or moved away: its next sample starts afresh
            self.previous.pop(gone, None)
            self.disk.pop(gone, None)
        self.rounds += 1
        return figures

    def _sample_one(self, dom, stats, now):
        """One VM's figures: (spoof, figures)."""
        cur = {"time": now, "stats": stats}
        if "balloon.available" not in stats and dom.name not in self.previous:
            try:
                dom.enable_memory_stats()
            except Cloud1Error:
                pass   # the figure stays missing; the next rounds say so by its absence
        fig = metrics.vm_rates(self.previous.get(dom.name), cur)
        self.previous[dom.name] = cur
        fig["vm_node"] = self.node
        fig["vm_disk"], fig["vm_disk_status"] = self._disk(dom)
        if fig["vm_disk"] is None:
            del fig["vm_disk"]
        return self._spoof(dom), fig

    def round(self):
        """Sample and publish; returns {VM: figures}. A VM whose publishing fails is reported, the others go."""
        out = {}
        for name, (spoof, fig) in sorted(self.sample().items()):
            try:
                self.publisher.heartbeat(spoof)
                for metric, val in sorted(fig.items()):
                    self.publisher.publish(spoof, metric, val)
                out[name] = fig
            except Cloud1Error as exc:
                out[name] = {"error": exc.message}
        return out


def serve(uri, interval, publisher, node=None, agent=True, rounds=None, report=None, sleep=time.sleep):
    """The collector's loop: a round every ``interval`` seconds (``rounds``: stop after that many, returning the
    last round's figures). A lost libvirt connection is reported through ``report`` and opened again."""
    done = 0
    last = {}
    while rounds is None or done < rounds:
        try:
            with LibvirtClient(uri) as client:
                collector = Collector(client, publisher, node=node, agent=agent)
                while rounds is None or done < rounds:
                    started = time.monotonic()
                    last = collector.round()
                    done += 1
                    if rounds is None or done < rounds:
                        sleep(max(0.0, interval - (time.monotonic() - started)))
        except Cloud1Error as exc:   # libvirtd restarted or gone: say so and try again next interval
            if report is not None:
                report("cloud1-vm-metrics: %s" % exc.message)
            done += 1
            sleep(interval)
    return last
