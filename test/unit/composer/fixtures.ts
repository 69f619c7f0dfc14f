import type { LessonOutlineInput } from '#server/composer/builder/outline.ts';

/** A quiz question with one right and two wrong choices. */
export function question(n: number): { question: string; choices: { text: string; correct: boolean }[] } {
  return { question: `Question ${n}?`, choices: [{ text: `Right ${n}`, correct: true }, { text: `Wrong ${n}a`, correct: false }, { text: `Wrong ${n}b`, correct: false }] };
}

/** A lesson outline with one section of every type, within the default limits (5 questions, 8 cards). */
export function fullOutline(overrides: Partial<LessonOutlineInput> = {}): LessonOutlineInput {
  return {
    title: 'Fotossíntese',
    description: 'Como as plantas produzem alimento.',
    subject: 'Ciências',
    grade: '7º ano',
    author: { name: 'Ana Souza', office: 'Professora de Ciências' },
    language: 'pt_br',
    sections: [
      { type: 'text', title: 'Para começar', body: 'Plants make food.\n\nThey use light & water <script>alert(1)</script>.' },
      { type: 'quiz', title: 'Quiz', questions: [1, 2, 3, 4, 5].map(question) },
      { type: 'flashcards', cards: Array.from({ length: 8 }, (_, i) => ({ front: `Term ${i}`, back: `Meaning ${i}` })) },
      { type: 'list', style: 'checkbox', items: ['I can explain photosynthesis', 'I can name its products'] },
      { type: 'image', url: 'https://example.org/cell.png', caption: 'A plant cell' },
      { type: 'video', url: 'https://example.org/video.mp4', title: 'Watch' },
      { type: 'gallery', images: [{ url: 'https://example.org/leaf-1.png', caption: 'Leaf' }, { url: 'https://example.org/leaf-2.png' }] },
      { type: 'hotspots', image: 'https://example.org/cell.png', spots: [{ x: 10, y: 20, title: 'Chloroplast', body: 'Light becomes food here.' }] },
    ],
    ...overrides,
  };
}
