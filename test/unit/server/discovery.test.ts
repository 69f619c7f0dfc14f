import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SERVER_CARD_SCHEMA, serverCard } from '#server/mcp/discovery/server-card.ts';
import { SERVER_JSON_PATH, serverJsonText } from '#server/mcp/discovery/write-server-json.ts';
import { toolSummaries } from '#server/mcp/discovery/tool-summary.ts';
import { MODERN_REVISION, SERVER_VERSION } from '#server/mcp/server-info.ts';
import { TASK_TOOL_SUPPORT } from '#server/mcp/tasks/task-tools.ts';
import { allTools } from '#server/tools/index.ts';
import pkg from '../../../package.json' with { type: 'json' };

/**
 * The constraints of the MCP Registry's server.json schema (2025-12-11) this document relies on: a reverse-DNS name
 * with one slash, a description of at most 100 characters, a concrete version, every package with a transport and a
 * pinned version, every remote an http(s) URL (template variables inside) with its type.
 */
const registryConstraints = z.object({
  $schema: z.literal('https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json'),
  name: z.string().min(3).max(200).regex(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/),
  description: z.string().min(1).max(100),
  version: z.string().max(255).refine((v) => v !== 'latest' && !/[\^~*x>]|\.x$/.test(v), 'a concrete version'),
  packages: z.array(
    z.object({
      registryType: z.enum(['npm', 'pypi', 'nuget', 'oci', 'mcpb']),
      identifier: z.string().min(1),
      transport: z.object({ type: z.enum(['stdio', 'streamable-http', 'sse']) }),
      environmentVariables: z.array(z.object({ name: z.string().min(1), description: z.string() }).loose()).optional(),
    }).loose(),
  ).min(1),
  remotes: z.array(z.object({ type: z.enum(['streamable-http', 'sse']), url: z.string().regex(/^https?:\/\/[^\s]+$/) }).loose()).min(1),
}).loose();

describe('discovery metadata generated from the tool list', () => {
  it('server.json in the repository is what the code generates (make server-json rewrites it)', () => {
    expect(readFileSync(SERVER_JSON_PATH, 'utf8'), 'server.json drifted from the code: run make server-json').to.equal(serverJsonText());
  });

  it('server.json meets the registry schema 2025-12-11 constraints, names the package version and image, and lists every tool in tools/list order', () => {
    const document = JSON.parse(serverJsonText()) as Record<string, unknown>;
    const checked = registryConstraints.safeParse(document);
    expect(checked.success, JSON.stringify(checked.error?.issues)).to.equal(true);
    expect(document['version']).to.equal(pkg.version);
    const packages = document['packages'] as Array<{ identifier: string }>;
    expect(packages[0]!.identifier).to.equal(`ghcr.io/composer-mcp/server:${pkg.version}`);
    const meta = (document['_meta'] as Record<string, { tools: Array<{ name: string; task?: string }>; protocolRevisions: string[] }>)['io.modelcontextprotocol.registry/publisher-provided']!;
    expect(meta.tools.map((t) => t.name)).to.deep.equal(allTools().map((t) => t.name));
    expect(meta.tools.filter((t) => t.task).map((t) => t.name)).to.deep.equal(['composer_open_composition', 'composer_preview_composition']);
    expect(meta.protocolRevisions[0]).to.equal(MODERN_REVISION);
    expect(meta.protocolRevisions).to.include('2025-11-25');
  });

  it('the Server Card names the endpoint, the revisions served, the Authorization header when auth is on, and the tools', () => {
    const tools = toolSummaries(allTools(), TASK_TOOL_SUPPORT);
    const open = serverCard({ mcpUrl: 'https://mcp.example.com/mcp', authRequired: false, tools });
    expect(open).to.deep.include({ $schema: SERVER_CARD_SCHEMA, name: 'io.github.composer-mcp/composer-mcp', version: SERVER_VERSION });
    expect(open.description.length).to.be.within(1, 100);
    expect(open.remotes).to.have.length(1);
    expect(open.remotes[0]).to.deep.include({ type: 'streamable-http', url: 'https://mcp.example.com/mcp' });
    expect(open.remotes[0]!.supportedProtocolVersions).to.include.members([MODERN_REVISION, '2025-11-25', '2025-06-18']);
    expect(open.remotes[0]).to.not.have.property('headers');
    const closed = serverCard({ mcpUrl: 'https://mcp.example.com/mcp', authRequired: true, tools });
    expect(closed.remotes[0]!.headers?.[0]).to.include({ name: 'Authorization', isRequired: true, isSecret: true });
    const listed = (open._meta['io.github.composer-mcp/server'] as { tools: Array<{ name: string }> }).tools;
    expect(listed.map((t) => t.name)).to.deep.equal(allTools().map((t) => t.name));
  });
});
