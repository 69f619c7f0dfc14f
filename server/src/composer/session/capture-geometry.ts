/** What the page says right before a capture: its scroll position, zoom and full size, in CSS pixels. */
export interface CaptureGeometry {
  pageX: number;
  pageY: number;
  scale: number;
  innerWidth: number;
  innerHeight: number;
  fullWidth: number;
  fullHeight: number;
}

/** Whether a value the page answered is a capture geometry: every field a finite number, the scale and sizes positive. */
export function isCaptureGeometry(value: unknown): value is CaptureGeometry {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  const fields = ['pageX', 'pageY', 'scale', 'innerWidth', 'innerHeight', 'fullWidth', 'fullHeight'];
  return fields.every((f) => typeof g[f] === 'number' && Number.isFinite(g[f])) && (g['scale'] as number) > 0 && ['innerWidth', 'innerHeight', 'fullWidth', 'fullHeight'].every((f) => (g[f] as number) >= 0);
}
