import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const source = path.join(root, 'crds');
const copy = path.join(root, 'charts', 'composer-mcp', 'files', 'crds');
const yamlFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.yaml')).toSorted();

describe('chart CRD copy (charts/composer-mcp/files/crds)', () => {
  it('holds exactly the CRD files of crds/ (run make chart-crds after changing crds/)', () => {
    expect(yamlFiles(copy), 'run make chart-crds').to.deep.equal(yamlFiles(source));
  });

  it('is byte-identical to crds/ (run make chart-crds after changing crds/)', () => {
    for (const file of yamlFiles(source)) {
      const same = readFileSync(path.join(source, file), 'utf8') === readFileSync(path.join(copy, file), 'utf8');
      expect(same, `${file} differs between crds/ and charts/composer-mcp/files/crds/: run make chart-crds`).to.equal(true);
    }
  });
});
