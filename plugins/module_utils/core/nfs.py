# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS export lines, built and validated in pure Python (no kernel nfsd needed to check them)."""

from __future__ import annotations

import re

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

# exports(5) options this collection accepts; anything else is refused rather than passed through
_FLAGS = {
    "rw", "ro", "sync", "async", "secure", "insecure", "wdelay", "no_wdelay", "hide", "nohide",
    "crossmnt", "subtree_check", "no_subtree_check", "insecure_locks", "secure_locks", "root_squash",
    "no_root_squash", "all_squash", "no_all_squash",
}
_VALUED = {"sec", "anonuid", "anongid", "fsid"}
MIN_PREFIX = 8   # a client network wider than this (0.0.0.0/0 is the world) is refused
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(/[0-9]{1,2})?$")


def _check_options(options):
    opts = [o.strip() for o in options.split(",") if o.strip()]
    for opt in opts:
        key = opt.split("=", 1)[0]
        if opt in _FLAGS or (key in _VALUED and "=" in opt):
            continue
        raise InvalidInput("NFS export option %r is not one of exports(5)'s known options" % opt)
    if "rw" in opts and "ro" in opts:
        raise InvalidInput("NFS export options say both rw and ro")
    return ",".join(opts)


def export_lines(paths, clients, options):
    """One exports(5) line per path, each listing every client with the options.

    Clients are host names or addresses (optionally a CIDR); wildcards and the world are refused,
    so an image directory is never exported beyond the cluster's hosts."""
    if not clients:
        raise InvalidInput("no NFS clients given: list the cluster's hypervisors, never the world")
    opts = _check_options(options)
    for client in clients:
        if not _HOST.fullmatch(str(client)):
            raise InvalidInput("NFS client %r is not a host name or address: wildcards and the world are "
                               "refused, list the cluster's hosts" % (client,))
        host, _sep, prefix = str(client).partition("/")
        if prefix and int(prefix) < MIN_PREFIX:
            raise InvalidInput("NFS client %r spans a /%s network: the world (and networks wider than /%d) is "
                               "refused, list the cluster's hosts or its own subnet" % (client, prefix, MIN_PREFIX))
    lines = []
    for path in paths:
        if not str(path).startswith("/") or ".." in str(path).split("/") or re.search(r"\s", str(path)):
            raise InvalidInput("NFS export path %r must be absolute, without '..' or spaces" % (path,))
        lines.append("%s %s" % (path, " ".join("%s(%s)" % (c, opts) for c in clients)))
    return lines
