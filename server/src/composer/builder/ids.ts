import { createHash } from 'node:crypto';
import { v1 } from 'uuid';
import { canonicalJson } from '../storage/idempotency-key.ts';
import type { LessonOutline } from './outline.ts';

/**
 * Makes ids for widgets and their items. `role` names what the id is for, by its place in the outline
 * (`head`, `sections[2]`, `sections[2].questions[0].choices[1]`…); generators may ignore it.
 */
export type IdGenerator = (role: string) => string;

/**
 * Deterministic v1 ids (fixed time, node and clock sequence; a counter in the nanoseconds), for catalog examples and
 * tests that need stable output. Each call returns an independent sequence; roles are ignored.
 */
export function deterministicIds(msecs = Date.UTC(2025, 0, 1)): IdGenerator {
  let n = 0;
  const node = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
  return () => {
    const nsecs = n % 10_000;
    const offset = Math.floor(n / 10_000);
    n += 1;
    return v1({ msecs: msecs + offset, nsecs, node, clockseq: 0x1234 });
  };
}

/** Domain separation: a change to how ids are derived changes this, never silently the meaning of old ids. */
const OUTLINE_ID_SCHEME = 'composer-mcp/outline-ids/v1';

/** 100-ns intervals from the UUID epoch (1582-10-15) to the Unix epoch. */
const UUID_EPOCH_OFFSET = 0x01b2_1dd2_1381_4000n;

/** The earliest time an outline id carries, 2020-01-01, in 100-ns intervals since the UUID epoch. */
const TIME_BASE = UUID_EPOCH_OFFSET + BigInt(Date.UTC(2020, 0, 1)) * 10_000n;

const hex = (bytes: Uint8Array, from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('hex');

/**
 * A UUID in the version-1 layout made from a digest: a 60-bit time of 2020-01-01 plus 50 digest bits (so it reads
 * as a date from 2020 to mid-2023), 14 digest bits of clock sequence, and a 48-bit node of digest bits with the
 * multicast bit set, which RFC 4122 §4.5 reserves for node ids that are not a network card's address. 111 bits come
 * from the digest.
 */
export function v1LayoutUuidFromDigest(digest: Uint8Array): string {
  if (digest.length < 16) throw new RangeError('v1LayoutUuidFromDigest needs at least 16 bytes');
  const time = TIME_BASE + (BigInt(`0x${hex(digest, 0, 7)}`) >> 6n);
  const timeHex = time.toString(16).padStart(15, '0');
  const clockSeq = (((digest[7] as number) << 8) | (digest[8] as number)) & 0x3fff;
  const node = Uint8Array.from(digest.subarray(9, 15));
  node[0] = (node[0] as number) | 0x01;
  return [
    timeHex.slice(7, 15),
    timeHex.slice(3, 7),
    `1${timeHex.slice(0, 3)}`,
    (0x8000 | clockSeq).toString(16),
    hex(node, 0, 6),
  ].join('-');
}

/**
 * Ids derived from the outline: each is a v1-layout UUID (see {@link v1LayoutUuidFromDigest}) of
 * SHA-256(scheme, SHA-256 of the outline's canonical JSON, role). The same outline (whatever its key order) gives
 * the same ids, so the same document, content hash and default idempotency key; any change to the outline gives
 * other ids; two roles never share one.
 */
export function outlineIds(outline: LessonOutline): IdGenerator {
  const outlineDigest = createHash('sha256').update(canonicalJson(outline)).digest('hex');
  return (role) => v1LayoutUuidFromDigest(createHash('sha256').update(`${OUTLINE_ID_SCHEME}\u0000${outlineDigest}\u0000${role}`).digest());
}
