# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one libvirt client of the collection: a connection per node URI, errors mapped to typed ones.

Modules never import libvirt themselves; they call into this client (or a helper built on it).
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.domain import (
    METADATA_NS,
    METADATA_PREFIX,
    STATES,
    metadata_xml,
    parse_capabilities,
    parse_domain,
)
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import (
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


def _require_libvirt():
    if not HAS_LIBVIRT:
        raise MissingDependency(
            "the libvirt Python bindings are not importable by %s (%s): install libvirt-python in this "
            "interpreter's environment, or python3-libvirt and set ansible_python_interpreter=/usr/bin/python3"
            % (__import__("sys").executable, LIBVIRT_IMPORT_ERROR))


def _version(number):
    """libvirt's packed version number (major * 1e6 + minor * 1e3 + micro) as text."""
    return "%d.%d.%d" % (number // 1000000, number // 1000 % 1000, number % 1000)


def _silence(ctx, err):  # libvirt prints every error to stderr unless a handler is set
    return None


class LibvirtClient:
    """Context manager around one libvirt connection.

    >>> with LibvirtClient("qemu:///system") as c:
    ...     names = [d["name"] for d in c.domains()]
    """

    def __init__(self, uri, readonly=False, conn=None):
        self.uri = uri
        self.readonly = readonly
        self.conn = conn
        self._borrowed = conn is not None   # a connection handed in (tests) stays open after use

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def open(self):
        _require_libvirt()
        libvirt.registerErrorHandler(_silence, None)
        if self._borrowed:
            return self.conn
        try:
            self.conn = libvirt.openReadOnly(self.uri) if self.readonly else libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            hint = "check that libvirtd runs on the node"
            if self.uri.startswith("qemu+ssh://"):
                hint += " and that the controller reaches it by SSH with a key (ssh <node> true)"
            raise ConnectionFailed("cannot connect to libvirt at %s: %s; %s" % (self.uri, exc, hint),
                                   uri=self.uri)
        if self.conn is None:
            raise ConnectionFailed("cannot connect to libvirt at %s" % self.uri, uri=self.uri)
        return self.conn

    def close(self):
        if self.conn is not None and not self._borrowed:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None

    # -- queries --------------------------------------------------------------------------------

    def hostname(self):
        return self._call("read the host name", self.conn.getHostname)

    def node_facts(self):
        """Host facts from libvirt: capabilities, CPU and memory totals, domain counts."""
        conn = self.conn
        caps = parse_capabilities(self._call("read the capabilities", conn.getCapabilities))
        model, memory_mib, cpus, mhz, _nodes, _sockets, _cores, _threads = self._call(
            "read the node info", conn.getInfo)
        free = self._call("read free memory", conn.getFreeMemory)
        domains = self.all_domains()
        active = sum(1 for d in domains if d.isActive())
        vcpus = memory = 0
        for dom in domains:   # what the node's VMs may use: their maximum vCPUs and memory
            info = parse_domain(self._call("read the XML of %s" % dom.name(), dom.XMLDesc, 0))
            vcpus += info["max_vcpus"]
            memory += info["max_memory_mib"]
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
            "domains_inactive": len(domains) - active,
            "vcpus_allocated": vcpus,
            "memory_allocated_mib": memory,
        })
        return caps

    def lookup(self, name):
        try:
            return self.conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise NotFound("no domain named %r on %s" % (name, self.uri), name=name, uri=self.uri)
            raise OperationFailed("looking up domain %r on %s failed: %s" % (name, self.uri, exc))

    def all_domains(self):
        return self._call("list domains", self.conn.listAllDomains, 0)

    def state(self, dom):
        state, _reason = self._call("read the state of %s" % dom.name(), dom.state)
        return STATES.get(state, "unknown")

    def describe(self, dom, config=False):
        """One domain as a dict: the parsed XML plus state, persistence, autostart and disk sizes.

        ``config=True`` reads the persistent configuration (what the next boot uses) instead of the
        running one."""
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if config and dom.isPersistent() else 0
        xml = self._call("read the XML of %s" % dom.name(), dom.XMLDesc, flags)
        info = parse_domain(xml)
        info["state"] = self.state(dom)
        info["persistent"] = bool(dom.isPersistent())
        try:
            info["autostart"] = bool(dom.autostart())
        except libvirt.libvirtError:
            info["autostart"] = False
        for disk in info["disks"]:
            disk["capacity"] = disk["allocation"] = None
            if disk["device"] == "disk" and disk["target"]:
                try:
                    capacity, allocation, _physical = dom.blockInfo(disk["target"])
                    disk["capacity"], disk["allocation"] = capacity, allocation
                except libvirt.libvirtError:
                    pass  # sizes are best effort: an inactive domain on some drivers has none
        return info

    def job_stats(self, dom):
        """libvirt's statistics of the job ``dom`` runs ({} when none)."""
        return self._call("read the job of %s" % dom.name(), dom.jobStats, 0) or {}

    # -- changes --------------------------------------------------------------------------------

    def set_metadata(self, dom, values):
        """Replace the collection's metadata element of ``dom`` (live and persistent where they apply)."""
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else 0
        if dom.isActive():
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        self._call("write the metadata of %s" % dom.name(), dom.setMetadata,
                   libvirt.VIR_DOMAIN_METADATA_ELEMENT, metadata_xml(values, namespaced=False), METADATA_PREFIX, METADATA_NS, flags)

    def _call(self, what, fn, *args):
        try:
            return fn(*args)
        except libvirt.libvirtError as exc:
            raise OperationFailed("failed to %s on %s: %s" % (what, self.uri, exc), uri=self.uri)
