import { expect } from 'chai';
import { screenshotRequest, type CaptureGeometry } from '#server/composer/session/page-capture.ts';

const VIEWPORT = { width: 1280, height: 800 };
const geometry = (over: Partial<CaptureGeometry> = {}): CaptureGeometry => ({ pageX: 0, pageY: 0, scale: 1, innerWidth: 1280, innerHeight: 800, fullWidth: 1280, fullHeight: 2400, ...over });

describe('the clip and mode of a screenshot', () => {
  it('takes the viewport of an unzoomed page whose view is the viewport without a clip (the view as it is, scrolled or not)', () => {
    expect(screenshotRequest(geometry(), VIEWPORT, false, 16_384)).to.deep.equal({ captureBeyondViewport: false });
    expect(screenshotRequest(geometry({ pageY: 700 }), VIEWPORT, false, 16_384)).to.deep.equal({ captureBeyondViewport: false });
  });

  it('clips the viewport of a zoomed page, or of a page whose view is not the viewport, as Playwright does', () => {
    expect(screenshotRequest(geometry({ scale: 2, pageX: 10, pageY: 20 }), VIEWPORT, false, 16_384)).to.deep.equal({ clip: { x: 10, y: 20, width: 640, height: 400, scale: 2 }, captureBeyondViewport: false });
    expect(screenshotRequest(geometry({ innerWidth: 1024 }), VIEWPORT, false, 16_384)).to.deep.equal({ clip: { x: 0, y: 0, width: 1280, height: 800, scale: 1 }, captureBeyondViewport: false });
  });

  it('clips a full page from its top left, beyond the viewport, and cuts it at the height limit, labelled', () => {
    expect(screenshotRequest(geometry(), VIEWPORT, true, 16_384)).to.deep.equal({ clip: { x: 0, y: 0, width: 1280, height: 2400, scale: 1 }, captureBeyondViewport: true });
    expect(screenshotRequest(geometry({ fullHeight: 800 }), VIEWPORT, true, 16_384)).to.deep.equal({ clip: { x: 0, y: 0, width: 1280, height: 800, scale: 1 }, captureBeyondViewport: false });
    expect(screenshotRequest(geometry(), VIEWPORT, true, 1000)).to.deep.equal({ clip: { x: 0, y: 0, width: 1280, height: 1000, scale: 1 }, captureBeyondViewport: true, truncated: { limit: 'maxScreenshotHeightPx', kept: 1000, total: 2400 } });
  });
});
