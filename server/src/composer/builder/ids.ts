import { v1 } from 'uuid';

/** Makes ids for widgets and their items. */
export type IdGenerator = () => string;

/** Time-based UUID v1 ids, as the Composer uses. */
export const timeBasedIds: IdGenerator = () => v1();

/**
 * Deterministic v1 ids (fixed time, node and clock sequence; a counter in the nanoseconds), for catalog examples and
 * tests that need stable output. Each call returns an independent sequence.
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
