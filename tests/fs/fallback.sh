#!/bin/bash
# fallback: the user-level tests again on daemons started with
# --no-passthrough, where the daemon serves every read and write itself.
set -eu
dir=${TESTS_SRCDIR:-$(dirname "$0")/..}/fs
failed=
for t in basic sealed xattr perms remove rename python; do
	echo "---- $t.sh with --no-passthrough"
	VFS_MOUNT_OPTS=--no-passthrough bash "$dir/$t.sh" || failed="$failed $t"
done
if [ -n "$failed" ]; then
	echo "FAIL: fallback:$failed"
	exit 1
fi
echo "PASS: fallback"
