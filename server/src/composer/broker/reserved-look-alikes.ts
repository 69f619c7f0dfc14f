import { createHash } from 'node:crypto';

/** The real credentials look-alikes are minted from (server-side process configuration). */
export interface RealCredentials {
  accessToken: string;
  projectKey: string | undefined;
}

/** A digest naming which real credentials look-alikes were minted from, so the real values are not kept with them. */
export function credentialsDigest(real: RealCredentials): string {
  return createHash('sha256').update(JSON.stringify([real.accessToken, real.projectKey ?? null])).digest('hex');
}

/**
 * Look-alikes a broker minted for a page before any lease took it (a warm page seeds them ahead: page-preparation.ts).
 * Until bound they name no lease: a request carrying them is continued unchanged, as one of another replica, and the
 * API refuses the worthless values. `BrowserCredentialBroker.open` binds them to the lease that takes the page, at most
 * once; once bound or discarded they are never bound again. Unique on their browser while reserved or bound.
 */
export class ReservedLookAlikes {
  readonly token: string;
  readonly projectKey: string | undefined;
  private readonly mintedFrom: string;
  private readonly onDiscard: (reserved: ReservedLookAlikes) => void;
  private state: 'reserved' | 'bound' | 'discarded' = 'reserved';

  constructor(values: { token: string; projectKey: string | undefined; mintedFrom: string }, onDiscard: (reserved: ReservedLookAlikes) => void) {
    this.token = values.token;
    this.projectKey = values.projectKey;
    this.mintedFrom = values.mintedFrom;
    this.onDiscard = onDiscard;
  }

  /** The look-alike values. */
  get values(): string[] {
    return this.projectKey !== undefined ? [this.token, this.projectKey] : [this.token];
  }

  /** True while neither bound nor discarded. */
  get reserved(): boolean {
    return this.state === 'reserved';
  }

  /**
   * Takes the look-alikes for a lease whose real credentials are `real`: true once, only while reserved and minted from
   * the same real credentials (a JWT look-alike carries the real token's claims: one minted before a rotation is not
   * used after it). A reservation that cannot be bound is discarded.
   */
  bind(real: RealCredentials): boolean {
    if (this.state !== 'reserved') return false;
    if (this.mintedFrom !== credentialsDigest(real)) {
      this.discard();
      return false;
    }
    this.state = 'bound';
    return true;
  }

  /** Gives the look-alikes up unbound (the page closed without a lease); idempotent, no effect once bound. */
  discard(): void {
    if (this.state !== 'reserved') return;
    this.state = 'discarded';
    this.onDiscard(this);
  }
}
