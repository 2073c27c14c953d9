#!/bin/sh
# Build the libFuzzer targets (core compiled with clang, coverage and ASan)
# and run each for SECONDS (default 30) from its seed corpus: fuzz_request
# (the control protocol and the type rules; corpus/), fuzz_peer (the
# peer protocol's frames; corpus_peer/), fuzz_extender (the scheduler
# extender's requests; corpus_extender/) and fuzz_arrow_ipc (the Arrow IPC
# file reader; corpus_arrow/). Exit 0 when all pass, 1 when
# one fails, 77 when clang or its fuzzer runtime is missing.
# Usage: run.sh BUILDDIR [SECONDS]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILDDIR [SECONDS]}" && pwd)
seconds=${2:-30}
command -v clang >/dev/null 2>&1 || { echo "SKIP: no clang"; exit 77; }
out=$build/fuzz
mkdir -p "$out"

# build NAME: the target tests/fuzz/NAME.c with the whole core (every
# core/*.c, as libvfscore has them) into $out/NAME.
build() {
	# shellcheck disable=SC2046 # pkg-config output is meant to split
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I"$src" -I"$build" \
		"$src"/core/*.c "$build"/schema/schema.c \
		"$src/tests/fuzz/$1.c" \
		$(pkg-config --cflags --libs sqlite3 jansson liburing libcurl libcrypto libmicrohttpd) -lm -lpthread \
		-o "$out/$1" 2>"$out/build-$1.log" || {
		if grep -q "libclang_rt.fuzzer" "$out/build-$1.log"; then
			echo "SKIP: clang has no fuzzer runtime (libclang-rt-dev)"
			exit 77
		fi
		cat "$out/build-$1.log"
		exit 1
	}
}

# run NAME CORPUS MAXLEN: NAME for $seconds from tests/fuzz/CORPUS (copied
# to $out/CORPUS, which keeps what the run finds). 0 or 1.
run() {
	mkdir -p "$out/$2"
	cp "$src/tests/fuzz/$2"/* "$out/$2/"
	rc=0
	(cd "$out" && "./$1" -max_total_time="$seconds" -max_len="$3" -print_final_stats=1 "$2" \
		>"$1.log" 2>&1) || rc=$?
	tail -n 12 "$out/$1.log"
	if [ $rc -ne 0 ]; then
		echo "$1: FAILED (see $out/$1.log and crash-* files)"
		return 1
	fi
	echo "$1: ok, $(find "$out/$2" -type f | wc -l) corpus entries"
}

build fuzz_request
build fuzz_peer
build fuzz_extender
build fuzz_arrow_ipc
status=0
rm -rf /dev/shm/vineyardfs-fuzz.*
run fuzz_request corpus 4096 || status=1
rm -rf /dev/shm/vineyardfs-fuzz.*
run fuzz_peer corpus_peer 4096 || status=1
run fuzz_extender corpus_extender 16384 || status=1
run fuzz_arrow_ipc corpus_arrow 16384 || status=1
exit $status
