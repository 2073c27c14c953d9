#!/bin/bash
# extender: `vineyardfs scheduler-extender` against a real etcd and three
# members (alpha, beta, gamma) on 127.0.0.1. Objects put and published on
# alpha (1 MiB) and beta (4 MiB); bodies built to the upstream types
# (ExtenderArgs with NodeNames or a NodeList) posted over HTTP: prioritize
# scores each node by its share of the Pod's required bytes; filter keeps
# the nodes with a live member, and drops gamma once it was killed and its
# lease ran out; bad bodies get 400, other paths 404, GET 405.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

etcd_start
member_mount 1 alpha
member_mount 2 beta
member_mount 3 gamma
for n in 1 2 3; do
	wait_until "member $n to join" cluster_is joined yes "$T/m$n"
done
head -c 1M /dev/urandom >"$T/small"
head -c 4M /dev/urandom >"$T/big"
cp "$T/small" "$T/m1/names/small"
cp "$T/big" "$T/m2/names/big"
wait_sealed "$T/m1/names/small"
wait_sealed "$T/m2/names/big"
"$VINEYARDFS" publish -m "$T/m1" small >/dev/null || fail "publish small"
"$VINEYARDFS" publish -m "$T/m2" big >/dev/null || fail "publish big"

PORT=$(free_port)
bg_start "$VINEYARDFS" scheduler-extender --listen "127.0.0.1:$PORT" --etcd "$ETCD_URL" --cluster t \
	--url-prefix /vfs 2>"$T/extender.log"
URL=http://127.0.0.1:$PORT/vfs

# post PATH BODY [METHOD]: prints "STATUS BODY"; BODY @FILE: FILE's bytes.
post()
{
	"$PY" - "$URL/$1" "$2" "${3:-POST}" <<'PYEOF'
import sys, urllib.request, urllib.error
body = sys.argv[2]
data = (open(body[1:], "rb").read() if body.startswith("@") else body.encode()) if sys.argv[3] == "POST" else None
req = urllib.request.Request(sys.argv[1], data=data, method=sys.argv[3],
                             headers={"Content-Type": "application/json"})
try:
    r = urllib.request.urlopen(req, timeout=10)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print(0, e)
PYEOF
}
healthy()
{
	[ "$(post healthz "" GET)" = "200 ok" ]
}
wait_until "the extender to answer" healthy

POD='{"metadata":{"name":"consumer","namespace":"default","annotations":{"vineyardfs.io/required":"small,big"}}}'
out=$(post prioritize "{\"Pod\":$POD,\"Nodes\":null,\"NodeNames\":[\"alpha\",\"beta\",\"gamma\",\"delta\"]}")
echo "prioritize: $out"
"$PY" - "$out" <<'PYEOF' || fail "prioritize answered: $out"
import json, sys
status, body = sys.argv[1].split(" ", 1)
assert status == "200", status
scores = {h["Host"]: h["Score"] for h in json.loads(body)}
assert scores == {"alpha": 2, "beta": 8, "gamma": 0, "delta": 0}, scores
PYEOF
# The NodeList form, and Vineyard's annotation.
V6D='{"metadata":{"annotations":{"scheduling.k8s.v6d.io/required":"small"}}}'
out=$(post prioritize "{\"Pod\":$V6D,\"Nodes\":{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{\"name\":\"alpha\"}},{\"metadata\":{\"name\":\"beta\"}}]}}")
"$PY" - "$out" <<'PYEOF' || fail "prioritize with a NodeList answered: $out"
import json, sys
status, body = sys.argv[1].split(" ", 1)
assert status == "200", status
assert {h["Host"]: h["Score"] for h in json.loads(body)} == {"alpha": 10, "beta": 0}
PYEOF

# filter: delta runs no member.
filter_keeps()
{
	local out

	out=$(post filter "{\"Pod\":$POD,\"NodeNames\":[\"alpha\",\"beta\",\"gamma\",\"delta\"]}")
	"$PY" - "$out" "$1" <<'PYEOF'
import json, sys
status, body = sys.argv[1].split(" ", 1)
r = json.loads(body)
sys.exit(0 if status == "200" and r["Error"] == "" and r["NodeNames"] == sys.argv[2].split(",") and
         "delta" in r["FailedNodes"] else 1)
PYEOF
}
filter_keeps alpha,beta,gamma || fail "filter: $(post filter "{\"Pod\":$POD,\"NodeNames\":[\"alpha\",\"beta\",\"gamma\",\"delta\"]}")"
member_kill 3
wait_until "filter to drop gamma once its lease is gone" filter_keeps alpha,beta

# Refusals.
out=$(post prioritize '{"Pod": ')
case $out in "400 not JSON"*) ;; *) fail "a truncated body answered: $out" ;; esac
out=$(post filter '{"Pod":{}}')
case $out in "400 neither NodeNames nor Nodes"*) ;; *) fail "a body without nodes answered: $out" ;; esac
out=$(post bind '{}')
case $out in 404*) ;; *) fail "POST bind answered: $out" ;; esac
out=$(post prioritize "" GET)
case $out in 405*) ;; *) fail "GET prioritize answered: $out" ;; esac
"$PY" -c 'print("{\"Pod\":{\"x\":\"" + "a" * (9 << 20) + "\"}}")' >"$T/big.json"
out=$(post prioritize "@$T/big.json")
case $out in "400 the request body is over"*) ;; *) fail "a 9 MiB body answered: ${out:0:100}" ;; esac
healthy || fail "the extender does not answer after the bad requests"
grep -q "scheduler extender on 127.0.0.1:$PORT" "$T/extender.log" || fail "the extender does not log where it listens"

echo "PASS: extender"
