import { PNG } from 'pngjs';

/**
 * A page script (run as an XSS hole of the app would run it) that runs `whenSettled` (script statements) once, as soon
 * as the lesson is there with its images and fonts loaded: the moment a capture may start early, inside the quiet
 * window readiness waits out.
 */
export function onceLessonSettled(whenSettled: string): string {
  return `
  (function () {
    var armed = false;
    function arm() {
      if (armed || !document.getElementById('composition')) return;
      if (Array.from(document.images).some(function (img) { return !img.complete; })) return;
      if (document.fonts && document.fonts.status !== 'loaded') return;
      armed = true;
      ${whenSettled}
    }
    new MutationObserver(arm).observe(document, { subtree: true, childList: true });
    document.addEventListener('load', function () { setTimeout(arm, 0); }, true);
    document.addEventListener('error', function () { setTimeout(arm, 0); }, true);
    if (document.fonts) document.fonts.addEventListener('loadingdone', arm);
  })();`;
}

/**
 * `afterMs` after the lesson settled, adds a 64 px red square placed by `placement` (CSS, e.g.
 * `position:fixed;right:0;bottom:0`) and says so in a console error the visit reports (`changed at <epoch ms>`).
 */
export function redSquareAfterLesson(afterMs: number, placement: string): string {
  return onceLessonSettled(`setTimeout(function () {
        var square = document.createElement('div');
        square.setAttribute('style', '${placement};width:64px;height:64px;background:#ff0000;z-index:2147483647');
        document.body.appendChild(square);
        console.error('changed at ' + Date.now());
      }, ${afterMs});`);
}

/** Whether the PNG's pixel at `pick(width, height)` is pure red (the attacks' marker colour). */
export function isRedAt(png: Buffer, pick: (width: number, height: number) => [x: number, y: number]): boolean {
  const image = PNG.sync.read(png);
  const [x, y] = pick(image.width, image.height);
  const at = (y * image.width + x) * 4;
  const [r, g, b] = [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
  return r > 240 && g < 16 && b < 16;
}

/** When the page said `<word> at <epoch ms>` in a console error the visit reports; undefined when it did not. */
export function saidAt(report: { consoleErrors: string[] }, word: string): number | undefined {
  const pattern = new RegExp(`${word} at (\\d+)`);
  const said = report.consoleErrors.map((m) => pattern.exec(m)).find((m) => m !== null);
  return said ? Number(said[1]) : undefined;
}
