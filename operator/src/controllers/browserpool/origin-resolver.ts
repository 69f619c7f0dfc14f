import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Resolves the hosts of allowed origins to the addresses a pool's egress NetworkPolicy admits. */
export interface OriginResolver {
  /** The host's current addresses (an IP literal is itself); [] when it does not resolve. Never the unspecified address. */
  addresses(host: string): Promise<string[]>;
}

/** Options of {@link dnsOriginResolver}. */
export interface DnsOriginResolverOptions {
  /** How long an answer is reused (default 60 s). */
  ttlMs?: number;
  /** The lookup (default the system resolver, as the browsers' own lookups: cluster DNS in a pod). */
  lookupAll?: (host: string) => Promise<string[]>;
  now?: () => number;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** A resolver over DNS with a cache; a failed lookup keeps the last answer until it expires twice over. */
export function dnsOriginResolver(options: DnsOriginResolverOptions = {}): OriginResolver {
  const ttl = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const lookupAll = options.lookupAll ?? (async (host: string) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address));
  const cache = new Map<string, { addresses: string[]; at: number }>();
  return {
    async addresses(host) {
      if (isIP(host)) return UNSPECIFIED.has(host) ? [] : [host];
      const cached = cache.get(host);
      if (cached && now() - cached.at < ttl) return cached.addresses;
      try {
        const addresses = [...new Set((await lookupAll(host)).filter((a) => isIP(a) && !UNSPECIFIED.has(a)))].toSorted();
        cache.set(host, { addresses, at: now() });
        return addresses;
      } catch {
        if (cached && now() - cached.at < 2 * ttl) return cached.addresses;
        return [];
      }
    },
  };
}
