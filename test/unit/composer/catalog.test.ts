import { expect } from 'chai';
import { buildCompositionFromInput } from '#server/composer/builder/build-composition.ts';
import { compositionJsonSchema, describeWidget, widgetCatalog } from '#server/composer/catalog.ts';
import { WIDGET_SCHEMAS, WIDGET_TYPES } from '#server/composer/model/widgets.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import { fullOutline } from './fixtures.ts';

describe('widget catalog', () => {
  it('has one entry per modelled widget type, in order', () => {
    expect(widgetCatalog().map((e) => e.type)).to.deep.equal([...WIDGET_TYPES]);
  });

  it('gives every widget an example that its own schema accepts', () => {
    for (const entry of widgetCatalog()) {
      const parsed = WIDGET_SCHEMAS[entry.type].safeParse(entry.example);
      expect(parsed.success, `${entry.type}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
      expect(entry.example.type).to.equal(entry.type);
    }
  });

  it('gives examples that make a valid composition together, with no warning', () => {
    const document = buildCompositionFromInput(fullOutline()) as unknown as { structure: unknown[] };
    document.structure = widgetCatalog().map((e) => e.example);
    expect(validateComposition(document).problems).to.deep.equal([]);
  });

  it('derives the JSON Schema from the zod schema: required fields, defaults, no extra keys', () => {
    const quiz = describeWidget('quiz-1');
    expect(quiz.jsonSchema['required']).to.deep.equal(['id', 'type', 'questions']);
    expect(quiz.jsonSchema['additionalProperties']).to.equal(false);
    const head = describeWidget('head-1').jsonSchema as { properties: Record<string, { default?: unknown }> };
    expect(head.properties['secondary_color']?.default).to.equal('#aa2c23');
    expect(head.properties['show_divider']?.default).to.equal(true);
  });

  it('lists the assumptions of [open] widgets and none beyond paddings for [known] ones', () => {
    const list = describeWidget('list-1');
    expect(list.confidence).to.equal('open');
    expect(list.assumptions.map((a) => a.path)).to.include.members(['$', '$.list_style', '$.items', '$.items[*].text']);
    const text = describeWidget('text-1');
    expect(text.confidence).to.equal('known');
    expect(text.assumptions.map((a) => a.path)).to.deep.equal(['$.padding_top', '$.padding_bottom']);
    for (const entry of widgetCatalog()) {
      if (entry.confidence !== 'known') expect(entry.assumptions.length, entry.type).to.be.greaterThan(2);
    }
  });

  it('tells authors which HTML is allowed, in every widget\'s constraints', () => {
    for (const type of ['text-1', 'quiz-1', 'head-1'] as const) {
      const html = describeWidget(type).constraints.find((c) => c.startsWith('Allowed HTML elements:'));
      expect(html, type).to.include('p, div, span').and.include('href on a (absolute http, https or mailto URL)').and.include('event handlers such as onerror');
    }
  });

  it('states the configured limits in the constraints', () => {
    expect(describeWidget('quiz-1').constraints).to.include('5–15 questions.');
    expect(describeWidget('flashcards-1', { ...DEFAULT_VALIDATION_LIMITS, flashcardsMinCards: 4, flashcardsMaxCards: 30 }).constraints).to.include('4–30 cards.');
  });

  it('publishes a composition JSON Schema covering every widget type and unknown widgets', () => {
    const schema = compositionJsonSchema() as { properties: { structure: { items: { anyOf: { title?: string; properties?: { type?: { const?: string } } }[] } } } };
    const options = schema.properties.structure.items.anyOf;
    expect(options.map((o) => o.properties?.type?.const).filter(Boolean)).to.deep.equal([...WIDGET_TYPES]);
    expect(options.at(-1)?.title).to.equal('Other widget');
    expect(JSON.parse(JSON.stringify(schema))).to.deep.equal(schema);
  });
});
