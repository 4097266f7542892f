#!/usr/bin/env bash
# The pull-request job, all of it, runnable anywhere (tests/test_workflow.py
# runs it on a two-commit repository): set up, show what the change does to
# every edition (diff --rev BASE..HEAD), prove accessibility (check), write
# both reports into the job summary and the pull request's one comment, and
# fail when the check fails or the diff finds what the policy names.
# The diff runs whatever the check says, and the check whatever the diff says.
#
# Settings (environment):
#   GUIDE_BASE     the base revision; default: the merge-base with
#                  origin/$GITHUB_BASE_REF on GitHub, else HEAD~1
#   GUIDE_CONTENT  the guide to build (default: content)
#   GUIDE_OUT      where outputs and reports go (default: dist)
#   DIFF_FAIL_ON   the diff kinds that fail the job (the Makefile sets the
#                  project's policy; empty: report only)
#   GUIDE_SKIP_SETUP=1  skip `make setup` (a machine already set up)
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=${GUIDE_OUT:-dist}
CONTENT=${GUIDE_CONTENT:-content}
FAIL_ON=${DIFF_FAIL_ON-metadata,text,structure,figures,files,pages}
PY=.venv/bin/python

group() { if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::group::$*"; else echo "== $*"; fi; }
endgroup() { if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::endgroup::"; fi; }

if [ -z "${GUIDE_SKIP_SETUP:-}" ]; then
  group "Set up (Debian or Ubuntu packages, the venv, node_modules)"
  make setup || { echo "Set-up failed"; exit 2; }
  endgroup
fi

# Ace drives a Chromium-like browser: Debian's chromium, or the Google Chrome
# that Ubuntu runners come with. Found, not assumed.
if [ -z "${PUPPETEER_EXECUTABLE_PATH:-}" ]; then
  for candidate in "${CHROME_BIN:-}" chromium google-chrome-stable google-chrome chromium-browser; do
    [ -n "$candidate" ] || continue
    found=$(command -v "$candidate" 2>/dev/null) || continue
    export PUPPETEER_EXECUTABLE_PATH="$found"
    break
  done
fi
echo "Browser for Ace: ${PUPPETEER_EXECUTABLE_PATH:-none found (the check will say EPUB-ACE-RUN)}"

base=${GUIDE_BASE:-}
if [ -z "$base" ] && [ -n "${GITHUB_BASE_REF:-}" ]; then
  git rev-parse --verify --quiet "origin/$GITHUB_BASE_REF" >/dev/null ||
    git fetch --no-tags --quiet origin "$GITHUB_BASE_REF:refs/remotes/origin/$GITHUB_BASE_REF"
  base=$(git merge-base "origin/$GITHUB_BASE_REF" HEAD)
fi
base=${base:-HEAD~1}
mkdir -p "$OUT"

group "Diff: what $base..HEAD does to every edition (fails on: ${FAIL_ON:-nothing})"
"$PY" build.py diff --rev "$base..HEAD" --content "$CONTENT" --out "$OUT/diff" --fail-on "$FAIL_ON"
diff_status=$?
endgroup

group "Accessibility check of every edition"
# The head was just built for the diff: its outputs are reused, not laid out again.
[ -f "$OUT/diff/diff.json" ] && "$PY" -m guidepub.diff.ci export "$OUT/diff/diff.json" "$OUT"
"$PY" build.py check --variant all --content "$CONTENT" --out "$OUT"
check_status=$?
endgroup

"$PY" -m guidepub.diff.ci summary --check "$check_status" --diff "$diff_status" \
  --check-report "$OUT/check-report.md" --diff-summary "$OUT/diff/summary.md" --out "$OUT/ci-summary.md"
"$PY" -m guidepub.diff.ci comment "$OUT/ci-summary.comment.md" || echo "No comment (see above)"
"$PY" -m guidepub.diff.ci verdict --check "$check_status" --diff "$diff_status"
