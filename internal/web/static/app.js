// firebreak: small enhancements on top of pages that work without script —
// live updates over Server-Sent Events, local times, copy buttons.
(function () {
  'use strict';
  var lang = document.documentElement.lang || 'en';
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }) : null;

  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function ymd(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
  function hms(d) { return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }

  // Times come rendered in UTC; show them in the reader's time zone (the UTC
  // value stays in the title) and keep "5 minutes ago" current.
  function localize(root) {
    root.querySelectorAll('time[data-abs]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (isNaN(d)) return;
      if (t.hasAttribute('data-short') && ymd(d) === ymd(new Date())) {
        t.textContent = hms(d);
      } else {
        t.textContent = ymd(d) + ' ' + hms(d);
      }
    });
    if (!rtf) return;
    root.querySelectorAll('time[data-rel]').forEach(function (t) {
      var d = new Date(t.getAttribute('datetime'));
      if (isNaN(d)) return;
      var s = (d.getTime() - Date.now()) / 1000, a = Math.abs(s);
      if (a < 45) return; // the server's "just now"
      if (a < 2700) t.textContent = rtf.format(Math.round(s / 60), 'minute');
      else if (a < 79200) t.textContent = rtf.format(Math.round(s / 3600), 'hour');
      else t.textContent = rtf.format(Math.round(s / 86400), 'day');
    });
  }
  localize(document);
  setInterval(function () { localize(document); }, 30000);

  var dot = document.getElementById('live-state');
  function setLive(on) {
    if (!dot) return;
    dot.hidden = false;
    dot.classList.toggle('on', on);
    var label = on ? dot.getAttribute('data-live-label') : dot.getAttribute('data-off-label');
    dot.title = label;
    dot.setAttribute('aria-label', label);
    dot.setAttribute('role', 'status');
  }

  // Filters apply as soon as they change.
  document.querySelectorAll('form[data-autosubmit]').forEach(function (f) {
    var b = f.querySelector('button[type=submit]');
    if (b) b.hidden = true;
    f.addEventListener('change', function () { f.submit(); });
  });

  // The incident list: reload the table whenever an incident changes.
  var list = document.querySelector('[data-live-list]');
  if (list && window.EventSource) {
    var busy = false, again = false;
    var reload = function () {
      if (busy) { again = true; return; }
      busy = true;
      var u = new URL(location.href);
      u.searchParams.set('fragment', '1');
      fetch(u.toString(), { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
        .then(function (r) {
          if (r.redirected) { location.reload(); throw new Error('redirected'); }
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return r.text();
        })
        .then(function (html) {
          var seen = {};
          list.querySelectorAll('tr[id]').forEach(function (tr) { seen[tr.id] = true; });
          list.innerHTML = html;
          localize(list);
          list.querySelectorAll('tr[id]').forEach(function (tr) { if (!seen[tr.id]) tr.classList.add('flash'); });
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) { again = false; reload(); }
        });
    };
    var les = new EventSource(list.getAttribute('data-live-list'));
    var connected = false;
    les.addEventListener('open', function () {
      setLive(true);
      if (connected) reload(); // reconnected: catch up on what was missed
      connected = true;
    });
    les.addEventListener('error', function () { setLive(false); });
    les.addEventListener('changed', reload);
  }

  // The incident page: append timeline rows, refresh the header and alerts.
  var tl = document.getElementById('timeline');
  if (tl && window.EventSource) {
    var ies = new EventSource('/incidents/' + tl.getAttribute('data-incident') + '/stream?after=' + (tl.getAttribute('data-last') || '0'));
    ies.addEventListener('open', function () { setLive(true); });
    ies.addEventListener('error', function () { setLive(false); });
    ies.addEventListener('timeline', function (e) {
      var tpl = document.createElement('template');
      tpl.innerHTML = e.data;
      tpl.content.querySelectorAll('li.entry').forEach(function (li) {
        if (document.getElementById(li.id)) return;
        li.classList.add('new');
        localize(li);
        tl.appendChild(li);
      });
      if (e.lastEventId) tl.setAttribute('data-last', e.lastEventId);
    });
    ies.addEventListener('incident', function (e) {
      var head = document.getElementById('incident-header');
      if (!head) return;
      head.innerHTML = e.data;
      localize(head);
      var st = document.getElementById('incident-state');
      if (!st) return;
      var allowed = (st.getAttribute('data-allowed') || '').split(' ');
      document.querySelectorAll('#status-buttons button[name=status]').forEach(function (b) {
        b.hidden = allowed.indexOf(b.value) < 0;
      });
      var sel = document.getElementById('level-select');
      if (sel && document.activeElement !== sel) sel.value = st.getAttribute('data-level');
    });
    ies.addEventListener('alerts', function (e) {
      var a = document.getElementById('alerts');
      if (!a) return;
      a.innerHTML = e.data;
      localize(a);
    });
  }

  // Copy buttons next to integration URLs.
  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button[data-copy]') : null;
    if (!b) return;
    var el = document.getElementById(b.getAttribute('data-copy'));
    if (!el) return;
    var old = b.textContent;
    var done = function () {
      b.textContent = b.getAttribute('data-copied') || old;
      b.classList.add('done');
      setTimeout(function () { b.textContent = old; b.classList.remove('done'); }, 1500);
    };
    var fallback = function () {
      var r = document.createRange();
      r.selectNodeContents(el);
      var s = window.getSelection();
      s.removeAllRanges();
      s.addRange(r);
      try { if (document.execCommand('copy')) done(); } catch (err) { /* the text stays selected */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent).then(done, fallback);
    } else {
      fallback();
    }
  });
})();

// On-call pages: forms that delete or replace something ask first.
(function () {
  'use strict';
  document.addEventListener('submit', function (e) {
    var f = e.target;
    var q = f && f.getAttribute ? f.getAttribute('data-confirm') : null;
    if (q && !window.confirm(q)) e.preventDefault();
  });
})();

// Early warning: forms show the chosen kind's fields; a run asked for reloads until it happened.
(function () {
  'use strict';
  // An element with data-show-for="name=a b" shows only while the form's
  // control "name" holds a or b. Without script every part shows, and the
  // server ignores the parts of other kinds.
  function value(form, name) {
    var els = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      if (el.type === 'radio' || el.type === 'checkbox') {
        if (el.checked) return el.value;
      } else {
        return el.value;
      }
    }
    return '';
  }
  function update(form) {
    form.querySelectorAll('[data-show-for]').forEach(function (el) {
      var spec = el.getAttribute('data-show-for'), i = spec.indexOf('=');
      el.hidden = spec.slice(i + 1).split(' ').indexOf(value(form, spec.slice(0, i))) < 0;
    });
  }
  document.querySelectorAll('form[data-switching]').forEach(function (f) {
    update(f);
    f.addEventListener('change', function () { update(f); });
  });

  // "Run now": the scheduler runs the check within moments; look again a
  // few times until its result is in.
  var pending = document.querySelector('[data-reload]');
  if (pending) {
    var u = new URL(location.href), n = parseInt(u.searchParams.get('n') || '0', 10) || 0;
    if (n < 20) {
      setTimeout(function () {
        u.searchParams.set('n', String(n + 1));
        location.replace(u.toString());
      }, 600);
    }
  }
})();
// end of early warning
