#!/bin/bash
# shellcheck disable=SC2119 # vfs_mount takes mount options, not our arguments
# times: the owner or root sets times at any time, before or after the seal,
# with the tools people use (shutil.copy2, rsync -a, cp -p, tar -x,
# install -p, touch, os.utime); an explicit mtime survives the seal and a
# restart; ctime moves on every change and on the seal; names/'s times move
# on create, rename and unlink; an unlinked open file fstats as nlink 0;
# names longer than 255 bytes give ENAMETOOLONG; fifos and changes to
# names/ itself are refused; sealed data stays immutable through all this.
#
# Every check but the vineyardfs-only ones (seal, objects/, blobs/, the
# refusals, immutability, the restart) runs first on a tmpfs reference
# directory and then on MNT/names, which must give the same results. Checks
# do not stop at the first failure: each one that fails says so, and the
# test fails at the end.
# shellcheck source=SCRIPTDIR/lib.sh
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/fs/lib.sh"

umask 022

# ---- the tmpfs reference, unmounted before lib.sh's cleanup looks ----
REF=$T/ref
mkdir "$REF"
REF_MOUNTED=0
if [ "$(stat -f -c %T /tmp)" != tmpfs ]; then
	mount -t tmpfs -o size=32m,mode=0755 vfs-times-ref "$REF" || fail "cannot mount a tmpfs on $REF"
	REF_MOUNTED=1
fi

times_cleanup()
{
	local rc=$?

	set +e
	if [ "$REF_MOUNTED" = 1 ] && is_mounted "$REF"; then
		umount "$REF" 2>/dev/null || umount -l "$REF"
	fi
	(exit "$rc")
	vfs_cleanup
}
trap times_cleanup EXIT

# ---- soft checks: report every failure, fail at the end ----
KIND=tmpfs
FAILS=0
PASSES=0

bad()
{
	FAILS=$((FAILS + 1))
	echo "FAIL [$TEST_NAME] ($KIND): $*" >&2
}

good()
{
	PASSES=$((PASSES + 1))
	echo "ok ($KIND): $*"
}

# expect_eq WHAT SEEN EXPECTED
expect_eq()
{
	if [ "$2" = "$3" ]; then good "$1"; else bad "$1: expected '$3', saw '$2'"; fi
}

# expect_gt WHAT A B: the integer A must be greater than B.
expect_gt()
{
	if [ "$2" -gt "$3" ] 2>/dev/null; then good "$1"; else bad "$1: expected more than $3, saw $2"; fi
}

# expect_ge WHAT A B: the integer A must be at least B.
expect_ge()
{
	if [ "$2" -ge "$3" ] 2>/dev/null; then good "$1"; else bad "$1: expected at least $3, saw $2"; fi
}

# expect_run WHAT COMMAND...: COMMAND must exit 0.
expect_run()
{
	local what=$1 out rc=0

	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then good "$what"; else bad "$what: '$*' exited $rc, expected 0: $out"; fi
}

# expect_fail WHAT TEXT COMMAND...: COMMAND must fail and print TEXT.
expect_fail()
{
	local what=$1 text=$2 out rc=0

	shift 2
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		bad "$what: '$*' succeeded, expected failure with '$text'"
	else
		case $out in
		*"$text"*) good "$what" ;;
		*) bad "$what: '$*' failed (exit $rc) without '$text': $out" ;;
		esac
	fi
}

# expect_errno WHAT ERRNO CODE: the python statements CODE (os, stat and
# errno imported) must raise OSError ERRNO (a name such as EPERM).
expect_errno()
{
	local what=$1 out

	if out=$(errno_check "$2" "$3"); then
		good "$what"
	else
		bad "$what: $3: $out"
	fi
}

