import type { V1LabelSelector } from '@kubernetes/client-node';

/** Whether `labels` match `selector` (matchLabels and matchExpressions, as the API server reads them). Pure. */
export function matchesSelector(selector: V1LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (l[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const inValues = has && (e.values ?? []).includes(l[e.key]!);
    const ok = e.operator === 'In' ? inValues
      : e.operator === 'NotIn' ? !inValues
      : e.operator === 'Exists' ? has
      : e.operator === 'DoesNotExist' ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}
