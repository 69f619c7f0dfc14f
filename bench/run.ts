/**
 * Runs the benchmarks: every `bench/*.bench.ts` module's exported `run()` in turn (or only those named by
 * `BENCH=<name>[,<name>…]`, e.g. `BENCH=router` or `BENCH=peer-playwright-mcp,render-lag`), printing each report's tables, target checks and notes.
 * Exit code 1 when a benchmark threw, or (with `BENCH_STRICT=1`) when a target was missed.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderTable, renderTargets, type BenchReport } from './support/stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.env['BENCH'];
const strict = process.env['BENCH_STRICT'] === '1';

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).toSorted();
const names = wanted === undefined || wanted === '' ? undefined : wanted.split(',').map((n) => n.trim());
const selected = names === undefined ? files : files.filter((f) => names.includes(basename(f, '.bench.ts')));
if (selected.length === 0) {
  console.error(`No benchmark named "${wanted}"; available: ${files.map((f) => basename(f, '.bench.ts')).join(', ') || 'none'}`);
  process.exit(2);
}

let failed = false;
for (const file of selected) {
  const name = basename(file, '.bench.ts');
  console.log(`\n# ${name}`);
  const started = performance.now();
  try {
    const module = (await import(pathToFileURL(join(here, file)).href)) as { run?: () => Promise<BenchReport> };
    if (typeof module.run !== 'function') throw new Error(`${file} does not export run()`);
    const report = await module.run();
    for (const table of report.tables) console.log(`\n${renderTable(table)}`);
    if (report.targets?.length) {
      console.log(`\n${renderTargets(report.targets)}`);
      if (strict && report.targets.some((t) => !t.met)) failed = true;
    }
    for (const note of report.notes ?? []) console.log(`\n- ${note}`);
    console.log(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    console.error(`Benchmark ${name} failed:`, error);
  }
}
process.exit(failed ? 1 : 0);
