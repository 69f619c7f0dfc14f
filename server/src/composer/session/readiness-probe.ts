import type { CDPSession } from 'playwright-core';
import { chooseEvidence, normalizeText, type RenderExpectation } from './render-evidence.ts';

/**
 * The page side of readiness. A probe installed at document start in an isolated world of the page (its own
 * JavaScript globals, invisible to and untouchable by the app's or the document's scripts; the DOM is shared) notes
 * every DOM change from the first moment. Once the app has read the composition, `awaitRendered` asks it to wait
 * until the document's own content is visible — title and the text or media of every widget, found in any DOM —
 * the DOM has been quiet for a short window, and fonts and images are loaded or failed, bounded by a deadline. The
 * wait runs in the page: no round trip to the server per check.
 */

/** Name of the isolated world the probe lives in. */
export const READINESS_WORLD = 'composer-mcp-readiness';
const PROBE_KEY = '__composerMcpReadiness';

/** DOM-specific signals, all optional configuration (composer.md knows no stable selector). */
export interface ProbeSelectors {
  /** Selector of one rendered widget ('' = find widgets by their content). */
  widget: string;
  /** Attributes of a widget element holding its type and id ('' = unknown: match by page order). */
  typeAttribute: string;
  idAttribute: string;
  /** Must be visible before the page counts as ready ('' = none). */
  ready: string;
  /** A loading placeholder: while one is visible the page is not ready ('' = none). */
  loading: string;
}

/** What the probe is asked to wait for. */
export interface ProbeSpec {
  expectation: RenderExpectation;
  /** Require the title to be seen (false when the app does not show it). */
  requireTitle: boolean;
  /** The DOM must not have changed for this long. */
  quietMs: number;
  /** With some widgets seen and others not: give up once the DOM has not changed for this long. */
  settleMs: number;
  /** Time left until the deadline. */
  timeoutMs: number;
  selectors: ProbeSelectors;
  /** Most widget elements read by selector, and longest attribute value kept (a hostile page can make millions). */
  readLimits: { elements: number; attributeChars: number };
  /**
   * A count of the page's DOM changes (a {@link ContentSeen} mark): the result then says whether the DOM changed
   * after it (`changedSince`). Null or absent: not asked.
   */
  unchangedSince?: number | null;
}

/**
 * What the probe answers when asked whether everything but the quiet window holds (the content visible, fonts and
 * images settled): the count of the page's DOM changes at that moment, or null when it did not get there before the
 * quiet window was over (nothing to gain from starting early) or the deadline.
 */
export interface ContentSeen {
  mark: number | null;
}

/** What the probe saw when it stopped waiting. */
export interface ProbeResult {
  /** ready: everything seen; deadline: time ran out; stopped-changing: some widgets seen, the rest not, the DOM quiet for settleMs. */
  outcome: 'ready' | 'deadline' | 'stopped-changing';
  /** Whether the title was seen (null: not looked for). */
  titleSeen: boolean | null;
  /** Per document widget: seen on the page. */
  seen: boolean[];
  /** Per document widget: had anything to look for (content mode) or an id (selector mode). */
  verifiable: boolean[];
  /** Selector mode: the widget elements found, in page order; null in content mode. */
  found: { type: string | null; id: string | null }[] | null;
  /** An invalid configured selector's error. */
  selectorError: string | null;
  /** How long the DOM had not changed when the probe stopped, ms. */
  quietForMs: number;
  fontsLoaded: boolean;
  imagesPending: number;
  readyVisible: boolean | null;
  loadingVisible: boolean | null;
  /** With `unchangedSince` asked: whether the page changed its DOM (or a font, image or frame loaded, or it scrolled) after that mark. */
  changedSince?: boolean;
}

/**
 * The probe: runs in the isolated world (at document start, or later if it was not there). Self-contained; the
 * snippet helpers are passed in (as source text of this module, never page data) because they run in the page too.
 */
