// The stand-in Composer app: a single page with no framework that keeps the contract of reference/composer.md.
// Session in localStorage (rdp-composer-user-data, rdp-composer-active-project); GET /auth/v1.0/user/me on start
// (blank page when it fails); hash routes #/composer/{uid}, #/embed/composer/{uid},
// #/embed/auth-with-token/pt_br/home/{token}. Widgets render with data-widget-type / data-widget-id.
// Render switches (config.render, see faults.ts): a delay after the read, a loading placeholder, widgets one at a
// time, a partial render. When the lesson is on the page and painted, the app reports it to the API origin's
// test-only /__standin/rendered (the benchmarks measure from that moment).
(function () {
  'use strict';
  var config = window.COMPOSER_STANDIN_CONFIG || {};
  var API = String(config.apiUrl || '').replace(/\/+$/, '');
  var RENDER = config.render || {};
  var USER_KEY = 'rdp-composer-user-data';
  var PROJECT_KEY = 'rdp-composer-active-project';
  var KNOWN_TYPES = ['head-1', 'text-1', 'quiz-1', 'flashcards-1', 'list-1', 'image-1', 'video-1', 'gallery-1', 'hotspots-1'];
  var root = document.getElementById('root');

  function readJson(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || 'null'); } catch (e) { return null; }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k])); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  function html(tag, attrs, markup) {
    var node = el(tag, attrs);
    node.innerHTML = typeof markup === 'string' ? markup : '';
    return node;
  }

  function token() {
    var user = readJson(USER_KEY);
    return user && typeof user.access_token === 'string' ? user.access_token : '';
  }

  function blank() { root.innerHTML = ''; document.body.setAttribute('data-app-state', 'blank'); }

  // Renders the string and list fields of a widget whose keys are open in the contract.
  function renderGeneric(widget, box) {
    Object.keys(widget).forEach(function (key) {
      if (['id', 'type', 'content_title', 'background_color', 'padding_top', 'padding_bottom', 'dam_assets'].indexOf(key) >= 0) return;
      var value = widget[key];
      if (typeof value === 'string' && value.length > 0) {
        if (/^https?:\/\//.test(value) && /(image|src|url|thumb)/i.test(key)) box.appendChild(el('img', { src: value, alt: key, 'data-field': key }));
        else box.appendChild(html('div', { 'data-field': key }, value));
      } else if (Array.isArray(value)) {
        var list = el('ol', { 'data-field': key });
        value.forEach(function (item, i) {
          var li = el('li', { 'data-item': i });
          if (item && typeof item === 'object') {
            Object.keys(item).forEach(function (k) { if (typeof item[k] === 'string' && k !== 'id') li.appendChild(html('div', { 'data-field': k }, item[k])); });
          } else if (item !== null && item !== undefined) li.appendChild(html('span', {}, String(item)));
          list.appendChild(li);
        });
        box.appendChild(list);
      }
    });
  }

  function renderWidget(widget) {
    var type = widget && typeof widget.type === 'string' ? widget.type : 'unknown';
    var known = KNOWN_TYPES.indexOf(type) >= 0;
    var box = el('section', { 'data-widget-type': type, 'data-widget-id': widget && widget.id, class: 'widget' + (known ? '' : ' widget-placeholder') });
    if (widget && widget.background_color) box.style.backgroundColor = widget.background_color;
    if (widget && typeof widget.padding_top === 'number') box.style.paddingTop = widget.padding_top + 'px';
    if (widget && typeof widget.padding_bottom === 'number') box.style.paddingBottom = widget.padding_bottom + 'px';
    if (!known) {
      box.setAttribute('data-widget-placeholder', 'true');
      box.appendChild(el('p', {}, ['Widget não suportado: ' + type]));
      return box;
    }
    if (widget.content_title) box.appendChild(html('h2', { 'data-field': 'content_title' }, widget.content_title));
    if (type === 'head-1') {
      box.style.backgroundColor = widget.primary_color || '#FFFFFF';
      if (widget.show_category !== false) box.appendChild(html('div', { 'data-field': 'category', style: 'color:' + (widget.secondary_color || '#aa2c23') }, widget.category));
      if (widget.show_author_name !== false) box.appendChild(html('div', { 'data-field': 'author_name' }, widget.author_name));
      if (widget.author_office) box.appendChild(html('div', { 'data-field': 'author_office' }, widget.author_office));
      if (widget.show_divider !== false) box.appendChild(el('hr', {}));
    } else if (type === 'text-1') {
      box.appendChild(html('div', { 'data-field': 'content' }, widget.content));
    } else if (type === 'quiz-1') {
      (Array.isArray(widget.questions) ? widget.questions : []).forEach(function (q, qi) {
        var question = el('fieldset', { 'data-question-id': q && q.id });
        question.appendChild(html('legend', {}, q && q.question));
        (q && Array.isArray(q.choices) ? q.choices : []).forEach(function (c) {
          var label = el('label', { 'data-choice-id': c && c.id });
          label.appendChild(el('input', { type: 'radio', name: 'q' + qi }));
          label.appendChild(html('span', {}, c && c.text));
          question.appendChild(label);
        });
        box.appendChild(question);
      });
    } else {
      renderGeneric(widget, box);
    }
    return box;
  }

  function now() { return performance.timeOrigin + performance.now(); }

  // Reports a finished render once the frame with it has been produced (a task queued from requestAnimationFrame).
  function reportRendered(uid, editor, rendered, total) {
    requestAnimationFrame(function () {
      setTimeout(function () {
        var report = { uid: uid, view: editor ? 'editor' : 'embed', app: 'standin', finishedAt: now(), widgetsRendered: rendered, widgetsTotal: total };
        window.__standinRendered = report;
        fetch(API + '/__standin/rendered', { method: 'POST', mode: 'no-cors', keepalive: true, body: JSON.stringify(report) }).catch(function () {});
      }, 0);
    });
  }

  function showPlaceholder() {
    if (!RENDER.placeholder) return;
    root.innerHTML = '';
    root.appendChild(el('div', { class: 'loading', role: 'status' }, [el('p', {}, ['Carregando a composição…']), el('div', { class: 'bar' }), el('div', { class: 'bar' }), el('div', { class: 'bar' })]));
  }

  function renderComposition(doc, uid, editor) {
    root.innerHTML = '';
    if (editor) {
      var bar = el('header', { class: 'toolbar' }, [
        el('button', {}, ['Nova composição']),
        el('nav', {}, [el('button', {}, ['Salvar composição']), el('button', {}, ['Configurações']), el('button', {}, ['Histórico de versões']), el('button', {}, ['Preview'])]),
      ]);
      root.appendChild(bar);
    }
    var title = doc && doc.metadata && doc.metadata.title ? doc.metadata.title : 'Sem título';
    var main = el('main', { id: 'composition', 'data-composition-uid': uid, lang: doc && doc.interface && doc.interface.content_language === 'pt_br' ? 'pt-BR' : 'en' }, [el('h1', {}, [title])]);
    if (doc && doc.interface && doc.interface.font_family) main.style.fontFamily = doc.interface.font_family + ', sans-serif';
    var widgets = doc && Array.isArray(doc.structure) ? doc.structure : [];
    var limit = typeof RENDER.maxWidgets === 'number' ? Math.min(RENDER.maxWidgets, widgets.length) : widgets.length;
    var step = Number(RENDER.stepMs) || 0;
    root.appendChild(main);
    document.title = title + ' — Composer';
    var i = 0;
    function next() {
      if (step === 0) { while (i < limit) main.appendChild(renderWidget(widgets[i++])); }
      else if (i < limit) main.appendChild(renderWidget(widgets[i++]));
      if (i < limit) { setTimeout(next, step); return; }
      document.body.setAttribute('data-app-state', 'rendered');
      reportRendered(uid, editor, limit, widgets.length);
    }
    next();
  }

  function renderHome() {
    root.innerHTML = '';
    root.appendChild(el('main', { id: 'home' }, [el('h1', {}, ['Composer']), el('button', {}, ['Nova composição'])]));
    document.body.setAttribute('data-app-state', 'home');
  }

  function openComposition(uid, editor) {
    var url = API + '/storage/v1.0/content?uid=' + encodeURIComponent(uid);
    return fetch(url, { headers: { Authorization: 'Bearer ' + token() } }).then(function (res) {
      if (!res.ok) {
        root.innerHTML = '';
        root.appendChild(el('p', { role: 'alert' }, ['Não foi possível carregar a composição (' + res.status + ').']));
        document.body.setAttribute('data-app-state', 'error');
        console.error('Failed to load composition', res.status);
        return undefined;
      }
      return res.json().then(function (doc) {
        var delay = Number(RENDER.delayMs) || 0;
        if (delay > 0) setTimeout(function () { renderComposition(doc, uid, editor); }, delay);
        else renderComposition(doc, uid, editor);
        return doc;
      });
    });
  }

  function route() {
    var hash = window.location.hash || '';
    var m;
    if ((m = /^#\/embed\/auth-with-token\/pt_br\/home\/(.+)$/.exec(hash))) {
      window.localStorage.setItem(USER_KEY, JSON.stringify({ access_token: decodeURIComponent(m[1]) }));
      window.location.hash = '#/home';
      return Promise.resolve();
    }
    if (!token()) { blank(); return Promise.resolve(); }
    if (/^#\/(embed\/)?composer\//.test(hash)) showPlaceholder();
    return fetch(API + '/auth/v1.0/user/me', { headers: { Authorization: 'Bearer ' + token() } }).then(function (res) {
      if (!res.ok) { blank(); return undefined; }
      if ((m = /^#\/embed\/composer\/(.+)$/.exec(hash))) return openComposition(decodeURIComponent(m[1]), false);
      if ((m = /^#\/composer\/(.+)$/.exec(hash))) return openComposition(decodeURIComponent(m[1]), true);
      renderHome();
      return undefined;
    }, function () { blank(); });
  }

  // The app reads its active project at start; the stand-in only records whether it was there and well formed.
  document.body.setAttribute('data-active-project', readJson(PROJECT_KEY) ? 'present' : 'absent');
  window.addEventListener('hashchange', function () { route(); });
  route();
})();
