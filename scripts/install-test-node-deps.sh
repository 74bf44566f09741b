#!/usr/bin/env bash
# Installs the Node packages the end-to-end tests use into PREFIX/node_modules, pinned: the
# providers' own libraries that sign or verify webhooks (Standard Webhooks, Stripe, GitHub's
# @octokit/webhooks-methods, Apple's app-store-server-library) and jose, which signs the
# test App Store JWS. Then the folders of tests/ that carry a package.json and a
# package-lock.json (every transitive version pinned; today tests/openapi, the OpenAPI 3.1
# validator) with `npm ci` into PREFIX/<folder>. Idempotent: a fast no-op when the pinned
# versions are already there;
# serialized with flock so ctest's fixture and a test that calls this itself never run npm
# into the same folder at once.
#
# Usage: scripts/install-test-node-deps.sh PREFIX
# Fails (exit 1) when npm is missing: the tests that need it must fail, not skip.
set -euo pipefail

prefix=${1:?usage: install-test-node-deps.sh PREFIX}
packages=(
  "standardwebhooks@1.0.0"
  "stripe@23.1.0"
  "@octokit/webhooks-methods@6.0.0"
  "jose@6.2.17"
  "@apple/app-store-server-library@3.1.0"
)

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
locked=(openapi)  # tests/<folder> with package.json + package-lock.json -> PREFIX/<folder>

installed() {
  local spec name version file folder
  for folder in "${locked[@]}"; do
    # The marker is a copy of the lockfile written after `npm ci` succeeded.
    cmp -s "$source_dir/tests/$folder/package-lock.json" "$prefix/$folder/.installed-lock.json" || return 1
  done
  for spec in "${packages[@]}"; do
    name=${spec%@*}
    version=${spec##*@}
    file="$prefix/node_modules/$name/package.json"
    [[ -f "$file" ]] || return 1
    grep -q "\"version\": *\"$version\"" "$file" || return 1
  done
}

installed && exit 0

if ! command -v npm >/dev/null 2>&1; then
  echo "install-test-node-deps: npm is not installed; the end-to-end tests of webhook signatures need it" >&2
  exit 1
fi

mkdir -p "$prefix"
exec 9>"$prefix/.install.lock"
flock -w 300 9
installed && exit 0

echo "install-test-node-deps: installing ${packages[*]} into $prefix" >&2
npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "${packages[@]}" >&2
for folder in "${locked[@]}"; do
  echo "install-test-node-deps: installing tests/$folder/package-lock.json into $prefix/$folder" >&2
  mkdir -p "$prefix/$folder"
  rm -f "$prefix/$folder/.installed-lock.json"
  cp "$source_dir/tests/$folder/package.json" "$source_dir/tests/$folder/package-lock.json" "$prefix/$folder/"
  npm ci --no-audit --no-fund --loglevel=error --prefix "$prefix/$folder" >&2
  cp "$source_dir/tests/$folder/package-lock.json" "$prefix/$folder/.installed-lock.json"
done
installed || { echo "install-test-node-deps: npm finished but ${packages[*]} is not in $prefix" >&2; exit 1; }
