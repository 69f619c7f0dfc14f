import { expect } from 'chai';
import { isCaptureGeometry } from '#server/composer/session/capture-geometry.ts';

describe('a capture geometry answered by the page', () => {
  const geometry = { pageX: 0, pageY: 700, scale: 1, innerWidth: 1280, innerHeight: 800, fullWidth: 1265, fullHeight: 3103 };

  it('is taken when every field is a finite number, the scale positive and the sizes not negative', () => {
    expect(isCaptureGeometry(geometry)).to.equal(true);
  });

  it('is refused otherwise (the capture then measures the page itself)', () => {
    expect(isCaptureGeometry(undefined)).to.equal(false);
    expect(isCaptureGeometry(null)).to.equal(false);
    expect(isCaptureGeometry('geometry')).to.equal(false);
    expect(isCaptureGeometry({ ...geometry, pageX: undefined })).to.equal(false);
    expect(isCaptureGeometry({ ...geometry, fullHeight: Number.POSITIVE_INFINITY })).to.equal(false);
    expect(isCaptureGeometry({ ...geometry, scale: 0 })).to.equal(false);
    expect(isCaptureGeometry({ ...geometry, innerWidth: -1 })).to.equal(false);
    expect(isCaptureGeometry({ ...geometry, fullWidth: '1280' })).to.equal(false);
  });
});