function installProbe(key: string, norm: (s: string) => string, choose: (perWidget: { texts: string[]; media: string[] }[], maxChars?: number) => { texts: string[]; media: string[]; unique: boolean }[]): void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (g[key]) return;
  // lastChange: when the DOM last changed; changes: how many changes were noted (the server's own writes excluded).
  const state = { lastChange: performance.now(), changes: 0, frames: [] as number[], framing: true };
  // The start times of the last frames the page produced (a frame that starts after a change paints it; the next
  // one's start means that paint is done). Runs for the first minute of the document, or until a wait decides.
  const installedAt = performance.now();
  const frame = () => {
    state.frames.push(performance.now());
    if (state.frames.length > 8) state.frames.shift();
    if (state.framing && performance.now() - installedAt < 60_000) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const framesSince = (t: number) => state.frames.filter((f) => f > t).length;
  const touch = () => {
    state.lastChange = performance.now();
    state.changes++;
  };
  // A scroll (of the page or of an element) changes what a picture shows but not the DOM: counted as a change for a
  // capture's mark, without restarting the quiet window (readiness does not wait for a page to stop scrolling).
  const scrolled = () => {
    state.changes++;
  };
  // The page's scroll position at the last mark: a scroll whose event is not dispatched yet (it comes with the next
  // frame) is seen by comparing it.
  let markedAt: { changes: number; x: number; y: number } | undefined;
  const scrolledSince = (mark: number) => markedAt !== undefined && markedAt.changes === mark && (markedAt.x !== scrollX || markedAt.y !== scrollY);
  const observed = new WeakSet<Document>();
  // Images whose load or error event was seen: an image is complete (loaded or broken) a task before its event.
  const eventsSeen = new WeakSet<EventTarget>();
  const loaded = (event: Event) => {
    if (event.target) eventsSeen.add(event.target);
    touch();
  };
  const observers: MutationObserver[] = [];
  /** Notes the changes whose records are not delivered yet (they are delivered after the running task). */
  const flush = () => {
    for (const observer of observers) if (observer.takeRecords().length > 0) touch();
  };
  /**
   * Runs the server's own synchronous writes of elements' style attributes (a capture hiding carets; `own` returns
   * the elements it wrote) without noting them as the page's changes: the records pending before are the page's
   * and noted, and of the records made meanwhile only the style changes of those elements are dropped. A page script
   * run meanwhile (a custom element's reaction to its attribute) that changes anything else is noted.
   */
  const quietly = (own: () => Element[]): void => {
    flush();
    let written = new Set<Element>();
    try {
      written = new Set(own());
    } finally {
      for (const observer of observers) {
        const theirs = observer.takeRecords().some((r) => !(r.type === 'attributes' && r.attributeName === 'style' && written.has(r.target as Element)));
        if (theirs) touch();
      }
    }
  };
  const observe = (doc: Document) => {
    if (observed.has(doc)) return;
    observed.add(doc);
    const observer = new MutationObserver(touch);
    observer.observe(doc, { subtree: true, childList: true, characterData: true, attributes: true });
    observers.push(observer);
    doc.addEventListener('load', loaded, true);
    doc.addEventListener('error', loaded, true);
    doc.fonts?.addEventListener?.('loadingdone', touch);
    doc.addEventListener('scroll', scrolled, true);
  };
  observe(document);

  /** The main document and the same-origin frames' documents (observed from now on). */
  const documents = (): Document[] => {
    const docs: Document[] = [document];
    for (let i = 0; i < docs.length && docs.length < 20; i++) {
      for (const frame of Array.from(docs[i]!.querySelectorAll('iframe, frame'))) {
        try {
          const inner = (frame as HTMLIFrameElement).contentDocument;
          if (inner && inner.body) {
            observe(inner);
            docs.push(inner);
          }
        } catch {
          // cross-origin: not ours to read
        }
      }
    }
    return docs;
  };

  const visible = (el: Element): boolean => {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })) return false;
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return false;
    if (el.ownerDocument !== document) return true;
    const cx = r.left + r.width / 2;
    const cy = r.top + r.height / 2;
    if (cx < 0 || cy < 0 || cx >= innerWidth || cy >= innerHeight) return true;
    const top = document.elementFromPoint(cx, cy);
    // Covered by something that is neither it, inside it, nor around it (a loading overlay): not visible.
    return top === null || top === el || el.contains(top) || top.contains(el);
  };
  const mediaVisible = (el: Element) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true });

  async function wait(spec: ProbeSpec, contentOnly = false): Promise<ProbeResult | ContentSeen> {
    const started = performance.now();
    const deadline = started + Math.max(0, spec.timeoutMs);
    const toText = (html: string) => new DOMParser().parseFromString(String(html), 'text/html').body?.textContent ?? '';
    const widgets = spec.expectation.widgets;
    const absolute = (m: string) => {
      try {
        return new URL(m, location.href).href;
      } catch {
        return m;
      }
    };
    const evidence = choose(widgets.map((w) => ({ texts: w.texts.map((t) => norm(toText(t))), media: w.media.map(absolute) })));
    const snippets = evidence.map((e) => e.texts);
    const mediaUrls = evidence.map((e) => e.media);
    const title = spec.requireTitle && spec.expectation.title !== null ? norm(spec.expectation.title) : null;
    // The title may also be the text of some widget: then it must be seen once more than those.
    const titleNeeded = title === null ? 0 : 1 + widgets.reduce((n, w) => n + w.texts.filter((t) => norm(toText(t)) === title).length, 0);
    const sel = spec.selectors;
    const verifiable = sel.widget ? widgets.map((w) => (sel.idAttribute ? w.id !== null : true)) : widgets.map((_w, i) => snippets[i]!.length > 0 || mediaUrls[i]!.length > 0);

    interface Check {
      complete: boolean;
      anySeen: boolean;
      titleSeen: boolean | null;
      seen: boolean[];
      found: { type: string | null; id: string | null }[] | null;
      selectorError: string | null;
      readyVisible: boolean | null;
      loadingVisible: boolean | null;
    }

    const check = (): Check => {
      const docs = documents();
      const textCache = new Map<Element, string>();
      const textOf = (el: Element) => {
        let t = textCache.get(el);
        if (t === undefined) {
          t = norm(el.textContent ?? '');
          textCache.set(el, t);
        }
        return t;
      };
      const rendered = docs.map((d) => norm(d.body?.innerText ?? '')).join('\n');
      /** How many distinct deepest visible elements show `snip` (up to `want`); `near`: their text is about `snip` alone. */
      const countVisible = (snip: string, want: number, near: boolean): number => {
        if (!rendered.includes(snip)) return 0;
        let count = 0;
        for (const doc of docs) {
          const stack: Element[] = doc.body ? [doc.body] : [];
          while (stack.length > 0 && count < want) {
            const el = stack.pop()!;
            let deeper = false;
            for (const child of Array.from(el.children)) {
              if (textOf(child).includes(snip)) {
                stack.push(child);
                deeper = true;
              }
            }
            if (deeper) continue;
            const shown = norm((el as HTMLElement).innerText ?? el.textContent ?? '');
            const matches = near ? shown.includes(snip) && shown.length <= snip.length + 24 : shown.includes(snip);
            if (matches && visible(el)) count++;
          }
          // Form fields show their value, which is not text of the DOM (an editor's title field).
          if (near && count < want) {
            for (const field of Array.from(doc.querySelectorAll('input, textarea'))) {
              const value = norm((field as HTMLInputElement).value ?? '');
              if (value.includes(snip) && value.length <= snip.length + 24 && visible(field)) count++;
            }
          }
        }
        return count;
      };
      const mediaSeen = (urls: string[]) =>
        urls.some((url) =>
          docs.some((doc) =>
            Array.from(doc.querySelectorAll('img, video, audio, source, iframe, embed, object')).some((el) => {
              const e = el as HTMLImageElement & HTMLVideoElement & HTMLObjectElement;
              return [e.currentSrc, e.src, e.poster, e.data].includes(url) && mediaVisible(el.tagName === 'SOURCE' && el.parentElement ? el.parentElement : el);
            }),
          ),
        );

      let selectorError: string | null = null;
      const query = (selector: string): Element[] => {
        if (!selector) return [];
        try {
          return docs.flatMap((d) => Array.from(d.querySelectorAll(selector)));
        } catch (error) {
          selectorError = `${selector}: ${(error as Error).message}`;
          return [];
        }
      };
      let found: Check['found'] = null;
      let seen: boolean[];
      if (sel.widget) {
        const limits = spec.readLimits;
        const attribute = (el: Element, name: string) => (name ? (el.getAttribute(name)?.slice(0, limits.attributeChars) ?? null) : null);
        const elements = query(sel.widget).slice(0, limits.elements).filter((el) => visible(el) || mediaVisible(el));
        found = elements.map((el) => ({ type: attribute(el, sel.typeAttribute), id: attribute(el, sel.idAttribute) }));
        const ids = new Set(found.map((f) => f.id));
        seen = sel.idAttribute ? widgets.map((w) => w.id !== null && ids.has(w.id)) : widgets.map((_w, i) => i < elements.length);
      } else {
        seen = widgets.map((_w, i) => snippets[i]!.some((s) => countVisible(s, 1, false) > 0) || mediaSeen(mediaUrls[i]!));
      }
      const titleSeen = title === null ? null : countVisible(title, titleNeeded, true) >= titleNeeded;
      const readyVisible = sel.ready ? query(sel.ready).some(visible) : null;
      const loadingVisible = sel.loading ? query(sel.loading).some((el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) : null;
      const widgetsDone = seen.every((s, i) => s || !verifiable[i]);
      const anySeen = seen.some((s, i) => s && verifiable[i]);
      const somethingToSee = verifiable.some(Boolean) || title !== null;
      const complete = somethingToSee && widgetsDone && titleSeen !== false && readyVisible !== false && loadingVisible !== true && selectorError === null;
      return { complete, anySeen, titleSeen, seen, found, selectorError, readyVisible, loadingVisible };
    };

    const media = () => {
      let imagesPending = 0;
      for (const doc of documents()) {
        for (const img of Array.from(doc.images)) {
          if (img.complete) continue;
          const r = img.getBoundingClientRect();
          const inView = r.bottom >= 0 && r.right >= 0 && r.top <= innerHeight && r.left <= innerWidth;
          if (img.loading === 'lazy' && !inView) continue;
          imagesPending++;
        }
      }
      const fontsLoaded = !document.fonts || document.fonts.status === 'loaded';
      return { fontsLoaded, imagesPending };
    };

    const finish = (outcome: ProbeResult['outcome'], last: Check): ProbeResult => {
      const m = media();
      flush();
      const since = typeof spec.unchangedSince === 'number' ? { changedSince: state.changes !== spec.unchangedSince || scrolledSince(spec.unchangedSince) } : {};
      return { outcome, titleSeen: last.titleSeen, seen: last.seen, verifiable, found: last.found, selectorError: last.selectorError, quietForMs: Math.round(performance.now() - state.lastChange), fontsLoaded: m.fontsLoaded, imagesPending: m.imagesPending, readyVisible: last.readyVisible, loadingVisible: last.loadingVisible, ...since };
    };

    let last: Check | undefined;
    let checkedAt = -1;
    const poll = Math.max(5, Math.min(50, spec.quietMs));
    if (contentOnly) {
      // Everything but the quiet window: checked each time the DOM has been still a few ms since it last changed
      // (not in the middle of a burst of changes), until the window is over (nothing to gain then), for 1 s at most
      // (a page that keeps changing is left to the wait below) or until the deadline.
      const giveUp = Math.min(deadline, started + 1_000);
      for (;;) {
        flush();
        const now = performance.now();
        const quietFor = now - state.lastChange;
        if (quietFor >= spec.quietMs || now >= giveUp) return { mark: null };
        if (checkedAt !== state.lastChange && quietFor >= Math.min(4, spec.quietMs / 4)) {
          checkedAt = state.lastChange;
          const mark = state.changes;
          const complete = check().complete;
          const m = media();
          // An image complete before its load or error event was seen has that event (a change) still to come.
          const eventsDue = documents().some((doc) => Array.from(doc.images).some((img) => img.complete && (img.currentSrc || img.src) !== '' && !eventsSeen.has(img)));
          flush();
          if (complete && m.fontsLoaded && m.imagesPending === 0 && !eventsDue && state.changes === mark) {
            markedAt = { changes: mark, x: scrollX, y: scrollY };
            return { mark };
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    for (;;) {
      const now = performance.now();
      const quietFor = now - state.lastChange;
      if (quietFor >= spec.quietMs) {
        // Check again when the DOM changed since the last check, and every 250 ms anyway (visibility can change without a mutation).
        if (last === undefined || checkedAt !== state.lastChange || now - checkedAt >= 250) {
          last = check();
          checkedAt = state.lastChange;
        }
        if (last.complete) {
          const m = media();
          // Rendered means painted: a frame started after the last change and the next one began (that paint is
          // done). A page producing no frame (hidden, starved) for 500 ms is decided on the DOM.
          if (m.fontsLoaded && m.imagesPending === 0 && (framesSince(state.lastChange) >= 2 || quietFor >= 500)) {
            state.framing = false;
            return finish('ready', last);
          }
        }
        if (last.anySeen && !last.complete && quietFor >= spec.settleMs) {
          state.framing = false;
          return finish('stopped-changing', last);
        }
      }
      if (now >= deadline) {
        state.framing = false;
        return finish('deadline', check());
      }
      const delay = quietFor < spec.quietMs ? spec.quietMs - quietFor : last?.complete ? Math.min(poll, 8) : poll;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(delay, deadline - now))));
    }
  }

  g[key] = { wait, quietly };
}

/** The probe's source, to run at document start in the isolated world. */
export function probeSource(): string {
  return `(${installProbe.toString()})(${JSON.stringify(PROBE_KEY)}, ${normalizeText.toString()}, ${chooseEvidence.toString()});`;
}

/**
 * Installs the probe for every document the page will load (call before navigating). Scripts for new documents run
 * only for a session with the Page domain enabled: without it the probe was installed late, by the first wait.
 */
export async function installReadinessProbe(cdp: CDPSession): Promise<void> {
  await Promise.all([cdp.send('Page.enable'), cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: probeSource(), worldName: READINESS_WORLD })]);
}

