import { expect } from 'chai';
import { pairedRatio } from '../../../bench/support/stats.ts';

describe('the paired ratio of a benchmark (each round\'s a / b)', () => {
  it('is the median of the per-round ratios with their interquartile range, not the ratio of the medians', () => {
    // The medians are alike (20 / 20), but per round a took 1/3, 2 and 1.5 times b.
    expect(pairedRatio([10, 20, 30], [30, 10, 20])).to.equal('1.50x (0.33-2)');
    // Load moving both calls of each round alike: a 10% faster in every round.
    expect(pairedRatio([90, 180, 270, 90], [100, 200, 300, 100])).to.equal('0.90x (0.90-0.90)');
  });

  it('pairs only the rounds both have, and says "-" for none', () => {
    expect(pairedRatio([100, 200, 300], [100, 100])).to.equal('1x (1-2)');
    expect(pairedRatio([], [])).to.equal('-');
  });
});
