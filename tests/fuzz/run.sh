#!/bin/sh
# Build the libFuzzer target (core compiled with clang, coverage and ASan)
# and run it for SECONDS (default 30) from the seed corpus. Exit 77 when
# clang's fuzzer runtime is missing. Usage: run.sh BUILDDIR [SECONDS]
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILDDIR [SECONDS]}" && pwd)
seconds=${2:-30}
command -v clang >/dev/null 2>&1 || { echo "SKIP: no clang"; exit 77; }
out=$build/fuzz
mkdir -p "$out/corpus"
cp "$src"/tests/fuzz/corpus/* "$out/corpus/"
# The whole core (every core/*.c, as libvfscore has them).
# shellcheck disable=SC2046 # pkg-config output is meant to split
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$src" -I"$build" \
	"$src"/core/*.c "$build"/schema/schema.c \
	"$src"/tests/fuzz/fuzz_request.c \
	$(pkg-config --cflags --libs sqlite3 jansson liburing libcurl libcrypto) -lm -o "$out/fuzz_request" 2>"$out/build.log" || {
	if grep -q "libclang_rt.fuzzer" "$out/build.log"; then
		echo "SKIP: clang has no fuzzer runtime (libclang-rt-dev)"
		exit 77
	fi
	cat "$out/build.log"
	exit 1
}
cd "$out"
rm -rf /dev/shm/vineyardfs-fuzz.*
rc=0
./fuzz_request -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus >fuzz.log 2>&1 || rc=$?
rm -rf /dev/shm/vineyardfs-fuzz.*
tail -n 12 fuzz.log
[ $rc -eq 0 ] || { echo "fuzz_request: FAILED (see $out/fuzz.log and crash-* files)"; exit 1; }
echo "fuzz_request: ok, $(find corpus -type f | wc -l) corpus entries"
