/**
 * What to look for on the page to know a composition is rendered, taken from the document itself (composer.md knows
 * no stable selector): its title, and per widget the text of its HTML fields and the URLs of its media. The page
 * side (readiness-probe.ts) turns the HTML into text with the browser's own parser and looks for it, visible, in
 * whatever DOM the app built. Every value comes from a hostile document: it is only ever data, bounded in size.
 */

/** The evidence one widget can leave on a page. */
export interface WidgetEvidence {
  id: string | null;
  type: string;
  /** HTML or plain-text values of the widget (the page decodes them), at most MAX_TEXTS, each at most MAX_TEXT_CHARS. */
  texts: string[];
  /** Absolute http(s) URLs of its media (images, video), at most MAX_MEDIA. */
  media: string[];
}

/** What a rendered composition must show. */
export interface RenderExpectation {
  /** The document's title (metadata.title), or null when it has none. */
  title: string | null;
  /** The first {@link MAX_CHECKED_WIDGETS} widgets of the document, in page order. */
  widgets: WidgetEvidence[];
  /** Widgets the document lists; more than `widgets` holds when it lists more than are looked for. */
  widgetsTotal: number;
}

/**
 * Most widgets of a document looked for on the page, the same bound as the widgets a visit reports (the document's
 * list and those read by selector): readiness never leaves out a widget the report lists. A document with more
 * cannot be seen whole, and is reported not ready, saying which widgets were not looked for.
 */
export const MAX_CHECKED_WIDGETS = 2_000;
/**
 * Most texts looked for over all widgets: each widget keeps up to MAX_TEXTS while the document has at most 500
 * widgets, fewer beyond (at least one), so the page's work to choose evidence (pairwise over the texts) stays where
 * it was with 500 widgets.
 */
const TEXT_BUDGET = 12_000;
const MAX_TEXTS = 24;
const MAX_TEXT_CHARS = 2_000;
const MAX_MEDIA = 8;
const MAX_DEPTH = 6;

/** Keys whose plain-text value an app shows (besides any value holding HTML, which composer.md says text values are). */
const TEXT_KEYS = new Set(['content_title', 'title', 'caption', 'text', 'question', 'front', 'back', 'content', 'label', 'description', 'category', 'author_name', 'author_office']);
/** Keys that never hold what the learner reads. */
const SKIP_KEYS = new Set(['id', 'type', 'dam_assets', 'list_style', 'correct', 'x', 'y']);

const HTML_TAG = /<\s*[a-z][^>]*>/i;
const URL_VALUE = /^https?:\/\/\S+$/i;

function collect(value: unknown, key: string, depth: number, out: { texts: string[]; media: string[]; maxTexts: number }): void {
  if (depth > MAX_DEPTH || SKIP_KEYS.has(key) || /(^|_)colou?r$/i.test(key) || /^show_/i.test(key)) return;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!trimmed) return;
    if (URL_VALUE.test(trimmed)) {
      if (out.media.length < MAX_MEDIA && !out.media.includes(trimmed)) out.media.push(trimmed.slice(0, MAX_TEXT_CHARS));
      return;
    }
    if ((HTML_TAG.test(trimmed) || TEXT_KEYS.has(key)) && out.texts.length < out.maxTexts) {
      const text = trimmed.slice(0, MAX_TEXT_CHARS);
      if (!out.texts.includes(text)) out.texts.push(text);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value.slice(0, 100)) collect(item, key, depth + 1, out);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 100)) collect(v, k, depth + 1, out);
  }
}

/** The evidence a widget of the document can leave on the page, at most `maxTexts` texts (pure). */
export function widgetEvidence(widget: unknown, maxTexts = MAX_TEXTS): WidgetEvidence {
  const w = (widget ?? {}) as Record<string, unknown>;
  const out = { texts: [] as string[], media: [] as string[], maxTexts };
  if (w !== null && typeof w === 'object' && !Array.isArray(w)) {
    for (const [k, v] of Object.entries(w).slice(0, 100)) collect(v, k, 1, out);
  }
  return { id: typeof w['id'] === 'string' ? w['id'] : null, type: typeof w['type'] === 'string' ? w['type'] : 'unknown', texts: out.texts, media: out.media };
}

/** What the rendered `document` must show: its title and, per widget in page order, its texts and media (pure). */
export function renderExpectationOf(document: unknown): RenderExpectation {
  const doc = (document ?? {}) as { metadata?: { title?: unknown }; structure?: unknown };
  const rawTitle = typeof doc.metadata?.title === 'string' ? doc.metadata.title.trim().slice(0, MAX_TEXT_CHARS) : '';
  const all = Array.isArray(doc.structure) ? doc.structure : [];
  const structure = all.slice(0, MAX_CHECKED_WIDGETS);
  const maxTexts = Math.max(1, Math.min(MAX_TEXTS, Math.floor(TEXT_BUDGET / Math.max(1, structure.length))));
  return { title: rawTitle || null, widgets: structure.map((w) => widgetEvidence(w, maxTexts)), widgetsTotal: all.length };
}

/**
 * Normalises rendered or decoded text for comparison: Unicode NFC, lower case (CSS text-transform changes case),
 * and no whitespace or invisible characters at all (block boundaries become newlines in rendered text but nothing in
 * decoded text). Self-contained: it also runs in the page.
 */
export function normalizeText(text: string): string {
  return String(text)
    .normalize('NFC')
    .toLocaleLowerCase()
    .replace(/[\s\u00ad\u200b-\u200d\u2060\ufeff]+/g, '');
}

/**
 * Chooses, per widget, what to look for: among its normalised texts, prefixes of at most `maxChars` (an app may
 * cut long text) of at least 2 characters; among its media, absolute URLs. What no other widget shares (texts:
 * neither contains the other; media: the same URL) is preferred: a widget with unique evidence is looked for by that
 * alone (another widget's rendering must not count for it), one without by everything it has (at most 12 texts).
 * Pure and self-contained: it also runs in the page.
 */
export function chooseEvidence(perWidget: { texts: string[]; media: string[] }[], maxChars = 48): { texts: string[]; media: string[]; unique: boolean }[] {
  const prefixes = perWidget.map((w) => [...new Set(w.texts.filter((t) => t.length >= 2).map((t) => t.slice(0, maxChars)))]);
  const media = perWidget.map((w) => [...new Set(w.media)]);
  return prefixes.map((mine, i) => {
    const sharedText = (s: string) => prefixes.some((theirs, j) => j !== i && theirs.some((t) => t.includes(s) || s.includes(t)));
    const sharedMedia = (u: string) => media.some((theirs, j) => j !== i && theirs.includes(u));
    const texts = mine.filter((s) => !sharedText(s));
    const urls = media[i]!.filter((u) => !sharedMedia(u));
    if (texts.length > 0 || urls.length > 0) return { texts: texts.slice(0, 12), media: urls, unique: true };
    return { texts: mine.slice(0, 12), media: media[i]!, unique: false };
  });
}
