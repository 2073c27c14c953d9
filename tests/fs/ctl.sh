#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# ctl: composite objects through .vineyardfs/ctl. A Tensor made over a blob
# written through names/ maps zero-copy with numpy through its name; bad
# requests (wrong sizes, dangling ids, someone else's blob, junk, huge)
# get a JSON error with the right errno and leave nothing behind; members
# held by another object cannot be removed, and go with their holder when
# nothing else holds or names them; names come and go and objects are
# deleted by their owners only; everything survives a restart.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

vfs_mount
CTL=$MNT/.vineyardfs/ctl

# expect_error ERRNO_NAME REQUEST: the reply is that error.
expect_error()
{
	local reply

	reply=$(ctl "$2") || fail "ctl request failed: $2"
	case $reply in
	*'"ok":false'*"\"error\":\"$1\""*) ;;
	*) fail "request $2: expected error $1, got: $reply" ;;
	esac
}

"$PY" -c '
import numpy as np, sys
np.arange(6, dtype=np.float64).reshape(2, 3).tofile(sys.argv[1])
np.arange(2, dtype=np.float64).tofile(sys.argv[2])' "$MNT/names/raw" "$MNT/names/raw2"
wait_sealed "$MNT/names/raw"
wait_sealed "$MNT/names/raw2"
bid=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/raw")
bid2=$(xattr_get user.vineyard.member.buffer_ "$MNT/names/raw2")

reply=$(ctl '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[2,3]},"members":{"buffer_":"'"$bid"'"},"name":"w"}')
case $reply in '{"ok":true,"id":"o'*) ;; *) fail "create Tensor: $reply" ;; esac
tid=$(id_of "$reply")
[ "$(readlink "$MNT/names/w")" = "../objects/$tid" ] || fail "names/w is not a link to objects/$tid"
[ "$(xattr_get user.vineyard.typename "$MNT/objects/$tid")" = Tensor ] || fail "objects/$tid is not a Tensor"
[ "$(stat -c %i "$MNT/names/w/buffer_")" = "$(stat -c %i "$MNT/blobs/$bid")" ] ||
	fail "names/w/buffer_ is not the blob $bid"
"$PY" -c '
import json, numpy as np, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
assert m["typename"] == "Tensor" and m["shape_"] == [2, 3] and m["nbytes"] == 48, m
a = np.memmap(sys.argv[1] + "/buffer_", dtype=m["value_type_"], shape=tuple(m["shape_"]), mode="r")
assert (a == np.arange(6).reshape(2, 3)).all(), a
' "$MNT/names/w" || fail "the Tensor does not read back through numpy"

# Refusals: a JSON error each, and no object made.
before=$(stat_get objects)
expect_error EINVAL '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[2,4]},"members":{"buffer_":"'"$bid"'"}}'
expect_error EINVAL '{"op":"create","typename":"Tensor","fields":{"value_type_":"float16","shape_":[6]},"members":{"buffer_":"'"$bid"'"}}'
expect_error EINVAL '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[6]},"members":{"buffer_":"b8000000000000001"}}'
expect_error EINVAL '{"op":"create","typename":"Tensor","fields":{"id":"x"}}'
expect_error EEXIST '{"op":"create","typename":"Scalar","fields":{"type_":"int8","value_":1},"name":"w"}'
expect_error EINVAL '{"op":"create","typename":7}'
expect_error EINVAL '{"op":"crea'
expect_error EINVAL "$(printf 'junk\001\377')"
expect_error EINVAL '[1,2,3]'
expect_error ENOSYS '{"op":"explode"}'
# Another user cannot build on root's blob.
reply=$(ctl '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[2]},"members":{"buffer_":"'"$bid2"'"}}' nobody)
case $reply in *'"error":"EACCES"'*) ;; *) fail "nobody built on root's blob: $reply" ;; esac
# A request past 1 MiB is refused at the write.
py_errno EFBIG "f = open('$CTL', 'r+b', buffering=0); f.write(b' ' * (1 << 20)); f.write(b' ')"
[ "$(stat_get objects)" = "$before" ] || fail "refused requests left objects behind: $(stat_get objects) vs $before"

# A DataFrame holding a Tensor; the Tensor cannot go while it is held.
cid=$(id_of "$(ctl '{"op":"create","typename":"Tensor","fields":{"value_type_":"float64","shape_":[2]},"members":{"buffer_":"'"$bid2"'"}}')")
[ -n "$cid" ] || fail "create the column Tensor failed"
reply=$(ctl '{"op":"create","typename":"DataFrame","fields":{"columns_":["c"]},"members":{"c":"'"$cid"'"},"name":"df"}')
case $reply in '{"ok":true'*) ;; *) fail "create DataFrame: $reply" ;; esac
[ "$(readlink "$MNT/names/df/c")" = "../$cid" ] || fail "names/df/c is not a link to its column $cid"
must_fail "Device or resource busy" rmdir "$MNT/objects/$cid"
# A shell can talk to it too.
exec 3<>"$CTL"
echo '{"op":"create","typename":"Scalar","fields":{"type_":"int64","value_":7},"name":"seven"}' >&3
reply=$(cat <&3)
exec 3>&-
case $reply in '{"ok":true'*) ;; *) fail "create from a shell: $reply" ;; esac

# More names, fewer names, deletion; the kernel's view follows at once.
reply=$(ctl '{"op":"name","id":"'"$tid"'","name":"alias"}')
[ "$reply" = '{"ok":true}' ] || fail "name: $reply"
[ "$(readlink "$MNT/names/alias")" = "../objects/$tid" ] || fail "names/alias does not link to $tid"
reply=$(ctl '{"op":"unname","name":"alias"}')
[ "$reply" = '{"ok":true}' ] || fail "unname: $reply"
[ ! -e "$MNT/names/alias" ] || fail "names/alias is still there after unname"
[ -d "$MNT/objects/$tid" ] || fail "unname removed the object"
sid=$(xattr_get user.vineyard.id "$MNT/names/seven")
reply=$(ctl '{"op":"delete","id":"'"$sid"'"}' nobody)
case $reply in *'"error":"EACCES"'*) ;; *) fail "nobody deleted root's object: $reply" ;; esac
reply=$(ctl '{"op":"delete","id":"'"$sid"'"}')
[ "$reply" = '{"ok":true}' ] || fail "delete: $reply"
[ ! -e "$MNT/names/seven" ] || fail "names/seven is still there after delete"
[ ! -e "$MNT/objects/$sid" ] || fail "objects/$sid is still there after delete"
expect_error EBUSY '{"op":"delete","id":"'"$cid"'"}'

# After a restart: same objects, same links, same rules.
"$VINEYARDFS" umount "$MNT" || fail "umount failed"
vfs_mount
[ "$(readlink "$MNT/names/w")" = "../objects/$tid" ] || fail "names/w lost after a restart"
cmp "$MNT/names/raw" "$MNT/names/w/buffer_" || fail "the Tensor's bytes changed after a restart"
must_fail "Device or resource busy" rmdir "$MNT/objects/$cid"
# The column has no name and only the DataFrame held it: it goes too.
rm "$MNT/names/df" || fail "rm names/df failed"
[ ! -e "$MNT/objects/$cid" ] || fail "the DataFrame's unnamed column $cid outlived it"
cmp "$MNT/names/raw2" "$MNT/blobs/$bid2" || fail "names/raw2 lost its blob with the column built on it"

echo "PASS: ctl"
