/**
 * The routes of the stand-in whose behaviour tests can change. `api` is every request to the API origin (a slow or
 * failing platform as a whole, e.g. a health probe of its base URL); `asset` is the app's static files (a Composer
 * far away: its bundle takes time to arrive); the others are single routes.
 */
export type StandinRoute = 'app' | 'asset' | 'me' | 'upload' | 'read' | 'api';

/** Every stand-in route name, for validation of admin requests. */
export const STANDIN_ROUTES: readonly StandinRoute[] = ['app', 'asset', 'me', 'upload', 'read', 'api'];

/** Which app renders compositions: ours (`data-widget-*` attributes) or a second one written apart from it. */
export type StandinAppKind = 'standin' | 'foreign';

/**
 * How the app renders a composition. composer.md says only that opening a composition "makes the app call the read
 * endpoint above and render the result": when, in what markup and how completely are open, so each is a switch.
 */
export interface StandinRender {
  /**
   * `standin`: the first stand-in's markup (`section[data-widget-type][data-widget-id]`). `foreign`: an app written
   * apart from it, as a React app would be: its own classes and no data attributes, a shell first, data fetched
   * after mount (the read with query parameters, which composer.md also saw), unknown widget types left out.
   */
  app: StandinAppKind;
  /** Time between the read answering and the lesson appearing, ms (a React app's state updates, lazy chunks...). */
  delayMs: number;
  /** A loading placeholder ("Carregando…" and grey blocks) is visible from the start until the lesson renders. */
  placeholder: boolean;
  /** The widgets appear one at a time this far apart, ms (0: all in one go). */
  stepMs: number;
  /** A partial render: only the first N widgets ever appear (null: all of them). */
  maxWidgets: number | null;
  /** The app's script is padded to at least this many bytes (a real bundle is large; 0: no padding). */
  bundleBytes: number;
}

/** Switches that make the stand-in slow, failing or different, settable at start and at run time. */
export interface StandinFaults {
  /** Delay before answering, per route, in milliseconds (`app` delays the app's HTML: a slow app load). */
  latencyMs: Partial<Record<StandinRoute, number>>;
  /** How many of the next answers of each route are `failStatus` errors (counts down as they are served). */
  failNext: Partial<Record<StandinRoute, number>>;
  /** How many of the next requests of each route are never answered (held open until the stand-in stops). */
  hangNext: Partial<Record<StandinRoute, number>>;
  /** How many of the next valid uploads are stored and then never answered: the client cannot know they were. */
  storeThenHangNext: number;
  /** Status of the injected failures (default 503). */
  failStatus: number;
  /** When true every token is rejected with 401, whatever its signature. */
  rejectAllTokens: boolean;
  /** How the app renders compositions. */
  render: StandinRender;
}

/** A partial update of the fault switches; nested records are merged route by route, `render` field by field. */
export interface StandinFaultsPatch {
  latencyMs?: Partial<Record<StandinRoute, number>>;
  failNext?: Partial<Record<StandinRoute, number>>;
  hangNext?: Partial<Record<StandinRoute, number>>;
  storeThenHangNext?: number;
  failStatus?: number;
  rejectAllTokens?: boolean;
  render?: Partial<StandinRender>;
}

/** The rendering of the first stand-in: its own markup, at once, complete. */
export function defaultRender(): StandinRender {
  return { app: 'standin', delayMs: 0, placeholder: false, stepMs: 0, maxWidgets: null, bundleBytes: 0 };
}

/** The switches when nothing is injected. */
export function noFaults(): StandinFaults {
  return { latencyMs: {}, failNext: {}, hangNext: {}, storeThenHangNext: 0, failStatus: 503, rejectAllTokens: false, render: defaultRender() };
}

