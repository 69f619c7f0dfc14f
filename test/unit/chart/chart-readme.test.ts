import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { CHART_README_PATH, currentChartReadme, docComment, documentedValues } from '../../../scripts/chart-readme.ts';

describe('chart README (scripts/chart-readme.ts)', () => {
  it('is up to date with values.yaml (run make chart-docs after changing values.yaml)', () => {
    const onDisk = readFileSync(CHART_README_PATH, 'utf8');
    expect(onDisk === currentChartReadme(), 'charts/composer-mcp/README.md is stale: run make chart-docs').to.equal(true);
  });

  it('documents leaf keys and keeps multi-line descriptions whole', () => {
    const rows = documentedValues('a:\n  # -- First line\n  # second line.\n  b: 1\n  # -- Map as one value.\n  c: { d: 2 }\n');
    expect(rows).to.deep.equal([
      { key: 'a.b', type: 'int', defaultValue: '1', description: 'First line second line.' },
      { key: 'a.c', type: 'object', defaultValue: '{"d":2}', description: 'Map as one value.' },
    ]);
  });

  it('fails naming every undocumented key, so the README cannot miss a value', () => {
    expect(() => documentedValues('# -- ok\na: 1\nb: 2\nc:\n  d: x\n')).to.throw(/b, c\.d/);
  });

  it('takes the last "-- " paragraph of a comment block (file header comments are not descriptions)', () => {
    expect(docComment(' File header.\n\n -- The value.')).to.equal('The value.');
    expect(docComment(' plain comment')).to.equal(undefined);
  });
});
