#!/usr/bin/env bash
# tockvet over the repository: runs the analyzer's own tests, builds it, then
# runs it (as go vet's tool, test files included) over every module of the
# repository. Fails on any diagnostic. A deliberate use in a test is
# suppressed where it stands with a "//tockvet:ignore <reason>" comment (see
# tockvet/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each module on its own, as a fresh clone without a go.work builds it.
export GOWORK=off

echo "== tockvet: its tests"
(cd tockvet && go test ./...)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd tockvet && go build -o "$tmp/tockvet" ./cmd/tockvet)

status=0
while IFS= read -r mod; do
  dir=$(dirname "$mod")
  echo "== tockvet: $dir"
  if ! (cd "$dir" && go vet -vettool="$tmp/tockvet" ./...); then
    status=1
  fi
done < <(find . -name go.mod -not -path '*/testdata/*' -not -path './.git/*' | sort)
if [ "$status" -ne 0 ]; then
  echo "tockvet: diagnostics above (fix them, or suppress a deliberate case with //tockvet:ignore <reason>)"
fi
exit "$status"
