#!/usr/bin/env bash
# Build the collection tarball and install it into build/collections (what the tests and playbooks use).
# Also lay out a source copy under build/src for ansible-test, which must run from
# .../ansible_collections/cloud1/iaas/ and lists files with git from the nearest .git upwards: the copy
# gets a repository of its own holding exactly the checkout's tracked and not-ignored files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH=$repo/.venv/bin:$PATH
mkdir -p build/dist build/collections
rm -f build/dist/cloud1-iaas-*.tar.gz
ansible-galaxy collection build --force --output-path build/dist . >/dev/null
ansible-galaxy collection install --force --no-deps -p build/collections build/dist/cloud1-iaas-*.tar.gz >/dev/null 2>&1
src=build/src/ansible_collections/cloud1/iaas
rm -rf "$src"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z -co --exclude-standard | rsync -a --from0 --files-from=- ./ "$src/"
else
  rsync -a --exclude .venv --exclude .box --exclude build --exclude tests/output \
    --exclude '__pycache__' --exclude .pytest_cache ./ "$src/"
fi
git -C "$src" init -q
echo "[collection] $(ls build/dist) installed into build/collections; source copy in $src"
