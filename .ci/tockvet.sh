#!/usr/bin/env bash
# tockvet over the repository: builds the analyzer, then runs it as go vet's tool, test files included, over every module of the
# repository (the workspace's modules when there is a go.work, else each
# go.mod on its own). Fails on any diagnostic. A deliberate case is
# suppressed where it stands with "//tockvet:ignore <reason>" (see
# tockvet/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
unset GOFLAGS

# (its own tests run in the README's test command)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd tockvet && GOWORK=off go build -o "$tmp/tockvet" ./cmd/tockvet)

status=0
if [ -f go.work ] && [ "${GOWORK:-}" != off ]; then
  patterns=""
  for m in $(go list -m -f '{{.Dir}}' | sed "s|^$PWD|.|"); do
    if [ "$m" = "." ]; then patterns="$patterns ./..."; else patterns="$patterns $m/..."; fi
  done
  echo "== tockvet:$patterns"
  go vet -vettool="$tmp/tockvet" $patterns || status=1
else
  while IFS= read -r mod; do
    dir=$(dirname "$mod")
    echo "== tockvet: $dir"
    (cd "$dir" && GOWORK=off go vet -vettool="$tmp/tockvet" ./...) || status=1
  done < <(find . -name go.mod -not -path '*/testdata/*' -not -path './.git/*' | sort)
fi
if [ "$status" -ne 0 ]; then
  echo "tockvet: diagnostics above: fix them, or suppress a deliberate case with //tockvet:ignore <reason>"
fi
exit "$status"
