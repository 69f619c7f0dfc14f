import { COMMON_DEFAULTS } from '../model/common.ts';
import { HEAD_DEFAULTS } from '../model/head-1.ts';
import type { Head1Widget } from '../model/head-1.ts';
import type { KnownWidget } from '../model/widgets.ts';
import { escapeHtml, inlineTextToHtml, plainTextToHtml } from './escape.ts';
import type { IdGenerator } from './ids.ts';
import type { OutlineSection } from './outline.ts';

/** The widget's id (for `role`), the type, the common fields with their defaults, and the title (escaped, or null). */
function base<T extends string>(type: T, newId: IdGenerator, role: string, title: string | undefined) {
  return {
    id: newId(role),
    type,
    content_title: title ? escapeHtml(title) : null,
    background_color: COMMON_DEFAULTS.background_color,
    padding_top: COMMON_DEFAULTS.padding_top,
    padding_bottom: COMMON_DEFAULTS.padding_bottom,
    dam_assets: [] as unknown[],
  };
}

/** The head-1 widget of a lesson: category line, author name and office as HTML, Composer default colors. */
export function buildHeadWidget(input: { category: string; authorName: string; authorOffice?: string | undefined }, newId: IdGenerator): Head1Widget {
  return {
    ...base('head-1', newId, 'head', undefined),
    category: inlineTextToHtml(input.category),
    author_name: inlineTextToHtml(input.authorName),
    ...(input.authorOffice ? { author_office: inlineTextToHtml(input.authorOffice) } : {}),
    ...HEAD_DEFAULTS,
  };
}

/**
 * The widget one outline section becomes, with ids for it and every item in it. `role` is the section's place in
 * the outline (`sections[2]`); items' roles extend it (`sections[2].questions[0].choices[1]`).
 */
export function buildSectionWidget(section: OutlineSection, newId: IdGenerator, role: string): KnownWidget {
  const id = (path: string) => newId(`${role}.${path}`);
  switch (section.type) {
    case 'text':
      return { ...base('text-1', newId, role, section.title), content: plainTextToHtml(section.body) };
    case 'quiz':
      return {
        ...base('quiz-1', newId, role, section.title),
        questions: section.questions.map((q, i) => ({
          id: id(`questions[${i}]`),
          question: inlineTextToHtml(q.question),
          choices: q.choices.map((c, j) => ({ id: id(`questions[${i}].choices[${j}]`), correct: c.correct, text: inlineTextToHtml(c.text) })),
        })),
      };
    case 'flashcards':
      return { ...base('flashcards-1', newId, role, section.title), cards: section.cards.map((c, i) => ({ id: id(`cards[${i}]`), front: inlineTextToHtml(c.front), back: inlineTextToHtml(c.back) })) };
    case 'list':
      return { ...base('list-1', newId, role, section.title), list_style: section.style, items: section.items.map((text, i) => ({ id: id(`items[${i}]`), text: inlineTextToHtml(text) })) };
    case 'image':
      return { ...base('image-1', newId, role, section.title), image: section.url, caption: section.caption ? inlineTextToHtml(section.caption) : null };
    case 'video':
      return { ...base('video-1', newId, role, section.title), video: section.url };
    case 'gallery':
      return { ...base('gallery-1', newId, role, section.title), images: section.images.map((img, i) => ({ id: id(`images[${i}]`), image: img.url, caption: img.caption ? inlineTextToHtml(img.caption) : null })) };
    case 'hotspots':
      return {
        ...base('hotspots-1', newId, role, section.title),
        image: section.image,
        hotspots: section.spots.map((s, i) => ({ id: id(`spots[${i}]`), x: s.x, y: s.y, title: inlineTextToHtml(s.title), content: plainTextToHtml(s.body) })),
      };
  }
}
