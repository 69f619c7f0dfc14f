/** Sum and count of one Prometheus histogram (all label sets added up). */
export interface HistogramTotals {
  sum: number;
  count: number;
}

/**
 * The `_sum` and `_count` of every histogram in a Prometheus text exposition whose metric name starts with `prefix`
 * (e.g. `composer_mcp_router_lease_wait` also matches a unit suffix such as `_milliseconds`), added over label sets
 * whose labels contain every `labels` pair. Pure.
 */
export function histogramTotals(text: string, prefix: string, labels: Record<string, string> = {}): HistogramTotals {
  const totals = { sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix) || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labelText = '', value] = match;
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    if (name!.endsWith('_sum')) totals.sum += Number(value);
    else if (name!.endsWith('_count')) totals.count += Number(value);
  }
  return totals;
}

/** The mean of the observations between two scrapes (`after − before`), NaN when none were made. Pure. */
export function meanBetween(before: HistogramTotals, after: HistogramTotals): number {
  const count = after.count - before.count;
  return count <= 0 ? Number.NaN : (after.sum - before.sum) / count;
}
