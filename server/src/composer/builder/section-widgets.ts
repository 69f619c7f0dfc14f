import { COMMON_DEFAULTS } from '../model/common.ts';
import { HEAD_DEFAULTS } from '../model/head-1.ts';
import type { Head1Widget } from '../model/head-1.ts';
import type { KnownWidget } from '../model/widgets.ts';
import { escapeHtml, inlineTextToHtml, plainTextToHtml } from './escape.ts';
import type { IdGenerator } from './ids.ts';
import type { OutlineSection } from './outline.ts';

/** The common fields with their defaults, a fresh id, and the title (escaped, or null). */
function base(newId: IdGenerator, title: string | undefined) {
  return {
    id: newId(),
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
    ...base(newId, undefined),
    type: 'head-1',
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
      return { ...base(newId, section.title), type: 'text-1', content: plainTextToHtml(section.body) };
    case 'quiz':
      return {
        ...base(newId, section.title),
        type: 'quiz-1',
        questions: section.questions.map((q) => ({
          id: newId(),
          question: inlineTextToHtml(q.question),
          choices: q.choices.map((c) => ({ id: newId(), correct: c.correct, text: inlineTextToHtml(c.text) })),
        })),
      };
    case 'flashcards':
      return { ...base(newId, section.title), type: 'flashcards-1', cards: section.cards.map((c) => ({ id: newId(), front: inlineTextToHtml(c.front), back: inlineTextToHtml(c.back) })) };
    case 'list':
      return { ...base(newId, section.title), type: 'list-1', list_style: section.style, items: section.items.map((text) => ({ id: newId(), text: inlineTextToHtml(text) })) };
    case 'image':
      return { ...base(newId, section.title), type: 'image-1', image: section.url, caption: section.caption ? inlineTextToHtml(section.caption) : null };
    case 'video':
      return { ...base(newId, section.title), type: 'video-1', video: section.url };
    case 'gallery':
      return { ...base(newId, section.title), type: 'gallery-1', images: section.images.map((i) => ({ id: newId(), image: i.url, caption: i.caption ? inlineTextToHtml(i.caption) : null })) };
    case 'hotspots':
      return {
        ...base(newId, section.title),
        type: 'hotspots-1',
        image: section.image,
        hotspots: section.spots.map((s) => ({ id: newId(), x: s.x, y: s.y, title: inlineTextToHtml(s.title), content: plainTextToHtml(s.body) })),
      };
  }
}
