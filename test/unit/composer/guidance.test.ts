import { expect } from 'chai';
import { parseGrade } from '#server/composer/guidance/grades.ts';
import { planLesson } from '#server/composer/guidance/plan-lesson.ts';
import type { LessonPlan } from '#server/composer/guidance/plan-lesson.ts';
import { recognizeSubject } from '#server/composer/guidance/subjects.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';

function plan(topic: string, subject: string, grade: string, language: 'pt_br' | 'en' = 'pt_br', limits = DEFAULT_VALIDATION_LIMITS): LessonPlan {
  const parsed = parseGrade(grade, language);
  if (!parsed) throw new Error(`grade ${grade} not parsed`);
  return planLesson({ topic, subject, grade: parsed, language }, limits);
}

describe('guidance', () => {
  it('understands grades in English and Portuguese', () => {
    const cases: [string, string, number | null][] = [
      ['7th grade', 'middle', 7], ['grade 3', 'early', 3], ['7 ano', 'middle', 7], ['7º ano', 'middle', 7], ['7o ano', 'middle', 7],
      ['ensino médio', 'high', null], ['2ª série do ensino médio', 'high', 11], ['1º ano do Ensino Médio', 'high', 10], ['11th grade', 'high', 11],
      ['anos iniciais', 'early', null], ['middle school', 'middle', null],
    ];
    for (const [input, band, year] of cases) {
      expect(parseGrade(input, 'pt_br'), input).to.include({ band, year });
    }
    expect(parseGrade('banana', 'en')).to.equal(undefined);
    expect(parseGrade('7º ano', 'en')?.label).to.equal('Grade 7 (Middle school)');
  });

  it('recognises subjects with or without accents, in either language', () => {
    expect(recognizeSubject('Ciências')).to.equal('science');
    expect(recognizeSubject('MATEMÁTICA')).to.equal('math');
    expect(recognizeSubject('history')).to.equal('history');
    expect(recognizeSubject('Língua Portuguesa')).to.equal('language');
    expect(recognizeSubject('Astrology')).to.equal(undefined);
  });

  it('plans a middle-school science lesson in Portuguese: header first, hotspots for diagrams, quiz last', () => {
    const p = plan('Fotossíntese', 'Ciências', '7º ano');
    expect(p.sections[0]).to.include({ widget: 'head-1', order: 1 });
    expect(p.sections.map((s) => s.widget)).to.include('hotspots-1');
    expect(p.sections.at(-1)).to.include({ widget: 'quiz-1', outlineSection: 'quiz', suggestedCount: 8 });
    expect(p.subject).to.deep.equal({ input: 'Ciências', key: 'science', label: 'Ciências', recognized: true });
    expect(p.sections[1]?.purpose).to.match(/Introdução/);
    expect(p.widgets.map((w) => w.type)[0]).to.equal('head-1');
    expect(new Set(p.widgets.map((w) => w.type)).size).to.equal(p.widgets.length);
  });

  it('plans differently by grade band and subject, in English', () => {
    const early = plan('Shapes', 'math', '2nd grade', 'en');
    const high = plan('World War I', 'history', 'high school', 'en');
    expect(early.sections.find((s) => s.widget === 'quiz-1')).to.include({ suggestedCount: 5, suggestedChoices: 3 });
    expect(early.sections.some((s) => s.widget === 'list-1' && s.listStyle === 'numbered')).to.equal(true);
    expect(high.sections.map((s) => s.widget)).to.include.members(['gallery-1', 'video-1']);
    expect(high.sections.find((s) => s.widget === 'flashcards-1')?.suggestedCount).to.equal(12);
    expect(high.sections[1]?.purpose).to.equal('Learning objectives.');
    expect(plan('Maps', 'Geografia', '6 ano').sections.map((s) => s.widget)).to.include('hotspots-1');
    expect(plan('Impressionism', 'Artes', '9º ano').sections.map((s) => s.widget)).to.include('gallery-1');
  });

  it('accepts other subjects with a generic plan and says so', () => {
    const p = plan('Budgeting', 'Financial education', '8th grade', 'en');
    expect(p.subject.recognized).to.equal(false);
    expect(p.sections.map((s) => s.widget)).to.include('image-1');
    expect(p.notes[0]).to.match(/not recognized/);
  });

  it('keeps suggested counts within the configured limits and is deterministic', () => {
    const limits = { ...DEFAULT_VALIDATION_LIMITS, quizMaxQuestions: 6, flashcardsMinCards: 11 };
    const p = plan('Fractions', 'math', '7th grade', 'en', limits);
    expect(p.sections.find((s) => s.widget === 'quiz-1')?.suggestedCount).to.equal(6);
    expect(p.sections.find((s) => s.widget === 'flashcards-1')?.suggestedCount).to.equal(11);
    expect(plan('Fractions', 'math', '7th grade', 'en', limits)).to.deep.equal(p);
  });
});

describe('completions of the lesson prompt\'s subject and grade', () => {
  it('offers subjects for a prefix in either language, ignoring accents and case', async () => {
    const { completeSubject } = await import('#server/composer/guidance/completions.ts');
    expect(completeSubject('Ci')).to.deep.equal(['Ciências']);
    expect(completeSubject('ci')).to.deep.equal(['Ciências']);
    expect(completeSubject('Sci')).to.deep.equal(['Science']);
    expect(completeSubject('ma')).to.include.members(['Matemática', 'Math']);
    expect(completeSubject('')).to.have.length(12);
    expect(completeSubject('xyz')).to.deep.equal([]);
  });

  it('offers grades for a year or a word, each one the guidance understands', async () => {
    const { completeGrade } = await import('#server/composer/guidance/completions.ts');
    const { parseGrade } = await import('#server/composer/guidance/grades.ts');
    expect(completeGrade('7')).to.include.members(['7º ano', '7th grade']);
    expect(completeGrade('1')).to.include.members(['1º ano', '1ª série do ensino médio', '1st grade', '10th grade']);
    expect(completeGrade('ens')).to.include('ensino médio');
    expect(completeGrade('high')).to.deep.equal(['high school']);
    for (const grade of completeGrade('')) expect(parseGrade(grade, 'pt_br'), grade).to.not.equal(undefined);
  });
});
