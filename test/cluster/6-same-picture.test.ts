import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CLUSTER_COMPOSER_TOKEN } from '#support/hooks/cluster-hook.ts';
import { clusterTier } from '#support/cluster/shared.ts';
import { connectHttp, REPO_ROOT, startServerProcess, type ServerProcess } from '../integration/server/server-harness.ts';
import { callOk } from './cluster-kit.ts';

/** The reference lesson: paragraphs with accents and digits, a list, an emoji. */
const REFERENCE_LESSON = {
  title: 'Lição de referência: fontes e acentuação',
  subject: 'Língua Portuguesa',
  grade: '6º ano',
  author: { name: 'Equipe composer-mcp' },
  sections: [
    { type: 'text', title: 'Acentos e cedilha', body: 'Ação, coração, pé, avó, você, órgão, pinguim. Ç ã õ â ê ô à é í ó ú. 0123456789 🌱' },
    { type: 'list', title: 'Famílias de fontes', items: ['Sans: Liberation Sans', 'Serif: Liberation Serif', 'Mono: Liberation Mono'] },
  ],
};

/** Where the reference lesson's preview (as a browser pod renders it) is checked in. */
const GOLDEN = path.join(REPO_ROOT, 'test', 'cluster', 'golden', 'reference-lesson.png');
/** Largest share of differing pixels between two renders that still counts as the same picture. */
const TOLERANCE = 0.005;

/** Share of pixels that differ beyond anti-aliasing noise (pixelmatch, threshold 0.1); images must be the same size. */
function differingShare(a: Buffer, b: Buffer): number {
  const x = PNG.sync.read(a);
  const y = PNG.sync.read(b);
  expect([y.width, y.height], 'both renders have the same size').to.deep.equal([x.width, x.height]);
  const differing = pixelmatch(x.data, y.data, undefined, x.width, x.height, { threshold: 0.1 });
  return differing / (x.width * x.height);
}

async function previewPng(client: Client, uid: string): Promise<Buffer> {
  const preview = await callOk(client, 'composer_preview_composition', { uid, format: 'png' });
  const image = preview.content.find((c) => c.type === 'image') as { data: string } | undefined;
  if (!image) throw new Error('preview returned no image');
  return Buffer.from(image.data, 'base64');
}

describe('cluster tier: the same picture everywhere', function () {
  this.timeout(180_000);
  let cluster: Client;
  let uid = '';
  let inPod: Buffer;
  const local: Array<{ server: ServerProcess; client: Client }> = [];

  /** A server like `make run`'s (local browsers) against the same stand-in, with the given fontconfig. */
  async function localPreview(fontconfig: string): Promise<Buffer> {
    const { standin } = clusterTier();
    const server = await startServerProcess({
      env: {
        COMPOSER_MCP_COMPOSER__COMPOSER_URL: standin.appUrl, COMPOSER_MCP_COMPOSER__API_URL: standin.apiUrl,
        COMPOSER_MCP_COMPOSER__ACCESS_TOKEN: CLUSTER_COMPOSER_TOKEN, COMPOSER_MCP_COMPOSER__PROJECT_KEY: 'cluster-project-key',
        COMPOSER_MCP_COMPOSER__CONNECTOR_UID: 'cluster-connector',
        COMPOSER_MCP_BROWSERS__SOURCE: 'local', COMPOSER_MCP_BROWSERS__LOCAL__COUNT: '1',
        FONTCONFIG_FILE: fontconfig,
      },
      timeoutMs: 60_000,
    });
    const client = await connectHttp(server.url);
    local.push({ server, client });
    return previewPng(client, uid);
  }

  before(async () => {
    cluster = await clusterTier().connect();
    const built = await callOk(cluster, 'composer_build_composition', REFERENCE_LESSON);
    const saved = await callOk(cluster, 'composer_save_composition', { composition: (built.structuredContent as { composition: unknown }).composition });
    uid = (saved.structuredContent as { uid: string }).uid;
    inPod = await previewPng(cluster, uid);
  });

  after(async () => {
    await cluster?.close();
    for (const { server, client } of local) {
      await client.close().catch(() => undefined);
      await server.stop();
    }
  });

  it(`a browser pod and make run's local browser (pinned fonts in both) render the reference lesson alike (≤ ${TOLERANCE * 100} % of pixels)`, async () => {
    const fonts = path.join(REPO_ROOT, '.tools', 'fonts', 'fonts.conf');
    expect(existsSync(fonts), `${fonts} (make fonts)`).to.equal(true);
    const share = differingShare(inPod, await localPreview(fonts));
    process.stdout.write(`      browser pod vs local browser: ${(share * 100).toFixed(3)} % of pixels differ\n`);
    expect(share).to.be.at.most(TOLERANCE);
  });

  it('the tolerance tells fonts apart: the local browser with the machine\'s own fontconfig renders it visibly differently', async () => {
    const share = differingShare(inPod, await localPreview('/etc/fonts/fonts.conf'));
    process.stdout.write(`      browser pod vs local browser with the machine's fonts: ${(share * 100).toFixed(3)} % of pixels differ\n`);
    expect(share).to.be.greaterThan(TOLERANCE * 2);
  });

  it('matches the checked-in golden image of the reference lesson (UPDATE_GOLDEN=1 rewrites it from the browser pod)', () => {
    if (process.env['UPDATE_GOLDEN'] === '1') {
      mkdirSync(path.dirname(GOLDEN), { recursive: true });
      writeFileSync(GOLDEN, inPod);
    }
    expect(existsSync(GOLDEN), `${GOLDEN} is checked in`).to.equal(true);
    const share = differingShare(readFileSync(GOLDEN), inPod);
    process.stdout.write(`      browser pod vs golden image: ${(share * 100).toFixed(3)} % of pixels differ\n`);
    expect(share).to.be.at.most(TOLERANCE);
  });
});
