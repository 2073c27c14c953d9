#!/bin/bash
# cluster_names: names that appear through the cluster mirror, on a member
# whose kernel keeps a negative entry for each missing name (catnode.c).
# B looks for a name before A publishes it; once A publishes, B shows it
# (the mirror invalidates B's negative entry); once A deletes it, B no
# longer does; and when A publishes another object under the same name, B
# shows that one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

KEY=$T/key
cluster_key "$KEY"
etcd_start
member_mount 1 alpha --cluster-key "$KEY"
member_mount 2 beta --cluster-key "$KEY"
A=$T/m1
B=$T/m2
wait_joined "$A" "$B"

for _ in 1 2; do
	[ ! -e "$B/names/late" ] || fail "names/late exists on B before A made it"
done
printf 'first' >"$A/names/late"
publish_sealed "$A" late
id1=$(xattr_get user.vineyard.id "$A/names/late")
wait_until "names/late on B" xattr_is user.vineyard.id "$B/names/late" "$id1"
[ "$(cat "$B/names/late")" = first ] || fail "B reads other bytes of names/late"

rm "$A/names/late"
wait_until "names/late gone from B" not test -e "$B/names/late"
[ ! -e "$B/names/late" ] || fail "names/late is back on B"

printf 'second' >"$A/names/late"
publish_sealed "$A" late
id2=$(xattr_get user.vineyard.id "$A/names/late")
[ "$id2" != "$id1" ] || fail "the second object has the first one's id"
wait_until "the second names/late on B" xattr_is user.vineyard.id "$B/names/late" "$id2"
[ "$(cat "$B/names/late")" = second ] || fail "B reads other bytes of the second names/late"
echo "PASS"
