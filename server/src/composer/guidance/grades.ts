import type { ContentLanguage } from '../model/document.ts';
import { foldText } from './subjects.ts';

/** Grade bands the guidance plans for: early years (1–5), middle years (6–9), high school (10–12 and beyond). */
export type GradeBand = 'early' | 'middle' | 'high';

/** A grade as understood: its band, the school year when known (1–12), and a display label. */
export interface ParsedGrade {
  input: string;
  band: GradeBand;
  year: number | null;
  label: string;
}

const BAND_LABELS: Record<GradeBand, Record<ContentLanguage, string>> = {
  early: { pt_br: 'Ensino Fundamental – anos iniciais', en: 'Elementary school' },
  middle: { pt_br: 'Ensino Fundamental – anos finais', en: 'Middle school' },
  high: { pt_br: 'Ensino Médio', en: 'High school' },
};

/** The band of a school year 1–12 (Brazilian years 1–9 of Ensino Fundamental, then 10–12). */
export function bandOfYear(year: number): GradeBand {
  if (year <= 5) return 'early';
  if (year <= 9) return 'middle';
  return 'high';
}

function label(band: GradeBand, year: number | null, language: ContentLanguage): string {
  if (year === null) return BAND_LABELS[band][language];
  if (language === 'en') return `Grade ${year} (${BAND_LABELS[band].en})`;
  return year >= 10 ? `${year - 9}º ano do Ensino Médio` : `${year}º ano (${BAND_LABELS[band].pt_br})`;
}

/**
 * Understands a grade written in English or Portuguese: "7th grade", "grade 7", "7 ano", "7º ano", "2ª série do
 * ensino médio", "ensino médio", "middle school", "anos iniciais", "kindergarten"… Returns undefined when it cannot.
 */
export function parseGrade(input: string, language: ContentLanguage): ParsedGrade | undefined {
  const text = foldText(input);
  const highSchool = /ensino medio|high school|\bem\b|secondary|senior|ensino superior|university|college|universidade|faculdade/.test(text);
  const number = /(\d{1,2})\s*(?:st|nd|rd|th|º|ª|°|o|a)?\s*(?:grade|ano|serie|year)/.exec(text)?.[1] ?? /(?:grade|year|ano|serie)\s*(\d{1,2})\b/.exec(text)?.[1] ?? /^(\d{1,2})$/.exec(text)?.[1];
  const n = number === undefined ? undefined : Number(number);
  if (highSchool) {
    const year = n !== undefined && n >= 1 && n <= 3 ? n + 9 : n !== undefined && n >= 10 && n <= 12 ? n : null;
    return { input, band: 'high', year, label: label('high', year, language) };
  }
  if (n !== undefined && n >= 1 && n <= 12) {
    return { input, band: bandOfYear(n), year: n, label: label(bandOfYear(n), n, language) };
  }
  if (/infantil|kindergarten|pre-?k|preschool|pre-escola|anos iniciais|fundamental i\b|fundamental 1\b|elementary|primary|primario/.test(text)) {
    return { input, band: 'early', year: null, label: label('early', null, language) };
  }
  if (/anos finais|fundamental ii\b|fundamental 2\b|middle school|junior high/.test(text)) {
    return { input, band: 'middle', year: null, label: label('middle', null, language) };
  }
  return undefined;
}

/** Examples of grades the parser understands, for error messages. */
export const GRADE_EXAMPLES = ['7th grade', 'grade 3', '7º ano', '7 ano', '2ª série do ensino médio', 'ensino médio', 'middle school', 'anos iniciais'];
