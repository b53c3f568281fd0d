#!/usr/bin/env python
"""Count the box scenarios' checks (JSON lines written by tests/box/callback_plugins/cloud1_checks.py).

Prints one line per scenario to stderr, and "<passed> <failed>" to stdout; a scenario of
extensions/molecule/ that recorded no check at all counts as one failure (it did not run, or checked nothing).
Usage: box_checks.py CHECKS.jsonl extensions/molecule"""

import collections
import json
import os
import sys


def main(checks, root):
    scenarios = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "molecule.yml")))
    ok, bad = collections.Counter(), collections.Counter()
    with open(checks) as handle:
        for line in handle:
            rec = json.loads(line)
            (ok if rec["ok"] else bad)[rec["scenario"]] += 1
            if not rec["ok"]:
                print("[test] box: FAIL in %s: %s" % (rec["scenario"], rec["check"]), file=sys.stderr)
    missing = [s for s in scenarios if ok[s] + bad[s] == 0]
    for s in scenarios:
        print("[test] box: scenario %-10s %3d checks passed, %d failed%s"
              % (s, ok[s], bad[s], "  (NO CHECK RAN)" if s in missing else ""), file=sys.stderr)
    print(sum(ok.values()), sum(bad.values()) + len(missing))


if __name__ == "__main__":
    main(*sys.argv[1:3])
