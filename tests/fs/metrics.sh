#!/bin/bash
# metrics: .vineyardfs/metrics and --metrics HOST:PORT. After a create, a
# read, a listing, xattrs and control requests, the page passes Debian's
# `promtool check metrics`, counts and times those FUSE requests and ctl
# ops (errors counted by op), and shows the store's objects and bytes;
# the HTTP endpoint serves the same page (404 and 405 elsewhere), a real
# prometheus started here scrapes it and answers a query for a value we
# know; a second daemon on a port in use refuses to mount and says why.
. "$(dirname "$0")/lib.sh"

PROMTOOL=$(command -v promtool || true)
PROMETHEUS=$(command -v prometheus || true)
if [ -z "$PROMTOOL" ] || [ -z "$PROMETHEUS" ]; then
	echo "SKIP: no promtool or prometheus (Debian's prometheus package)"
	exit 77
fi
PROM_PID=
metrics_cleanup()
{
	local rc=$?

	set +e
	if [ -n "$PROM_PID" ]; then
		kill "$PROM_PID" 2>/dev/null
		wait "$PROM_PID" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] && [ -s "$T/prometheus.log" ]; then
		echo "---- tail of $T/prometheus.log ----" >&2
		tail -n 15 "$T/prometheus.log" >&2
	fi
	(exit "$rc")
	vfs_cleanup
}
trap metrics_cleanup EXIT

PORT=$(free_port)
vfs_mount --metrics "127.0.0.1:$PORT"
grep -q "metrics: http://127.0.0.1:$PORT/metrics" "$STATE/vineyardfs.log" || fail "the metrics address is not logged"

# What a user does.
printf 'hello' >"$MNT/names/a"
printf 'world!' >"$MNT/names/b"
wait_sealed "$MNT/names/a"
wait_sealed "$MNT/names/b"
[ "$(cat "$MNT/names/a")" = hello ] || fail "a reads wrong"
ls -l "$MNT/names" >/dev/null
getfattr -d "$MNT/names/b" >/dev/null
ctl '{"op":"wait","name":"a"}' | grep -q '"ok":true' || fail "wait for a failed"
ctl '{"op":"bogus"}' | grep -q '"ok":false' || fail "a bogus op did not fail"
ctl '{"op":"delete","id":"o0000000000000001"}' | grep -q '"ok":false' || fail "delete of no object did not fail"

"$PROMTOOL" check metrics <"$MNT/.vineyardfs/metrics" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.out")"
[ ! -s "$T/promtool.out" ] || fail "promtool has remarks: $(cat "$T/promtool.out")"

# metric NAME [LABELS]: its value on the page ($PAGE, default the file).
metric()
{
	local k=$1

	[ -z "${2:-}" ] || k="$1{$2}"
	awk -v k="$k" '$1 == k { print $2; found = 1 } END { exit !found }' "${PAGE:-$MNT/.vineyardfs/metrics}" ||
		fail "no $k in the metrics: $(grep "^$1" "${PAGE:-$MNT/.vineyardfs/metrics}" | head -5)"
}
# at_least NAME LABELS N
at_least()
{
	local v

	v=$(metric "$1" "$2")
	"$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$v" "$3" ||
		fail "$1{$2} is $v, expected at least $3"
}

at_least vineyardfs_fuse_requests_total 'opcode="CREATE"' 2
at_least vineyardfs_fuse_requests_total 'opcode="LOOKUP"' 1
at_least vineyardfs_fuse_requests_total 'opcode="GETXATTR"' 1
at_least vineyardfs_fuse_request_duration_seconds_count 'opcode="CREATE"' 2
at_least vineyardfs_fuse_request_duration_seconds_bucket 'opcode="CREATE",le="+Inf"' 2
at_least vineyardfs_fuse_request_duration_seconds_sum 'opcode="CREATE"' 0.000001
[ "$(metric vineyardfs_ctl_request_duration_seconds_count 'op="wait"')" = 1 ] || fail "one wait is not counted once"
[ "$(metric vineyardfs_ctl_errors_total 'op="wait"')" = 0 ] || fail "a wait that succeeded counts as an error"
[ "$(metric vineyardfs_ctl_errors_total 'op="unknown"')" = 1 ] || fail "the bogus op is not counted as an error"
[ "$(metric vineyardfs_ctl_errors_total 'op="delete"')" = 1 ] || fail "the failed delete is not counted"
[ "$(metric vineyardfs_objects)" = 2 ] || fail "vineyardfs_objects is $(metric vineyardfs_objects), not 2"
[ "$(metric vineyardfs_names)" = 2 ] || fail "vineyardfs_names is not 2"
[ "$(metric vineyardfs_sealed_bytes)" = 11 ] || fail "vineyardfs_sealed_bytes is $(metric vineyardfs_sealed_bytes), not 11"
[ "$(metric vineyardfs_memory_limit_bytes)" = $((256 << 20)) ] || fail "the memory limit is wrong"
if [ "$DATA_PATH" = passthrough ]; then
	[ "$(metric vineyardfs_passthrough)" = 1 ] || fail "vineyardfs_passthrough is not 1"
	at_least vineyardfs_passthrough_opens_total "" 1
else
	[ "$(metric vineyardfs_passthrough)" = 0 ] || fail "vineyardfs_passthrough is not 0 in fallback"
	at_least vineyardfs_served_reads_total "" 1
