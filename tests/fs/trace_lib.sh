# shellcheck shell=bash
#
# trace_lib.sh: counting the FUSE requests a command causes, by opcode, with
# the kernel's fuse tracepoints, in a private ftrace instance filtered on
# one mount's connection (other FUSE users are not counted). Sourced after
# lib.sh; replaces its EXIT trap with one that also removes the instance.
#
#   trace_open MNT || skip the counting parts (says why)
#   trace_run COMMAND...    run COMMAND with tracing on
#   trace_n OPCODE          how many OPCODE requests (e.g. GETXATTR) it sent

TRACE_TOP=/sys/kernel/tracing
TRACE_INST=
TRACE_OUT=$T/trace.out
TRACE_MOUNTED=

trace_close()
{
	if [ -n "$TRACE_INST" ] && [ -d "$TRACE_INST" ]; then
		echo 0 >"$TRACE_INST/events/fuse/enable" 2>/dev/null
		rmdir "$TRACE_INST" 2>/dev/null
	fi
	TRACE_INST=
	if [ -n "$TRACE_MOUNTED" ]; then
		umount "$TRACE_TOP" 2>/dev/null
		TRACE_MOUNTED=
	fi
}

trace_cleanup()
{
	local rc=$?

	set +e
	trace_close
	(exit "$rc")
	vfs_cleanup
}
trap trace_cleanup EXIT

trace_open()
{
	local dev c ev

	if [ ! -d "$TRACE_TOP/events" ] && [ -d "$TRACE_TOP" ]; then
		mount -t tracefs nodev "$TRACE_TOP" 2>/dev/null && TRACE_MOUNTED=1
	fi
	if [ ! -d "$TRACE_TOP/events/fuse/fuse_request_send" ]; then
		echo "note: no fuse tracepoints in $TRACE_TOP; request counts not checked"
		return 1
	fi
	TRACE_INST=$TRACE_TOP/instances/vfstest.$$
	mkdir "$TRACE_INST" || return 1
	dev=$(mountpoint -d "$1")
	c=$((${dev%:*} << 20 | ${dev#*:}))
	for ev in send end; do
		echo "connection == $c" >"$TRACE_INST/events/fuse/fuse_request_$ev/filter"
	done
}

trace_run()
{
	echo >"$TRACE_INST/trace"
	echo 1 >"$TRACE_INST/events/fuse/fuse_request_send/enable"
	"$@"
	echo 0 >"$TRACE_INST/events/fuse/fuse_request_send/enable"
	grep -o 'opcode [0-9]* ([A-Z_]*)' "$TRACE_INST/trace" >"$TRACE_OUT" || true
}

trace_n()
{
	grep -c "(FUSE_$1)" "$TRACE_OUT" || true
}
