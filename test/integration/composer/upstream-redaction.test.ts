import { expect } from 'chai';
import { HttpStorageClient } from '#server/composer/storage-client.ts';
import { toolErrorResult } from '#server/tools/tool-definition.ts';
import { toolErrorFrom } from '#server/tools/tool-errors.ts';
import { startLocalHttpServer, type LocalHttpServer } from '#support/local-http-server.ts';
import { composerErrorFrom as failure } from './composer-fixtures.ts';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlY2hvIn0.ZWNoby1jYW5hcnktc2lnbmF0dXJlLTAxMjM0NTY3ODk';
const PROJECT_KEY = 'echo-canary-project-key-5521';

/** Every form of the canaries a result must not contain. */
function leaks(text: string): string[] {
  const forms = [TOKEN, TOKEN.split('.')[2]!, PROJECT_KEY, encodeURIComponent(TOKEN), Buffer.from(PROJECT_KEY).toString('base64'), Buffer.from(TOKEN).toString('base64').slice(0, 40)];
  return forms.filter((f) => text.includes(f));
}

describe('upstream answers that echo the request never carry the credentials into a tool error', function () {
  this.timeout(20_000);
  let server: LocalHttpServer | undefined;
  let apiUrl: string;
  let answer: (headers: Record<string, unknown>, url: string) => { status: number; body: string };

  before(async () => {
    server = await startLocalHttpServer((req, res) => {
      const { status, body } = answer(req.headers, req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    apiUrl = server.url;
  });
  after(() => server?.close());

  const client = () => new HttpStorageClient({ composerUrl: 'http://127.0.0.1:1', apiUrl, accessToken: TOKEN, projectKey: PROJECT_KEY, connectorUid: 'connector-1', apiEnv: 'prd' }, { retries: 0 });

  it('a 400 that echoes the request headers as JSON', async () => {
    answer = (headers) => ({ status: 400, body: JSON.stringify({ error: 'bad request', echo: headers }) });
    const error = await failure(client().read('H4sIecho'));
    const text = JSON.stringify(toolErrorResult(toolErrorFrom(error)!));
    expect(leaks(text), text).to.deep.equal([]);
    expect(error.code).to.equal('UPSTREAM_ERROR');
    expect(text).to.include('bad request');
  });

  it('a 400 that echoes them as text, the secret first in the body so a cut excerpt would hold half of it', async () => {
    answer = (headers) => ({ status: 422, body: `${String(headers['project-key'])} ${String(headers['authorization'])} raw echo of the request` });
    const error = await failure(client().upload({ version: '1.1' }));
    expect(leaks(JSON.stringify(toolErrorResult(toolErrorFrom(error)!)))).to.deep.equal([]);
  });

  it('a 400 that echoes the URL-encoded and base64 forms of the credentials', async () => {
    answer = (headers) => ({ status: 400, body: `token=${encodeURIComponent(String(headers['authorization']).slice(7))}&key=${Buffer.from(String(headers['project-key'])).toString('base64')}&b=${Buffer.from(`x${String(headers['authorization'])}`).toString('base64')}` });
    const error = await failure(client().read('H4sIecho'));
    expect(leaks(JSON.stringify(toolErrorResult(toolErrorFrom(error)!)))).to.deep.equal([]);
  });

  it('a 401 and a 5xx whose bodies carry the token', async () => {
    answer = (headers) => ({ status: 401, body: JSON.stringify({ message: `token ${String(headers['authorization'])} expired` }) });
    const unauthorized = await failure(client().read('H4sIecho'));
    expect(unauthorized.code).to.equal('UNAUTHORIZED');
    expect(leaks(JSON.stringify(toolErrorResult(unauthorized)))).to.deep.equal([]);
    answer = (headers) => ({ status: 503, body: `upstream down; you sent ${String(headers['project-key'])}` });
    const down = await failure(client().read('H4sIecho'));
    expect(leaks(JSON.stringify(toolErrorResult(down)))).to.deep.equal([]);
  });
});
