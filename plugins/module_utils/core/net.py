# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address arithmetic with netaddr (pure: no Ansible or libvirt import)."""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput, MissingDependency

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - depends on the host
    netaddr = None
    HAS_NETADDR = False


def _ipnet(text):
    if not HAS_NETADDR:
        raise MissingDependency("the netaddr Python library is required: pip install netaddr")
    try:
        net = netaddr.IPNetwork(str(text))
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise InvalidInput("%r is not an address with prefix (like 10.77.0.11/24): %s" % (text, exc))
    if "/" not in str(text):
        raise InvalidInput("%r has no prefix length: write it as ADDRESS/PREFIX, like 10.77.0.11/24" % text)
    return net


def cidr_network(text):
    """'10.77.0.11/24' -> '10.77.0.0/24'."""
    net = _ipnet(text)
    return "%s/%d" % (net.network, net.prefixlen)


def cidr_ip(text):
    """'10.77.0.11/24' -> '10.77.0.11'."""
    return str(_ipnet(text).ip)


def cidr_prefix(text):
    """'10.77.0.11/24' -> 24."""
    return _ipnet(text).prefixlen


def ssh_source_option(sources):
    """sshd's ``from="..."`` option that lets an authorized key in only from ``sources`` (addresses or networks
    with prefix), or '' when none of them is one. Host names are left out: sshd compares the connection's
    address, and matches names only with UseDNS, which Debian turns off."""
    if not HAS_NETADDR:
        raise MissingDependency("the netaddr Python library is required: pip install netaddr")
    if isinstance(sources, (str, bytes)) or not hasattr(sources, "__iter__"):
        raise InvalidInput("the sources of a key are a list of addresses or networks, not %r" % (sources,))
    kept = []
    for source in sources:
        text = str(source).strip()
        if "." not in text and ":" not in text:   # a short name, or netaddr's implicit forms ('10' is 10.0.0.0/8)
            continue
        try:
            net = netaddr.IPNetwork(text)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            continue
        pattern = "%s/%d" % (net.network, net.prefixlen) if "/" in text else str(net.ip)
        if pattern not in kept:
            kept.append(pattern)
    return 'from="%s"' % ",".join(kept) if kept else ""
