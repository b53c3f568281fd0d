# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ganglia on the wire: the one reader of gmetad (its XML port, or the interactive port for one host) and
the publisher of per-VM metrics through ``gmetric``. The XML is turned into plain data by
``core.metrics``; this side only talks to the daemons, always with timeouts."""

from __future__ import annotations

import socket
import subprocess
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.core import metrics
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import ConnectionFailed, MissingDependency, OperationFailed

XML_PORT = 8651
INTERACTIVE_PORT = 8652
MAX_BYTES = 256 * 1024 * 1024


def read_xml(host="localhost", port=XML_PORT, timeout=5.0, query=None):
    """gmetad's XML as text. ``query`` (interactive port only) is a path such as ``/cloud1/node1``."""
    deadline = time.monotonic() + timeout
    chunks, size = [], 0
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            if query is not None:
                sock.sendall(("%s\n" % query).encode())
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("no complete answer within %.0f s" % timeout)
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BYTES:
                    raise OperationFailed("gmetad at %s:%s sent more than %d MiB: refusing to read on"
                                          % (host, port, MAX_BYTES // 1024 // 1024))
    except OSError as exc:
        raise ConnectionFailed("gmetad at %s:%s cannot be read (%s): check that gmetad runs on the master "
                               "(systemctl status gmetad) and that this host is in its trusted_hosts"
                               % (host, port, exc), host=host, port=port)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    if not text.strip():
        raise ConnectionFailed("gmetad at %s:%s closed the connection without an answer: is this host in its "
                               "trusted_hosts?" % (host, port), host=host, port=port)
    return text


def read(host="localhost", port=XML_PORT, timeout=5.0, query=None):
    """gmetad's state parsed (see ``core.metrics.parse_gmetad``)."""
    return metrics.parse_gmetad(read_xml(host, port, timeout, query))


class Publisher:
    """Sends metrics of spoofed hosts (the VMs) to gmond with the ``gmetric`` command."""

    def __init__(self, conf="/etc/ganglia/gmond.conf", command="gmetric", tmax=60, dmax=0, timeout=10.0,
                 runner=subprocess.run):
        self.conf, self.command, self.tmax, self.dmax, self.timeout = conf, command, tmax, dmax, timeout
        self.runner = runner
        self.sent = 0

    def _run(self, args):
        try:
            res = self.runner([self.command, "-c", self.conf] + args, capture_output=True, text=True,
                              timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise MissingDependency("%s is not installed: the ganglia role installs ganglia-monitor" % self.command)
        except subprocess.TimeoutExpired:
            raise OperationFailed("%s did not return within %.0f s" % (self.command, self.timeout))
        if res.returncode != 0:
            raise OperationFailed("%s %s failed: %s" % (self.command, " ".join(args), (res.stderr or res.stdout).strip()))
        self.sent += 1

    def heartbeat(self, spoof):
        """Tell gmond the spoofed host is alive (its TN restarts)."""
        self._run(["-S", spoof, "-H"])

    def publish(self, spoof, name, value):
        """One metric of the spoofed host ``spoof`` ("address:name")."""
        kind, units, title = metrics.VM_METRICS[name]
        self._run(["-S", spoof, "-n", name, "-v", str(value), "-t", kind, "-u", units or " ", "-g", metrics.VM_GROUP,
                   "-T", title, "-x", str(self.tmax), "-d", str(self.dmax)])
