#!/bin/sh
# The browser the public-page tests drive: Debian's chromium, and a CJK font so that screenshots
# of the Chinese pages are legible. Silent and quick when both are there; `make test` runs it.
set -eu

need=""
[ -x /usr/bin/chromium ] || need="chromium"
if ! fc-list :lang=zh family 2>/dev/null | grep -q . &&
   ! dpkg-query -W -f '${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "ok installed"; then
  need="$need fonts-wqy-microhei"
fi
[ -n "$need" ] || exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: no apt-get here: install chromium (as /usr/bin/chromium) by other means" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing$need for the browser tests ..."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $need >"$log" 2>&1; }
# Only a machine whose package lists are stale (or missing, as in a fresh container) needs an update.
if ! install && ! { $sudo apt-get update -q >"$log" 2>&1 && install; }; then
  cat "$log" >&2
  echo "chromium.sh: could not install$need" >&2
  exit 1
fi
[ -x /usr/bin/chromium ] || { echo "chromium.sh: /usr/bin/chromium is still missing" >&2; exit 1; }
