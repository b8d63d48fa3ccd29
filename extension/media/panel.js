// @ts-check
// The burn/build panel's script (loaded under a strict CSP with a nonce). Renders the jobs the extension posts and
// sends Cancel / Inspect / Clear back. No frameworks, no inline styles (widths are set through the CSSOM).
(function () {
  // @ts-ignore acquireVsCodeApi is provided by the webview host
  const vscode = acquireVsCodeApi();
  const list = /** @type {HTMLElement} */ (document.getElementById('jobs'));
  const empty = /** @type {HTMLElement} */ (document.getElementById('empty'));
  /** @type {Map<string, HTMLElement>} */
  const cards = new Map();

  /** @param {number | undefined} ms */
  function duration(ms) {
    if (ms === undefined || !isFinite(ms)) return '—';
    if (ms < 10000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
    const s = Math.round(ms / 1000);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  }

  /** @param {number | undefined} bps */
  function speed(bps) {
    if (!bps) return '—';
    const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
    let v = bps;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
  }

  const PHASES = /** @type {Record<string, string>} */ ({
    starting: 'Starting', load: 'Reading manifest', scan: 'Scanning sources', plan: 'Planning layout', write: 'Writing image',
    done: 'Done', failed: 'Failed', cancelled: 'Cancelled', 'validating-media': 'Validating media', formatting: 'Formatting',
    'initializing-hardware': 'Initializing hardware', 'calibrating-power': 'Calibrating power', writing: 'Writing',
    finalizing: 'Finalizing', verifying: 'Verifying', erasing: 'Erasing', completed: 'Completed',
  });

  /** @param {string} tag @param {string} cls @param {string} [text] */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** @param {string} label @param {string} cls */
  function stat(label, cls) {
    const s = el('div', 'stat');
    s.append(el('span', 'label', label), el('span', `value ${cls}`));
    return s;
  }

  /** @param {any} job */
  function card(job) {
    const c = el('section', 'job');
    c.dataset.job = job.id;
    const top = el('div', 'top');
    top.append(el('span', 'title'), el('span', 'status'));
    const bar = el('div', 'bar');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.append(el('div', 'fill'));
    const stats = el('div', 'stats');
    stats.append(stat('Progress', 'percent'), stat('Speed', 'speed'), stat('Phase', 'phase'), stat('Elapsed', 'elapsed'), stat('Remaining', 'remaining'), stat('Buffer', 'buffer'), stat('Verification', 'verification'));
    const message = el('div', 'message');
    const where = el('div', 'output');
    const actions = el('div', 'actions');
    const inspect = el('button', 'secondary inspect', 'Inspect Image');
    inspect.addEventListener('click', () => vscode.postMessage({ type: 'inspect', output: c.dataset.output }));
    const cancel = el('button', 'cancel', 'Cancel');
    cancel.addEventListener('click', () => {
      /** @type {HTMLButtonElement} */ (cancel).disabled = true;
      cancel.textContent = 'Cancelling…';
      vscode.postMessage({ type: 'cancel', jobId: job.id });
    });
    actions.append(inspect, cancel);
    c.append(top, bar, stats, message, where, actions);
    return c;
  }

  /** @param {HTMLElement} c @param {string} sel @param {string} text */
  function set(c, sel, text) {
    const e = /** @type {HTMLElement} */ (c.querySelector(sel));
    if (e.textContent !== text) e.textContent = text;
  }

  /** @param {any} job */
  function update(job) {
    let c = cards.get(job.id);
    if (!c) {
      c = card(job);
      cards.set(job.id, c);
    }
    c.dataset.status = job.status;
    if (job.output) c.dataset.output = job.output;
    set(c, '.title', job.title);
    set(c, '.status', job.status === 'running' ? 'Running' : job.status === 'done' ? 'Done' : job.status === 'failed' ? 'Failed' : 'Cancelled');
    const pct = Math.max(0, Math.min(100, job.percent));
    /** @type {HTMLElement} */ (c.querySelector('.fill')).style.width = `${pct}%`;
    c.querySelector('.bar')?.setAttribute('aria-valuenow', String(Math.floor(pct)));
    set(c, '.percent', `${Math.floor(pct)}%`);
    set(c, '.speed', speed(job.bytesPerSecond));
    set(c, '.phase', PHASES[job.phase] ?? job.phase);
    set(c, '.elapsed', duration(job.elapsedMs));
    set(c, '.remaining', job.status === 'running' ? duration(job.remainingMs) : '—');
    set(c, '.buffer', job.bufferPercent === undefined ? '—' : `${Math.round(job.bufferPercent)}%`);
    set(c, '.message', job.message ?? '');
    // Where the job writes: the image of a build, the drive of a burn or erase.
    set(c, '.output', job.output ?? job.drive ?? '');
    /** @type {HTMLElement} */ (c.querySelector('.output')).hidden = !(job.output ?? job.drive);
    /** @type {HTMLElement} */ (c.querySelector('.message')).hidden = !job.message;
    /** @type {HTMLElement} */ (c.querySelector('.cancel')).hidden = job.status !== 'running';
    /** @type {HTMLElement} */ (c.querySelector('.inspect')).hidden = !job.output;
    /** @type {HTMLElement} */ (c.querySelector('.stat:nth-child(6)')).hidden = job.bufferPercent === undefined;
    set(c, '.verification', job.verification ?? '');
    /** @type {HTMLElement} */ (c.querySelector('.stat:nth-child(7)')).hidden = !job.verification;
    return c;
  }

  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || msg.type !== 'jobs') return;
    const seen = new Set();
    msg.jobs.forEach((/** @type {any} */ job, /** @type {number} */ i) => {
      seen.add(job.id);
      const c = update(job);
      if (list.children[i] !== c) list.insertBefore(c, list.children[i] ?? null);
    });
    for (const [id, c] of cards) {
      if (!seen.has(id)) {
        c.remove();
        cards.delete(id);
      }
    }
    empty.hidden = msg.jobs.length > 0;
  });

  document.getElementById('clear')?.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
  vscode.postMessage({ type: 'ready' });
})();
