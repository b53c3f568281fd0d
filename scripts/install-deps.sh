#!/usr/bin/env bash
# Install everything cloud1.iaas needs on a fresh Debian 12 machine. Idempotent: a second run with
# nothing missing does no network access and takes a second or two.
#   1. Debian packages from scripts/host-packages.txt (apt-get update first, only when some are missing)
#   2. .venv with the pinned Python toolchain from requirements.txt
#   3. an offline wheelhouse + pip bootstrap stub so `ansible-test sanity|units` run with no network
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${CLOUD1_CACHE:-/var/cache/cloud1-iaas}
venv=$repo/.venv
python=${CLOUD1_PYTHON:-python3}
wheelhouse=$cache/wheelhouse
mkdir -p "$cache"

say() { printf '[deps] %s\n' "$*"; }

# ---- 1. Debian packages
mapfile -t pkgs < <(grep -vE '^\s*(#|$)' "$repo/scripts/host-packages.txt")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "[deps] need root to install: ${missing[*]}" >&2; exit 1; }
  say "apt: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "apt: all ${#pkgs[@]} packages present"
fi

# ---- 2. virtualenv with pinned versions
stamp=$venv/.requirements.sha256
want=$( (cat "$repo/requirements.txt"; "$python" --version) | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "venv: creating $venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/requirements.txt"
  echo "$want" > "$stamp"
else
  say "venv: up to date"
fi
# the venv's python must import libvirt (built from source against the system libvirt)
"$venv/bin/python" -c 'import libvirt, ansible, netaddr, jmespath, molecule' \
  || { echo "[deps] .venv is broken: remove .venv and run again" >&2; exit 1; }

# ---- 2b. collections the roles use (ansible.posix), taken from the pinned `ansible` wheel on PyPI:
# Galaxy is out of reach here. Only the listed collections are extracted.
ansible_bundle=ansible==12.3.0
collections=(ansible/posix)
coldir=$cache/collections/${ansible_bundle#ansible==}
if [ ! -f "$coldir/.complete" ]; then
  say "collections: ${collections[*]} from $ansible_bundle"
  tmp=$(mktemp -d)
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" "$ansible_bundle"
  rm -rf "$coldir"; mkdir -p "$coldir"
  for c in "${collections[@]}"; do
    "$venv/bin/python" - "$tmp"/ansible-*.whl "$coldir" "ansible_collections/$c/" <<'EOF'
import sys, zipfile
whl, dest, prefix = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith(prefix)])
EOF
  done
  rm -rf "$tmp"
  touch "$coldir/.complete"
else
  say "collections: up to date"
fi
ln -sfn "$coldir" "$cache/collections/current"

# ---- 3. offline ansible-test: wheelhouse of its sanity/units requirements + pip bootstrap stub
at_req=$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data", "requirements"))')
wstamp=$wheelhouse/.stamp
wwant=$(cat "$at_req"/sanity.*.txt "$at_req/units.txt" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$wstamp" 2>/dev/null)" != "$wwant" ]; then
  say "wheelhouse: building $wheelhouse"
  mkdir -p "$wheelhouse"
  reqs=()
  for f in "$at_req"/sanity.*.txt "$at_req/units.txt"; do reqs+=(-r "$f"); done
  # each sanity test pins its own versions: fetch them one file at a time (they conflict with each other)
  for f in "$at_req"/sanity.*.txt; do
    "$venv/bin/pip" wheel -q --disable-pip-version-check -w "$wheelhouse" -r "$f"
  done
  "$venv/bin/pip" wheel -q --disable-pip-version-check -w "$wheelhouse" -r "$at_req/units.txt" \
    pip==24.2 "coverage==7.6.1"
  echo "$wwant" > "$wstamp"
else
  say "wheelhouse: up to date"
fi
# ansible-test passes only HOME to pip: it runs with a HOME of its own whose pip config allows the
# wheelhouse only, and whose cache holds the pip bootstrap stub (get-pip.py cannot be downloaded here)
athome=$cache/ansible-test-home
mkdir -p "$athome/.config/pip" "$athome/.ansible/test/cache"
printf '[global]\nno-index = true\nfind-links = %s\ndisable-pip-version-check = true\n' "$wheelhouse" \
  > "$athome/.config/pip/pip.conf"
cat > "$athome/.ansible/test/cache/get_pip_24_2.py" <<'EOF'
# Offline stand-in for get-pip.py, written by cloud1.iaas scripts/install-deps.sh: bootstrap pip from
# the interpreter's own ensurepip, then install the requested pip from the local wheelhouse.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
EOF
say "done"
