import { parentPort, workerData } from 'node:worker_threads';
import { sanitizeCompositionJsonForView } from '#server/composer/html/sanitize-composition.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';

/** Runs the view sanitiser and the validator on a document (in a worker with a small heap) and reports what they said. */
const { json } = workerData as { json: string };
const view = sanitizeCompositionJsonForView(json);
const report = validateComposition(JSON.parse(json));
const outcome = {
  viewOk: view.ok,
  viewJson: view.ok ? view.json : '',
  valid: report.valid,
  rules: [...new Set(report.problems.map((p) => p.rule))],
};
// oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker thread's port, not a window
parentPort?.postMessage(outcome);
