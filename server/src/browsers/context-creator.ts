import type { Browser, BrowserContext, BrowserContextOptions, CDPSession } from 'playwright-core';

/** Why a context is made: ahead of demand (warm), or for a lease waiting for it (leased). */
export type ContextPurpose = 'warm' | 'lease';

/** A context just created, and whether its gateway counts it warm already. */
export interface CreatedContext {
  context: BrowserContext;
  /** True when the gateway made it warm at its creation (a warm context need not be marked afterwards). */
  bornWarm: boolean;
}

/**
 * Creates the browser contexts of one connection to one gateway, each in the state its purpose asks for: one creation
 * at a time, each after declaring (`Gateway.setNewContextState`, only when it differs from the last declared) the
 * state the gateway gives the contexts this client creates next. A context made ahead of demand is then warm from the
 * gateway's first report of it, instead of leased until its page exists (a phantom session the operator would scale
 * on); one made for a waiting lease is leased from its creation. Without a load session (a gateway without the
 * `Gateway` domain) contexts are created as before, leased; a gateway without the command gets them so too.
 */
export class ContextCreator {
  readonly #browser: Browser;
  readonly #session: CDPSession | undefined;
  readonly #options: BrowserContextOptions | undefined;
  /**
   * What the gateway was last told (a new client's contexts start leased); undefined when unknown, 'unsupported' when
   * it has no such command.
   */
  #declared: 'warm' | 'leased' | 'unsupported' | undefined = 'leased';
  #queue: Promise<unknown> = Promise.resolve();

  constructor(browser: Browser, session: CDPSession | undefined, options: BrowserContextOptions | undefined) {
    this.#browser = browser;
    this.#session = session;
    this.#options = options;
  }

  /** Creates a context for `purpose`, after the creations asked before it. */
  create(purpose: ContextPurpose): Promise<CreatedContext> {
    const run = this.#queue.then(() => this.#create(purpose), () => this.#create(purpose));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #create(purpose: ContextPurpose): Promise<CreatedContext> {
    const wanted = purpose === 'warm' ? 'warm' : 'leased';
    if (this.#session !== undefined && this.#declared !== 'unsupported' && this.#declared !== wanted) {
      try {
        await this.#session.send('Gateway.setNewContextState' as never, { state: wanted } as never);
        this.#declared = wanted;
      } catch (error) {
        if (error instanceof Error && error.message.includes('wasn\'t found')) {
          this.#declared = 'unsupported';
        } else {
          this.#declared = undefined;
          // The gateway may still make new contexts warm: a lease's context must not start so.
          if (wanted === 'leased') throw error;
        }
      }
    }
    const context = await this.#browser.newContext(this.#options);
    return { context, bornWarm: wanted === 'warm' && this.#declared === 'warm' };
  }
}
