#!/bin/bash
# cluster_faults: etcd down at start (the members mount, work alone, join
# when etcd comes; a publish queued meanwhile goes through); a member
# killed with kill -9 (its objects unavailable on the others within the
# lease, available again once it is back on the same state dir); etcd
# restarted with its data wiped (the members publish again on their own);
# --publish-all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

# etcd down at start: mounted, local work goes on.
member_mount 1 alpha
member_mount 2 beta --publish-all
A=$T/m1
B=$T/m2
cluster_is joined no "$A" || fail "joined without etcd"
cluster_is etcd_reachable no "$A" || fail "etcd reachable without etcd"
printf 'early' >"$A/names/early"
wait_sealed "$A/names/early"
out=$("$VINEYARDFS" publish -m "$A" early) || fail "publish without etcd: $out"
case $out in *queued*) ;; *) fail "publish without etcd said '$out'" ;; esac
grep -q "cluster t: etcd at .* is unavailable" "$T/st1/vineyardfs.log" || fail "the absence of etcd is not logged"

etcd_start
wait_joined "$A" "$B"
wait_until "early on B" test -e "$B/names/early"

# --publish-all: B's objects are published as they are sealed.
printf 'auto' >"$B/names/auto"
wait_until "auto on A" test -e "$A/names/auto"

# A killed: its objects stay listed on B, unavailable within the lease.
member_kill 1
wait_until "early unavailable on B" xattr_is user.vineyard.location "$B/names/early" "remote:alpha,unavailable"
py_errno EHOSTDOWN "open('$B/names/early', 'rb')"
member_mount 1 alpha
wait_until "early available again on B" xattr_is user.vineyard.location "$B/names/early" "remote:alpha"

# etcd wiped: the members put back what they published.
etcd_stop
rm -rf "$ETCD_DATA"
etcd_start
# In etcd again (the mirrors kept showing them meanwhile), with no step of ours.
wait_until "early published again" etcd_has /vineyardfs/t/names/early
wait_until "auto published again" etcd_has /vineyardfs/t/names/auto
wait_until "A's member key again" etcd_has /vineyardfs/t/members/1
wait_until "A to join again" cluster_is joined yes "$A"
wait_until "early back on B" test -e "$B/names/early"
wait_until "auto back on A" test -e "$A/names/auto"
wait_until "early available on B" xattr_is user.vineyard.location "$B/names/early" "remote:alpha"
exit 0
