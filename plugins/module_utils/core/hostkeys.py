# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A VM's SSH host keys: read from the guest at its first boot (through qemu-guest-agent, a channel that does
not cross the network), recorded in its metadata, and the only keys an SSH connection to it accepts (no trust on
first use). Pure Python."""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
_LINE = re.compile(r"^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s.*)?$")


def parse(text):
    """The keys of ``text`` (public key files' lines: type, base64, comment), as sorted "type base64" strings.
    Lines of other types are left out; a malformed key of a known type is refused."""
    keys = set()
    for line in str(text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match or match.group(1) not in KEY_TYPES:
            continue
        kind, blob = match.groups()
        try:
            decoded = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the host key %s %s... is not valid base64" % (kind, blob[:16]))
        if not decoded[4:4 + len(kind)] == kind.encode():   # the blob names its own type after a length
            raise InvalidInput("the host key %s %s... does not hold a %s key" % (kind, blob[:16], kind))
        keys.add("%s %s" % (kind, blob))
    return sorted(keys)


def to_metadata(keys):
    return "\n".join(sorted(keys))


def from_metadata(value):
    return parse(value)


def known_hosts(address, keys):
    """known_hosts lines that let SSH accept exactly ``keys`` for ``address``."""
    return "".join("%s %s\n" % (address, key) for key in sorted(keys))


def compare(recorded, seen):
    """What reading the guest's keys means: ``record`` (none recorded yet), ``same`` or ``changed``."""
    if not recorded:
        return "record"
    return "same" if sorted(recorded) == sorted(seen) else "changed"
