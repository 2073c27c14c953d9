#!/bin/sh
# Install what vineyardfs needs to build, test and benchmark on Debian 12.
# Idempotent; runs apt-get only when something is missing. Needs root.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libfuse3-dev fuse3 libsqlite3-dev liburing-dev libjansson-dev check
attr mandoc python3 python3-numpy python3-pandas util-linux procps
redis-server redis-tools libhiredis-dev fio rsync
libcurl4-openssl-dev libssl-dev etcd-server
libmicrohttpd-dev prometheus
clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
