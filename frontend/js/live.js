// Live updates: one WebSocket to /api/v1/ws that resumes where it left off.
//
// Protocol: the first message is `{"type":"hello","seq":N}`; then one message per committed
// event `{seq, type, at, job_id, actor, job, changes}`. On any close the client reconnects with
// back-off and `?since=<last seq seen>`, so no event is lost or applied twice. Close code 4008
// means "you fell behind"; it reconnects at once. Printer messages (`printer_status`,
// `printer_changed`) have no seq: they are handed over as they come.

import { t } from './i18n.js';

const LAGGED = 4008;
const ACCESS_ENDED = 4401;
const ROLE_CHANGED = 4409;
const MAX_DELAY_MS = 30000;

/**
 * @param {object} handlers
 * @param {(event: object) => void} handlers.onEvent    each job event, once, in seq order
 * @param {(state: 'connecting'|'live'|'offline', detail: string) => void} handlers.onState
 * @param {(reason: 'initial'|'reset') => void} handlers.onResync  lists must be re-read:
 *        the first connection (events before it were not seen) or a server whose sequence restarted
 * @param {(message: object) => void} [handlers.onPrinter]  `printer_status` (a printer's live
 *        status; sent for every monitored printer right after hello, then on each change) and
 *        `printer_changed` (`printer`: the printer as GET returns it, or null when deleted)
 * @param {() => string|null} [handlers.token]  the API token, sent as the subprotocol
 *        `printdesk.bearer.<token>` (browsers cannot set headers on a WebSocket; the server
 *        echoes the subprotocol)
 * @param {(why: 'ended'|'role') => void} [handlers.onAccessChanged]  the server closed the
 *        socket because its session or token no longer gets in (`ended`, close code 4401: no
 *        reconnecting until `restart()`, after a new sign-in) or its role changed (`role`, 4409:
 *        it reconnects at once; re-read who the page is)
 * @param {string} [path]
 */
export function createLive({
  onEvent, onState, onResync, onPrinter = () => {}, token = () => null, onAccessChanged = () => {},
}, path = '/api/v1/ws') {
  let ws = null;
  let lastSeq = null;
  let attempt = 0;
  let timer = null;
  let stopped = false;
  let state = null;
  let accessEnded = false; // closed with 4401: no reconnecting until restart()

  const setState = (next, detail) => {
    state = next;
    onState(next, detail);
  };

  function url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = lastSeq === null ? '' : `?since=${encodeURIComponent(lastSeq)}`;
    return `${scheme}//${location.host}${path}${since}`;
  }

  function connect() {
    clearTimeout(timer);
    timer = null;
    if (stopped || ws || accessEnded) return;
    setState('connecting', t('live.detail.connecting'));
    let socket;
    try {
      const bearer = token();
      socket = bearer ? new WebSocket(url(), [`printdesk.bearer.${bearer}`]) : new WebSocket(url());
    } catch {
      scheduleReconnect(null);
      return;
    }
    ws = socket;
    socket.addEventListener('message', (e) => { if (ws === socket) receive(e.data); });
    socket.addEventListener('close', (e) => {
      if (ws !== socket) return;
      ws = null;
      if (!accessChanged(e.code)) scheduleReconnect(e.code);
    });
    // 'error' is always followed by 'close'.
  }

  function receive(raw) {
    let msg;
    try { msg = JSON.parse(raw); } catch { return; }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'hello') {
      attempt = 0;
      const seq = typeof msg.seq === 'number' ? msg.seq : null;
      if (lastSeq === null) {
        lastSeq = seq;
        onResync('initial');
      } else if (seq !== null && seq < lastSeq) {
        // The server is behind what we saw: its sequence restarted (a fresh database) or this
        // instance lags. Re-read the lists, and resubscribe from its position so that nothing
        // after it is skipped.
        lastSeq = seq;
        onResync('reset');
        const socket = ws;
        ws = null;
        socket.close(1000, 'resubscribing');
        connect();
        return;
      }
      setState('live', t('live.detail.live'));
      return;
    }
    // Printer messages carry no seq and are not part of the job history.
    if (msg.type === 'printer_status' || msg.type === 'printer_changed') {
      try {
        onPrinter(msg);
      } catch (err) {
        console.error('printdesk: applying a printer message failed', err, msg);
      }
      return;
    }
    if (typeof msg.seq !== 'number') return;
    if (lastSeq !== null && msg.seq <= lastSeq) return; // already applied
    lastSeq = msg.seq;
    try {
      onEvent(msg);
    } catch (err) {
      console.error('printdesk: applying a live event failed', err, msg);
    }
  }

  function scheduleReconnect(code) {
    if (stopped) return;
    attempt += 1;
    const base = code === LAGGED ? 200 : Math.min(MAX_DELAY_MS, 1000 * 2 ** Math.min(attempt - 1, 5));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    setState('offline', t('live.detail.offline', { seconds: Math.max(1, Math.round(delay / 1000)) }));
    timer = setTimeout(connect, delay);
  }

  /** Handles the close codes of ended or changed access; false for any other code. */
  function accessChanged(code) {
    if (code === ACCESS_ENDED) {
      // Reconnecting would be refused over and over: wait for restart() after a sign-in.
      accessEnded = true;
      setState('offline', t('live.access_ended'));
      onAccessChanged('ended');
      return true;
    }
    if (code === ROLE_CHANGED) {
      attempt = 0;
      onAccessChanged('role');
      connect();
      return true;
    }
    return false;
  }

  /** Skip the back-off (the browser came back online or the tab became visible). */
  function retryNow() {
    if (!stopped && !ws) connect();
  }

  window.addEventListener('online', retryNow);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') retryNow();
  });

  /** Connects again at once (the token changed): a socket opened with the old one is closed. */
  function restart() {
    if (stopped) return;
    attempt = 0;
    accessEnded = false;
    const socket = ws;
    ws = null;
    if (socket) socket.close(1000, 'new token');
    connect();
  }

  return {
    start() { stopped = false; connect(); },
    restart,
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (ws) ws.close(1000, 'page closed');
      ws = null;
    },
    retryNow,
    get lastSeq() { return lastSeq; },
    get state() { return state; },
  };
}
