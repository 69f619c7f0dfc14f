import { z } from 'zod';
import { htmlField, itemIdSchema, widgetSchema } from './common.ts';

/** One flip card. Keys [open]: `front` and `back` are assumptions. */
export const flashcardSchema = z.strictObject({
  id: itemIdSchema,
  front: htmlField('Front of the card (term or prompt).').min(1).meta({ assumption: 'Key name "front" is a guess; composer.md only knows cards have a front and a back.' }),
  back: htmlField('Back of the card (definition or answer).').min(1).meta({ assumption: 'Key name "back" is a guess; composer.md only knows cards have a front and a back.' }),
});

/** `flashcards-1`: flip cards. [likely] a list of cards with a front and a back; exact keys [open]. */
export const flashcards1Schema = widgetSchema(
  {
    type: 'flashcards-1', title: 'Flashcards', description: 'Flip cards with a term or prompt on the front and its meaning on the back, for vocabulary and recall.', confidence: 'likely',
    assumptions: ['The widget holds a list of cards with a front and a back [likely]; the list key "cards" and the card keys are assumptions [open].'],
  },
  {
    cards: z.array(flashcardSchema).min(1).max(100).meta({ description: 'The cards, in order (the validator applies the configured count limits, 8–25 by default).', assumption: 'Key name "cards" is a guess.' }),
  },
);

/** A flashcards-1 widget as the schema outputs it. */
export type Flashcards1Widget = z.output<typeof flashcards1Schema>;
