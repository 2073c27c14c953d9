# shellcheck shell=bash
#
# arrow_js.sh: sourced by the tests that check Arrow files with a real
# Arrow implementation, npm's apache-arrow 21 (Debian has no pyarrow).
# arrow_js_setup installs it once per build tree, under a lock so that
# tests running in parallel share one install, and exports NODE_PATH.
# VFS_NPM_DIR overrides where (default: tests/npm under the build tree).

arrow_js_setup()
{
	local dir=${VFS_NPM_DIR:-$PWD/tests/npm}

	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		echo "SKIP: node and npm are needed for apache-arrow"
		exit 77
	fi
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$dir/node_modules/apache-arrow/package.json" ] ||
			npm install --prefix "$dir" --no-audit --no-fund --no-save apache-arrow@21 \
				>"$dir/install.log" 2>&1 || {
			cat "$dir/install.log" >&2
			exit 1
		}
	) 9>"$dir/.lock" || {
		echo "FAIL: npm install apache-arrow@21 failed" >&2
		exit 1
	}
	export NODE_PATH=$dir/node_modules
}
