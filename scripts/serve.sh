#!/usr/bin/env bash
# The last step of `make run`: serve on http://127.0.0.1:5000 and, once the server answers, print
# the demo logins and the address again, below the server's start-up lines where they do not
# scroll away. Ctrl-C stops the server, and so does a TERM or HUP sent to make (make passes TERM
# on to this script): no server is left running behind.
#
# usage: scripts/serve.sh [VENV_BIN]      (default .venv/bin)
set -uo pipefail
bin="${1:-.venv/bin}"
url="http://127.0.0.1:5000"

# In the background of this script the server ignores Ctrl-C (SIGINT) as every background job of
# a non-interactive shell does: the traps below stop it with TERM instead.
"$bin/flask" --app wsgi run --host 127.0.0.1 --port 5000 &
server=$!
stop() {
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM HUP
trap stop EXIT

# Wait until the sign-in page answers (or the server has exited, e.g. the port is taken).
if ! "$bin/python" - "$url/masuk" "$server" <<'PY'; then
import os, sys, time, urllib.error, urllib.request

url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)  # it answers
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    time.sleep(0.3)
sys.exit(1)
PY
  echo "==> Server tidak menjawab / The server did not answer at $url" >&2
  exit 1
fi

"$bin/flask" --app wsgi demo logins
echo "==> Buka $url di peramban. Ctrl-C menghentikan server."
echo "    Open $url in a browser. Ctrl-C stops the server."
echo ""
wait "$server"
