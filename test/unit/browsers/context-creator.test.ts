import { expect } from 'chai';
import type { Browser, BrowserContext, CDPSession } from 'playwright-core';
import { ContextCreator } from '#server/browsers/context-creator.ts';

/**
 * A gateway client as the router sees it: its declarations and creations in the order the gateway gets them, each
 * creation with the state the gateway gives it (the last declaration before it).
 */
function fakeGateway(options: { declare?: (state: string) => Error | undefined } = {}) {
  const log: string[] = [];
  let state = 'leased';
  const created: string[] = [];
  const pending: Array<() => void> = [];
  const asked = { declarations: 0 };
  const session = {
    send: async (method: string, params: { state: string }) => {
      asked.declarations++;
      await Promise.resolve();
      const error = options.declare?.(params.state);
      if (error) throw error;
      log.push(`${method} ${params.state}`);
      state = params.state;
      return { state: params.state };
    },
  } as unknown as CDPSession;
  const browser = {
    newContext: () => new Promise<BrowserContext>((resolve) => {
      log.push('createBrowserContext');
      const born = state;
      // Creations are answered when the test says so (Chromium takes its time).
      pending.push(() => {
        created.push(born);
        resolve({} as BrowserContext);
      });
    }),
  } as unknown as Browser;
  const answerAll = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) {
      for (const answer of pending.splice(0)) answer();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { session, browser, log, created, answerAll, asked };
}

describe('ContextCreator: contexts start in the state their purpose asks for at the gateway', () => {
  it('declares warm before a warm creation and leased again before a lease\'s, one creation at a time', async () => {
    const g = fakeGateway();
    const creator = new ContextCreator(g.browser, g.session, undefined);
    const results = Promise.all([creator.create('warm'), creator.create('lease'), creator.create('lease'), creator.create('warm')]);
    await g.answerAll();
    const made = await results;
    expect(g.created, 'the state each context was born in').to.deep.equal(['warm', 'leased', 'leased', 'warm']);
    expect(made.map((m) => m.bornWarm)).to.deep.equal([true, false, false, true]);
    expect(g.log, 'a declaration only when the state changes, never between another declaration and its creation').to.deep.equal([
      'Gateway.setNewContextState warm', 'createBrowserContext',
      'Gateway.setNewContextState leased', 'createBrowserContext', 'createBrowserContext',
      'Gateway.setNewContextState warm', 'createBrowserContext',
    ]);
  });

  it('does not start the next creation before the previous one was answered', async () => {
    const g = fakeGateway();
    const creator = new ContextCreator(g.browser, g.session, undefined);
    void creator.create('warm');
    const lease = creator.create('lease');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(g.log).to.deep.equal(['Gateway.setNewContextState warm', 'createBrowserContext']);
    await g.answerAll();
    expect((await lease).bornWarm).to.equal(false);
    expect(g.created).to.deep.equal(['warm', 'leased']);
  });

  it('creates as before on a gateway without the command (the warm context is marked after its page)', async () => {
    const g = fakeGateway({ declare: () => new Error('\'Gateway.setNewContextState\' wasn\'t found (the Gateway domain has setContextState, getLoad, subscribeLoad)') });
    const creator = new ContextCreator(g.browser, g.session, undefined);
    const warm = creator.create('warm');
    await g.answerAll();
    expect((await warm).bornWarm).to.equal(false);
    const again = creator.create('warm');
    await g.answerAll();
    expect((await again).bornWarm).to.equal(false);
    expect(g.log).to.deep.equal(['createBrowserContext', 'createBrowserContext']);
    expect(g.asked.declarations, 'asked once').to.equal(1);
  });

  it('refuses to create a lease\'s context when it cannot tell the gateway it is leased (it might be born warm)', async () => {
    let failing = false;
    const g = fakeGateway({ declare: () => (failing ? new Error('Target closed') : undefined) });
    const creator = new ContextCreator(g.browser, g.session, undefined);
    const warm = creator.create('warm');
    await g.answerAll();
    expect((await warm).bornWarm).to.equal(true);
    failing = true;
    const error = await creator.create('lease').then(() => undefined, (e: Error) => e.message);
    expect(error).to.equal('Target closed');
    expect(g.created).to.deep.equal(['warm']);
  });

  it('without a load session (no Gateway domain) creates leased contexts only', async () => {
    const g = fakeGateway();
    const creator = new ContextCreator(g.browser, undefined, undefined);
    const warm = creator.create('warm');
    await g.answerAll();
    expect((await warm).bornWarm).to.equal(false);
    expect(g.log).to.deep.equal(['createBrowserContext']);
  });
});
