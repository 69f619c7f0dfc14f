import type { ContentLanguage } from '../model/document.ts';
import type { WidgetType } from '../model/widgets.ts';
import type { GradeBand } from './grades.ts';
import type { Subject } from './subjects.ts';

/** Localized text. */
export type Localized = Record<ContentLanguage, string>;

/** A step of a lesson plan, before localization: which slot it fills. */
export type Slot = 'header' | 'objectives' | 'hook' | 'core' | 'visual' | 'subject-media' | 'video' | 'steps' | 'vocabulary' | 'check' | 'self-check';

/** Which slots each grade band's lesson has, in order. Deterministic data, the source of every plan. */
export const BAND_SLOTS: Record<GradeBand, readonly Slot[]> = {
  early: ['header', 'hook', 'visual', 'subject-media', 'vocabulary', 'check', 'self-check'],
  middle: ['header', 'hook', 'video', 'core', 'subject-media', 'steps', 'vocabulary', 'check'],
  high: ['header', 'objectives', 'hook', 'core', 'subject-media', 'video', 'vocabulary', 'check', 'self-check'],
};

/** How many quiz questions and flashcards each band gets (clamped to the validation limits by the planner). */
export const BAND_COUNTS: Record<GradeBand, { questions: number; cards: number; choices: number }> = {
  early: { questions: 5, cards: 8, choices: 3 },
  middle: { questions: 8, cards: 10, choices: 4 },
  high: { questions: 10, cards: 12, choices: 4 },
};

/** The widget a slot uses, and for subject-media the widget each subject prefers. */
export const SLOT_WIDGETS: Record<Exclude<Slot, 'subject-media'>, WidgetType> = {
  header: 'head-1', objectives: 'list-1', hook: 'text-1', core: 'text-1', visual: 'image-1', video: 'video-1', steps: 'list-1', vocabulary: 'flashcards-1', check: 'quiz-1', 'self-check': 'list-1',
};

/** The interactive or media widget each subject benefits from most; `generic` when the subject is not recognized. */
export const SUBJECT_MEDIA: Record<Subject | 'generic', { widget: WidgetType; purpose: Localized; why: Localized }> = {
  science: {
    widget: 'hotspots-1',
    purpose: { pt_br: 'Explorar um diagrama (célula, órgão, ciclo) ponto a ponto.', en: 'Explore a diagram (a cell, an organ, a cycle) point by point.' },
    why: { pt_br: 'Em Ciências, nomear as partes de um sistema sobre a própria imagem fixa a estrutura e a função.', en: 'In science, naming the parts of a system on the image itself ties structure to function.' },
  },
  math: {
    widget: 'list-1',
    purpose: { pt_br: 'Resolver um exemplo passo a passo.', en: 'Work through an example step by step.' },
    why: { pt_br: 'Em Matemática, uma lista numerada mostra o raciocínio em etapas que o aluno pode repetir.', en: 'In math, a numbered list shows the reasoning as steps the learner can repeat.' },
  },
  history: {
    widget: 'gallery-1',
    purpose: { pt_br: 'Analisar fontes: imagens, documentos e uma linha do tempo.', en: 'Look at sources: pictures, documents and a timeline.' },
    why: { pt_br: 'Em História, comparar fontes lado a lado desenvolve a leitura crítica do passado.', en: 'In history, comparing sources side by side builds critical reading of the past.' },
  },
  geography: {
    widget: 'hotspots-1',
    purpose: { pt_br: 'Explorar um mapa com pontos que explicam cada lugar.', en: 'Explore a map with points that explain each place.' },
    why: { pt_br: 'Em Geografia, localizar no mapa liga o conceito ao espaço.', en: 'In geography, locating things on a map links the concept to space.' },
  },
  language: {
    widget: 'text-1',
    purpose: { pt_br: 'Ler um texto modelo (trecho, poema, notícia).', en: 'Read a model text (an excerpt, a poem, an article).' },
    why: { pt_br: 'Em Língua, o próprio texto é o material: ler antes de analisar.', en: 'In language, the text itself is the material: read before analysing.' },
  },
  arts: {
    widget: 'gallery-1',
    purpose: { pt_br: 'Apreciar obras: uma galeria com legendas.', en: 'Look at works of art: a captioned gallery.' },
    why: { pt_br: 'Em Artes, ver várias obras permite comparar estilos, técnicas e épocas.', en: 'In arts, seeing several works lets learners compare styles, techniques and periods.' },
  },
  generic: {
    widget: 'image-1',
    purpose: { pt_br: 'Mostrar uma imagem que ilustre o conceito central.', en: 'Show an image that illustrates the central idea.' },
    why: { pt_br: 'Uma imagem dá um ponto de apoio visual a qualquer tema.', en: 'An image gives any topic a visual anchor.' },
  },
};

