#!/usr/bin/env bash
# Run the test tiers and print each tier's time. Usage: scripts/test.sh all|unit|sanity|integration|box
#   unit         pure logic (ansible-test units: pytest in the collection's import layout)
#   sanity       ansible-test sanity, offline (local wheelhouse + pip bootstrap stub from install-deps.sh)
#   integration  modules against libvirt's in-process test driver (test:///...)
#   box          molecule scenarios on the cluster-in-a-box (real nodes, real guests)
# A tier whose prerequisite is missing fails and names it; nothing is skipped silently.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH=$repo/.venv/bin:$PATH
export CLOUD1_CACHE=${CLOUD1_CACHE:-/var/cache/cloud1-iaas}
export ANSIBLE_COLLECTIONS_PATH=$repo/build/collections:$CLOUD1_CACHE/collections/current
export ANSIBLE_CONFIG=$repo/tests/ansible.cfg
src=$repo/build/src/ansible_collections/cloud1/iaas
out=$repo/build/test-results
mkdir -p "$out"
pyver=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

tiers=("$@")
[ "${tiers[0]:-all}" = all ] && tiers=(unit sanity integration box)

declare -A took status npassed nfailed
passed=0 failed=0

count_junit() { # add a junit file's test and failure counts to the totals
  local f=$1 t fl er sk
  [ -f "$f" ] || return 0
  read -r t fl er sk < <(python - "$f" <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
suites = [r] if r.tag == "testsuite" else r.findall("testsuite")
tot = lambda k: sum(int(s.get(k, 0)) for s in suites)
print(tot("tests"), tot("failures"), tot("errors"), tot("skipped"))
EOF
)
  passed=$((passed + t - fl - er - sk)); failed=$((failed + fl + er))
}

tier_unit() {
  (cd "$src" && ansible-test units --python "$pyver" --color no) \
    && cp "$src"/tests/output/junit/*.xml "$out/" 2>/dev/null
  local rc=$?
  for f in "$src"/tests/output/junit/*.xml; do count_junit "$f"; done
  return $rc
}

tier_sanity() {
  # offline for real: in a network namespace with nothing but loopback; every sanity venv bootstraps
  # pip from the stub and installs from the wheelhouse only (install-deps.sh set up that HOME)
  local rc n=0 f
  rm -rf "$src/tests/output/junit"
  (cd "$src" && HOME="$CLOUD1_CACHE/ansible-test-home" unshare --net -- \
     ansible-test sanity --python "$pyver" --color no --junit)
  rc=$?
  # one junit report per sanity test that ran; its test cases are the files or issues it checked
  for f in "$src"/tests/output/junit/ansible-test-sanity-*.xml; do
    [ -f "$f" ] || continue
    n=$((n + 1)); count_junit "$f"; cp "$f" "$out/"
  done
  echo "[test] sanity: ansible-test sanity rc=$rc, $n sanity tests reported"
  if [ "$n" = 0 ]; then
    echo "[test] sanity: no sanity test ran" >&2; failed=$((failed + 1)); return 1
  fi
  return $rc
}

tier_integration() {
  # one worker per core (pytest-xdist); a test file stays on one worker, so a module's fixtures (the console's
  # server and browser) start once
  python -m pytest -q -p no:cacheprovider -n auto --dist loadfile --junitxml="$out/integration.xml" tests/integration
  local rc=$?
  count_junit "$out/integration.xml"
  return $rc
}

tier_box() {
  # every scenario on one box (shared_state): `default` brings it up (create) and takes it down (destroy)
  local t0=$SECONDS rc
  # molecule's shared state lives outside the tree (~/.ansible/tmp): a developer's earlier `molecule converge`
  # would make this run skip `default`'s create on a box that is not up. Start from no state; creating an
  # existing box is a no-op (box.py up says "already up").
  molecule reset --all >/dev/null 2>&1 || true   # it fails only when there is no state to reset
  # each verify records its checks (tests/box/callback_plugins/cloud1_checks.py): the PASS/FAIL lines of the
  # Python checks, and one per assert-style task and host
  export CLOUD1_BOX_CHECKS=$out/box-checks.jsonl
  : > "$CLOUD1_BOX_CHECKS"
  molecule test --all 2>&1 | tee "$out/molecule.log"
  rc=${PIPESTATUS[0]}
  echo "[test] box scenarios: molecule rc=$rc in $((SECONDS - t0))s"
  local ok bad
  read -r ok bad < <(python "$repo/scripts/box_checks.py" "$CLOUD1_BOX_CHECKS" "$repo/extensions/molecule")
  passed=$((passed + ${ok:-0})); failed=$((failed + ${bad:-1}))
  [ "$rc" = 0 ] && [ "${bad:-1}" = 0 ] && [ "${ok:-0}" -gt 0 ]
}

# the box's cached inputs (guest image, node base: minutes on a cold machine, mostly package downloads) are
# prepared while the tiers before the box run; the box tier waits for them (its create step finds them cached)
prepare_pid=
if [[ " ${tiers[*]} " == *" box "* ]] && [ "${tiers[0]}" != box ]; then
  ( python tools/image/build.py && python3 tools/box/base.py ) > "$out/box-prepare.log" 2>&1 &
  prepare_pid=$!
  echo "[test] box: guest image and node base prepared in the background (log: $out/box-prepare.log)"
fi

overall=0
for t in "${tiers[@]}"; do
  if [ "$t" = box ] && [ -n "$prepare_pid" ]; then
    t0=$SECONDS
    wait "$prepare_pid"; prc=$?
    echo "[test] box: background preparation rc=$prc, waited $((SECONDS - t0))s; last lines:"
    tail -n 3 "$out/box-prepare.log"
  fi
  echo "==================== tier: $t ===================="
  t0=$SECONDS p0=$passed f0=$failed
  "tier_$t"
  rc=$?
  took[$t]=$((SECONDS - t0)) npassed[$t]=$((passed - p0)) nfailed[$t]=$((failed - f0))
  status[$t]=$([ $rc = 0 ] && echo ok || echo FAILED)
  [ $rc = 0 ] || overall=1
  echo "[test] tier $t: ${status[$t]} in ${took[$t]}s, ${npassed[$t]} passed, ${nfailed[$t]} failed"
done

echo "==================== summary ===================="
for t in "${tiers[@]}"; do
  printf '[test] %-12s %-7s %5ss %5s passed %3s failed\n' "$t" "${status[$t]}" "${took[$t]}" "${npassed[$t]}" "${nfailed[$t]}"
done
echo "tests: $passed passed, $failed failed"
exit $overall