function checkRecord(name: string, record: Record<string, unknown> | undefined): Partial<Record<StandinRoute, number>> {
  const out: Partial<Record<StandinRoute, number>> = {};
  for (const [route, value] of Object.entries(record ?? {})) {
    if (!STANDIN_ROUTES.includes(route as StandinRoute)) throw new Error(`${name}.${route}: unknown route (expected one of ${STANDIN_ROUTES.join(', ')})`);
    out[route as StandinRoute] = checkCount(`${name}.${route}`, value);
  }
  return out;
}

function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a number >= 0, got ${JSON.stringify(value)}`);
  return value;
}

/** `render` with `patch` applied; throws naming the field for a bad value. */
export function applyRenderPatch(render: StandinRender, patch: Partial<StandinRender> | undefined): StandinRender {
  const next = { ...render };
  for (const [key, value] of Object.entries(patch ?? {})) {
    switch (key) {
      case 'app':
        if (value !== 'standin' && value !== 'foreign') throw new Error(`render.app: expected "standin" or "foreign", got ${JSON.stringify(value)}`);
        next.app = value;
        break;
      case 'placeholder':
        if (typeof value !== 'boolean') throw new Error(`render.placeholder: expected a boolean, got ${JSON.stringify(value)}`);
        next.placeholder = value;
        break;
      case 'maxWidgets':
        next.maxWidgets = value === null ? null : Math.floor(checkCount('render.maxWidgets', value));
        break;
      case 'delayMs':
      case 'stepMs':
      case 'bundleBytes':
        next[key] = checkCount(`render.${key}`, value);
        break;
      default:
        throw new Error(`render.${key}: unknown setting (expected app, delayMs, placeholder, stepMs, maxWidgets, bundleBytes)`);
    }
  }
  return next;
}

/** Returns `faults` with `patch` applied (pure); throws a clear error on an unknown route or a bad number. */
export function applyFaultsPatch(faults: StandinFaults, patch: StandinFaultsPatch): StandinFaults {
  const next: StandinFaults = {
    latencyMs: { ...faults.latencyMs, ...checkRecord('latencyMs', patch.latencyMs) },
    failNext: { ...faults.failNext, ...checkRecord('failNext', patch.failNext) },
    hangNext: { ...faults.hangNext, ...checkRecord('hangNext', patch.hangNext) },
    storeThenHangNext: patch.storeThenHangNext === undefined ? faults.storeThenHangNext : checkCount('storeThenHangNext', patch.storeThenHangNext),
    failStatus: faults.failStatus,
    rejectAllTokens: faults.rejectAllTokens,
    render: applyRenderPatch(faults.render, patch.render),
  };
  if (patch.failStatus !== undefined) {
    if (!Number.isInteger(patch.failStatus) || patch.failStatus < 500 || patch.failStatus > 599) throw new Error(`failStatus: expected an integer 500..599, got ${JSON.stringify(patch.failStatus)}`);
    next.failStatus = patch.failStatus;
  }
  if (patch.rejectAllTokens !== undefined) {
    if (typeof patch.rejectAllTokens !== 'boolean') throw new Error(`rejectAllTokens: expected a boolean, got ${JSON.stringify(patch.rejectAllTokens)}`);
    next.rejectAllTokens = patch.rejectAllTokens;
  }
  return next;
}

/** Consumes one injected failure for `route` if any is left; returns the status to answer with, or undefined. */
export function takeFailure(faults: StandinFaults, route: StandinRoute): number | undefined {
  const left = faults.failNext[route] ?? 0;
  if (left <= 0) return undefined;
  faults.failNext[route] = left - 1;
  return faults.failStatus;
}

/** Consumes one injected hang for `route` if any is left; true when this request must never be answered. */
export function takeHang(faults: StandinFaults, route: StandinRoute): boolean {
  const left = faults.hangNext[route] ?? 0;
  if (left <= 0) return false;
  faults.hangNext[route] = left - 1;
  return true;
}

/** Consumes one store-then-hang upload if any is left. */
export function takeStoreThenHang(faults: StandinFaults): boolean {
  if (faults.storeThenHangNext <= 0) return false;
  faults.storeThenHangNext -= 1;
  return true;
}
