// Print an Arrow IPC file as apache-arrow (npm) reads it: per field its
// name, type and nullability, per batch its rows, then every value by
// column (null as null, 64-bit integers as decimal strings). Used by
// tests/arrow_ipc_node.sh to check files the C writer laid out.
// Usage: node arrow_ipc_print.mjs FILE (NODE_PATH names apache-arrow)
import { createRequire } from 'module';
import { readFileSync } from 'fs';

const require = createRequire(process.env.NODE_PATH + '/');
const A = require('apache-arrow');
const t = A.tableFromIPC(readFileSync(process.argv[2]));
const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? String(x) : x));
for (const f of t.schema.fields)
	console.log(`field ${f.name} ${String(f.type)} ${f.nullable}`);
console.log(`batches ${t.batches.map((b) => b.numRows).join(' ')}`);
for (const f of t.schema.fields) {
	const col = t.getChild(f.name);
	const vals = [];
	for (let i = 0; i < col.length; i++) {
		const v = col.get(i);
		vals.push(v instanceof Uint8Array ? Array.from(v) : v);
	}
	console.log(`${f.name} nulls=${col.nullCount} ${show(vals)}`);
}
