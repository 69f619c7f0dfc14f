/**
 * HTML whose parse costs far more than its size: the HTML algorithm rebuilds every open formatting element (one
 * per distinct attribute set; the "Noah's ark" clause only folds identical ones) at each text after a block has
 * closed them. `formattingBomb(n, m)` opens `n` distinct `<b>` inside a `<div>`, closes the div, then writes `m`
 * `<div>x</div>`: each `x` rebuilds the `n` elements, n × m in all, from 2 + n + 2m `<` (6 002 `<` in 80 KB make
 * 4.5 million elements).
 */
export function formattingBomb(n: number, m: number): string {
  let html = '<div>';
  for (let i = 0; i < n; i += 1) html += `<b title="${i}">`;
  html += '</div>';
  return html + '<div>x</div>'.repeat(m);
}

/** The same rebuild, with the formatting elements an allowlist keeps anyway (`<a href>` to a public host). */
export function anchorBomb(n: number, m: number): string {
  let html = '<div>';
  for (let i = 0; i < n; i += 1) html += `<i lang="x-${i}">`;
  html += '</div>';
  return html + '<p>x</p>'.repeat(m);
}
