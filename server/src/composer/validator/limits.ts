/**
 * Content limits the validator enforces. These are the earlier project's own rules (composer.md), not platform
 * facts, so they are configurable; the defaults below keep them.
 */
export interface ValidationLimits {
  /** Fewest questions a quiz-1 widget may have. */
  quizMinQuestions: number;
  /** Most questions a quiz-1 widget may have. */
  quizMaxQuestions: number;
  /** Fewest cards a flashcards-1 widget may have. */
  flashcardsMinCards: number;
  /** Most cards a flashcards-1 widget may have. */
  flashcardsMaxCards: number;
  /** Largest serialized composition (UTF-8 bytes of its JSON) the validator accepts. */
  maxDocumentBytes: number;
  /** Most widgets a composition may have in `structure`. */
  maxWidgets: number;
}

/** The default limits: quiz 5–15 questions, flashcards 8–25 cards, 2 MiB documents, 500 widgets. */
export const DEFAULT_VALIDATION_LIMITS: Readonly<ValidationLimits> = Object.freeze({
  quizMinQuestions: 5,
  quizMaxQuestions: 15,
  flashcardsMinCards: 8,
  flashcardsMaxCards: 25,
  maxDocumentBytes: 2 * 1024 * 1024,
  maxWidgets: 500,
});
