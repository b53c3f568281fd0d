# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IP leases for VMs' static addresses, kept in SQLite on the master.

Free addresses are the subnet's hosts (or a configured range) minus the network and broadcast
addresses, the gateway, the nodes, a reserved list, every address seen in use and every lease. A lease
is taken inside one write transaction (BEGIN IMMEDIATE, WAL journal), so concurrent createvm runs never
get the same address; asking again for the same VM returns its lease (idempotent).

A lease is also the cluster-wide reservation of the VM's name: a creation run takes it ``creating``, held
by the run (``holder``, the controller's ansible-playbook process), for one owner and one node; another run
asking for that name is refused while the holder lives (``takeover`` names a holder found dead, whose
reservation a rerun then inherits) and until the reservation expires; the finished creation marks it
``bound`` (the VM now answers for its name). Leases whose VM no longer exists are ``stale``.
Pure Python: sqlite3 from the standard library and netaddr; no Ansible or libvirt import.
"""

from __future__ import annotations

import os
import sqlite3
import time

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, NotFound, OperationFailed
from ansible_collections.cloud1.iaas.plugins.module_utils.core.net import _ipnet

SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    subnet  TEXT NOT NULL,
    ip      TEXT NOT NULL,
    vm      TEXT NOT NULL,
    owner   TEXT,
    created REAL NOT NULL,
    PRIMARY KEY (subnet, ip)
);
CREATE UNIQUE INDEX IF NOT EXISTS leases_vm ON leases (subnet, vm);
"""
# columns added after the first release: (name, definition); rows of older databases are bound leases
COLUMNS = (("node", "TEXT"), ("state", "TEXT NOT NULL DEFAULT 'bound'"), ("holder", "TEXT"),
           ("expires", "REAL"), ("updated", "REAL"), ("vcpus", "INTEGER"), ("memory_mib", "INTEGER"))
CREATING, BOUND = "creating", "bound"
DEFAULT_RESERVATION_TTL = 3600
FIELDS = ("ip", "vm", "owner", "created", "node", "state", "holder", "expires", "updated", "vcpus", "memory_mib")


class Pool:
    """The address pool of one subnet.

    ``first``/``last`` narrow it to a range; ``excluded`` (gateway, nodes, reserved addresses) and
    ``in_use`` (addresses found on running VMs) are never handed out."""

    def __init__(self, db_path, subnet, first=None, last=None, gateway=None, excluded=(), in_use=()):
        self.db_path = db_path
        self.net = _ipnet(subnet)
        self.subnet = "%s/%d" % (self.net.network, self.net.prefixlen)
        self.first = self._member(first, "range start") if first else None
        self.last = self._member(last, "range end") if last else None
        if self.first is not None and self.last is not None and self.first > self.last:
            raise InvalidInput("the pool range %s-%s is empty: its start is after its end" % (first, last))
        self.blocked = {self.net.network, self.net.broadcast}
        for ip in ([gateway] if gateway else []) + list(excluded) + list(in_use):
            self.blocked.add(self._addr(ip))

    # -- validation ----------------------------------------------------------------------------

    def _addr(self, text):
        import netaddr
        try:
            return netaddr.IPAddress(str(text).split("/", maxsplit=1)[0])
        except (netaddr.AddrFormatError, ValueError) as exc:
            raise InvalidInput("%r is not an IP address: %s" % (text, exc))

    def _member(self, text, what="address"):
        ip = self._addr(text)
        if ip not in self.net:
            raise InvalidInput("%s %s is outside the subnet %s: pick one inside it" % (what, ip, self.subnet))
        return ip

    def check_requested(self, text):
        """A user-chosen address: inside the subnet and the range, not reserved, not taken."""
        ip = self._member(text)
        if ip == self.net.network:
            raise InvalidInput("%s is the network address of %s, not a host address" % (ip, self.subnet))
        if self.net.broadcast is not None and ip == self.net.broadcast:
            raise InvalidInput("%s is the broadcast address of %s, not a host address" % (ip, self.subnet))
        if ip in self.blocked:
            raise InvalidInput("%s is reserved or already in use (gateway, a node or a running VM): "
                               "choose a free one (getips.yml lists them)" % ip)
        if (self.first and ip < self.first) or (self.last and ip > self.last):
            raise InvalidInput("%s is outside the pool range %s-%s" % (ip, self.first, self.last))
        return ip

    # -- storage -------------------------------------------------------------------------------

    def _connect(self):
        parent = os.path.dirname(os.path.abspath(self.db_path))
        os.makedirs(parent, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(SCHEMA)
        have = {row[1] for row in conn.execute("PRAGMA table_info(leases)")}
        for column, definition in COLUMNS:
            if column not in have:
                try:
                    conn.execute("ALTER TABLE leases ADD COLUMN %s %s" % (column, definition))
                except sqlite3.OperationalError as exc:   # a concurrent run added it first
                    if "duplicate column" not in str(exc):
                        raise
        return conn

    def _candidates(self):
        start = self.first or self.net.network + 1
        end = self.last or (self.net.broadcast - 1 if self.net.broadcast is not None else self.net.last)
        ip = start
        while ip <= end:
            if ip not in self.blocked:
                yield ip
            ip = ip + 1   # a new object: netaddr's += changes the address in place

    def leases(self):
        conn = self._connect()
        try:
            rows = conn.execute("SELECT %s FROM leases WHERE subnet = ? ORDER BY created" % ", ".join(FIELDS),
                                (self.subnet,)).fetchall()
        finally:
            conn.close()
        return [dict(zip(FIELDS, r)) for r in rows]

    def lease(self, vm, leases=None):
        """The lease (and reservation) of ``vm``, or None (``leases``: a reading already made)."""
        return next((lease for lease in (self.leases() if leases is None else leases) if lease["vm"] == vm), None)

    def free(self, count, leases=None):
        """The first ``count`` free addresses (what getips.yml prints)."""
        if count < 1:
            raise InvalidInput("count must be at least 1 (got %d)" % count)
        taken = {lease["ip"] for lease in (self.leases() if leases is None else leases)}
        out = []
        for ip in self._candidates():
            if str(ip) not in taken:
                out.append(str(ip))
                if len(out) == count:
                    break
        return out

    def free_count(self, leases=None):
        """How many addresses of the pool are free."""
        taken = {lease["ip"] for lease in (self.leases() if leases is None else leases)}
        return sum(1 for ip in self._candidates() if str(ip) not in taken)

    def stale(self, existing, now=None, leases=None):
        """Leases whose VM is not among ``existing`` (the VM names the nodes reported), leaving out the
        reservations of creations still in progress (held and not expired)."""
        now = time.time() if now is None else now
        names = set(existing)
        return [lease for lease in (self.leases() if leases is None else leases) if lease["vm"] not in names
                and not (lease["state"] == CREATING and (lease["expires"] or 0) > now)]

    def allocate(self, vm, owner=None, requested=None, dry_run=False, node=None, holder=None, takeover=None,
                 ttl=DEFAULT_RESERVATION_TTL, sizes=None, choose_node=None):
        """Lease an address to ``vm`` (the requested one, or the first free); return (ip, changed).

        With ``holder`` the lease is the name's reservation for a creation run (see the module docstring);
        ``sizes`` ({vcpus, memory_mib}) let concurrent placements count the creation on its node.
        ``choose_node(leases, now)``, for a new lease without ``node``: the node is chosen inside the write
        transaction, seeing every reservation taken before it (runs started together each see the others'
        choices instead of all choosing from the same survey); it may raise to refuse.
        ``dry_run`` answers which address it would be and writes nothing (check mode)."""
        if not vm:
            raise InvalidInput("a lease needs the VM's name")
        wanted = self.check_requested(requested) if requested else None
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                row = conn.execute("SELECT %s FROM leases WHERE subnet = ? AND vm = ?" % ", ".join(FIELDS),
                                   (self.subnet, vm)).fetchone()
                current = dict(zip(FIELDS, row)) if row else None
                if current:
                    ip, changed = self._existing(current, vm, owner, wanted, holder, takeover, now)
                    sql = ("UPDATE leases SET holder = ?, node = COALESCE(?, node), expires = ?, updated = ? "
                           "WHERE subnet = ? AND vm = ?", (holder, node, now + ttl, now, self.subnet, vm))
                    # (a takeover keeps the sizes the reservation was made with)
                else:
                    ip, changed = self._choose(conn, wanted), True
                    if choose_node is not None and not node:
                        rows = conn.execute("SELECT %s FROM leases WHERE subnet = ?" % ", ".join(FIELDS),
                                            (self.subnet,)).fetchall()
                        node = choose_node([dict(zip(FIELDS, r)) for r in rows], now)
                    sizes = sizes or {}
                    sql = ("INSERT INTO leases (subnet, ip, vm, owner, created, node, state, holder, expires, updated, "
                           "vcpus, memory_mib) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (self.subnet, ip, vm, owner, now, node, CREATING if holder else BOUND, holder,
                            now + ttl if holder else None, now, sizes.get("vcpus"), sizes.get("memory_mib")))
                if changed and not dry_run:
                    conn.execute(*sql)
                    conn.execute("COMMIT")
                else:
                    conn.execute("ROLLBACK")
            except Exception:
                conn.execute("ROLLBACK")
                raise
            return ip, changed
        except sqlite3.Error as exc:
            raise OperationFailed("the lease database %s failed: %s" % (self.db_path, exc))
        finally:
            conn.close()

    def _existing(self, current, vm, owner, wanted, holder, takeover, now):
        """Asking again for ``vm``'s lease: the same answer (unchanged), the inherited reservation of a dead
        run (changed), or a refusal."""
        if wanted and current["ip"] != str(wanted):
            raise InvalidInput("%s already holds %s in %s; delete the VM or ask for %s" % (
                vm, current["ip"], self.subnet, current["ip"]))
        if current["state"] != CREATING or not holder or current["holder"] == holder:
            return current["ip"], False   # a VM's lease: who may act on the VM is the VM's own check
        if owner and current["owner"] and owner != current["owner"]:
            raise InvalidInput("the name %s is taken: choose another name; nothing was changed" % vm)
        expired = (current["expires"] or 0) <= now
        if not expired and takeover != current["holder"]:
            raise InvalidInput(
                "%s is being created by another run (%s, on node %s, since %s): wait for it to finish; a run that "
                "was killed is found dead when the same controller runs the request again, and its reservation "
                "expires at %s; nothing was changed" % (
                    vm, current["holder"], current["node"] or "-", _utc(current["updated"] or current["created"]),
                    _utc(current["expires"])))
        return current["ip"], True

    def _choose(self, conn, wanted):
        taken = {r[0] for r in conn.execute("SELECT ip FROM leases WHERE subnet = ?", (self.subnet,))}
        if wanted:
            if str(wanted) in taken:
                raise InvalidInput("%s is already leased in %s: choose a free one (getips.yml lists them)"
                                   % (wanted, self.subnet))
            return str(wanted)
        ip = next((c for c in self._candidates() if str(c) not in taken), None)
        if ip is None:
            raise OperationFailed("no free address left in %s: widen the range or release leases" % self.subnet)
        return str(ip)

    def bind(self, vm, holder=None, dry_run=False):
        """The creation of ``vm`` is finished: its reservation becomes the VM's lease. Return (ip, changed);
        a reservation held by another run is refused."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT ip, state, holder FROM leases WHERE subnet = ? AND vm = ?",
                               (self.subnet, vm)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                raise NotFound("%s holds no lease in %s: lease it first" % (vm, self.subnet))
            ip, state, current = row
            if state == CREATING and holder and current != holder:
                conn.execute("ROLLBACK")
                raise InvalidInput("%s is reserved by another run (%s), not by %s: nothing was changed"
                                   % (vm, current, holder))
            changed = state != BOUND
            if changed and not dry_run:
                conn.execute("UPDATE leases SET state = ?, holder = NULL, expires = NULL, updated = ? "
                             "WHERE subnet = ? AND vm = ?", (BOUND, time.time(), self.subnet, vm))
            conn.execute("COMMIT")
            return ip, changed
        finally:
            conn.close()

    def release(self, vm, dry_run=False, older_than=None):
        """Give back ``vm``'s lease; return the address, or None when it had none.

        ``older_than`` (a time): only a lease not touched since then (what a reconciliation surveyed as
        stale; a lease renewed since belongs to a run that began after the survey)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute("SELECT ip, COALESCE(updated, created) FROM leases WHERE subnet = ? AND vm = ?",
                               (self.subnet, vm)).fetchone()
            if row and older_than is not None and row[1] >= older_than:
                row = None
            if row and not dry_run:
                conn.execute("DELETE FROM leases WHERE subnet = ? AND vm = ?", (self.subnet, vm))
            conn.execute("COMMIT")
            return row[0] if row else None
        finally:
            conn.close()


def _utc(stamp):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp)) if stamp else "-"


# the options every module of the pool takes (doc fragment cloud1.iaas.ip_pool)
POOL_ARGS = dict(
    db=dict(type="path", default="/var/lib/cloud1/state/leases.db"),
    subnet=dict(type="str", required=True),
    range_start=dict(type="str"),
    range_end=dict(type="str"),
    gateway=dict(type="str"),
    exclude=dict(type="list", elements="str", default=[]),
    in_use=dict(type="list", elements="str", default=[]),
)


def pool_from(params):
    return Pool(params["db"], params["subnet"], first=params["range_start"], last=params["range_end"],
                gateway=params["gateway"], excluded=params["exclude"], in_use=params["in_use"])
