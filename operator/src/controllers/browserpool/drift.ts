/**
 * Whether every field `declared` sets has the same value in `observed`: objects field by field (extra fields in
 * `observed`, such as defaults the API server filled in or other managers' labels, are fine), lists element by
 * element and of the same length (an added or removed rule is drift), scalars equal. `declared` may be a client-node
 * model (see {@link wireName}), `observed` is wire JSON. Pure.
 */
export function holdsDeclared(declared: unknown, observed: unknown): boolean {
  if (declared === undefined) return true;
  if (declared === null || typeof declared !== 'object') return declared === observed;
  if (Array.isArray(declared)) {
    return Array.isArray(observed) && observed.length === declared.length && declared.every((d, i) => holdsDeclared(d, observed[i]));
  }
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
  const o = observed as Record<string, unknown>;
  return Object.entries(declared as Record<string, unknown>).every(([key, value]) => holdsDeclared(value, o[wireName(key)]));
}

/**
 * The JSON name of a client-node model field: the models escape names that are reserved words with a leading
 * underscore (`_from` in a NetworkPolicy peer list is `from` on the wire); objects from informers carry wire names.
 */
function wireName(key: string): string {
  return key.startsWith('_') ? key.slice(1) : key;
}

/** The label keys of `declared` whose value `labels` lacks or changed. */
export function missingLabels(declared: Record<string, string>, labels: Record<string, string> | undefined): string[] {
  return Object.entries(declared).filter(([key, value]) => labels?.[key] !== value).map(([key]) => key);
}
