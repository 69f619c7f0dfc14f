import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { BROWSERPOOL_CRD_PATH } from '#support/kube/browserpool-crd.ts';
import {
  BROWSERPOOL_DEFAULTS,
  BROWSERPOOL_VERSION,
  BROWSER_STATES,
  DEFAULT_BROWSER_IMAGE,
} from '#kube/api/v1alpha1/browserpool.ts';

/** The raw OpenAPI schema as written in the manifest (keys as in YAML: default, enum, x-kubernetes-*). */
interface Schema {
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

const defaultOf = (schema: Schema | undefined): unknown => schema?.default;

/** Every named field (properties entry) and array item under `schema`, with its JSON path. */
function fields(schema: Schema, at: string): Array<[string, Schema]> {
  const found: Array<[string, Schema]> = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    found.push([`${at}.${name}`, child], ...fields(child, `${at}.${name}`));
  }
  const items = schema.items;
  if (items) found.push([`${at}[]`, items], ...fields(items, `${at}[]`));
  return found;
}

describe('BrowserPool CRD manifest matches the TypeScript contract', () => {
  let root: Schema;

  before(async () => {
    const crd = parse(await readFile(BROWSERPOOL_CRD_PATH, 'utf8')) as {
      spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> };
    };
    root = crd.spec.versions.find((v) => v.name === BROWSERPOOL_VERSION)!.schema.openAPIV3Schema;
  });

  it('describes every field, so kubectl explain teaches the whole resource', () => {
    const undocumented = fields(root, '')
      .filter(([path, schema]) => path !== '.metadata' && !(schema.description && schema.description.trim().length >= 10))
      .map(([path]) => path);
    expect(undocumented).to.deep.equal([]);
    expect(fields(root, '').length).to.be.above(60);
  });

  it('declares the same defaults as BROWSERPOOL_DEFAULTS and the default images', () => {
    const spec = root.properties!['spec']!.properties!;
    expect(defaultOf(spec['replicas'])).to.equal(BROWSERPOOL_DEFAULTS.replicas);
    expect(defaultOf(spec['maxSessionsPerBrowser'])).to.equal(BROWSERPOOL_DEFAULTS.maxSessionsPerBrowser);
    const autoscaling = spec['autoscaling']!.properties!;
    expect(defaultOf(autoscaling['minReplicas'])).to.equal(BROWSERPOOL_DEFAULTS.autoscaling.minReplicas);
    expect(defaultOf(autoscaling['minIdle'])).to.equal(BROWSERPOOL_DEFAULTS.autoscaling.minIdle);
    expect(defaultOf(autoscaling['targetSessionsPerBrowser'])).to.equal(BROWSERPOOL_DEFAULTS.autoscaling.targetSessionsPerBrowser);
    expect(defaultOf(autoscaling['scaleDownStabilizationWindowSeconds'])).to.equal(BROWSERPOOL_DEFAULTS.autoscaling.scaleDownStabilizationWindowSeconds);
    expect(defaultOf(spec['gateway'])).to.deep.equal({ port: BROWSERPOOL_DEFAULTS.gateway.port });
    expect(spec['gateway']!.properties!['image'], 'no gateway image: the browser image runs the gateway').to.equal(undefined);
    expect(defaultOf(spec['browser'])).to.deep.equal({ image: DEFAULT_BROWSER_IMAGE });
    expect(defaultOf(spec['browser']!.properties!['image'])).to.equal(DEFAULT_BROWSER_IMAGE);
    expect(defaultOf(spec['recycle'])).to.deep.equal(BROWSERPOOL_DEFAULTS.recycle);
    for (const [name, value] of Object.entries(BROWSERPOOL_DEFAULTS.recycle)) {
      expect(defaultOf(spec['recycle']!.properties![name]), name).to.equal(value);
    }
  });

  it('allows exactly the browser states of the contract', () => {
    const browser = root.properties!['status']!.properties!['browsers']!.items!.properties!;
    expect(browser['state']!.enum).to.deep.equal([...BROWSER_STATES]);
  });
});
