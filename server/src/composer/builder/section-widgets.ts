import { COMMON_DEFAULTS } from '../model/common.ts';
import { HEAD_DEFAULTS } from '../model/head-1.ts';
import type { Head1Widget } from '../model/head-1.ts';
import type { KnownWidget } from '../model/widgets.ts';
import { escapeHtml, inlineTextToHtml, plainTextToHtml } from './escape.ts';
import type { IdGenerator } from './ids.ts';
import type { OutlineSection } from './outline.ts';

/** A fresh id, the type, the common fields with their defaults, and the title (escaped, or null). */
function base<T extends string>(type: T, newId: IdGenerator, title: string | undefined) {
  return {
    id: newId(),
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
    ...base('head-1', newId, undefined),
    category: inlineTextToHtml(input.category),
    author_name: inlineTextToHtml(input.authorName),
    ...(input.authorOffice ? { author_office: inlineTextToHtml(input.authorOffice) } : {}),
    ...HEAD_DEFAULTS,
  };
}

/** The widget one outline section becomes, with ids for it and every item in it. */
export function buildSectionWidget(section: OutlineSection, newId: IdGenerator): KnownWidget {
  switch (section.type) {
    case 'text':
      return { ...base('text-1', newId, section.title), content: plainTextToHtml(section.body) };
    case 'quiz':
      return {
        ...base('quiz-1', newId, section.title),
        questions: section.questions.map((q) => ({
          id: newId(),
          question: inlineTextToHtml(q.question),
          choices: q.choices.map((c) => ({ id: newId(), correct: c.correct, text: inlineTextToHtml(c.text) })),
        })),
      };
    case 'flashcards':
      return { ...base('flashcards-1', newId, section.title), cards: section.cards.map((c) => ({ id: newId(), front: inlineTextToHtml(c.front), back: inlineTextToHtml(c.back) })) };
    case 'list':
      return { ...base('list-1', newId, section.title), list_style: section.style, items: section.items.map((text) => ({ id: newId(), text: inlineTextToHtml(text) })) };
    case 'image':
      return { ...base('image-1', newId, section.title), image: section.url, caption: section.caption ? inlineTextToHtml(section.caption) : null };
    case 'video':
      return { ...base('video-1', newId, section.title), video: section.url };
    case 'gallery':
      return { ...base('gallery-1', newId, section.title), images: section.images.map((i) => ({ id: newId(), image: i.url, caption: i.caption ? inlineTextToHtml(i.caption) : null })) };
    case 'hotspots':
      return {
        ...base('hotspots-1', newId, section.title),
        image: section.image,
        hotspots: section.spots.map((s) => ({ id: newId(), x: s.x, y: s.y, title: inlineTextToHtml(s.title), content: plainTextToHtml(s.body) })),
      };
  }
}