fi
# Buckets are cumulative and end at the count.
"$PY" - "$MNT/.vineyardfs/metrics" <<'PYEOF' || fail "a histogram's buckets are not cumulative up to its count"
import re, sys
series = {}
counts = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\w+)_bucket\{(.*),le="([^"]+)"\} (\S+)', line)
    if m:
        series.setdefault((m[1], m[2]), []).append(float(m[4]))
    m = re.match(r'(\w+)_count\{(.*)\} (\S+)', line)
    if m:
        counts[(m[1], m[2])] = float(m[3])
assert series, "no histogram"
for k, v in series.items():
    assert v == sorted(v), (k, v)
    assert v[-1] == counts[k], (k, v, counts[k])
PYEOF

# vineyardfs stats: the live view, from the same page (JSON and text).
"$VINEYARDFS" stats -m "$MNT" --json --count 2 --interval 0.2 >"$T/stats.json" || fail "vineyardfs stats --json failed"
"$PY" - "$T/stats.json" <<'PYEOF2' || fail "vineyardfs stats --json: $(cat "$T/stats.json")"
import json, sys
views = [json.loads(l) for l in open(sys.argv[1])]
assert len(views) == 2, len(views)
for v in views:
    assert v["interval"] == 0.2, v["interval"]
    assert v["store"]["objects"] == 2 and v["store"]["names"] == 2, v["store"]
    assert v["store"]["memory_limit_bytes"] == 256 << 20, v["store"]
    assert v["fuse_totals"]["CREATE"]["total"] >= 2, v["fuse_totals"]
    for group in ("fuse", "ctl", "fuse_totals"):
        for op, r in v[group].items():
            assert r["per_second"] >= 0, (group, op, r)
    # Its own reads of the page are requests too: some rate shows.
    assert any(r["per_second"] > 0 for r in v["fuse"].values()), v["fuse"]
PYEOF2
"$VINEYARDFS" stats -m "$MNT" --count 1 --interval 0.1 >"$T/stats.txt" || fail "vineyardfs stats failed"
grep -q "^store    2 objects" "$T/stats.txt" || fail "vineyardfs stats shows: $(cat "$T/stats.txt")"
grep -q "^FUSE requests" "$T/stats.txt" || fail "vineyardfs stats shows no request rates: $(cat "$T/stats.txt")"
must_fail "interval" "$VINEYARDFS" stats -m "$MNT" --interval 0

# Over HTTP: the same families; other paths and methods refused.
http()
{
	"$PY" - "$@" <<'PYEOF'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], method=sys.argv[2] if len(sys.argv) > 2 else "GET",
                             data=b"x" if len(sys.argv) > 2 and sys.argv[2] == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=10)
    sys.stdout.write(r.read().decode())
    print("STATUS", r.status, r.headers.get("Content-Type"), file=sys.stderr)
except urllib.error.HTTPError as e:
    print("STATUS", e.code, file=sys.stderr)
PYEOF
}
http "http://127.0.0.1:$PORT/metrics" >"$T/page" 2>"$T/status"
grep -q "STATUS 200 text/plain; version=0.0.4" "$T/status" || fail "GET /metrics: $(cat "$T/status")"
"$PROMTOOL" check metrics <"$T/page" >"$T/promtool.out" 2>&1 || fail "promtool on the HTTP page: $(cat "$T/promtool.out")"
PAGE=$T/page
[ "$(metric vineyardfs_objects)" = 2 ] || fail "the HTTP page shows $(metric vineyardfs_objects) objects"
unset PAGE
http "http://127.0.0.1:$PORT/other" >/dev/null 2>"$T/status"
grep -q "STATUS 404" "$T/status" || fail "GET /other: $(cat "$T/status")"
http "http://127.0.0.1:$PORT/metrics" POST >/dev/null 2>"$T/status"
grep -q "STATUS 405" "$T/status" || fail "POST /metrics: $(cat "$T/status")"

# A real prometheus scrapes it; its query API gives our value back.
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: vineyardfs
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YAML
"$PROMTOOL" check config "$T/prometheus.yml" >/dev/null || fail "promtool rejects the test's config"
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
prom_has()
{
	"$PY" - "http://127.0.0.1:$PPORT/api/v1/query?query=vineyardfs_objects" <<'PYEOF'
import json, sys, urllib.request
try:
    r = json.load(urllib.request.urlopen(sys.argv[1], timeout=2))
except Exception:
    sys.exit(1)
res = r.get("data", {}).get("result", [])
sys.exit(0 if r.get("status") == "success" and res and res[0]["value"][1] == "2" else 1)
PYEOF
}
VFS_WAIT=90 wait_until "prometheus to scrape vineyardfs_objects = 2" prom_has

# A port in use: the mount fails and says why.
mkdir -p "$T/m2" "$T/st2"
VFS_STATES+=("$T/st2")
VFS_MNTS+=("$T/m2")
if "$VINEYARDFS" mount --state-dir "$T/st2" --memory 64M --metrics "127.0.0.1:$PORT" "$T/m2" 2>"$T/m2.err"; then
	fail "a second daemon mounted with --metrics on a port in use"
fi
grep -q "metrics.*127.0.0.1:$PORT" "$T/st2/vineyardfs.log" "$T/m2.err" || fail "the port in use is not said: $(cat "$T/m2.err")"
! is_mounted "$T/m2" || fail "$T/m2 is mounted"

echo "PASS: metrics"
