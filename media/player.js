// NoteSeal recording player (webview). Fetches decrypted 16-bit PCM in windows from the extension as it
// plays, schedules each window on the Web Audio clock, and refetches from the new position on seek.
// Nothing is cached beyond the windows in flight.
(function () {
  const vscode = acquireVsCodeApi();
  const $ = id => document.getElementById(id);
  const WINDOW_SECONDS = 2;
  let facts = null, ctx = null, playing = false, position = 0, startedAt = 0, startOffset = 0;
  let nextRequest = 1, pending = new Map(), sources = [], scheduledUntil = 0, generation = 0;

  const fmt = s => { s = Math.max(0, Math.floor(s)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`; };
  const bytesPerSecond = () => facts.sampleRate * facts.channels * (facts.bitsPerSample / 8);
  const now = () => (playing ? startOffset + (ctx.currentTime - startedAt) : position);

  function render() {
    if (!facts) return;
    const t = Math.min(now(), facts.durationSeconds);
    $('time').textContent = `${fmt(t)} / ${fmt(facts.durationSeconds)}`;
    if (!$('seek').matches(':active')) $('seek').value = String(Math.round((t / Math.max(facts.durationSeconds, 0.001)) * 1000));
    if (playing && t >= facts.durationSeconds) stop(facts.durationSeconds);
  }

  function request(startSec) {
    const bps = bytesPerSecond(), frame = facts.channels * 2;
    const start = Math.floor((startSec * bps) / frame) * frame;
    const end = Math.min(facts.dataBytes, start + WINDOW_SECONDS * bps);
    if (start >= end) return null;
    const requestId = nextRequest++;
    const gen = generation;
    const done = new Promise(resolve => pending.set(requestId, { resolve, gen }));
    vscode.postMessage({ type: 'read', requestId, start, end });
    return done;
  }

  async function pump() {
    const gen = generation;
    while (playing && gen === generation && scheduledUntil < facts.durationSeconds && scheduledUntil - now() < WINDOW_SECONDS * 2) {
      const at = scheduledUntil;
      const msg = await request(at);
      if (!msg || gen !== generation || !playing) return;
      const pcm = new Int16Array(msg.data instanceof ArrayBuffer ? msg.data : new Uint8Array(msg.data).buffer);
      if (pcm.length === 0) throw new Error('no audio data arrived');
      const frames = pcm.length / facts.channels;
      const buf = ctx.createBuffer(facts.channels, frames, facts.sampleRate);
      for (let c = 0; c < facts.channels; c++) {
        const ch = buf.getChannelData(c);
        for (let i = 0; i < frames; i++) ch[i] = pcm[i * facts.channels + c] / 32768;
      }
      const src = ctx.createBufferSource();
      src.buffer = buf; src.connect(ctx.destination);
      src.start(startedAt + (at - startOffset));
      sources.push(src);
      scheduledUntil = at + frames / facts.sampleRate;
      $('status').textContent = `Playing (decrypted up to ${fmt(scheduledUntil)})`;
    }
    if (playing && gen === generation) setTimeout(() => pump().catch(fail), 250);
  }

  function fail(e) {
    stop(position);
    $('status').textContent = `Cannot play: ${e && e.message ? e.message : e}`;
  }

  function play(from) {
    ctx = ctx || new AudioContext({ sampleRate: facts.sampleRate });
    void ctx.resume();
    generation++; sources.forEach(s => { try { s.stop(); } catch { /* already ended */ } }); sources = [];
    playing = true; startOffset = from; startedAt = ctx.currentTime + 0.05; scheduledUntil = from;
    $('play').textContent = 'Pause';
    pump().catch(fail);
  }

  function stop(at) {
    generation++; sources.forEach(s => { try { s.stop(); } catch { /* already ended */ } }); sources = [];
    position = at; playing = false;
    $('play').textContent = 'Play';
    $('status').textContent = `Paused at ${fmt(at)}`;
  }

  $('play').addEventListener('click', () => {
    try { if (playing) stop(now()); else play(position >= facts.durationSeconds ? 0 : position); } catch (e) { fail(e); }
  });
  $('seek').addEventListener('input', () => {
    const t = (Number($('seek').value) / 1000) * facts.durationSeconds;
    if (playing) play(t); else { position = t; render(); $('status').textContent = `Ready at ${fmt(t)}`; }
  });

  // The transcript's lines, each with its time as a button that plays from there (text as text, never markup).
  function showTranscript(lines) {
    const list = $('transcript');
    list.replaceChildren();
    for (const line of lines) {
      const li = document.createElement('li');
      const at = document.createElement('button');
      at.className = 'at';
      at.textContent = fmt(line.start);
      at.title = `Play from ${fmt(line.start)}`;
      at.addEventListener('click', () => {
        if (!facts) return;
        const t = Math.min(line.start, facts.durationSeconds);
        try { play(t); } catch (err) { fail(err); }
        render();
      });
      li.append(at, document.createTextNode(` ${line.text}`));
      list.append(li);
    }
  }

  window.addEventListener('message', e => {
    const m = e.data;
    if (m.type === 'transcript') { showTranscript(m.lines); return; }
    if (m.type === 'info') {
      facts = m;
      $('title').textContent = m.name;
      $('play').disabled = false; $('seek').disabled = false;
      $('status').textContent = `${fmt(m.durationSeconds)} of audio, ${m.sampleRate} Hz, ${m.channels === 1 ? 'mono' : m.channels + ' channels'}`;
      document.body.dataset.duration = String(m.durationSeconds);
      render();
    } else if (m.type === 'data') {
      const p = pending.get(m.requestId);
      pending.delete(m.requestId);
      document.body.dataset.lastRead = String(m.start);
      if (p && p.gen === generation) p.resolve(m); else if (p) p.resolve(null);
    } else if (m.type === 'error') {
      $('status').textContent = `Cannot play: ${m.message}`;
    }
  });
  setInterval(render, 200);
  vscode.postMessage({ type: 'ready' });
})();
