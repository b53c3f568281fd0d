# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's static network configuration as the files its OS reads. Pure Python.

Each flavour pins the address statically (no DHCP fallback, so a guest never silently comes up at
another address):

- ``networkd`` (Debian with systemd-networkd): /etc/systemd/network/10-<iface>.network
- ``ifupdown`` (Debian classic): /etc/network/interfaces.d/<iface>
- ``ifcfg`` (RHEL 7/8 network-scripts): /etc/sysconfig/network-scripts/ifcfg-<iface>
- ``nmkeyfile`` (RHEL 8/9 NetworkManager): /etc/NetworkManager/system-connections/<iface>.nmconnection,
  mode 0600 (NetworkManager ignores keyfiles readable by others)
"""

from __future__ import annotations

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput


def _networkd(iface, addr):
    lines = ["[Match]", "Name=%s" % iface, "", "[Network]", "DHCP=no", "Address=%s/%d" % (addr["ip"], addr["prefix"])]
    if addr.get("gateway"):
        lines.append("Gateway=%s" % addr["gateway"])
    lines += ["DNS=%s" % server for server in addr.get("dns") or []]
    return [("/etc/systemd/network/10-%s.network" % iface, "\n".join(lines) + "\n", "0644")]


def _ifupdown(iface, addr):
    lines = ["auto %s" % iface, "iface %s inet static" % iface, "    address %s/%d" % (addr["ip"], addr["prefix"])]
    if addr.get("gateway"):
        lines.append("    gateway %s" % addr["gateway"])
    if addr.get("dns"):
        lines.append("    dns-nameservers %s" % " ".join(addr["dns"]))
    return [("/etc/network/interfaces.d/%s" % iface, "\n".join(lines) + "\n", "0644")]


def _ifcfg(iface, addr):
    lines = ["DEVICE=%s" % iface, "NAME=%s" % iface, "TYPE=Ethernet", "ONBOOT=yes", "BOOTPROTO=none",
             "IPADDR=%s" % addr["ip"], "PREFIX=%d" % addr["prefix"], "IPV6INIT=no"]
    if addr.get("gateway"):
        lines.append("GATEWAY=%s" % addr["gateway"])
    lines += ["DNS%d=%s" % (i + 1, server) for i, server in enumerate(addr.get("dns") or [])]
    return [("/etc/sysconfig/network-scripts/ifcfg-%s" % iface, "\n".join(lines) + "\n", "0644")]


def _nmkeyfile(iface, addr):
    address = "%s/%d" % (addr["ip"], addr["prefix"])
    if addr.get("gateway"):
        address += ",%s" % addr["gateway"]
    lines = ["[connection]", "id=%s" % iface, "type=ethernet", "interface-name=%s" % iface, "autoconnect=true",
             "", "[ipv4]", "method=manual", "address1=%s" % address]
    if addr.get("dns"):
        lines.append("dns=%s;" % ";".join(addr["dns"]))
    lines += ["", "[ipv6]", "method=ignore"]
    return [("/etc/NetworkManager/system-connections/%s.nmconnection" % iface, "\n".join(lines) + "\n", "0600")]


FLAVOURS = {"networkd": _networkd, "ifupdown": _ifupdown, "ifcfg": _ifcfg, "nmkeyfile": _nmkeyfile}


def network_files(flavour, addr, iface="eth0"):
    """[(path, content, mode)] that give ``iface`` the static address ``addr`` (a dict with ip, prefix,
    gateway, dns as vmspec.check_address returns it); a resolv.conf too when DNS servers are given, for
    guests without a resolver daemon."""
    if flavour not in FLAVOURS:
        raise InvalidInput("unknown network configuration %r: use one of %s" % (flavour, ", ".join(FLAVOURS)))
    files = FLAVOURS[flavour](iface, addr)
    if addr.get("dns") and flavour in ("networkd", "ifupdown"):
        files.append(("/etc/resolv.conf", "".join("nameserver %s\n" % s for s in addr["dns"]), "0644"))
    return files
