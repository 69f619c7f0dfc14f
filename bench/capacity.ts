/**
 * `make capacity`: prints the capacity plan (formula, measured constants, browsers, nodes, server replicas, cost per
 * session) for the given inputs, from the measurements in bench/results/capacity.json (`BENCH=capacity make bench`
 * refreshes them). Every input of `CapacityInputs` is a flag, e.g.
 * `node bench/capacity.ts --active-users=1000 --browser-calls-per-user-hour=20 --node-memory-gi-b=32`;
 * `make capacity USERS=1000` sets --active-users. `--reference` prints the reference table of docs/capacity.md;
 * `--docs` (`make capacity-docs`) rewrites the generated blocks of docs/capacity.md from the measurements;
 * `--measurements=<file>` plans from another run (the bench writes each run to $TMPDIR/composer-mcp-capacity.json).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CAPACITY_RESULTS_PATH, capacityDocBlocks, DEFAULT_INPUTS, fillCapacityDoc, renderPlan, renderReferenceTable, type CapacityInputs, type CapacityMeasurements } from './capacity-model.ts';

/** The capacity document whose generated blocks `--docs` rewrites. */
export const CAPACITY_DOC_PATH = resolve(import.meta.dirname, '..', 'docs', 'capacity.md');
/** Every document with generated capacity blocks. */
export const CAPACITY_DOC_PATHS = [CAPACITY_DOC_PATH, resolve(import.meta.dirname, '..', 'docs', 'architecture.md')];

const kebab = (s: string): string => s.replaceAll(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Reads the committed measurements. */
export function loadMeasurements(path: string = CAPACITY_RESULTS_PATH): CapacityMeasurements {
  return JSON.parse(readFileSync(path, 'utf8')) as CapacityMeasurements;
}

/** The inputs named by `argv` flags (kebab-case of each CapacityInputs key) over the defaults; throws on a bad value. */
export function inputsFromArgs(argv: string[]): CapacityInputs {
  const keys = Object.keys(DEFAULT_INPUTS) as Array<keyof CapacityInputs>;
  const { values } = parseArgs({ args: argv, options: { ...Object.fromEntries(keys.map((k) => [kebab(k), { type: 'string' as const }])), reference: { type: 'boolean' }, docs: { type: 'boolean' }, measurements: { type: 'string' } }, strict: true });
  const inputs: CapacityInputs = { ...DEFAULT_INPUTS };
  for (const key of keys) {
    const raw = (values as Record<string, string | undefined>)[kebab(key)];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${kebab(key)} must be a number ≥ 0, got ${JSON.stringify(raw)}`);
    inputs[key] = n;
  }
  return inputs;
}

if (import.meta.main) {
  try {
    const argv = process.argv.slice(2);
    const inputs = inputsFromArgs(argv);
    const file = parseArgs({ args: argv, options: { measurements: { type: 'string' } }, strict: false }).values['measurements'];
    const m = loadMeasurements(typeof file === 'string' ? file : undefined);
    if (argv.includes('--docs')) {
      for (const doc of CAPACITY_DOC_PATHS) {
        writeFileSync(doc, fillCapacityDoc(readFileSync(doc, 'utf8'), capacityDocBlocks(m)));
        process.stdout.write(`Wrote ${doc}\n`);
      }
    } else if (argv.includes('--reference')) {
      process.stdout.write(renderReferenceTable(m, inputs));
    } else {
      const given = Object.entries(inputs).map(([k, v]) => `--${kebab(k)}=${v}`).join(' ');
      process.stdout.write(`Capacity plan for ${given}\n(change any of these flags; measurements from ${typeof file === 'string' ? file : CAPACITY_RESULTS_PATH})\n\n${renderPlan(m, inputs)}`);
    }
  } catch (error) {
    process.stderr.write(`capacity: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
