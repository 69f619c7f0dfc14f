// Writes server.json (MCP Registry schema 2025-12-11) at the repository root from the code's tool list.
//   node server/src/mcp/discovery/write-server-json.ts        (make server-json)
// A unit test fails when the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { allTools } from '#server/tools/index.ts';
import { TASK_TOOL_SUPPORT } from '../tasks/task-tools.ts';
import { serverJson } from './server-json.ts';
import { toolSummaries } from './tool-summary.ts';

/** The path of server.json. */
export const SERVER_JSON_PATH = resolve(import.meta.dirname, '../../../../server.json');

/** The text server.json must hold. */
export function serverJsonText(): string {
  return `${JSON.stringify(serverJson(toolSummaries(allTools(), TASK_TOOL_SUPPORT)), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SERVER_JSON_PATH, serverJsonText());
  process.stdout.write(`Wrote ${SERVER_JSON_PATH}\n`);
}
