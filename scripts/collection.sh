#!/usr/bin/env bash
# Build the collection tarball and install it into build/collections (what the tests and playbooks use).
# Also keep a plain source copy under build/src for ansible-test, which must run from
# .../ansible_collections/cloud1/iaas/.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH=$repo/.venv/bin:$PATH
mkdir -p build/dist build/collections
rm -f build/dist/cloud1-iaas-*.tar.gz
ansible-galaxy collection build --force --output-path build/dist . >/dev/null
ansible-galaxy collection install --force -p build/collections build/dist/cloud1-iaas-*.tar.gz >/dev/null
src=build/src/ansible_collections/cloud1/iaas
mkdir -p "$src"
rsync -a --delete --exclude .git --exclude .venv --exclude .box --exclude build --exclude tests/output \
  --exclude '__pycache__' --exclude .pytest_cache ./ "$src/"
echo "[collection] $(ls build/dist) installed into build/collections"
