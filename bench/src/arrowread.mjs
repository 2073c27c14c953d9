// arrowread.mjs FILE COLUMN: an unmodified Arrow reader (npm's
// apache-arrow) reads the IPC file whole (readFileSync, as its docs show)
// and sums every value of COLUMN; prints "SUM SECONDS".
import { readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";

const [file, column] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const table = tableFromIPC(readFileSync(file));
const col = table.getChild(column);
if (col === null) {
  console.error(`arrowread: no column ${column} in ${file}`);
  process.exit(1);
}
let sum = 0;
for (const data of col.data) {
  const v = data.values;
  for (let i = 0; i < v.length; i++) sum += Number(v[i]);
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`${sum} ${secs.toFixed(6)}`);