# getst PATH: sets ST_MODE (octal permission bits), ST_UID, ST_GID, ST_SIZE,
# ST_NLINK, ST_A/ST_M/ST_C (atime/mtime/ctime in ns) and ST_AS/ST_MS/ST_CS
# (in whole seconds). If stat fails they all say so, and every comparison
# with them fails with that text. The values are the daemon's (stat
# --cached=never: statx with AT_STATX_FORCE_SYNC), as a restart would show
# them; on vineyardfs a kernel-cached view that differs is a failure too
# (reported once per path), as users see that one.
declare -A STALE_SEEN
# shellcheck disable=SC2034 # not every field is read
getst()
{
	local fmt='%a %u %g %s %h %.9X %.9Y %.9Z' cached out v

	cached=$(stat -c "$fmt" -- "$1" 2>&1) || true
	if out=$(stat --cached=never -c "$fmt" -- "$1" 2>&1); then
		read -r ST_MODE ST_UID ST_GID ST_SIZE ST_NLINK ST_A ST_M ST_C <<<"$out"
		ST_AS=${ST_A%.*} ST_MS=${ST_M%.*} ST_CS=${ST_C%.*}
		ST_A=$((10#${ST_A/./})) ST_M=$((10#${ST_M/./})) ST_C=$((10#${ST_C/./}))
		if [ "$KIND" != tmpfs ] && [ "$cached" != "$out" ] && [ -z "${STALE_SEEN[$1]:-}" ]; then
			STALE_SEEN[$1]=1
			bad "${1##*/}: stat shows '$cached' (mode uid gid size nlink atime mtime ctime) from the kernel's cache, the daemon says '$out'"
		fi
	else
		v="(stat $1 failed: ${out##*: })"
		ST_MODE=$v ST_UID=$v ST_GID=$v ST_SIZE=$v ST_NLINK=$v
		ST_A=$v ST_M=$v ST_C=$v ST_AS=$v ST_MS=$v ST_CS=$v
	fi
}

# settle PATH: on vineyardfs, wait until the object at PATH is sealed.
settle()
{
	[ "$KIND" = tmpfs ] || wait_sealed "$1"
}

# wait_past SECONDS: poll the clock until it reads a later second.
clock_past()
{
	[ "$(date +%s)" -gt "$1" ]
}
wait_past()
{
	wait_until "the clock to pass $1" clock_past "$1"
}

# epoch DATE: DATE in seconds since the epoch, as touch -d reads it.
epoch()
{
	date -d "$1" +%s
}

# ---- the sources: three files with odd past times, and a tar of them ----
SRC=$REF/src
mkdir "$SRC"
head -c 10000 /dev/urandom >"$SRC/a"
head -c 3000 /dev/urandom >"$SRC/b"
head -c 777 /dev/urandom >"$SRC/c"
chmod 0640 "$SRC/a"
chmod 0600 "$SRC/b"
chmod 0755 "$SRC/c"
"$PY" - "$SRC" <<'EOF' || fail "cannot set the sources' times"
import os, sys
d = sys.argv[1]
os.utime(d + "/a", ns=(1500000000123456789, 1600000000987654321))
os.utime(d + "/b", ns=(1400000000111111111, 1500000000222222222))
os.utime(d + "/c", ns=(1300000000333333333, 1400000000444444444))
EOF
tar -C "$SRC" --transform='s,^,tar_,' -cf "$T/src.tar" a b c || fail "cannot make $T/src.tar"
declare -A SRC_MODE SRC_M SRC_MS
for f in a b c; do
	getst "$SRC/$f"
	SRC_MODE[$f]=$ST_MODE SRC_M[$f]=$ST_M SRC_MS[$f]=$ST_MS
done
# What tmpfs gave, by name, for vineyardfs to match.
declare -A REF_M

# check_copy D NAME SRCNAME MODE: D/NAME, made by a tool from SRC/SRCNAME,
# has MODE and SRCNAME's mtime; in ns, the same mtime as on tmpfs.
check_copy()
{
	local d=$1 n=$2 s=$3 mode=$4

	getst "$d/$n"
	expect_eq "$n: mode" "$ST_MODE" "$mode"
	expect_eq "$n: mtime (s) is the source's" "$ST_MS" "${SRC_MS[$s]}"
	if [ "$KIND" = tmpfs ]; then
		REF_M[$n]=$ST_M
		[ "$ST_M" = "${SRC_M[$s]}" ] ||
			echo "note (tmpfs): $n keeps mtime $ST_M ns, not the source's ${SRC_M[$s]} ns"
	else
		expect_eq "$n: mtime (ns) is tmpfs's (source's: ${SRC_M[$s]})" "$ST_M" "${REF_M[$n]}"
	fi
}

# ---- 1. tools that copy times ----
check_tools()
{
	local d=$1 f

	expect_run "shutil.copy2 to $d/h" "$PY" -c 'import shutil, sys; shutil.copy2(sys.argv[1], sys.argv[2])' \
		"$SRC/a" "$d/h"
	settle "$d/h"
	getst "$d/h"
	expect_eq "h (shutil.copy2): mtime_ns is the source's" "$ST_M" "${SRC_M[a]}"
	check_copy "$d" h a 640

	expect_run "rsync -a $SRC/ $d/" rsync -a "$SRC/" "$d/"
	for f in a b c; do
		settle "$d/$f"
		check_copy "$d" "$f" "$f" "${SRC_MODE[$f]}"
		expect_eq "$f (rsync -a): stat %a %Y %y as the source's" \
			"$(stat -c '%a %Y %y' "$d/$f" 2>&1)" "$(stat -c '%a %Y %y' "$SRC/$f")"
	done

	expect_run "cp -p to $d/cp_a" cp -p "$SRC/a" "$d/cp_a"
	settle "$d/cp_a"
	check_copy "$d" cp_a a 640

	expect_run "tar -x into $d" tar -C "$d" -xf "$T/src.tar"
	for f in a b c; do
		settle "$d/tar_$f"
		check_copy "$d" "tar_$f" "$f" "${SRC_MODE[$f]}"
	done

	expect_run "install -p -m 0640 to $d/inst_c" install -p -m 0640 "$SRC/c" "$d/inst_c"
	settle "$d/inst_c"
	check_copy "$d" inst_c c 640

	# Written normally, with no time set: ctime >= mtime.
	cp "$SRC/b" "$d/plain" || fail "cp to $d/plain failed"
	settle "$d/plain"
	getst "$d/plain"
	expect_ge "plain (cp): ctime_ns >= mtime_ns" "$ST_C" "$ST_M"
	printf 'shell' >"$d/shell" || fail "writing $d/shell failed"
	settle "$d/shell"
	getst "$d/shell"
	expect_ge "shell (>): ctime_ns >= mtime_ns" "$ST_C" "$ST_M"
}

# ---- 1 and 2. touch and os.utime on a sealed object ----
check_touch()
{
	local d=$1 f=$1/t now m0 a0 e

	cat "$SRC/a" >"$d/t" || fail "writing $d/t failed"
	settle "$d/t"

	e=$(epoch 2001-02-03)
	expect_run "touch -d 2001-02-03 t" touch -d 2001-02-03 "$f"
	getst "$f"
	expect_eq "t: mtime after touch -d 2001-02-03" "$ST_MS" "$e"

	# (Only meaningful if t's mtime is in the past now.)
	now=$(date +%s)
	getst "$f"
	[ "$ST_MS" -lt $((now - 1)) ] 2>/dev/null ||
		bad "t: mtime is $ST_MS, not in the past, before a plain touch: the next check proves nothing"
	expect_run "touch t" touch "$f"
	getst "$f"
	expect_ge "t: mtime after a plain touch is now" "$ST_MS" $((now - 1))

	expect_run "os.utime(t, (0, 0))" "$PY" -c 'import os, sys; os.utime(sys.argv[1], (0, 0))' "$f"
	getst "$f"
	expect_eq "t: atime_ns after os.utime(t, (0, 0))" "$ST_A" 0
	expect_eq "t: mtime_ns after os.utime(t, (0, 0))" "$ST_M" 0

	# Only atime, then only mtime.
	getst "$f"
	m0=$ST_M
	e=$(epoch 2030-01-01)
	expect_run "touch -a -d 2030-01-01 t" touch -a -d 2030-01-01 "$f"
	getst "$f"
	expect_eq "t: atime after touch -a -d 2030-01-01" "$ST_AS" "$e"
	expect_eq "t: mtime_ns unchanged by touch -a" "$ST_M" "$m0"
	a0=$ST_A
	e=$(epoch 2002-03-04)
	expect_run "touch -m -d 2002-03-04 t" touch -m -d 2002-03-04 "$f"
	getst "$f"
	expect_eq "t: mtime after touch -m -d 2002-03-04" "$ST_MS" "$e"
	expect_eq "t: atime_ns unchanged by touch -m" "$ST_A" "$a0"
}

# ---- 3. ctime moves on chmod, chown, touch -d and the seal ----
check_ctime()
{
	local d=$1 f c0_chmod c0_chown c0_chown2 c0_touch t max now m0

	for f in c_chmod c_chown c_chown2 c_touch; do
		cat "$SRC/b" >"$d/$f" || fail "writing $d/$f failed"
		settle "$d/$f"
	done
	getst "$d/c_chmod"
	c0_chmod=$ST_CS
	getst "$d/c_chown"
	c0_chown=$ST_CS
	getst "$d/c_chown2"
	c0_chown2=$ST_CS
	getst "$d/c_touch"
	c0_touch=$ST_CS
	# One written, held open across a clock second, then closed.
	exec 3>"$d/c_seal" || fail "cannot create $d/c_seal"
	printf 'held open' >&3
	getst "$d/c_seal"
	max=$ST_MS
	for t in "$c0_chmod" "$c0_chown" "$c0_chown2" "$c0_touch"; do
		[ "$t" -le "$max" ] 2>/dev/null || max=$t
	done
	[ "$max" -ge 0 ] 2>/dev/null || fail "cannot read the ctimes to wait on: $max"
	wait_past "$max"

	getst "$d/c_chmod"
	m0=$ST_M
	expect_run "chmod 600 c_chmod" chmod 600 "$d/c_chmod"
	getst "$d/c_chmod"
	expect_gt "c_chmod: ctime (s) after chmod" "$ST_CS" "$c0_chmod"
	expect_eq "c_chmod: mode after chmod" "$ST_MODE" 600
	expect_eq "c_chmod: mtime_ns unchanged by chmod" "$ST_M" "$m0"

	getst "$d/c_chown"
	m0=$ST_M
	expect_run "chown nobody c_chown" chown nobody "$d/c_chown"
	getst "$d/c_chown"
	expect_gt "c_chown: ctime (s) after chown to another uid" "$ST_CS" "$c0_chown"
	expect_eq "c_chown: uid after chown nobody" "$ST_UID" "$(id -u nobody)"
	expect_eq "c_chown: mtime_ns unchanged by chown" "$ST_M" "$m0"

	expect_run "chown root c_chown2" chown root "$d/c_chown2"
	getst "$d/c_chown2"
	expect_gt "c_chown2: ctime (s) after chown to the same uid" "$ST_CS" "$c0_chown2"

	now=$(date +%s)
	expect_run "touch -d 2001-02-03 c_touch" touch -d 2001-02-03 "$d/c_touch"
	getst "$d/c_touch"
	expect_gt "c_touch: ctime (s) after touch -d" "$ST_CS" "$c0_touch"
	expect_ge "c_touch: ctime after touch -d is the time of the change" "$ST_CS" "$now"

	exec 3>&-
	settle "$d/c_seal"
	getst "$d/c_seal"
	expect_ge "c_seal: ctime_ns >= mtime_ns after a close (the seal) a second after the write" "$ST_C" "$ST_M"
}

# ---- 4. the directory's times move on create, rename, unlink ----
check_dirtimes()
{
	local d=$1 m0 c0

	getst "$d"
	m0=$ST_M c0=$ST_C
	printf 'new' >"$d/dnew" || fail "creating $d/dnew failed"
	getst "$d"
	expect_gt "dir: mtime_ns after a create" "$ST_M" "$m0"
	expect_gt "dir: ctime_ns after a create" "$ST_C" "$c0"
	settle "$d/dnew"

	getst "$d"
	m0=$ST_M c0=$ST_C
	expect_run "mv dnew dnew2" mv "$d/dnew" "$d/dnew2"
	getst "$d"
	expect_gt "dir: mtime_ns after a rename" "$ST_M" "$m0"
	expect_gt "dir: ctime_ns after a rename" "$ST_C" "$c0"

	m0=$ST_M c0=$ST_C
	expect_run "rm dnew2" rm "$d/dnew2"
	getst "$d"
	expect_gt "dir: mtime_ns after an unlink" "$ST_M" "$m0"
	expect_gt "dir: ctime_ns after an unlink" "$ST_C" "$c0"
}

# ---- 5. fstat on an unlinked open file ----
check_unlinked()
{
	local d=$1 out

	cat "$SRC/b" >"$d/u" || fail "writing $d/u failed"
	settle "$d/u"
	if out=$("$PY" - "$d/u" "$SRC/b" 2>&1 <<'EOF'
import os, sys
f, src = sys.argv[1], sys.argv[2]
want = open(src, "rb").read()
fd = os.open(f, os.O_RDONLY)
os.unlink(f)
st = os.fstat(fd)
bad = []
if st.st_nlink != 0:
    bad.append("st_nlink %d, expected 0" % st.st_nlink)
if st.st_size != len(want):
    bad.append("st_size %d, expected %d" % (st.st_size, len(want)))
got = os.read(fd, len(want) + 1)
if got != want:
    bad.append("read %d bytes that differ from the %d written" % (len(got), len(want)))
os.close(fd)
if os.path.lexists(f):
    bad.append("the name is still there")
if bad:
    print("; ".join(bad))
    sys.exit(1)
EOF
	); then
		good "u: open, unlink, fstat: nlink 0, size right, bytes readable"
	else
		bad "u: open, unlink, fstat: $out"
	fi
}

# ---- 6. names of 256 bytes are too long, 255 bytes are fine ----
N256=$(printf '%0256d' 0 | tr 0 L)
N255=$(printf '%0255d' 0 | tr 0 M)
check_longnames()
{
	local d=$1 l=$1/$N256

	printf 'short' >"$d/short" || fail "writing $d/short failed"
	settle "$d/short"
	expect_errno "os.stat(256-byte name)" ENAMETOOLONG "os.stat('$l')"
	expect_errno "os.unlink(256-byte name)" ENAMETOOLONG "os.unlink('$l')"
	expect_errno "os.chmod(256-byte name)" ENAMETOOLONG "os.chmod('$l', 0o600)"
	expect_errno "os.rename(short, 256-byte name)" ENAMETOOLONG "os.rename('$d/short', '$l')"
	expect_errno "os.rename(256-byte name, x)" ENAMETOOLONG "os.rename('$l', '$d/x')"
	expect_fail "stat 256-byte name" "File name too long" stat "$l"
	expect_fail "rm 256-byte name" "File name too long" rm "$l"
	expect_fail "chmod 256-byte name" "File name too long" chmod 600 "$l"
	expect_fail "mv short to a 256-byte name" "File name too long" mv "$d/short" "$l"
	expect_fail "mv a 256-byte name to x" "File name too long" mv "$l" "$d/x"
	[ -f "$d/short" ] || bad "short is gone after the refused renames"
	[ ! -e "$d/x" ] || bad "x exists after a refused rename"

	expect_run "create a 255-byte name" cp "$SRC/c" "$d/$N255"
	settle "$d/$N255"
	getst "$d/$N255"
	expect_eq "255-byte name: size" "$ST_SIZE" 777
	expect_run "rm a 255-byte name" rm "$d/$N255"
	[ ! -e "$d/$N255" ] || bad "the 255-byte name is still there after rm"
}

check_all()
{
	check_tools "$1"
	check_touch "$1"
	check_ctime "$1"
	check_dirtimes "$1"
	check_unlinked "$1"
	check_longnames "$1"
}

# ---- vineyardfs only ----

# 7. fifos and changes to names/ itself are refused.
check_refused()
{
	local mode0

	mode0=$(stat -c '%a %u' "$MNT/names")
	expect_fail "mkfifo names/p" "Operation not permitted" mkfifo "$MNT/names/p"
	expect_errno "os.mknod(names/p2, S_IFIFO)" EPERM "os.mknod('$MNT/names/p2', stat.S_IFIFO | 0o644)"
	for f in p p2; do
		if [ -e "$MNT/names/$f" ] || [ -L "$MNT/names/$f" ]; then
			bad "names/$f exists after a refused mknod"
		fi
	done
	expect_fail "chmod 700 names" "Operation not permitted" chmod 700 "$MNT/names"
	expect_errno "os.chmod(names, 0o700)" EPERM "os.chmod('$MNT/names', 0o700)"
	expect_fail "chown nobody names" "Operation not permitted" chown nobody "$MNT/names"
	expect_errno "os.chown(names, nobody)" EPERM "os.chown('$MNT/names', $(id -u nobody), -1)"
	expect_eq "names/: mode and owner after the refused changes" "$(stat -c '%a %u' "$MNT/names")" "$mode0"
}

# 8. Sealed data is immutable whatever happened to its times.
check_immutable()
{
	local when=$1 f s

	for f in t:a h:a cp_a:a tar_c:c inst_c:c plain:b; do
		s=${f#*:} f=$MNT/names/${f%%:*}
		is_sealed "$f" || bad "$f is not sealed ($when)"
		expect_errno "open(${f##*/}, 'r+b') $when" EPERM "open('$f', 'r+b')"
		expect_errno "os.truncate(${f##*/}, 0) $when" EPERM "os.truncate('$f', 0)"
		expect_eq "${f##*/}: sha256 $when" "$(sha256sum <"$f" 2>&1)" "$(sha256sum <"$SRC/$s")"
	done
}

# Every name's mode, owner, size, atime and mtime, as the daemon has them,
# for the restart.
snapshot_names()
{
	(cd "$MNT/names" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | sort -z |
		xargs -0 -r stat --cached=never -c '%n mode %a uid %u gid %g size %s atime %.9X mtime %.9Y' --)
}

# ---- the runs ----
# rsync -a SRC/ DIR/ gives DIR SRC's mode and times: SRC and the tmpfs
# names/ take vineyardfs names/'s mode, so that only the times are set.
vfs_mount
names_mode=$(stat -c %a "$MNT/names") || fail "cannot stat $MNT/names"
mkdir "$REF/names"
chmod "$names_mode" "$SRC" "$REF/names"
KIND=tmpfs
check_all "$REF/names"
REF_FAILS=$FAILS

KIND=vineyardfs
check_all "$MNT/names"
for d in objects blobs; do
	expect_errno "os.stat($d/256-byte name)" ENAMETOOLONG "os.stat('$MNT/$d/$N256')"
done
check_refused
check_immutable "before the restart"

# From a source directory of another mode, rsync -a also tries to give
# names/ that mode, which is refused (names/ is everyone's): it copies
# every file with its mode and times, and exits 23 for that one attribute.
mkdir "$T/src755" "$REF/r755"
cp -p "$SRC/a" "$SRC/b" "$T/src755/"
mv "$T/src755/a" "$T/src755/r755_a"
mv "$T/src755/b" "$T/src755/r755_b"
chmod 0755 "$T/src755"
expect_run "rsync -a to tmpfs from a 0755 directory" rsync -a "$T/src755/" "$REF/r755/"
rc=0
out=$(rsync -a "$T/src755/" "$MNT/names/" 2>&1) || rc=$?
expect_eq "rsync -a from a 0755 directory into names/: exit status" "$rc" 23
case $out in
*'failed to set permissions on "'"$MNT"'/names/."'*) good "rsync's one complaint is names/'s mode" ;;
*) bad "rsync -a from a 0755 directory: expected only 'failed to set permissions' on names/, saw: $out" ;;
esac
[ "$(printf '%s\n' "$out" | grep -c '^rsync: ')" = 1 ] || bad "rsync complained of more than names/'s mode: $out"
for f in r755_a r755_b; do
	expect_eq "$f (rsync -a from a 0755 directory): stat %a %y as the source's" \
		"$(stat -c '%a %y' "$MNT/names/$f" 2>&1)" "$(stat -c '%a %y' "$T/src755/$f")"
done

# The times persist across a restart (which also drops the kernel's cache).
snapshot_names >"$T/names.before" || fail "cannot list names/ before the restart"
"$VINEYARDFS" umount "$MNT" || fail "vineyardfs umount failed"
vfs_mount
snapshot_names >"$T/names.after" || fail "cannot list names/ after the restart"
if out=$(diff "$T/names.before" "$T/names.after"); then
	good "names/: modes, owners, sizes, atimes and mtimes the same after a restart"
else
	bad "names/: stat changed across a restart (< before, > after): $out"
fi
for f in h:a a:a b:b c:c cp_a:a tar_a:a tar_b:b tar_c:c inst_c:c; do
	getst "$MNT/names/${f%%:*}"
	expect_eq "${f%%:*}: mtime (s) after the restart is the source's" "$ST_MS" "${SRC_MS[${f#*:}]}"
done
getst "$MNT/names/h"
expect_eq "h: mtime_ns after the restart is the source's" "$ST_M" "${SRC_M[a]}"
getst "$MNT/names/t"
expect_eq "t: atime after the restart is touch -a's" "$ST_AS" "$(epoch 2030-01-01)"
expect_eq "t: mtime after the restart is touch -m's" "$ST_MS" "$(epoch 2002-03-04)"
getst "$MNT/names/c_touch"
expect_eq "c_touch: mtime after the restart is touch -d's" "$ST_MS" "$(epoch 2001-02-03)"
getst "$MNT/names/c_chmod"
expect_eq "c_chmod: mode after the restart" "$ST_MODE" 600
getst "$MNT/names/c_chown"
expect_eq "c_chown: uid after the restart" "$ST_UID" "$(id -u nobody)"
check_immutable "after the restart"

echo "tmpfs: $REF_FAILS failed; all: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ] || fail "$FAILS checks failed (see above)"
echo "PASS: times"
