#!/usr/bin/env python
"""Count the box scenarios' checks (JSON lines written by tests/box/callback_plugins/cloud1_checks.py).

Prints one line per scenario to stderr (its checks, and the wall time of its playbooks: the sum, then each in the order they ran),
and "<passed> <failed>" to stdout; a scenario of extensions/molecule/ that recorded no check at all counts as one
failure (it did not run, or checked nothing).
Usage: box_checks.py CHECKS.jsonl extensions/molecule"""

import collections
import json
import os
import sys


def main(checks, root):
    scenarios = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "molecule.yml")))
    ok, bad = collections.Counter(), collections.Counter()
    steps = collections.defaultdict(list)   # scenario -> [(playbook, seconds)] in the order they ran
    with open(checks) as handle:
        for line in handle:
            rec = json.loads(line)
            if "seconds" in rec:
                steps[rec["scenario"]].append((rec["playbook"].rsplit(".", 1)[0], rec["seconds"]))
                continue
            (ok if rec["ok"] else bad)[rec["scenario"]] += 1
            if not rec["ok"]:
                print("[test] box: FAIL in %s: %s" % (rec["scenario"], rec["check"]), file=sys.stderr)
    missing = [s for s in scenarios if ok[s] + bad[s] == 0]
    for s in scenarios:
        took = steps.get(s, [])   # converge twice: converge, then molecule's idempotence run
        print("[test] box: scenario %-11s %3d checks passed, %d failed%s  %5.0fs%s"
              % (s, ok[s], bad[s], "  (NO CHECK RAN)" if s in missing else "", sum(step[1] for step in took),
                 (" (" + ", ".join("%s %.0fs" % step for step in took) + ")") if took else ""),
              file=sys.stderr)
    print(sum(ok.values()), sum(bad.values()) + len(missing))


if __name__ == "__main__":
    main(*sys.argv[1:3])
