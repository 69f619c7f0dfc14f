import { expect } from 'chai';
import { z } from 'zod';
import { toolContract } from '#server/mcp/tool-contract.ts';
import { allTools } from '#server/tools/index.ts';

/**
 * Property names that would ask a caller for a credential. Compared on the name with case, `-`, `_`, `.` and spaces
 * removed, so `api_key`, `Api-Key`, `apiKey` and `X-API-KEY` are all "apikey".
 */
const CREDENTIAL_NAME = /token|passw(?:or)?d|passphrase|secret|apikey|projectkey|accesskey|privatekey|authori[sz]ation|^auth$|bearer|cookie|credential|session(?:id|key)|connectoruid|jwt/;

const normalise = (name: string) => name.toLowerCase().replace(/[\s._-]/g, '');

/**
 * Every property name a JSON Schema defines, at any depth, with its location: object properties, and whatever nests
 * schemas (items, unions, $defs, additional or pattern properties, conditionals) is walked, since all of it is in
 * `tools/list`.
 */
function propertyNames(schema: unknown, at = '$'): { name: string; at: string }[] {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => propertyNames(s, `${at}[${i}]`));
  if (schema === null || typeof schema !== 'object') return [];
  const found: { name: string; at: string }[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'properties' || key === 'patternProperties' || key === 'dependentSchemas') && value && typeof value === 'object') {
      for (const [name, sub] of Object.entries(value)) {
        found.push({ name, at: `${at}.${name}` });
        found.push(...propertyNames(sub, `${at}.${name}`));
      }
    } else if (key === 'required' && Array.isArray(value)) {
      for (const name of value) if (typeof name === 'string') found.push({ name, at: `${at} (required)` });
    } else if (key !== 'enum' && key !== 'const' && key !== 'examples' && key !== 'default') {
      found.push(...propertyNames(value, `${at}.${key}`));
    }
  }
  return found;
}

const credentialProperties = (schema: unknown) => propertyNames(schema).filter((p) => CREDENTIAL_NAME.test(normalise(p.name)));

describe('no tool takes a credential: the Composer token, project key and connector are configuration only', () => {
  it('the control: the scan finds a credential-named property at any depth (nested objects, arrays, unions, records, $defs)', () => {
    const bait = z.object({
      uid: z.string(),
      options: z.object({ headers: z.object({ Authorization: z.string() }) }).optional(),
      calls: z.array(z.object({ api_key: z.string() })),
      target: z.union([z.object({ url: z.string() }), z.object({ 'Project-Key': z.string() })]),
      extra: z.record(z.string(), z.object({ sessionId: z.string() })),
      cookie: z.string().optional(),
    });
    const found = credentialProperties(z.toJSONSchema(bait, { io: 'input' })).map((p) => p.name);
    expect(found).to.include.members(['Authorization', 'api_key', 'Project-Key', 'sessionId', 'cookie']);
    const withDefs = { $defs: { Auth: { type: 'object', properties: { accessToken: { type: 'string' } } } }, properties: { auth: { $ref: '#/$defs/Auth' } } };
    expect(credentialProperties(withDefs).map((p) => p.name)).to.include.members(['accessToken', 'auth']);
    expect(credentialProperties({ properties: { author: {}, key: {}, tokenizer: {} } }).map((p) => p.name), 'names that only contain a word are matched too').to.deep.equal(['tokenizer']);
  });

  it("no property of any registered tool's published input schema names a token, password, secret, API or project key, authorization, cookie or credential", () => {
    const tools = allTools();
    expect(tools.length, 'tools scanned').to.be.at.least(10);
    const offending = tools.flatMap((tool) => credentialProperties(toolContract(tool).inputJsonSchema).map((p) => `${tool.name}: ${p.at}`));
    expect(offending).to.deep.equal([]);
    const scanned = tools.reduce((n, tool) => n + propertyNames(toolContract(tool).inputJsonSchema).length, 0);
    expect(scanned, 'property names scanned across the tools (the composition schema is deep)').to.be.above(100);
  });
});
