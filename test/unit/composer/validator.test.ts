import { expect } from 'chai';
import { buildCompositionFromInput } from '#server/composer/builder/build-composition.ts';
import { checkHtml, isUnsafeUrl } from '#server/composer/validator/html-check.ts';
import { DEFAULT_VALIDATION_LIMITS } from '#server/composer/validator/limits.ts';
import type { ValidationProblem } from '#server/composer/validator/problem.ts';
import { validateComposition } from '#server/composer/validator/validate-composition.ts';
import { fullOutline, question } from './fixtures.ts';

type Doc = Record<string, unknown> & { structure: Record<string, unknown>[]; metadata: Record<string, unknown> };
type Quiz = { questions: Record<string, unknown>[] & { choices?: Record<string, unknown>[] }[] };

function documentFixture(): Doc {
  return buildCompositionFromInput(fullOutline()) as unknown as Doc;
}

function problemsOf(document: unknown, limits = DEFAULT_VALIDATION_LIMITS): ValidationProblem[] {
  return validateComposition(document, limits).problems;
}

function find(problems: ValidationProblem[], rule: string): ValidationProblem[] {
  return problems.filter((p) => p.rule === rule);
}

describe('validator', () => {
  it('reports "answers" instead of "choices" once, at the question, with the rename as fix', () => {
    const document = documentFixture();
    const quiz = document.structure[2] as unknown as Quiz;
    const first = quiz.questions[0] as Record<string, unknown>;
    first['answers'] = first['choices'];
    delete first['choices'];
    const problems = problemsOf(document);
    expect(find(problems, 'quiz-choices-key')).to.deep.equal([{
      path: '$.structure[2].questions[0].answers', rule: 'quiz-choices-key', severity: 'error',
      message: 'The question uses "answers"; the Composer reads the options from "choices".', fix: 'Rename "answers" to "choices" (each choice: { id, text, correct }).',
    }]);
    expect(problems.filter((p) => p.path.startsWith('$.structure[2].questions[0]'))).to.have.length(1);
  });

  it('requires at least one correct choice per question, pointing at its choices', () => {
    const document = documentFixture();
    const quiz = document.structure[2] as unknown as { questions: { choices: { correct: boolean }[] }[] };
    for (const choice of quiz.questions[3]?.choices ?? []) choice.correct = false;
    const [problem, ...rest] = find(problemsOf(document), 'quiz-correct-choice');
    expect(rest).to.deep.equal([]);
    expect(problem).to.include({ path: '$.structure[2].questions[3].choices', severity: 'error' });
    expect(problem?.fix).to.match(/"correct": true/);
  });

  it('enforces quiz and flashcard counts from configurable limits', () => {
    const document = documentFixture();
    (document.structure[2] as unknown as Quiz).questions.splice(2);
    const problems = problemsOf(document);
    expect(find(problems, 'quiz-question-count')[0]).to.include({ path: '$.structure[2].questions', severity: 'error' });
    expect(find(problems, 'quiz-question-count')[0]?.message).to.match(/2 questions; between 5 and 15/);
    expect(find(problemsOf(document, { ...DEFAULT_VALIDATION_LIMITS, quizMinQuestions: 2 }), 'quiz-question-count')).to.deep.equal([]);

    const cards = documentFixture();
    const flash = cards.structure[3] as { cards: unknown[] };
    flash.cards = [...flash.cards, ...flash.cards, ...flash.cards, ...flash.cards].map((c, i) => ({ ...(c as object), id: `card-${i}` }));
    expect(find(problemsOf(cards), 'flashcards-card-count')[0]).to.include({ path: '$.structure[3].cards', severity: 'error' });
    expect(find(problemsOf(cards, { ...DEFAULT_VALIDATION_LIMITS, flashcardsMaxCards: 40 }), 'flashcards-card-count')).to.deep.equal([]);
  });

  it('reports duplicate ids with the path of the repeat and of the first use', () => {
    const document = documentFixture();
    const quiz = document.structure[2] as unknown as { questions: { id: string }[] };
    const duplicate = document.structure[1]?.['id'] as string;
    (quiz.questions[1] as { id: string }).id = duplicate;
    const [problem] = find(problemsOf(document), 'unique-ids');
    expect(problem).to.include({ path: '$.structure[2].questions[1].id', severity: 'error' });
    expect(problem?.message).to.include('$.structure[1].id');
  });

  it('requires a head-1 first and warns about a second one', () => {
    const document = documentFixture();
    document.structure.reverse();
    const problems = problemsOf(document);
    expect(find(problems, 'head-first')[0]).to.include({ path: '$.structure[0]', severity: 'error' });
    expect(find(problems, 'single-head')[0]).to.include({ path: '$.structure[8]', severity: 'warning' });
    expect(find(problemsOf({ ...documentFixture(), structure: [] }), 'head-first')[0]).to.include({ path: '$.structure' });
  });

  it('warns when a widget id is a UUID of another version than the time-based v1', () => {
    const document = documentFixture();
    document.structure[1]!['id'] = '3b241101-e2bb-4255-8caf-4136c566a962';
    expect(problemsOf(document)).to.deep.equal([{ path: '$.structure[1].id', rule: 'time-based-id', severity: 'warning', message: 'The widget id is a UUID but not a time-based (v1) one, as the Composer makes them.', fix: 'Use a v1 UUID (composer_build_composition generates them).' }]);
    document.structure[1]!['id'] = 'not-a-uuid';
    expect(problemsOf(document).map((p) => `${p.rule} ${p.severity}`)).to.deep.equal(['invalid-format error']);
  });

  it('lets unknown widget types pass with a warning that suggests the closest type', () => {
    const document = documentFixture();
    document.structure.push({ id: 'f47ac10b-58cc-11cf-a447-00aa00a0b0c1', type: 'quizz-1', anything: { goes: true } });
    const report = validateComposition(document);
    expect(report.valid).to.equal(true);
    expect(report.problems).to.have.length(1);
    expect(report.problems[0]).to.include({ path: '$.structure[9].type', rule: 'unknown-widget', severity: 'warning' });
    expect(report.problems[0]?.fix).to.include('"quiz-1"');
  });

  it('flags <script>, on*= handlers, javascript: URLs and active elements at the field path', () => {
    const document = documentFixture();
    document.structure[1]!['content'] = '<p>hi</p><script>alert(1)</script>';
    document.structure[5]!['caption'] = '<p><img src="x.png" onerror="alert(1)"></p>';
    document.structure[2]!['content_title'] = '<a href=" jav&#x61;script:alert(1)">x</a>';
    document.structure[7]!['content_title'] = '<iframe src="https://example.org"></iframe>';
    const problems = problemsOf(document);
    expect(find(problems, 'html-script')[0]).to.include({ path: '$.structure[1].content', severity: 'error' });
    expect(find(problems, 'html-event-handler')[0]).to.include({ path: '$.structure[5].caption', severity: 'error' });
    expect(find(problems, 'unsafe-url')[0]).to.include({ path: '$.structure[2].content_title', severity: 'error' });
    expect(find(problems, 'html-unsafe-tag')[0]).to.include({ path: '$.structure[7].content_title', severity: 'error' });
  });

  it('flags unclosed, stray and unterminated tags, and spec parse errors, where the value is markup', () => {
    expect(checkHtml('<p><b>bold</p>').map((f) => f.message)).to.deep.equal(['Tag <b> is never closed (near "<p><b>bold</p>").']);
    expect(checkHtml('<p>open')[0]?.message).to.equal('Tag <p> is never closed (near "<p>open").');
    expect(checkHtml('<p>x</p></div>')[0]?.message).to.equal('Closing tag </div> has no matching opening tag (near "<p>x</p></div>").');
    expect(checkHtml('<p>x</p><b')[0]).to.include({ rule: 'html-malformed', message: 'The HTML does not parse cleanly: eof-in-tag near "<p>x</p><b".' });
    expect(checkHtml('<p title="a" title="b">x</p>')[0]).to.include({ rule: 'html-malformed', fix: 'Give each attribute once (browsers keep only the first).' });
    expect(checkHtml('<p>a<br>b<img src="https://example.org/a.png"/></p>')).to.deep.equal([]);
    expect(checkHtml('<p>a</p><!-- note -->').map((f) => f.rule)).to.deep.equal(['html-comment']);
    // Plain text is not markup: a lone "<" is text in every context.
    expect(checkHtml('3 < 5 and 7 > 2')).to.deep.equal([]);
    const document = documentFixture();
    document.structure[1]!['content'] = '<p><em>unclosed</p>';
    expect(find(problemsOf(document), 'html-malformed')[0]).to.include({ path: '$.structure[1].content' });
  });

  it('recognises script URLs hidden with entities, case and whitespace', () => {
    for (const url of ['javascript:alert(1)', 'JaVaScRiPt:x', ' java\tscript:x', 'jav&#x61;script:x', '&#106;avascript:x', 'javascript&colon;x', 'vbscript:x', 'data:text/html,<b>']) {
      expect(isUnsafeUrl(url), url).to.equal(true);
    }
    for (const url of ['https://example.org/javascript:x', 'http://a.b/c', 'mailto:a@b.c']) expect(isUnsafeUrl(url), url).to.equal(false);
  });

  it('maps schema errors to paths and fixes: missing, wrong type, bad enum, bad URL, unknown field', () => {
    const document = documentFixture();
    delete document.structure[1]!['content'];
    document.structure[3]!['cards'] = 'none';
    document.structure[4]!['list_style'] = 'stars';
    document.structure[5]!['image'] = 'ftp://example.org/a.png';
    document.structure[6]!['autoplay'] = true;
    document.metadata['title'] = 42;
    delete document.structure[0]!['category'];
    delete (document.structure[2] as unknown as { questions: Record<string, unknown>[] }).questions[1]!['question'];
    const problems = problemsOf(document);
    const at = (path: string) => problems.find((p) => p.path === path);
    expect(at('$.structure[1].content')).to.include({ rule: 'required-field', severity: 'error' });
    expect(at('$.structure[3].cards')).to.include({ rule: 'wrong-type', severity: 'error' });
    expect(at('$.structure[4].list_style')).to.include({ rule: 'invalid-value' });
    expect(at('$.structure[4].list_style')?.fix).to.include('"numbered"');
    expect(at('$.structure[5].image')).to.include({ rule: 'invalid-format' });
    expect(at('$.structure[5].image')?.fix).to.match(/http\(s\)/);
    expect(at('$.structure[6].autoplay')).to.include({ rule: 'unknown-field', severity: 'warning' });
    expect(at('$.metadata.title')).to.include({ rule: 'wrong-type' });
    expect(at('$.structure[0].category')?.fix).to.equal('Add "category" (string): Category line, e.g. subject and grade. HTML fragment, e.g. "<p>…</p>".');
    expect(at('$.structure[2].questions[1].question')?.fix).to.match(/^Add "question" \(string\): The question\./);
    const noStyle = documentFixture();
    delete noStyle.structure[4]!['list_style'];
    expect(problemsOf(noStyle)).to.deep.equal([{ path: '$.structure[4].list_style', rule: 'required-field', severity: 'error', message: 'Required field "list_style" is missing.', fix: 'Add "list_style": one of "numbered", "bullet", "checkbox".' }]);
  });

  it('refuses URL fields of the model that point at this machine or an internal network, as it does URLs inside HTML', () => {
    for (const host of ['localhost', '127.0.0.1', '2130706433', '[::1]', '[::ffff:127.0.0.1]', '10.1.2.3', '192.168.1.1', '169.254.169.254', '100.64.0.1', '[fd00::1]']) {
      const document = documentFixture();
      document.structure[0]!['avatar'] = `http://${host}/me.png`;
      document.structure[0]!['background_image'] = `https://${host}/bg.png`;
      document.structure[5]!['image'] = `http://${host}:8080/a.png`;
      const problems = problemsOf(document);
      for (const path of ['$.structure[0].avatar', '$.structure[0].background_image', '$.structure[5].image']) {
        const problem = problems.find((p) => p.path === path);
        expect(problem, `${host} ${path}`).to.include({ rule: 'unsafe-url', severity: 'error' });
        expect(problem?.fix).to.match(/public host/);
      }
      // The same host inside HTML is refused by the same rule.
      expect(checkHtml(`<p><img src="http://${host}/x.png"></p>`).map((f) => f.rule), host).to.deep.equal(['unsafe-url']);
    }
    const document = documentFixture();
    document.structure[0]!['avatar'] = 'https://example.org/me.png';
    document.structure[5]!['image'] = 'http://8.8.8.8/a.png';
    expect(problemsOf(document)).to.deep.equal([]);
  });

  it('bounds its input: non-objects, oversized and over-deep documents get one clear error', () => {
    expect(problemsOf('text')[0]).to.include({ path: '$', rule: 'wrong-type' });
    expect(problemsOf([])[0]).to.include({ rule: 'wrong-type' });
    const big = documentFixture();
    big.structure[1]!['content'] = `<p>${'x'.repeat(99_000)}</p>`;
    expect(problemsOf(big, { ...DEFAULT_VALIDATION_LIMITS, maxDocumentBytes: 50_000 })).to.deep.equal([{
      path: '$', rule: 'document-size', severity: 'error', message: `The document is ${Buffer.byteLength(JSON.stringify(big))} bytes; at most 50000 are accepted.`, fix: 'Split the lesson into several compositions or shorten its content.',
    }]);
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i += 1) deep = { a: deep };
    const started = performance.now();
    expect(problemsOf({ ...documentFixture(), extra: deep })[0]).to.include({ rule: 'document-depth' });
    expect(performance.now() - started).to.be.lessThan(2000);
    const many = documentFixture();
    many.structure = Array.from({ length: 600 }, () => ({ ...many.structure[1] }));
    expect(find(problemsOf(many), 'widget-count')).to.have.length(1);
  });

  it('caps the number of problems listed', () => {
    const document = documentFixture();
    const quiz = document.structure[2] as unknown as Quiz;
    quiz.questions = Array.from({ length: 100 }, (_, i) => ({ ...question(i), id: 'same', choices: [{ id: 'same', text: '<b>', correct: false }, { id: 'same', text: '<i>', correct: false }] }));
    const report = validateComposition(document);
    expect(report.problems.length).to.equal(201);
    expect(report.problems.at(-1)).to.include({ rule: 'too-many-problems' });
  });
});