/**
 * The execution context of the probe's world in the page's current main document (ask early, e.g. once the
 * navigation committed, so the wait itself costs one round trip).
 */
export async function probeWorld(cdp: CDPSession): Promise<number> {
  const tree = (await cdp.send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } };
  const world = (await cdp.send('Page.createIsolatedWorld', { frameId: tree.frameTree.frame.id, worldName: READINESS_WORLD })) as { executionContextId: number };
  return world.executionContextId;
}

/** Thrown when the page went away (navigated, closed) while the probe waited. */
export class ProbeLostError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProbeLostError';
  }
}

/**
 * Asks the probe of the page's current document (in `world`, when already known) to wait for `spec` (installing it
 * there if it was not: a document created before the install). Resolves what it saw. Rejects with ProbeLostError when the document went away
 * during the wait (the caller may ask again, with the time left).
 */
export async function awaitRendered(cdp: CDPSession, spec: ProbeSpec, world?: Promise<number>): Promise<ProbeResult> {
  return (await askProbe(cdp, spec, false, world)) as ProbeResult;
}

/**
 * Asks the probe to wait until everything of `spec` but the quiet window holds (the content visible, fonts and
 * images settled) and to mark the page's DOM changes then: a capture started after this shows the state at ready
 * when the wait for `{ ...spec, unchangedSince: mark }` then answers ready and `changedSince: false`. Null when the
 * window was over first. Rejects as {@link awaitRendered} does.
 */
