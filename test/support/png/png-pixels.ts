import { PNG } from 'pngjs';

/**
 * Whether two PNGs show the same picture: same width and height and the same RGBA value at every pixel, whatever
 * their compression (a PNG encoded for speed is larger than one encoded for size, with the same pixels).
 */
export function samePixels(a: Buffer, b: Buffer): boolean {
  const first = PNG.sync.read(a);
  const second = PNG.sync.read(b);
  return first.width === second.width && first.height === second.height && first.data.equals(second.data);
}
