// A second Composer app, written apart from composer-app.js from the same contract (reference/composer.md) and
// shaped like a React single-page app: a shell renders first, the data is fetched after "mount" (the sign-in check,
// then the read of the composition with access_token/project_key/api_env query parameters, which composer.md also
// saw), state updates render later, in chunks, in markup of its own (classes, no data attributes; unknown widget
// types render nothing). Nothing here may be relied on by the server: it is the "Composer we did not write".
// Render switches (config.render): delayMs, placeholder, stepMs, maxWidgets (see faults.ts). It reports a finished
// render to the API origin's test-only /__standin/rendered, as composer-app.js does.
(function () {
  'use strict';
  var cfg = window.COMPOSER_STANDIN_CONFIG || {};
  var api = String(cfg.apiUrl || '').replace(/\/+$/, '');
  var opts = cfg.render || {};
  var mount = document.getElementById('root');

  var css = document.createElement('style');
  css.textContent = [
    '.shell { font-family: Lato, Arial, sans-serif; color: #222; }',
    '.shell-bar { display: flex; align-items: center; gap: 12px; height: 48px; padding: 0 16px; background: #1d3557; color: #fff; }',
    '.shell-bar .menu { margin-left: auto; display: flex; gap: 6px; }',
    '.shell-bar .menu span { padding: 4px 8px; border-radius: 3px; background: rgba(255,255,255,.15); font-size: 13px; }',
    '.page { max-width: 900px; margin: 24px auto; padding: 0 16px; }',
    '.skel { height: 20px; margin: 10px 0; border-radius: 4px; background: linear-gradient(90deg, #eee, #f6f6f6, #eee); }',
    '.spin { color: #888; font-size: 14px; }',
    '.lsn-title { text-transform: uppercase; letter-spacing: .04em; font-size: 26px; margin: 0 0 16px; }',
    '.blk { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 16px; margin: 0 0 16px; }',
    '.blk h3 { margin: 0 0 8px; font-size: 18px; }',
    '.card { display: inline-block; width: 160px; margin: 4px; padding: 12px; border: 1px solid #ccd; border-radius: 6px; }',
    '.card .back { display: none; }',
    '.tip { display: none; }',
    '.pin { margin: 2px; }',
    'figure { margin: 0; }',
    'figure img { max-width: 100%; min-height: 40px; background: #eef; }',
  ].join('\n');
  document.head.appendChild(css);

  function h(tag, props, kids) {
    var n = document.createElement(tag);
    if (props) for (var k in props) {
      if (!Object.prototype.hasOwnProperty.call(props, k) || props[k] == null) continue;
      if (k === 'className') n.className = props[k];
      else if (k === 'html') n.innerHTML = String(props[k]);
      else n.setAttribute(k, String(props[k]));
    }
    (kids || []).forEach(function (c) { if (c != null) n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return n;
  }

  function stored(key) {
    try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; }
  }
  function accessToken() { var u = stored('rdp-composer-user-data'); return u && typeof u.access_token === 'string' ? u.access_token : ''; }
  function projectUid() { var p = stored('rdp-composer-active-project'); return p && typeof p.uid === 'string' ? p.uid : ''; }

  // --- components -------------------------------------------------------------------------------------------
  function Heading(w) { return w.content_title ? h('h3', { html: w.content_title }) : null; }
  var blocks = {
    'head-1': function (w) {
      return h('header', { className: 'blk blk-head' }, [
        w.show_category === false ? null : h('div', { className: 'kicker', html: w.category }),
        w.show_author_name === false ? null : h('div', { className: 'byline' }, [h('span', { html: w.author_name }), w.author_office ? h('small', { html: w.author_office }) : null]),
      ]);
    },
    'text-1': function (w) { return h('article', { className: 'blk' }, [Heading(w), h('div', { className: 'rich', html: w.content })]); },
    'quiz-1': function (w) {
      return h('div', { className: 'blk quiz' }, [Heading(w), h('ol', {}, (w.questions || []).map(function (q) {
        return h('li', {}, [h('div', { className: 'q', html: q.question }), h('div', { className: 'opts' }, (q.choices || []).map(function (c) { return h('button', { className: 'opt', type: 'button', html: c.text }); }))]);
      }))]);
    },
    'flashcards-1': function (w) {
      return h('div', { className: 'blk deck' }, [Heading(w)].concat((w.cards || []).map(function (c) {
        return h('div', { className: 'card' }, [h('div', { className: 'front', html: c.front }), h('div', { className: 'back', html: c.back })]);
      })));
    },
    'list-1': function (w) {
      return h('div', { className: 'blk' }, [Heading(w), h(w.list_style === 'bullet' ? 'ul' : 'ol', {}, (w.items || []).map(function (i) { return h('li', { html: i.text }); }))]);
    },
    'image-1': function (w) {
      return h('figure', { className: 'blk' }, [Heading(w), h('img', { src: w.image, alt: '' }), w.caption ? h('figcaption', { html: w.caption }) : null]);
    },
    'video-1': function (w) { return h('div', { className: 'blk' }, [Heading(w), h('video', { src: w.video, controls: '', preload: 'none' })]); },
    'gallery-1': function (w) {
      return h('div', { className: 'blk' }, [Heading(w)].concat((w.images || []).map(function (i) {
        return h('figure', {}, [h('img', { src: i.image, alt: '' }), i.caption ? h('figcaption', { html: i.caption }) : null]);
      })));
    },
    'hotspots-1': function (w) {
      return h('div', { className: 'blk' }, [Heading(w), h('img', { src: w.image, alt: '' })].concat((w.hotspots || []).map(function (p) {
        return h('span', {}, [h('button', { className: 'pin', type: 'button', html: p.title }), h('div', { className: 'tip', html: p.content })]);
      })));
    },
  };

  function Shell(editor, body) {
    var bar = h('div', { className: 'shell-bar' }, [h('strong', {}, ['Composer'])].concat(editor ? [h('nav', { className: 'menu' }, ['Nova composição', 'Salvar composição', 'Configurações', 'Histórico de versões', 'Preview'].map(function (t) { return h('span', {}, [t]); }))] : []));
    return h('div', { className: 'shell' }, [bar, h('div', { className: 'page' }, body)]);
  }

  function Loading() {
    return opts.placeholder ? [h('p', { className: 'spin', 'aria-busy': 'true' }, ['Carregando…']), h('div', { className: 'skel' }), h('div', { className: 'skel' }), h('div', { className: 'skel' })] : [];
  }

  // --- "state" and commits -------------------------------------------------------------------------------------
  function commit(tree) {
    while (mount.firstChild) mount.removeChild(mount.firstChild);
    mount.appendChild(tree);
  }

  function stamp(uid, editor, shown, total) {
    requestAnimationFrame(function () {
      setTimeout(function () {
        var report = { uid: uid, view: editor ? 'editor' : 'embed', app: 'foreign', finishedAt: performance.timeOrigin + performance.now(), widgetsRendered: shown, widgetsTotal: total };
        window.__standinRendered = report;
        fetch(api + '/__standin/rendered', { method: 'POST', mode: 'no-cors', keepalive: true, body: JSON.stringify(report) }).catch(function () {});
      }, 0);
    });
  }

  function showLesson(doc, uid, editor) {
    var list = Array.isArray(doc && doc.structure) ? doc.structure : [];
    var known = list.filter(function (w) { return w && Object.prototype.hasOwnProperty.call(blocks, w.type); });
    var cap = typeof opts.maxWidgets === 'number' ? Math.min(opts.maxWidgets, known.length) : known.length;
    var title = doc && doc.metadata && doc.metadata.title ? String(doc.metadata.title) : 'Sem título';
    var lesson = h('div', { className: 'lesson' }, [h('h1', { className: 'lsn-title' }, [title])]);
    commit(Shell(editor, [lesson]));
    var step = Number(opts.stepMs) || 0;
    var shown = 0;
    (function chunk() {
      var upTo = step > 0 ? Math.min(shown + 1, cap) : cap;
      for (; shown < upTo; shown++) lesson.appendChild(blocks[known[shown].type](known[shown]));
      if (shown < cap) { setTimeout(chunk, step); return; }
      stamp(uid, editor, shown, list.length);
    })();
  }

  function load(uid, editor) {
    commit(Shell(editor, Loading()));
    var query = new URLSearchParams({ uid: uid, access_token: accessToken(), project_key: projectUid(), api_env: 'prd' });
    return fetch(api + '/storage/v1.0/content?' + query.toString()).then(function (r) {
      if (!r.ok) { commit(Shell(editor, [h('p', { className: 'err' }, ['Erro ao abrir a composição: ' + r.status])])); return null; }
      return r.json();
    }).then(function (doc) {
      if (!doc) return;
      var wait = Number(opts.delayMs) || 0;
      setTimeout(function () { showLesson(doc, uid, editor); }, wait);
      return doc;
    });
  }

  function boot() {
    var hash = location.hash || '';
    var m = /^#\/embed\/auth-with-token\/pt_br\/home\/(.+)$/.exec(hash);
    if (m) {
      localStorage.setItem('rdp-composer-user-data', JSON.stringify({ access_token: decodeURIComponent(m[1]) }));
      location.hash = '#/home';
      return;
    }
    var open = /^#\/(embed\/)?composer\/(.+)$/.exec(hash);
    commit(Shell(open ? !open[1] : true, open ? Loading() : []));
    if (!accessToken()) { commit(h('div', {})); return; }
    fetch(api + '/auth/v1.0/user/me', { headers: { Authorization: 'Bearer ' + accessToken() } }).then(function (r) {
      if (!r.ok) { commit(h('div', {})); return undefined; }
      if (open) return load(decodeURIComponent(open[2]), !open[1]);
      commit(Shell(true, [h('h1', {}, ['Composições']), h('button', { type: 'button' }, ['Nova composição'])]));
      return undefined;
    }, function () { commit(h('div', {})); });
  }

  window.addEventListener('hashchange', boot);
  // Mount after the first paint, as an app that hydrates would.
  setTimeout(boot, 0);
})();
