import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { callPairs, OPERATOR_LEASE_CALLS, OPERATOR_POOL_CALLS, SERVER_CALLS, SERVER_IDEMPOTENCY_CALLS } from '../../integration/chart/used-api-calls.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const ALIASES: Record<string, string> = { '#kube/': 'kube/src/', '#operator/': 'operator/src/', '#server/': 'server/src/', '#common/': 'common/src/', '#browser/': 'browser/src/' };

/** Every source file reachable from `entry` through static and dynamic imports of local files. */
function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|specifier\s*=\s*)'([^']+\.ts)'/g)) {
      const spec = m[1]!;
      const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
      if (alias) visit(path.join(REPO, ALIASES[alias]!, spec.slice(alias.length)));
      else if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
    }
  };
  visit(path.join(REPO, entry));
  return [...seen];
}

const VERBS: Record<string, string> = { create: 'create', read: 'get', replace: 'update', patch: 'patch', delete: 'delete', list: 'list' };
const RESOURCES: Record<string, string> = {
  Secret: 'core/secrets', Pod: 'core/pods', Event: 'core/events', Lease: 'coordination.k8s.io/leases',
  CustomObjectStatus: 'browser.composer-mcp.io/browserpools/status', CustomObject: 'browser.composer-mcp.io/browserpools',
  NetworkPolicy: 'networking.k8s.io/networkpolicies', ConfigMap: 'core/configmaps',
};
const PLURALS: Record<string, string> = {
  pods: 'core/pods', secrets: 'core/secrets', BROWSERPOOL_PLURAL: 'browser.composer-mcp.io/browserpools',
  networkpolicies: 'networking.k8s.io/networkpolicies',
};

/**
 * The (verb, resource) pairs the typed client calls and informers in `files` make. Server-side apply and deletes
 * through KubernetesObjectApi name no resource in the code; the recording proxy of the chart test checks those.
 */
function staticCalls(files: string[]): { pairs: string[]; unknown: string[] } {
  const pairs = new Set<string>();
  const unknown: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.(create|read|replace|patch|delete|list)Namespaced([A-Z]\w*?)(?:WithHttpInfo)?\(/g)) {
      const resource = RESOURCES[m[2]!];
      if (resource) pairs.add(`${VERBS[m[1]!]} ${resource}`);
      else unknown.push(`${path.relative(REPO, file)}: ${m[0]}`);
    }
    // Resource locations (`plural: ...`) are what informers list and watch; the typed calls above are apart.
    for (const m of text.matchAll(/\bplural:\s*(?:'(\w+)'|([A-Z][A-Z_]+)\b)/g)) {
      const plural = m[1] ?? m[2]!;
      const resource = PLURALS[plural];
      if (resource) { pairs.add(`list ${resource}`); pairs.add(`watch ${resource}`); } else unknown.push(`${path.relative(REPO, file)}: resource location of ${plural}`);
    }
  }
  return { pairs: [...pairs].toSorted(), unknown };
}


describe('Kubernetes API calls in the code vs the list the chart RBAC is built from (test/integration/chart/used-api-calls.ts)', () => {
  it('the operator calls nothing its Roles do not grant', () => {
    const { pairs, unknown } = staticCalls(reachableFiles('operator/src/main.ts'));
    expect(unknown, 'API calls this test cannot map: add them to RESOURCES/PLURALS').to.deep.equal([]);
    const listed = callPairs([...OPERATOR_POOL_CALLS, ...OPERATOR_LEASE_CALLS]);
    expect(pairs.filter((p) => !listed.includes(p)), 'add them to used-api-calls.ts and the chart RBAC').to.deep.equal([]);
    expect(pairs).to.include.members(['list browser.composer-mcp.io/browserpools', 'patch browser.composer-mcp.io/browserpools/status', 'create core/secrets']);
  });

  it('the server calls nothing its Role does not grant', () => {
    const { pairs, unknown } = staticCalls(reachableFiles('server/src/main.ts'));
    expect(unknown, 'API calls this test cannot map: add them to RESOURCES/PLURALS').to.deep.equal([]);
    expect(pairs.filter((p) => !callPairs([...SERVER_CALLS, ...SERVER_IDEMPOTENCY_CALLS]).includes(p)), 'add them to used-api-calls.ts and the chart RBAC').to.deep.equal([]);
    expect(pairs).to.include.members(['list browser.composer-mcp.io/browserpools', 'watch core/secrets']);
    expect(pairs.filter((p) => p.endsWith(' core/configmaps')), 'the idempotency store uses everything SERVER_IDEMPOTENCY_CALLS lists').to.deep.equal(callPairs(SERVER_IDEMPOTENCY_CALLS));
  });
});
