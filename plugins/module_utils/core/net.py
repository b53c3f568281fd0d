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


def _parse(text, what):
    """netaddr's reading of ``text`` (an address, or a network with prefix), or InvalidInput saying it is not
    ``what``. Short forms netaddr would widen ('10' is 10.0.0.0/8) are refused: an address has its dots or colons."""
    if not HAS_NETADDR:
        raise MissingDependency("the netaddr Python library is required: pip install netaddr")
    text = str(text).strip()
    if "." not in text and ":" not in text:
        raise InvalidInput("%r is not %s" % (text, what))
    try:
        return netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise InvalidInput("%r is not %s: %s" % (text, what, exc))


def _ipnet(text):
    net = _parse(text, "an address with prefix (like 10.77.0.11/24)")
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


def is_address(text):
    """True when ``text`` is one IPv4 or IPv6 address (no prefix), False for a name or anything else."""
    try:
        return "/" not in str(text) and _parse(text, "an address") is not None
    except InvalidInput:
        return False


def _source_list(sources):
    if isinstance(sources, (str, bytes)) or not hasattr(sources, "__iter__"):
        raise InvalidInput("the sources of a key are a list of addresses or networks, not %r" % (sources,))
    return list(sources)


def ssh_source_option(sources):
    """sshd's ``from="..."`` option that lets an authorized key in only from ``sources``, or '' for none.

    Each source is an address, or a network with its prefix length and no host bits (192.0.2.0/28). Anything else
    is refused, a host name among them: sshd compares the address a connection comes from, and matches names only
    with UseDNS, which Debian turns off. An address with a prefix (192.0.2.5/28) is refused too: it is either one
    host or its whole network, and which one was meant is not for this function to guess."""
    kept = []
    for source in _source_list(sources):
        text = str(source).strip()
        parsed = _parse(text, "an address or a network with prefix (like 10.77.0.11 or 192.0.2.0/28)")
        if "/" not in text:
            pattern = str(parsed.ip)
        elif parsed.ip != parsed.network:
            raise InvalidInput("%r has host bits set: write %s for that one address, or %s/%d for its network"
                               % (text, parsed.ip, parsed.network, parsed.prefixlen))
        else:
            pattern = "%s/%d" % (parsed.network, parsed.prefixlen)
        if pattern not in kept:
            kept.append(pattern)
    return 'from="%s"' % ",".join(kept) if kept else ""


def authorized_key_line(public_key, comment, host=None, sources=()):
    """One ``authorized_keys`` line: the key's type and data from ``public_key`` (an ``.pub`` file's text, its
    own comment dropped), then ``comment``, admitted only from ``host`` and ``sources`` (see ssh_source_option).

    ``host`` is where the key's owner connects from as the inventory knows it (its ansible_host): it is used
    when it is an address and left out when it is a name. ``sources`` are extra addresses or networks, each
    checked. With neither, the line has no from= option: the key is admitted from anywhere."""
    fields = str(public_key or "").split()
    if len(fields) < 2 or not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
        # not echoed: a private key given by mistake must not reach the log
        raise InvalidInput("%s: the text given is not an OpenSSH public key (TYPE BASE64 [COMMENT], TYPE like "
                           "ssh-ed25519); give the .pub file's content" % comment)
    try:
        option = ssh_source_option(([str(host).strip()] if host and is_address(host) else [])
                                   + _source_list([] if sources is None else sources))
    except InvalidInput as exc:
        raise InvalidInput("%s: %s" % (comment, exc.message))
    return " ".join(x for x in (option, fields[0], fields[1], str(comment).strip()) if x)
