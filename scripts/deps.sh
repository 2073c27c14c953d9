#!/bin/sh
# Install what vineyardfs needs to build, test and benchmark on Debian 12.
# Idempotent; runs apt-get only when something is missing. Needs root.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libfuse3-dev fuse3 libsqlite3-dev liburing-dev libjansson-dev check
attr mandoc python3 python3-numpy python3-pandas util-linux procps
redis-server redis-tools libhiredis-dev fio rsync
libcurl4-openssl-dev libssl-dev etcd-server iproute2
libmicrohttpd-dev prometheus python3-yaml
clang libclang-rt-14-dev"

# kubectl for `kubectl kustomize` (tests/deploy.sh): Debian's, unless one
# is already there (another package's kubectl would conflict with it).
command -v kubectl >/dev/null 2>&1 || PKGS="$PKGS kubernetes-client"
# node and npm for the tests that read Arrow files with npm's apache-arrow
# (tests/arrow_js.sh): Debian's, unless a node is there already.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

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