/** Purpose, reason and suggested title of each slot (subject-media takes its texts from SUBJECT_MEDIA). */
export const SLOT_TEXTS: Record<Exclude<Slot, 'subject-media'>, { purpose: Localized; why: Localized; title: Localized }> = {
  header: {
    purpose: { pt_br: 'Cabeçalho da aula: disciplina, série e autor.', en: 'Lesson header: subject, grade and author.' },
    why: { pt_br: 'Toda composição começa com um head-1 (o construtor o cria a partir do título, disciplina, série e autor).', en: 'Every composition starts with a head-1 (the builder makes it from the title, subject, grade and author).' },
    title: { pt_br: '', en: '' },
  },
  objectives: {
    purpose: { pt_br: 'Objetivos de aprendizagem.', en: 'Learning objectives.' },
    why: { pt_br: 'No Ensino Médio, objetivos explícitos orientam o estudo autônomo.', en: 'In high school, explicit objectives guide independent study.' },
    title: { pt_br: 'O que você vai aprender', en: 'What you will learn' },
  },
  hook: {
    purpose: { pt_br: 'Introdução: uma pergunta ou situação do dia a dia sobre o tema.', en: 'Introduction: a question or everyday situation about the topic.' },
    why: { pt_br: 'Um texto curto que desperta curiosidade prepara o aluno para o conteúdo.', en: 'A short text that sparks curiosity prepares the learner for the content.' },
    title: { pt_br: 'Para começar', en: 'Getting started' },
  },
  core: {
    purpose: { pt_br: 'Explicação do conceito central, em parágrafos curtos.', en: 'Explanation of the central idea, in short paragraphs.' },
    why: { pt_br: 'O text-1 comporta a explicação principal com ênfases e links.', en: 'text-1 holds the main explanation with emphasis and links.' },
    title: { pt_br: 'Entendendo o tema', en: 'Understanding the topic' },
  },
  visual: {
    purpose: { pt_br: 'Uma imagem grande e clara do tema.', en: 'A large, clear picture of the topic.' },
    why: { pt_br: 'Nos anos iniciais, a imagem sustenta a leitura ainda em desenvolvimento.', en: 'In the early years, a picture supports reading that is still developing.' },
    title: { pt_br: 'Observe', en: 'Look closely' },
  },
  video: {
    purpose: { pt_br: 'Um vídeo curto (até 5 minutos) que mostra o tema em ação.', en: 'A short video (up to 5 minutes) showing the topic in action.' },
    why: { pt_br: 'O vídeo traz movimento e exemplos reais que o texto não mostra.', en: 'Video brings motion and real examples text cannot show.' },
    title: { pt_br: 'Assista', en: 'Watch' },
  },
  steps: {
    purpose: { pt_br: 'Pontos-chave ou etapas do processo, em ordem.', en: 'Key points or the steps of the process, in order.' },
    why: { pt_br: 'Uma lista numerada resume o essencial para revisão.', en: 'A numbered list sums up the essentials for review.' },
    title: { pt_br: 'Pontos-chave', en: 'Key points' },
  },
  vocabulary: {
    purpose: { pt_br: 'Vocabulário: termos do tema e seus significados.', en: 'Vocabulary: terms of the topic and their meanings.' },
    why: { pt_br: 'Flashcards ajudam a memorizar termos pela recuperação ativa.', en: 'Flashcards help learners remember terms through active recall.' },
    title: { pt_br: 'Palavras importantes', en: 'Key words' },
  },
  check: {
    purpose: { pt_br: 'Verificação da aprendizagem com questões de múltipla escolha.', en: 'Check understanding with multiple-choice questions.' },
    why: { pt_br: 'O quiz dá retorno imediato ao aluno e mostra o que revisar.', en: 'The quiz gives learners immediate feedback and shows what to review.' },
    title: { pt_br: 'Teste seus conhecimentos', en: 'Check your understanding' },
  },
  'self-check': {
    purpose: { pt_br: 'Autoavaliação: "Eu consigo…" para marcar.', en: 'Self-assessment: "I can…" statements to tick.' },
    why: { pt_br: 'Uma lista de verificação faz o aluno refletir sobre o que aprendeu.', en: 'A checklist makes learners reflect on what they learned.' },
    title: { pt_br: 'O que eu aprendi', en: 'What I learned' },
  },
};

/** The outline section type each widget is written as in composer_build_composition. */
export const OUTLINE_SECTION_OF: Record<WidgetType, string> = {
  'head-1': '(automatic)', 'text-1': 'text', 'quiz-1': 'quiz', 'flashcards-1': 'flashcards', 'list-1': 'list',
  'image-1': 'image', 'video-1': 'video', 'gallery-1': 'gallery', 'hotspots-1': 'hotspots',
};

/** List style for list slots. */
export const SLOT_LIST_STYLE: Partial<Record<Slot, 'numbered' | 'bullet' | 'checkbox'>> = { objectives: 'bullet', steps: 'numbered', 'self-check': 'checkbox' };