export async function awaitContentSeen(cdp: CDPSession, spec: ProbeSpec, world?: Promise<number>): Promise<ContentSeen> {
  return (await askProbe(cdp, spec, true, world)) as ContentSeen;
}

/**
 * A function declaration, to run in the probe's world, that calls `fn` (a self-contained function's source) with
 * `quietly`: a runner of synchronous DOM writes of the server's own (a capture hiding carets) that the probe does not
 * note as the page's changes (see the probe's `quietly`); a plain call when the document has no probe.
 */
export function withQuietlySource(fn: string): string {
  return `function () {
    const probe = globalThis[${JSON.stringify(PROBE_KEY)}];
    const quietly = (own) => (probe && typeof probe.quietly === 'function' ? probe.quietly(own) : own());
    return (${fn})(quietly);
  }`;
}

async function askProbe(cdp: CDPSession, spec: ProbeSpec, contentOnly: boolean, world?: Promise<number>): Promise<ProbeResult | ContentSeen> {
  let contextId: number;
  try {
    contextId = await (world ?? probeWorld(cdp));
  } catch (error) {
    if (/crash|closed|detached/i.test((error as Error).message)) throw error;
    throw new ProbeLostError(`The page went away before it could be checked: ${(error as Error).message}`, { cause: error });
  }
  // The probe's own source is part of the function: a document created before the install gets it now.
  const declaration = `async function (spec) {
    ${probeSource()}
    return globalThis[${JSON.stringify(PROBE_KEY)}].wait(spec, ${contentOnly ? 'true' : 'false'});
  }`;
  let answer: { result: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } };
  try {
    answer = (await cdp.send('Runtime.callFunctionOn', {
      functionDeclaration: declaration,
      executionContextId: contextId,
      arguments: [{ value: spec }],
      awaitPromise: true,
      returnByValue: true,
    })) as typeof answer;
  } catch (error) {
    // A closed page or a crashed renderer is not coming back: only a replaced document is worth asking again.
    if (/crash|closed|detached/i.test((error as Error).message)) throw error;
    throw new ProbeLostError(`The page went away while it was being checked: ${(error as Error).message}`, { cause: error });
  }
  if (answer.exceptionDetails) {
    const detail = answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text ?? 'unknown error';
    if (/context was destroyed|Cannot find context|navigat/i.test(detail)) throw new ProbeLostError(`The page navigated while it was being checked: ${detail}`);
    throw new Error(`The readiness probe failed in the page: ${detail.split('\n')[0]}`);
  }
  return answer.result.value as ProbeResult | ContentSeen;
}
