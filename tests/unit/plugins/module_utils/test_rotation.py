# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.cloud1.iaas.plugins.module_utils.core import rotation
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import InvalidInput

NOW = 1_800_000_000
HOUR = 3600
# every 2 hours, as the seed took them, the newest 1 hour ago; and one taken by hand, long ago
SNAPS = [{"name": "auto-%d" % i, "created": NOW - HOUR - 2 * HOUR * i} for i in range(6)] + \
        [{"name": "before-upgrade", "created": NOW - 100 * HOUR}]


def test_keep_the_newest_n():
    drop, kept = rotation.select(SNAPS, keep=2, now=NOW)
    assert sorted(drop) == ["auto-2", "auto-3", "auto-4", "auto-5"]
    assert kept == ["auto-0", "auto-1", "before-upgrade"]
    assert drop["auto-5"] == "beyond the newest 2"


def test_drop_older_than_an_age():
    drop, _kept = rotation.select(SNAPS, max_age=rotation.parse_age("6h"), now=NOW)
    # ages 1, 3, 5, 7, 9, 11 hours: 7 h and more go
    assert sorted(drop) == ["auto-3", "auto-4", "auto-5"]
    assert drop["auto-3"] == "25200 s old, older than 21600 s"


def test_both_rules_and_the_boundary():
    drop, _kept = rotation.select(SNAPS, keep=4, max_age=5 * HOUR, now=NOW)
    assert sorted(drop) == ["auto-3", "auto-4", "auto-5"]   # auto-2 is exactly 5 h old: it stays


def test_hand_made_snapshots_and_other_prefixes_are_never_dropped():
    drop, _kept = rotation.select(SNAPS, keep=0, now=NOW)
    assert "before-upgrade" not in drop and len(drop) == 6
    assert rotation.select(SNAPS, keep=0, prefix="nightly-", now=NOW)[0] == {}


def test_no_policy_drops_nothing():
    assert rotation.select(SNAPS, now=NOW)[0] == {}


@pytest.mark.parametrize("text, seconds", [("90m", 5400), ("2h", 7200), ("7d", 604800), ("1w", 604800),
                                           ("30", 30), ("45s", 45), (None, None)])
def test_ages(text, seconds):
    assert rotation.parse_age(text) == seconds


@pytest.mark.parametrize("text", ["0h", "-1d", "2 days", "h", "1.5h"])
def test_bad_ages(text):
    with pytest.raises(InvalidInput, match="is not an age"):
        rotation.parse_age(text)


def test_names():
    assert rotation.auto_name("auto-", now=NOW) == "auto-20270115-080000"
    assert rotation.check_snapshot_name("before-upgrade") == "before-upgrade"
    for bad in ("", "../x", "a b", "<x/>", "x" * 65):
        with pytest.raises(InvalidInput):
            rotation.check_snapshot_name(bad)
    with pytest.raises(InvalidInput, match="keep"):
        rotation.select(SNAPS, keep=-1)
