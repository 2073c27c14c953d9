// Make tests/data/arrow_js21.arrow, the Arrow IPC file written by npm's
// apache-arrow 21 that check_arrow_ipc reads (kept in the tree; rerun only
// to remake it). Usage: NODE_PATH=.../node_modules node arrow_js21.mjs OUT
import { createRequire } from 'module';
import { writeFileSync } from 'fs';

const require = createRequire(process.env.NODE_PATH + '/');
const A = require('apache-arrow');
const v = (xs, t) => A.vectorFromArray(xs, t);
const day = 86400000;
const t = new A.Table({
	i: v([1, null, -3, 4, 5], new A.Int32()),
	x: v([1.5, 2.5, null, -4.25, 0], new A.Float64()),
	b: v([true, false, null, true, false], new A.Bool()),
	s: v(['a', null, 'h\u00e9llo', '', 'xyz'], new A.Utf8()),
	t: v([0, 1000, null, 1700000000000, -1], new A.Timestamp(A.TimeUnit.MILLISECOND, 'UTC')),
	d: v([0, day, 19000 * day, null, -day], new A.DateDay()),
	c: v(['red', 'blue', null, 'red', 'green'], new A.Dictionary(new A.Utf8(), new A.Int32())),
});
writeFileSync(process.argv[2], A.tableToIPC(t, 'file'));
