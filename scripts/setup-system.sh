#!/usr/bin/env bash
# Install Debian or Ubuntu packages, only when missing. The list is a file,
# one package a line: system-packages.txt (what the build and tests need) by
# default, or the file given as the first argument (for example a list of extra packages).
# A line may name alternatives, `a | b`: any one installed will do, else the
# first that apt can install (Debian's chromium; an Ubuntu runner's Google
# Chrome). A line ending in `?` is optional: when apt has none of it, say so
# and go on (a check that needs it then says it could not run). Each package
# is looked up before the one install, so a name one distribution lacks
# cannot sink the others.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *"install ok installed"* ]]; }
missing=()
set -f                                  # `?` is a marker here, not a pattern
while read -r line; do
  line=${line%%#*}; line=$(echo "$line" | xargs)
  [ -n "$line" ] || continue
  satisfied=""
  for pkg in ${line//|/ }; do [ "$pkg" != "?" ] && installed "$pkg" && satisfied=1; done
  [ -n "$satisfied" ] || missing+=("$line")
done < "${1:-$here/system-packages.txt}"
[ ${#missing[@]} -eq 0 ] && exit 0
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
chosen=()
for line in "${missing[@]}"; do
  optional=""
  case $line in *"?") optional=1; line=$(echo "${line%"?"}" | xargs) ;; esac
  pick=""
  for pkg in ${line//|/ }; do
    # Read the whole answer first: `grep -q` stops at its first match, and
    # under pipefail apt-cache's SIGPIPE would make a found package look absent.
    policy=$(apt-cache policy "$pkg" 2>/dev/null || true)
    if grep -q "Candidate: [^(]" <<<"$policy"; then pick=$pkg; break; fi
  done
  if [ -n "$pick" ]; then
    chosen+=("$pick")
  elif [ -n "$optional" ]; then
    echo "Skipping $line: apt has none of it here (optional)"
  else
    echo "No package for '$line' in this distribution's apt sources" >&2
    exit 1
  fi
done
[ ${#chosen[@]} -eq 0 ] && exit 0
echo "Installing packages: ${chosen[*]}"
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${chosen[@]}"
