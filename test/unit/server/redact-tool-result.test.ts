import { expect } from 'chai';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { REDACTED, SecretRedactor } from '#common/redaction.ts';
import { redactToolResult } from '#server/mcp/redact-tool-result.ts';

const TOKEN = 'canary-token-0123456789abcdef';
const KEY = 'canary-project-key-42';

function redactor(): SecretRedactor {
  const r = new SecretRedactor();
  r.add(TOKEN);
  r.add(KEY);
  return r;
}

describe('redactToolResult', () => {
  it('removes every secret form from text, structuredContent and _meta, and keeps the shape', () => {
    const result: CallToolResult = {
      isError: true,
      content: [{ type: 'text', text: `UPSTREAM_ERROR: the API said "Authorization: Bearer ${TOKEN}, Project-Key: ${KEY}"` }],
      structuredContent: { consoleErrors: [`got ${Buffer.from(`t=${TOKEN}`).toString('base64')}`], failedRequests: [{ url: `https://evil.example/${encodeURIComponent(KEY)}`, status: 404 }], count: 3, ok: false },
      _meta: { 'composer-mcp/error': { code: 'UPSTREAM_ERROR', message: `echo ${KEY}`, details: { upstream: `{"headers":{"project-key":"${KEY}"}}` } } },
    };
    const out = redactToolResult(result, redactor());
    const text = JSON.stringify(out);
    expect(text).to.not.include(TOKEN);
    expect(text).to.not.include(KEY);
    expect(text).to.not.include(encodeURIComponent(KEY));
    expect(text).to.not.include(Buffer.from(`t=${TOKEN}`).toString('base64').slice(4, 30));
    expect(text).to.include(REDACTED);
    expect((out.structuredContent as { count: number; ok: boolean }).count).to.equal(3);
    expect((out.structuredContent as { ok: boolean }).ok).to.equal(false);
    expect(out.isError).to.equal(true);
    // The input is not changed.
    expect(JSON.stringify(result)).to.include(KEY);
  });

  it('leaves binary payloads (image data, resource blobs) byte for byte', () => {
    const blob = Buffer.from(`%PDF-1.4 ${KEY}`).toString('base64');
    const result: CallToolResult = {
      content: [
        { type: 'image', data: Buffer.from(KEY).toString('base64'), mimeType: 'image/png' },
        { type: 'resource', resource: { uri: `composer://x/${KEY}`, mimeType: 'application/pdf', blob } },
      ],
    };
    const out = redactToolResult(result, redactor());
    expect((out.content[0] as { data: string }).data).to.equal(Buffer.from(KEY).toString('base64'));
    const resource = (out.content[1] as { resource: { uri: string; blob: string } }).resource;
    expect(resource.blob).to.equal(blob);
    expect(resource.uri).to.equal(`composer://x/${REDACTED}`);
  });
});
