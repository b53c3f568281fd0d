# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import struct

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import hostkeys
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput


def key(kind, body=b"k" * 32):
    blob = struct.pack(">I", len(kind)) + kind.encode() + struct.pack(">I", len(body)) + body
    return "%s %s" % (kind, base64.b64encode(blob).decode())


ED, RSA = key("ssh-ed25519"), key("ssh-rsa", b"r" * 64)


def test_parse_keeps_type_and_key_drops_comments_and_unknown_lines():
    text = "%s root@web1\n\n# comment\n%s root@web1\nssh-dss AAAA old\nnot a key line\n" % (RSA, ED)
    assert hostkeys.parse(text) == sorted([ED, RSA])
    assert hostkeys.parse(None) == [] and hostkeys.parse("") == []
    assert hostkeys.from_metadata(hostkeys.to_metadata([RSA, ED])) == sorted([ED, RSA])


@pytest.mark.parametrize("line, message", [
    ("ssh-ed25519 AAAA*notbase64", None),                       # not the key pattern: left out
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x07ssh-rsa").decode(), "does not hold a ssh-ed25519 key"),
    ("ssh-ed25519 QUJD=", "does not hold"),
])
def test_a_key_that_lies_about_its_type_is_refused(line, message):
    if message is None:
        assert hostkeys.parse(line) == []
    else:
        with pytest.raises(InvalidInput, match=message):
            hostkeys.parse(line)


def test_known_hosts_and_compare():
    assert hostkeys.known_hosts("10.77.0.100", [RSA, ED]) == "10.77.0.100 %s\n10.77.0.100 %s\n" % tuple(sorted([ED, RSA]))
    assert hostkeys.known_hosts("10.77.0.100", []) == ""
    assert hostkeys.compare([], [ED]) == "record"
    assert hostkeys.compare([ED, RSA], [RSA, ED]) == "same"
    assert hostkeys.compare([ED], [RSA]) == "changed"
