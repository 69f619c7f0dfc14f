import { z } from 'zod';
import { publicHttpUrl } from '../model/common.ts';
import { CONTENT_LANGUAGES } from '../model/document.ts';
import { LIST_STYLES } from '../model/list-1.ts';

const MAX_TEXT = 20_000;
const plain = (description: string, max = 2000) => z.string().trim().min(1).max(max).describe(`${description} Plain text (it is escaped; HTML is shown literally).`);
const url = (description: string) => publicHttpUrl().describe(`${description} Absolute http(s) URL of a public host.`);
const sectionTitle = z.string().trim().min(1).max(300).optional().describe('Optional title shown above the section (plain text).');

/** A text section: a title and a body of plain text (a string with blank lines between paragraphs, or paragraphs). */
export const textSectionSchema = z.strictObject({
  type: z.literal('text').describe('A block of text (becomes text-1).'),
  title: sectionTitle,
  body: z.union([z.string().trim().min(1).max(MAX_TEXT), z.array(z.string().max(MAX_TEXT)).min(1).max(100)]).describe('Plain text: one string (blank lines separate paragraphs) or an array of paragraphs.'),
}).describe('Text section → text-1.');

/** A quiz section: questions, each with choices marked correct or not. */
export const quizSectionSchema = z.strictObject({
  type: z.literal('quiz').describe('Multiple-choice questions (becomes quiz-1).'),
  title: sectionTitle,
  questions: z.array(z.strictObject({
    question: plain('The question.'),
    choices: z.array(z.strictObject({
      text: plain('The choice.', 500),
      correct: z.boolean().describe('True for a right answer; at least one per question.'),
    })).min(2).max(10).describe('2–10 choices; the key is "choices" (not "answers").'),
  })).min(1).max(100).describe('The questions (5–15 by default pass validation).'),
}).describe('Quiz section → quiz-1.');

/** A flashcards section: cards with a front and a back. */
export const flashcardsSectionSchema = z.strictObject({
  type: z.literal('flashcards').describe('Flip cards (becomes flashcards-1).'),
  title: sectionTitle,
  cards: z.array(z.strictObject({ front: plain('Front: term or prompt.', 500), back: plain('Back: meaning or answer.', 1000) })).min(1).max(100).describe('The cards (8–25 by default pass validation).'),
}).describe('Flashcards section → flashcards-1.');

/** A list section: numbered, bullet or checkbox items. */
export const listSectionSchema = z.strictObject({
  type: z.literal('list').describe('A list (becomes list-1).'),
  title: sectionTitle,
  style: z.enum(LIST_STYLES).default('bullet').describe('numbered, bullet (default) or checkbox.'),
  items: z.array(plain('An item.', 1000)).min(1).max(200).describe('The items, in order.'),
}).describe('List section → list-1.');

/** An image section. */
export const imageSectionSchema = z.strictObject({
  type: z.literal('image').describe('One image (becomes image-1).'),
  title: sectionTitle,
  url: url('The image.'),
  caption: plain('Caption under the image.', 1000).optional(),
}).describe('Image section → image-1.');

/** A video section. */
export const videoSectionSchema = z.strictObject({
  type: z.literal('video').describe('One video (becomes video-1).'),
  url: url('The video.'),
  title: sectionTitle,
}).describe('Video section → video-1.');

/** A gallery section. */
export const gallerySectionSchema = z.strictObject({
  type: z.literal('gallery').describe('A set of pictures (becomes gallery-1).'),
  title: sectionTitle,
  images: z.array(z.strictObject({ url: url('The picture.'), caption: plain('Caption.', 1000).optional() })).min(1).max(50).describe('The pictures.'),
}).describe('Gallery section → gallery-1.');

/** A hotspots section: an image and points on it. */
export const hotspotsSectionSchema = z.strictObject({
  type: z.literal('hotspots').describe('An interactive image (becomes hotspots-1).'),
  title: sectionTitle,
  image: url('The background image.'),
  spots: z.array(z.strictObject({
    x: z.number().min(0).max(100).describe('Horizontal position in percent of the width, from the left.'),
    y: z.number().min(0).max(100).describe('Vertical position in percent of the height, from the top.'),
    title: plain('Label of the point.', 300),
    body: plain('What the learner reads there.', 5000),
  })).min(1).max(50).describe('The points.'),
}).describe('Hotspots section → hotspots-1.');

/** One section of an outline; `type` picks the widget it becomes. */
export const outlineSectionSchema = z.discriminatedUnion('type', [
  textSectionSchema, quizSectionSchema, flashcardsSectionSchema, listSectionSchema,
  imageSectionSchema, videoSectionSchema, gallerySectionSchema, hotspotsSectionSchema,
]);

/** The author shown in the lesson header. */
export const authorSchema = z.strictObject({
  name: plain('Author name.', 200),
  office: plain('Author office or role, e.g. "Professora de Ciências".', 200).optional(),
}).describe('The author shown in the lesson header.');

/** A lesson outline: what a teacher (or a model) writes; the builder turns it into a full composition. */
export const lessonOutlineSchema = z.strictObject({
  title: plain('Lesson title.', 300),
  description: z.string().trim().max(2000).optional().describe('Short description of the lesson (plain text).'),
  subject: plain('Subject: science, math, history, geography, language, arts (Portuguese names work too) or any other.', 100),
  grade: plain('Grade, e.g. "7th grade", "7º ano", "ensino médio".', 100),
  author: authorSchema,
  language: z.enum(CONTENT_LANGUAGES).default('pt_br').describe('Content language: pt_br (default) or en.'),
  tags: z.array(z.string().trim().min(1).max(100)).max(20).optional().describe('Tags; defaults to the subject and the grade.'),
  sections: z.array(outlineSectionSchema).min(1).max(100).describe('The lesson body in order; a header (head-1) is added first automatically.'),
});

/** A lesson outline as given (defaults not yet applied). */
export type LessonOutlineInput = z.input<typeof lessonOutlineSchema>;
/** A lesson outline after parsing (defaults applied). */
export type LessonOutline = z.output<typeof lessonOutlineSchema>;
/** One parsed outline section. */
export type OutlineSection = z.output<typeof outlineSectionSchema>;
