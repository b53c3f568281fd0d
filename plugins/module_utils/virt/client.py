# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one libvirt client of the collection: a connection per node URI, every libvirtError mapped to a typed
error with the operation and the node in its message.

``LibvirtClient`` speaks for a node (host facts, domains, definitions, storage pools); ``Domain`` for one
domain (state, lifecycle, sizes, snapshots, jobs, the guest agent). The executors (``ops``) use only these two
and never see a libvirt object; other code in ``virt`` that holds libvirt objects (storage volumes, the
migration's thread) maps errors through ``libvirt_errors``.
"""

from __future__ import annotations

import contextlib
import sys

from ansible_collections.cloud1.iaas.plugins.module_utils.core.domain import (
    METADATA_NS,
    METADATA_PREFIX,
    metadata_xml,
    parse_capabilities,
    parse_domain,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.core.rules import ACTIVE_STATES, STATES
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
    AgentUnavailable,
    ConnectionFailed,
    MissingDependency,
    NotFound,
    OperationFailed,
)

try:
    import libvirt
    HAS_LIBVIRT = True
    LIBVIRT_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the host
    libvirt = None
    HAS_LIBVIRT = False
    LIBVIRT_IMPORT_ERROR = exc

try:
    import libvirt_qemu
except ImportError:  # pragma: no cover - comes with libvirt-python; its absence is reported on use
    libvirt_qemu = None


def _codes(*names):
    return tuple(getattr(libvirt, name, -1) for name in names) if libvirt else ()


# errors that say the guest agent cannot help (absent, not answering, or a driver without it)
NO_AGENT = _codes("VIR_ERR_AGENT_UNRESPONSIVE", "VIR_ERR_NO_SUPPORT", "VIR_ERR_ARGUMENT_UNSUPPORTED",
                  "VIR_ERR_OPERATION_UNSUPPORTED", "VIR_ERR_AGENT_COMMAND_TIMEOUT")
# a request the driver does not know (older libvirt, the test driver)
UNSUPPORTED = _codes("VIR_ERR_INVALID_ARG", "VIR_ERR_NO_SUPPORT", "VIR_ERR_ARGUMENT_UNSUPPORTED",
                     "VIR_ERR_OPERATION_UNSUPPORTED")


def unsupported_flags(exc):
    """libvirt's own flag check refused the call (virCheckFlags: VIR_ERR_INVALID_ARG, "unsupported flags"): this
    driver cannot do it, asking again will not help. (INVALID_ARG alone is not final: the QEMU driver uses it
    while a guest has not registered hot-plugged vCPUs yet.)"""
    return exc.get_error_code() == libvirt.VIR_ERR_INVALID_ARG and "unsupported flags" in str(exc)


def require_libvirt():
    if not HAS_LIBVIRT:
        raise MissingDependency(
            "the libvirt Python bindings are not importable by %s (%s): install libvirt-python in this "
            "interpreter's environment, or python3-libvirt and set ansible_python_interpreter=/usr/bin/python3"
            % (sys.executable, LIBVIRT_IMPORT_ERROR))


@contextlib.contextmanager
def libvirt_errors(what, uri, error=OperationFailed, agent=False, **details):
    """Turn a libvirtError raised inside the block into ``error`` saying what failed where; with ``agent``, the
    errors that say no guest agent can help (absent, unresponsive, unsupported) become AgentUnavailable."""
    try:
        yield
    except libvirt.libvirtError as exc:
        if agent and (exc.get_error_code() in NO_AGENT or unsupported_flags(exc)):
            error = AgentUnavailable
        raise error("failed to %s on %s: %s" % (what, uri, exc), uri=uri, code=exc.get_error_code(), **details)


def _version(number):
    """libvirt's packed version number (major * 1e6 + minor * 1e3 + micro) as text."""
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def _silence(ctx, err):  # libvirt prints every error to stderr unless a handler is set
    return None


def _flags(*pairs):
    """OR of the libvirt flags whose condition holds: _flags((cond, "VIR_..."), ...)."""
    value = 0
    for cond, name in pairs:
        if cond:
            value |= getattr(libvirt, name)
    return value


def _block_sizes(stats):
    """{target: (capacity, allocation)} of a bulk statistics record's block group (the disks it sized)."""
    sizes = {}
    for i in range(int(stats.get("block.count", 0))):
        name, capacity = stats.get("block.%d.name" % i), stats.get("block.%d.capacity" % i)
        if name and capacity is not None:
            sizes[name] = (int(capacity), int(stats.get("block.%d.allocation" % i, 0)))
    return sizes


class LibvirtClient:
    """Context manager around one libvirt connection.

    >>> with LibvirtClient("qemu:///system") as c:
    ...     names = [d.name for d in c.domains()]
    """

    def __init__(self, uri, readonly=False, conn=None):
        self.uri = uri
        self.readonly = readonly
        self._conn = conn
        self._borrowed = conn is not None   # a connection handed in (tests) stays open after use

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        require_libvirt()
        libvirt.registerErrorHandler(_silence, None)
        if self._borrowed:
            return self
        try:
            self._conn = libvirt.openReadOnly(self.uri) if self.readonly else libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            hint = "check that libvirtd runs on the node"
            if self.uri.startswith("qemu+ssh://"):
                hint += " and that the controller reaches it by SSH with a key (ssh <node> true)"
            raise ConnectionFailed("cannot connect to libvirt at %s: %s; %s" % (self.uri, exc, hint), uri=self.uri)
        if self._conn is None:
            raise ConnectionFailed("cannot connect to libvirt at %s" % self.uri, uri=self.uri)
        return self

    def close(self):
        if self._conn is not None and not self._borrowed:
            try:
                self._conn.close()
            except libvirt.libvirtError:
                pass
            self._conn = None

    def _call(self, what, fn, *args):
        with libvirt_errors(what, self.uri):
            return fn(*args)

    # -- the node --------------------------------------------------------------------------------

    def hostname(self):
        return self._call("read the host name", self._conn.getHostname)

    def capabilities(self):
        """The node's capabilities, parsed (architecture, domain types, the preferred one)."""
        return parse_capabilities(self._call("read the capabilities", self._conn.getCapabilities))

    def domain_type(self):
        """The domain type to create guests with here: kvm where offered, else qemu (software emulation)."""
        return self.capabilities()["domain_type"] or "qemu"

    def node_facts(self, vms=None):
        """Host facts from libvirt: capabilities, CPU and memory totals, domain counts and allocations.
        ``vms``: the node's domains as :meth:`Domain.describe` gives them, when the caller has read them
        already (the survey: one read of each domain serves both), else each domain's XML is read here."""
        conn = self._conn
        caps = self.capabilities()
        model, memory_mib, cpus, mhz, _nodes, _sockets, _cores, _threads = self._call("read the node info", conn.getInfo)
        free = self._call("read free memory", conn.getFreeMemory)
        if vms is None:
            read = [value for _dom, value in self.each_domain(lambda d: (d.is_active(), parse_domain(d.xml())))]
        else:   # a QEMU process exists (libvirt's isActive) in every state but these
            read = [(vm["state"] not in ("shutoff", "crashed", "nostate"), vm) for vm in vms]
        active = sum(1 for running, _info in read if running)
        # what the node's VMs may use: their maximum vCPUs and memory
        vcpus = sum(info["max_vcpus"] for _running, info in read)
        memory = sum(info["max_memory_mib"] for _running, info in read)
        caps.update({
            "hostname": self.hostname(),
            "hypervisor": self._call("read the driver type", conn.getType),
            "libvirt_version": _version(self._call("read the libvirt version", conn.getLibVersion)),
            "hypervisor_version": _version(self._call("read the hypervisor version", conn.getVersion)),
            "cpu_model": model,
            "cpus": cpus,
            "mhz": mhz,
            "memory_mib": memory_mib,
            "free_memory_mib": free // (1024 * 1024),
            "domains_active": active,
            "domains_inactive": len(read) - active,
            "vcpus_allocated": vcpus,
            "memory_allocated_mib": memory,
        })
        return caps

    def compare_cpu(self, arch, machine, virttype, cpu_xml):
        """Whether this node's hypervisor provides ``cpu_xml``: True, False, or None when it cannot tell."""
        try:
            result = self._conn.compareHypervisorCPU(None, arch, machine, virttype, cpu_xml, 0)
        except libvirt.libvirtError:
            return None
        return result != libvirt.VIR_CPU_COMPARE_INCOMPATIBLE

    # -- domains ---------------------------------------------------------------------------------

    def lookup(self, name):
        """The domain ``name``; NotFound when this node has none."""
        try:
            return Domain(self, self._conn.lookupByName(name))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise NotFound("no domain named %r on %s" % (name, self.uri), name=name, uri=self.uri)
            raise OperationFailed("looking up domain %r on %s failed: %s" % (name, self.uri, exc))

    def find(self, name):
        """The domain ``name``, or None."""
        try:
            return self.lookup(name)
        except NotFound:
            return None

    def domains(self):
        return [Domain(self, d) for d in self._call("list domains", self._conn.listAllDomains, 0)]

    def each_domain(self, read, domains=None):
        """``(domain, read(domain))`` for every domain of the node (or of ``domains``, Domain objects of one
        listing), leaving out a domain that vanished while it was being read (another run deleting or migrating it
        away): a listing is a moment, not a lock."""
        for dom in self.domains() if domains is None else domains:
            try:
                value = read(dom)
            except OperationFailed as exc:
                if exc.details.get("code") in _codes("VIR_ERR_NO_DOMAIN"):
                    continue
                raise
            yield dom, value

    def domain_stats(self):
        """libvirt's bulk statistics of every running domain in one call: [(Domain, {key: value})] with
        state, CPU time, balloon, vCPU, block and interface figures."""
        kinds = ("VIR_DOMAIN_STATS_STATE", "VIR_DOMAIN_STATS_CPU_TOTAL", "VIR_DOMAIN_STATS_BALLOON",
                 "VIR_DOMAIN_STATS_VCPU", "VIR_DOMAIN_STATS_INTERFACE", "VIR_DOMAIN_STATS_BLOCK")
        groups = _flags(*((True, name) for name in kinds))
        records = self._call("read the statistics of the domains", self._conn.getAllDomainStats, groups,
                             libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
        return [(Domain(self, dom), stats) for dom, stats in records]

    def describe_all(self, config=False):
        """``(Domain, description)`` for every domain of the node, as :meth:`Domain.describe` gives it, with the
        state and the disk sizes of all the domains read in one bulk call (libvirt's state and block groups; it
        sizes the disks of stopped domains from their images) instead of one state and one blockInfo call per
        domain and disk. A domain that vanished while it was read is left out, as in :meth:`each_domain`."""
        groups = _flags((True, "VIR_DOMAIN_STATS_STATE"), (True, "VIR_DOMAIN_STATS_BLOCK"))
        # NOWAIT: a domain busy with a job (a migration, incoming or outgoing) is not waited for (libvirt would
        # wait up to 30 s for it); its state comes without its disk sizes, which are then left unknown
        nowait = getattr(libvirt, "VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT", 0)
        with libvirt_errors("read the state and disk sizes of the domains", self.uri):
            try:
                records = self._conn.getAllDomainStats(groups, nowait)
            except libvirt.libvirtError as exc:
                if not (nowait and unsupported_flags(exc)):
                    raise
                records = self._conn.getAllDomainStats(groups, 0)   # a driver without NOWAIT (and without jobs)
        # the bulk call's own records name the domains: no second listing
        bulk = {dom.name(): stats for dom, stats in records}
        return list(self.each_domain(lambda d: d.describe(config=config, stats=bulk.get(d.name), busy_ok=False),
                                     domains=[Domain(self, dom) for dom, _stats in records]))

    def define(self, xml, what=None):
        """Define (or redefine) a domain from its XML; returns it."""
        return Domain(self, self._call(what or "define a domain", self._conn.defineXML, xml))

    # -- storage pools (virt.storage builds on these) ------------------------------------------

    def pools(self):
        return self._call("list storage pools", self._conn.listAllStoragePools, 0)

    def create_pool(self, xml):
        """A transient pool from ``xml`` (raises OperationFailed when libvirt refuses)."""
        return self._call("create a storage pool", self._conn.storagePoolCreateXML, xml, 0)

    def pool(self, name):
        """The pool ``name``, or None."""
        try:
            return self._conn.storagePoolLookupByName(name)
        except libvirt.libvirtError:
            return None


class Domain:
    """One domain of a node. Every call maps libvirt's errors to typed ones naming the domain and the node."""

    def __init__(self, client, dom):
        self.client = client
        self._dom = dom
        self.name = dom.name()

    def _call(self, what, fn, *args):
        with libvirt_errors("%s %s" % (what, self.name), self.client.uri, name=self.name):
            return fn(*args)

    # -- reading ---------------------------------------------------------------------------------

    def state(self):
        state, _reason = self._call("read the state of", self._dom.state)
        return STATES.get(state, "unknown")

    def incoming_migration(self):
        """True when this domain is the destination's half of a migration still under way (paused, waiting
        for the source's data): destroying it then cancels the migration and the source keeps the VM."""
        state, reason = self._call("read the state of", self._dom.state)
        return state == libvirt.VIR_DOMAIN_PAUSED and reason == libvirt.VIR_DOMAIN_PAUSED_MIGRATION

    def is_active(self):
        return bool(self._call("ask whether it runs:", self._dom.isActive))

    def is_persistent(self):
        return bool(self._call("ask whether it is defined:", self._dom.isPersistent))

    def xml(self, inactive=False, secure=False, persistent=None):
        """The domain XML: the running one, or (``inactive``) the persistent definition the next boot uses.
        ``persistent``: whether it is defined, when the caller has asked already."""
        if inactive and persistent is None:
            persistent = self.is_persistent()
        flags = _flags((inactive and persistent, "VIR_DOMAIN_XML_INACTIVE"),
                       (secure, "VIR_DOMAIN_XML_SECURE"))
        return self._call("read the XML of", self._dom.XMLDesc, flags)

    def describe(self, config=False, stats=None, busy_ok=True):
        """The domain as a dict: the parsed XML plus state, persistence, autostart and disk sizes.
        ``config=True`` reads the persistent configuration (what the next boot uses). ``stats``: this domain's
        record of a bulk statistics call with the state and block groups (:meth:`LibvirtClient.describe_all`),
        which then gives the state and the disk sizes instead of a call for each. ``busy_ok=False``: an active
        domain whose record has a block group without a disk's size (libvirt did not wait for the job it is busy
        with) keeps that size unknown rather than wait for the job (blockInfo would)."""
        persistent = self.is_persistent()
        info = parse_domain(self.xml(inactive=config, persistent=persistent))
        info["state"] = (STATES.get(stats["state.state"], "unknown") if stats and "state.state" in stats
                         else self.state())
        info["persistent"] = persistent
        try:
            info["autostart"] = bool(self._dom.autostart())
        except libvirt.libvirtError:
            info["autostart"] = False
        sizes = _block_sizes(stats) if stats is not None else None
        for disk in info["disks"]:
            disk["capacity"] = disk["allocation"] = None
            if disk["device"] != "disk" or not disk["target"]:
                continue
            if sizes is not None and disk["target"] in sizes:
                disk["capacity"], disk["allocation"] = sizes[disk["target"]]
                continue
            if not busy_ok and stats and "block.count" in stats and info["state"] in ACTIVE_STATES:
                continue   # the record's block group left this disk unsized: the domain is busy with a job
            try:
                capacity, allocation, _physical = self._dom.blockInfo(disk["target"])
                disk["capacity"], disk["allocation"] = capacity, allocation
            except libvirt.libvirtError:
                pass  # sizes are best effort: an inactive domain on some drivers has none
        return info

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, paused=False):
        self._call("start", self._dom.createWithFlags, _flags((paused, "VIR_DOMAIN_START_PAUSED")))

    def shutdown(self):
        """Ask the guest to power off (ACPI); returns at once."""
        self._call("shut down", self._dom.shutdown)

    def destroy(self):
        """Power off at once (the seed's destroy)."""
        self._call("power off", self._dom.destroy)

    def suspend(self):
        self._call("pause", self._dom.suspend)

    def resume(self):
        self._call("resume", self._dom.resume)

    def wake(self):
        self._call("wake", self._dom.pMWakeup, 0)

    def reboot(self):
        self._call("reboot", self._dom.reboot, 0)

    def undefine(self):
        """Undefine with whatever the domain carries (managed save, snapshot/checkpoint metadata, NVRAM);
        drivers that know fewer of these flags get the ones they know."""
        full = 0
        for flag in ("VIR_DOMAIN_UNDEFINE_MANAGED_SAVE", "VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA",
                     "VIR_DOMAIN_UNDEFINE_NVRAM", "VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA"):
            full |= getattr(libvirt, flag, 0)
        basic = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        try:
            return self._dom.undefineFlags(full)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in UNSUPPORTED:
                raise OperationFailed("failed to undefine %s on %s: %s" % (self.name, self.client.uri, exc))
        return self._call("undefine", self._dom.undefineFlags, basic)

    # -- sizes -----------------------------------------------------------------------------------

    def set_metadata(self, values):
        """Replace the collection's metadata element (live and persistent where they apply)."""
        flags = _flags((self.is_persistent(), "VIR_DOMAIN_AFFECT_CONFIG"), (self.is_active(), "VIR_DOMAIN_AFFECT_LIVE"))
        self._call("write the metadata of", self._dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT,
                   metadata_xml(values, namespaced=False), METADATA_PREFIX, METADATA_NS, flags)

    def set_vcpus(self, count, live=False, config=False, maximum=False):
        """vCPU count (or, ``maximum``, the ceiling) of the running domain (``live``) and/or its definition."""
        flags = _flags((live, "VIR_DOMAIN_AFFECT_LIVE"), (config, "VIR_DOMAIN_AFFECT_CONFIG"),
                       (maximum, "VIR_DOMAIN_VCPU_MAXIMUM"))
        self._call("set the vCPUs of", self._dom.setVcpusFlags, int(count), flags)

    def set_memory(self, mib, live=False, config=False, maximum=False):
        flags = _flags((live, "VIR_DOMAIN_AFFECT_LIVE"), (config, "VIR_DOMAIN_AFFECT_CONFIG"),
                       (maximum, "VIR_DOMAIN_MEM_MAXIMUM"))
        self._call("set the memory of", self._dom.setMemoryFlags, int(mib) * 1024, flags)

    def online_guest_vcpus(self, count):
        """Ask the guest (qemu-guest-agent) to online ``count`` vCPUs; return how many it has online.
        AgentUnavailable when no agent can help, OperationFailed when the guest refused for now."""
        with libvirt_errors("online vCPUs inside %s" % self.name, self.client.uri, agent=True, name=self.name):
            self._dom.setVcpusFlags(int(count), libvirt.VIR_DOMAIN_VCPU_GUEST)
            return self._dom.guestVcpus(0).get("online", "")

    def block_resize(self, target, size_bytes):
        self._call("resize the disk %s of" % target, self._dom.blockResize, target, int(size_bytes),
                   libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)

    # -- the guest agent -------------------------------------------------------------------------

    def agent_command(self, payload, timeout):
        """Send one JSON command to qemu-guest-agent; return the raw reply text."""
        if libvirt_qemu is None:
            raise AgentUnavailable("libvirt_qemu (part of libvirt-python) is not importable")
        with libvirt_errors("talk to qemu-guest-agent of %s" % self.name, self.client.uri, error=AgentUnavailable):
            return libvirt_qemu.qemuAgentCommand(self._dom, payload, timeout, 0)

    def filesystems(self):
        """The guest's mounted filesystems as the agent reports them (libvirt's guestInfo keys fs.N.*);
        AgentUnavailable when no agent answers."""
        flag = getattr(libvirt, "VIR_DOMAIN_GUEST_INFO_FILESYSTEM", 0)
        with libvirt_errors("read the filesystems of %s" % self.name, self.client.uri, agent=True, name=self.name):
            return self._dom.guestInfo(flag, 0)

    def metadata(self):
        """The collection's metadata of the domain (owner, ip, ...)."""
        return parse_domain(self.xml())["metadata"]

    def enable_memory_stats(self, period=10):
        """Ask the running guest's balloon driver to report its memory every ``period`` seconds."""
        self._call("turn on the memory statistics of", self._dom.setMemoryStatsPeriod, period,
                   libvirt.VIR_DOMAIN_AFFECT_LIVE)

    # -- snapshots -------------------------------------------------------------------------------

    def snapshots(self):
        """[(name, xml)] of the domain's snapshots."""
        snaps = self._call("list the snapshots of", self._dom.listAllSnapshots, 0)
        return [(s.getName(), s.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE)) for s in snaps]

    def current_snapshot(self):
        if not self._call("ask for the current snapshot of", self._dom.hasCurrentSnapshot, 0):
            return None
        return self._call("read the current snapshot of", self._dom.snapshotCurrent, 0).getName()

    def _snapshot(self, name):
        return self._call("look up snapshot %s of" % name, self._dom.snapshotLookupByName, name, 0)

    def create_snapshot(self, xml):
        self._call("snapshot", self._dom.snapshotCreateXML, xml, libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)

    def redefine_snapshot(self, xml, current=False):
        """Define a snapshot's metadata again from its XML (its data is in the disk)."""
        flags = _flags((True, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE"), (current, "VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT"))
        self._call("redefine a snapshot of", self._dom.snapshotCreateXML, xml, flags)

    def revert_snapshot(self, name):
        self._call("revert to snapshot %s:" % name, self._dom.revertToSnapshot, self._snapshot(name), 0)

    def delete_snapshot(self, name, metadata_only=False):
        snap = self._snapshot(name)
        self._call("delete snapshot %s of" % name, snap.delete,
                   _flags((metadata_only, "VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY")))

    # -- jobs (migration) --------------------------------------------------------------------------

    def job_stats(self, completed=False):
        """libvirt's statistics of the job the domain runs ({} when none), or of the last completed one."""
        return self._call("read the job of", self._dom.jobStats,
                          _flags((completed, "VIR_DOMAIN_JOB_STATS_COMPLETED"))) or {}

    def job_active(self, stats):
        return stats.get("type") not in (None, libvirt.VIR_DOMAIN_JOB_NONE, libvirt.VIR_DOMAIN_JOB_COMPLETED)

    def abort_job(self):
        self._call("abort the job of", self._dom.abortJob)

    def start_postcopy(self):
        self._call("switch to post-copy the migration of", self._dom.migrateStartPostCopy, 0)

    def set_migration_speed(self, mib_s):
        self._call("set the migration bandwidth of", self._dom.migrateSetMaxSpeed, int(mib_s), 0)

    def set_migration_downtime(self, ms):
        self._call("set the maximum downtime of", self._dom.migrateSetMaxDowntime, int(ms), 0)

    def migrate(self, dest_uri, live, bandwidth_mib=None, migrate_uri=None, auto_converge=False, postcopy=False,
                tunnelled=True):
        """Peer-to-peer migration to ``dest_uri``, persistent there, undefined here; live (with abort on error)
        or offline; a live one ``tunnelled`` through the libvirt connection (encrypted by its qemu+ssh transport).
        Never VIR_MIGRATE_UNSAFE: libvirt's own safety checks stay on."""
        flags = _flags((True, "VIR_MIGRATE_PEER2PEER"), (live and tunnelled, "VIR_MIGRATE_TUNNELLED"),
                       (True, "VIR_MIGRATE_PERSIST_DEST"),
                       (True, "VIR_MIGRATE_UNDEFINE_SOURCE"), (live, "VIR_MIGRATE_LIVE"),
                       (live, "VIR_MIGRATE_ABORT_ON_ERROR"), (live and auto_converge, "VIR_MIGRATE_AUTO_CONVERGE"),
                       (live and postcopy, "VIR_MIGRATE_POSTCOPY"), (not live, "VIR_MIGRATE_OFFLINE"))
        params = {}
        if bandwidth_mib:
            params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(bandwidth_mib)
        if migrate_uri:
            params[libvirt.VIR_MIGRATE_PARAM_URI] = migrate_uri
        with libvirt_errors("migrate %s to %s" % (self.name, dest_uri), self.client.uri, name=self.name):
            self._dom.migrateToURI3(dest_uri, params, flags)
