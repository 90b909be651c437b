// Why a printer cannot be followed, in the page's words. The monitor describes a connection
// problem as an English sentence (the printer's status `error`, the connection test's
// `detail`), built from a few fixed openings (printdesk-monitor's `ConnectionProblem::sentence`
// and the domain's PRINTER_ERROR_MESSAGE); the page translates the opening and keeps what
// follows it, the network's or the printer's own words, as a technical detail.

import { t } from './i18n.js';

const CREDENTIALS = {
  'access code': 'printer_problem.credential.access_code',
  'API key': 'printer_problem.credential.api_key',
  credentials: 'printer_problem.credential.credentials',
};

/** Openings the monitor writes, each with the catalog key of its translation. */
const OPENINGS = [
  [/^certificate changed(?: \(now ([0-9a-f]+)…\))?/i, () => t('printer_problem.certificate_changed'), 1],
  [/^certificate not valid: (.*)$/i, (m) => t('printer_problem.certificate_invalid'), 1],
  [/^printer not reachable: (.*)$/i, () => t('printer_problem.unreachable'), 1],
  [/^unexpected answer from the printer: (.*)$/i, () => t('printer_problem.protocol'), 1],
  [/^the printer reports an error$/i, () => t('printer_problem.printer_error')],
  [/^printdesk cannot follow (\S+) printers/i, (m) => t('printer_problem.unsupported', { kind: m[1] })],
];

/** Technical details the monitor writes often enough to deserve a translation. */
const REASONS = {
  'connection refused': 'printer_problem.reason.connection_refused',
  'timed out': 'printer_problem.reason.timed_out',
  'no route to host': 'printer_problem.reason.no_route',
  'host unreachable': 'printer_problem.reason.no_route',
};

const DETAILS = [
  [/^nothing answers at (\S+) \((.*)\)$/i, (m) => t('printer_problem.detail.nothing_answers', {
    address: m[1], reason: REASONS[m[2].toLowerCase()] ? t(REASONS[m[2].toLowerCase()]) : m[2],
  })],
  [/^no answer within (\d+) s$/i, (m) => t('printer_problem.detail.no_answer', { seconds: Number(m[1]) })],
  [/^no answer from (\S+) within (\d+) s$/i, (m) => t('printer_problem.detail.no_answer_from', { address: m[1], seconds: Number(m[2]) })],
  [/^no message from (OctoPrint|Moonraker) for (\d+) s$/i, (m) => t('printer_problem.detail.silent', { peer: m[1], seconds: Number(m[2]) })],
  [/^(OctoPrint|Moonraker) closed the (?:push socket|connection)$/i, (m) => t('printer_problem.detail.closed', { peer: m[1] })],
  [/^Klipper disconnected from Moonraker$/i, () => t('printer_problem.detail.klipper_disconnected')],
  [/^the connection ended$/i, () => t('printer_problem.detail.connection_ended')],
];

function translateDetail(detail) {
  for (const [pattern, translate] of DETAILS) {
    const m = pattern.exec(detail);
    if (m) return translate(m);
  }
  return detail;
}

/**
 * A problem sentence as `{text, detail}`: `text` in the page's language, `detail` the part the
 * page cannot translate (an address, the operating system's reason), or null.
 * @param {string|null|undefined} sentence
 * @returns {{text: string, detail: string|null}|null}
 */
export function printerProblem(sentence) {
  if (!sentence) return null;
  const refused = /^(access code|API key|credentials) refused$/i.exec(sentence);
  if (refused) {
    const key = CREDENTIALS[refused[1]] ?? CREDENTIALS[refused[1].toLowerCase()];
    return { text: t('printer_problem.refused', { credential: t(key) }), detail: null };
  }
  for (const [pattern, translate, detailGroup] of OPENINGS) {
    const m = pattern.exec(sentence);
    if (!m) continue;
    const detail = detailGroup ? m[detailGroup] : null;
    return { text: translate(m), detail: detail ? translateDetail(detail) : null };
  }
  return { text: t('printer_problem.other'), detail: translateDetail(sentence) };
}

/** The problem as one line: the translated text, then the detail in parentheses. */
export function printerProblemText(sentence) {
  const problem = printerProblem(sentence);
  if (!problem) return '';
  return problem.detail ? `${problem.text} (${problem.detail})` : problem.text;
}
