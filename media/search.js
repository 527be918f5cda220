// NoteSeal's search view (webview). Sends the query to the extension as you type (debounced), and renders
// results as a tree grouped by file: matching lines with their neighbours, the matches highlighted. All text
// is put in the DOM with textContent, never as HTML. Nothing is persisted: no webview state (VS Code
// writes a webview view's state to the workspace's storage), no web storage.
(function () {
  const vscode = acquireVsCodeApi();
  const $ = id => document.getElementById(id);
  const DEBOUNCE_MS = 250;
  const toggles = ['matchCase', 'wholeWord', 'isRegex'];
  let timer = 0, current = 0, searching = false, locked = true;
  let files = 0, matches = 0;

  function query() {
    const q = { pattern: $('pattern').value, include: $('include').value, exclude: $('exclude').value };
    for (const t of toggles) q[t] = $(t).getAttribute('aria-pressed') === 'true';
    return q;
  }

  function setMessage(text, { cancel = false, unlock = false } = {}) {
    $('message').textContent = text;
    $('cancel').hidden = !cancel;
    $('unlock').hidden = !unlock;
  }

  function clearResults() {
    $('results').replaceChildren();
    $('problems').hidden = true;
    $('problemList').replaceChildren();
    files = 0; matches = 0;
  }

  function schedule(now) {
    clearTimeout(timer);
    timer = setTimeout(run, now ? 0 : DEBOUNCE_MS);
  }

  function run() {
    const q = query();
    if (locked) return;
    if (!q.pattern) {
      if (searching) vscode.postMessage({ type: 'cancel' });
      searching = false; current = -1;
      clearResults(); setMessage('');
      return;
    }
    vscode.postMessage({ type: 'search', query: q });
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const countText = () => `${plural(matches, 'result', 'results')} in ${plural(files, 'file', 'files')}`;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** A line of text with [start, end) ranges (columns of the whole line) highlighted; `offset` is the column of text[0]. */
  function highlighted(text, offset, ranges) {
    const span = el('span', 'text');
    let at = 0;
    for (const [s0, e0] of ranges) {
      const s = Math.max(0, s0 - offset), e = Math.min(text.length, e0 - offset);
      if (e <= at || s >= text.length) continue;
      if (s > at) span.append(text.slice(at, s));
      span.append(el('mark', '', text.slice(Math.max(s, at), e)));
      at = e;
    }
    if (at < text.length) span.append(text.slice(at));
    return span;
  }

  function open(file, line, range, preview) {
    vscode.postMessage({ type: 'open', path: file.path, line: line.line, start: range[0], end: range[1], preview });
  }

  function renderFile(file) {
    const group = el('div', 'file');
    group.setAttribute('role', 'treeitem');
    group.setAttribute('aria-expanded', 'true');
    const head = el('div', 'file-head');
    const slash = file.relativePath.lastIndexOf('/');
    head.append(el('span', 'twistie', '▾'), el('span', 'name', file.relativePath.slice(slash + 1)),
      el('span', 'dir', slash > 0 ? file.relativePath.slice(0, slash) : ''), el('span', 'badge', String(file.matches)));
    head.title = file.relativePath;
    if (file.writerWarning) {
      // Issue 21 §2: the worker judged this note's writer not authentic (unsigned, not a member, invalid, another path).
      const warn = el('span', 'writer-warning', '⚠ untrusted writer');
      warn.title = file.writerWarning;
      head.insertBefore(warn, head.lastChild);
      head.title = `${file.relativePath}\n${file.writerWarning}`;
      group.classList.add('untrusted');
    }
    head.addEventListener('click', () => {
      const open = group.getAttribute('aria-expanded') !== 'true';
      group.setAttribute('aria-expanded', String(open));
      head.firstChild.textContent = open ? '▾' : '▸';
    });
    const body = el('div', 'lines');
    body.setAttribute('role', 'group');
    const context = new Map(file.context.map(c => [c.line, c]));
    let last = -2;
    const row = (cls, lineNo, content) => {
      const r = el('div', `line ${cls}`);
      r.append(el('span', 'num', String(lineNo + 1)), content);
      return r;
    };
    const addContext = n => {
      const c = context.get(n);
      if (!c || n <= last) return;
      if (last >= 0 && n > last + 1) body.append(el('div', 'gap', '⋯'));
      body.append(row('context', n, el('span', 'text', c.text)));
      last = n;
    };
    for (const line of file.lines) {
      addContext(line.line - 1);
      if (last >= 0 && line.line > last + 1) body.append(el('div', 'gap', '⋯'));
      const r = row('match', line.line, highlighted(line.text, line.textStart, line.ranges));
      r.setAttribute('role', 'treeitem');
      r.tabIndex = 0;
      r.title = `Line ${line.line + 1}: click to open, double-click to keep it open`;
      r.addEventListener('click', () => open(file, line, line.ranges[0], true));
      r.addEventListener('dblclick', () => open(file, line, line.ranges[0], false));
      r.addEventListener('keydown', e => { if (e.key === 'Enter') open(file, line, line.ranges[0], false); });
      body.append(r);
      last = line.line;
      addContext(line.line + 1);
    }
    group.append(head, body);
    return group;
  }

  function showProblems(summary) {
    const notes = [];
    if (summary.skippedBinary) notes.push(`${plural(summary.skippedBinary, 'binary note', 'binary notes')} skipped`);
    if (summary.skippedRecordings) notes.push(`${plural(summary.skippedRecordings, 'recording', 'recordings')} skipped`);
    if (!summary.failed.length) return notes;
    $('problemsTitle').textContent = `${plural(summary.failed.length, 'note', 'notes')} could not be opened`;
    $('problemList').replaceChildren(...summary.failed.map(f => el('li', '', `${f.path}: ${f.message}`)));
    $('problems').hidden = false;
    return notes;
  }

  for (const t of toggles) {
    $(t).addEventListener('click', () => {
      $(t).setAttribute('aria-pressed', String($(t).getAttribute('aria-pressed') !== 'true'));
      schedule(true);
    });
  }
  for (const id of ['pattern', 'include', 'exclude']) {
    $(id).addEventListener('input', () => schedule(false));
    $(id).addEventListener('keydown', e => {
      if (e.key === 'Enter') { e.preventDefault(); schedule(true); }
      if (e.key === 'Escape' && searching) vscode.postMessage({ type: 'cancel' });
    });
  }
  $('form').addEventListener('submit', e => { e.preventDefault(); schedule(true); });
  $('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
  $('unlock').addEventListener('click', () => vscode.postMessage({ type: 'unlock' }));

  window.addEventListener('message', e => {
    const m = e.data;
    if (m.type === 'start') {
      current = m.id; searching = true;
      clearResults();
      setMessage('Searching…', { cancel: true });
    } else if (m.type === 'results' && m.id === current) {
      for (const f of m.files) { files++; matches += f.matches; $('results').append(renderFile(f)); }
      setMessage(`${countText()} (searched ${m.searched} of ${m.total} notes)…`, { cancel: true });
    } else if (m.type === 'done' && m.id === current) {
      searching = false;
      const s = m.summary;
      const extra = showProblems(s);
      if (s.cancelled) extra.unshift('search stopped');
      if (s.limitHit) extra.unshift('result limit reached: refine the search');
      const head = matches ? countText() : `No results in ${plural(s.searchedFiles, 'note', 'notes')}`;
      setMessage(`${head}${extra.length ? ` (${extra.join('; ')})` : ''}`);
      document.body.dataset.searchDone = String(m.id);
    } else if (m.type === 'error' && m.id === current) {
      searching = false;
      clearResults();
      setMessage(m.message);
    } else if (m.type === 'locked') {
      locked = true; searching = false; current = -1;
      clearTimeout(timer);
      clearResults();
      setMessage(m.initialized ? 'NoteSeal is locked: unlock it to search encrypted notes.' : 'NoteSeal is not set up yet.', { unlock: m.initialized });
    } else if (m.type === 'unlocked') {
      const was = locked;
      locked = false;
      if (was) { setMessage(''); if ($('pattern').value) schedule(true); }
    } else if (m.type === 'focus') {
      $('pattern').focus();
      $('pattern').select();
    }
  });
  vscode.postMessage({ type: 'ready' });
}());
