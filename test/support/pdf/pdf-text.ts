import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

/** The text of every page of `pdf`, pages joined by newlines (Mozilla's PDF.js, as a reader would extract it). */
export async function pdfText(pdf: Uint8Array): Promise<{ text: string; pages: number }> {
  const task = getDocument({ data: new Uint8Array(pdf), useSystemFonts: false, verbosity: 0 });
  try {
    const document = await task.promise;
    const pages: string[] = [];
    for (let n = 1; n <= document.numPages; n++) {
      const page = await document.getPage(n);
      const content = await page.getTextContent();
      pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
    }
    return { text: pages.join('\n'), pages: document.numPages };
  } finally {
    await task.destroy();
  }
}
