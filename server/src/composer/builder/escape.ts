import { isMarkup } from '../html/sanitize-html.ts';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes plain text so it shows literally inside HTML (`<script>` becomes `&lt;script&gt;`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Turns plain text into HTML paragraphs: the text is escaped, blank lines (or separate array entries) start a new
 * `<p>`, single line breaks become `<br>`. Empty input gives `<p></p>`.
 */
export function plainTextToHtml(text: string | readonly string[]): string {
  const paragraphs = (typeof text === 'string' ? text.split(/\r?\n\s*\r?\n/) : [...text])
    .map((p) => p.replace(/\r\n/g, '\n').trim())
    .filter((p) => p.length > 0);
  if (paragraphs.length === 0) return '<p></p>';
  return paragraphs.map((p) => `<p>${p.split('\n').map((line) => escapeHtml(line.trim())).join('<br>')}</p>`).join('');
}

/** Plain text to a single-paragraph HTML value (line breaks kept as `<br>`), for short fields such as a choice. */
export function inlineTextToHtml(text: string): string {
  return `<p>${text.trim().split(/\r?\n/).map((line) => escapeHtml(line.trim())).join('<br>')}</p>`;
}

/**
 * Plain text for a field the Composer shows as text (metadata title, description, tags): kept as written, unless
 * an HTML parser would read it as markup (`<img src=x onerror=…>`, `<b>`), then escaped, so the outline's text is
 * never markup wherever an app puts it. `Frações: 1 < 2` stays as it is.
 */
export function plainTextValue(text: string): string {
  return isMarkup(text) ? escapeHtml(text) : text;
}
