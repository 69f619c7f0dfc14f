import { expect } from 'chai';
import { DOM_READ_LIMITS, widgetsOf } from '#server/composer/session/visit-composition.ts';

/**
 * Red team: the widget list of the document the app read goes into the open and preview results. A stored
 * composition is hostile whoever saved it: it may list hundreds of thousands of widgets with long types and ids.
 */
describe('red team: a stored document that lists too many widgets', () => {
  it('its widgets are reported within the DOM read limits (before: every one, whole)', () => {
    const structure = Array.from({ length: 50_000 }, (_, i) => ({ type: `t${i}-${'y'.repeat(5_000)}`, id: `${i}-${'z'.repeat(5_000)}` }));
    const widgets = widgetsOf({ structure });
    expect(widgets.length).to.equal(DOM_READ_LIMITS.elements);
    expect(Math.max(...widgets.map((w) => w.type.length + (w.id?.length ?? 0)))).to.be.at.most(2 * DOM_READ_LIMITS.attributeChars);
    expect(JSON.stringify(widgets).length).to.be.below(1_000_000);
    // A normal lesson is reported whole.
    expect(widgetsOf({ structure: [{ type: 'head-1', id: 'a' }, { type: 'text-1', id: 'b' }] })).to.deep.equal([{ type: 'head-1', id: 'a' }, { type: 'text-1', id: 'b' }]);
  });
});
