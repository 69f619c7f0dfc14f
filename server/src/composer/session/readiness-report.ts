import type { ProbeResult } from './readiness-probe.ts';
import { reportedToken } from './reported-url.ts';
import type { RenderExpectation } from './render-evidence.ts';

/** A widget: its type and id (from the document, or read from the rendered page). */
export interface WidgetRef {
  type: string;
  id: string | null;
}

/** How the readiness of a visit was decided, for the report. */
export interface ReadinessEvidence {
  /** content: widgets found by their own text and media; selector: by the configured widget selector. */
  method: 'content' | 'selector';
  /** ready, deadline (time ran out), stopped-changing (a partial render: some widgets seen, the DOM quiet, the rest not). */
  outcome: ProbeResult['outcome'];
  /** Whether the title was seen (null: not looked for). */
  titleSeen: boolean | null;
  /** The DOM had not changed for the quiet window when the probe stopped. */
  domQuiet: boolean;
  fontsLoaded: boolean;
  imagesPending: number;
}

/** The readiness part of a visit report. */
export interface Readiness {
  ready: boolean;
  /** What was looked for and not seen (empty when ready). */
  notSeen: string[];
  /** Document widgets seen rendered (content mode), or the widget elements found (selector mode), in page order. */
  renderedWidgets: WidgetRef[];
  /** Document widgets with something to look for that were not seen. */
  missingWidgetIds: string[];
  /** Document widgets with nothing to look for (no text, no media; or no id in selector mode). */
  unverifiedWidgetIds: string[];
  evidence: ReadinessEvidence;
}

const quote = (text: string, max = 60) => JSON.stringify(reportedToken(text.length > max ? `${text.slice(0, max)}…` : text));

/** A widget as reported: its type and id (a page's or a stored document's strings) as reported-url.ts reduces them. */
export function reportedWidget(widget: WidgetRef): WidgetRef {
  return { type: reportedToken(widget.type), id: widget.id === null ? null : reportedToken(widget.id) };
}

/** What readiness needs besides the probe's answer. */
export interface ReadinessInputs {
  expectation: RenderExpectation;
  result: ProbeResult;
  quietMs: number;
  widgetSelector: string;
  readySelector: string;
  loadingSelector: string;
}

/** Turns what the probe saw into the visit's readiness: ready only when the probe saw everything (pure). */
export function readinessOf(inputs: ReadinessInputs): Readiness {
  const { expectation, result } = inputs;
  const widgets = expectation.widgets;
  const bySelector = inputs.widgetSelector !== '';
  const notSeen: string[] = [];
  const missing: string[] = [];
  const unverified: string[] = [];
  widgets.forEach((w, i) => {
    const shown = reportedWidget(w);
    const label = `widget ${i + 1} (${shown.type}${shown.id ? ` ${shown.id}` : ''})`;
    if (!result.verifiable[i]) {
      if (shown.id) unverified.push(shown.id);
      return;
    }
    if (result.seen[i]) return;
    if (shown.id) missing.push(shown.id);
    notSeen.push(
      bySelector
        ? `${label}: no visible element matching ${inputs.widgetSelector} carries its id`
        : `${label}: none of its text${w.media.length ? ' or media' : ''} is visible${w.texts[0] ? ` (e.g. ${quote(stripTags(w.texts[0]))})` : ''}`,
    );
  });
  if (result.titleSeen === false && expectation.title !== null) notSeen.unshift(`the title ${quote(expectation.title)} (no visible element shows it)`);
  if (result.selectorError) notSeen.push(`the configured selector is invalid: ${result.selectorError}`);
  if (result.readyVisible === false) notSeen.push(`the ready selector ${inputs.readySelector} (no visible element matches it)`);
  if (result.loadingVisible === true) notSeen.push(`the loading placeholder (${inputs.loadingSelector}) to go away`);
  if (expectation.title === null && widgets.length === 0) notSeen.push('anything to look for: the document has no title and no widgets, so its rendering cannot be confirmed');
  else if (result.titleSeen === null && result.verifiable.every((v) => !v)) notSeen.push('anything to look for: neither the title nor any widget has text or media to find on the page');
  // Widgets past the bound were not looked for: the lesson cannot be said to be on the page (the report lists as many).
  const unchecked = expectation.widgetsTotal - widgets.length;
  if (unchecked > 0) notSeen.push(`widgets ${widgets.length + 1} to ${widgets.length + unchecked}: not looked for (readiness looks for the first ${widgets.length} widgets of a document, as many as a report lists), so the whole lesson cannot be confirmed`);
  const domQuiet = result.quietForMs >= inputs.quietMs;
  if (notSeen.length === 0 && !domQuiet) notSeen.push(`a quiet page: the DOM was still changing (no ${inputs.quietMs} ms without a change)`);
  if (notSeen.length === 0 && !result.fontsLoaded) notSeen.push('the web fonts to finish loading');
  if (notSeen.length === 0 && result.imagesPending > 0) notSeen.push(`${result.imagesPending} image${result.imagesPending === 1 ? '' : 's'} to finish loading`);
  const ready = result.outcome === 'ready' && unchecked <= 0;
  if (!ready && notSeen.length === 0) notSeen.push('the page to settle before the deadline');
  const renderedWidgets: WidgetRef[] = (bySelector && result.found
    ? result.found.map((f, i) => ({ type: f.type ?? (f.id !== null ? widgets.find((w) => w.id === f.id)?.type : widgets[i]?.type) ?? 'unknown', id: f.id ?? widgets[i]?.id ?? null }))
    : widgets.flatMap((w, i) => (result.seen[i] && result.verifiable[i] ? [{ type: w.type, id: w.id }] : []))).map(reportedWidget);
  return {
    ready,
    notSeen: ready ? [] : notSeen,
    renderedWidgets,
    missingWidgetIds: missing,
    unverifiedWidgetIds: unverified,
    evidence: { method: bySelector ? 'selector' : 'content', outcome: result.outcome, titleSeen: result.titleSeen, domQuiet, fontsLoaded: result.fontsLoaded, imagesPending: result.imagesPending },
  };
}

/** Text of an HTML snippet for messages (tags dropped; never rendered). */
export function stripTags(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}
