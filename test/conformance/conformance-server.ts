/**
 * Test entry point: the real server (`main` from server/src/main.ts: configuration, services, Streamable HTTP app,
 * auth, limits, audit, telemetry, graceful shutdown) with the MCP conformance suite's fixture tools, resources and
 * prompts added through its extension point. Takes the same flags and environment as the server. Never shipped.
 */
import { main } from '#server/main.ts';
import { CONFORMANCE_TASK_SUPPORT, conformanceTaskTools } from './fixtures/fixture-tasks.ts';
import { conformanceFixtureTools } from './fixtures/fixture-tools.ts';
import { registerConformanceFixtures } from './fixtures/register-fixtures.ts';

main(process.argv.slice(2), { tools: [...conformanceFixtureTools(), ...conformanceTaskTools()], taskTools: CONFORMANCE_TASK_SUPPORT, extend: registerConformanceFixtures }).catch((error: unknown) => {
  process.stderr.write(`conformance-server: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
