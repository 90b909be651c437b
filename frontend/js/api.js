// The API client: one fetch wrapper that speaks the contract (JSON in and out, ETag versions,
// application/problem+json errors) and throws a typed ApiError the UI can branch on.

import {
  formatList, hasMessage, lang, t,
} from './i18n.js';

const BASE = '/api/v1';

const PROBLEM_PREFIX = 'urn:printdesk:problem:';

/**
 * The page's own sentence for a refusal: the server's `detail` is English, so the message is
 * picked by the problem's `type` (`problem.<type>` in the catalog), else by the status.
 */
export function problemMessage(status, problem = {}) {
  const type = typeof problem?.type === 'string' && problem.type.startsWith(PROBLEM_PREFIX)
    ? problem.type.slice(PROBLEM_PREFIX.length) : null;
  if (type === 'transition-not-allowed' && Array.isArray(problem.allowed)) {
    const allowed = problem.allowed.map((s) => (hasMessage(`status.${s}`) ? t(`status.${s}`) : String(s)));
    return allowed.length
      ? t('problem.transition-not-allowed.allowed', { allowed: formatList(allowed) })
      : t('problem.transition-not-allowed.none');
  }
  if (type && hasMessage(`problem.${type}`)) return t(`problem.${type}`);
  if (hasMessage(`problem.status.${status}`)) return t(`problem.status.${status}`);
  return t('problem.status.other', { status: String(status) });
}

/**
 * How the page words one of the server's field messages (`errors[].message`, English and
 * phrased to follow the field's name): each known phrasing has its key, with the numbers or
 * names it carries; anything else reads as "has an invalid value".
 */
const FIELD_MESSAGES = [
  [/^must not be empty$/, 'fielderror.empty'],
  [/^is required$/, 'fielderror.required'],
  [/^is required for business jobs$/, 'fielderror.required_business'],
  [/^is required for an? (\w+) connection$/, 'fielderror.required_for_kind', (m) => ({ kind: m[1] })],
  [/^must not contain control characters other than line breaks and tabs$/, 'fielderror.control_lines'],
  [/^must not contain control characters$/, 'fielderror.control'],
  [/^must not contain the NUL character/, 'fielderror.control'],
  [/^must be at most (\d+) characters$/, 'fielderror.too_long', (m) => ({ max: Number(m[1]) })],
  [/^must be at least (\d+) characters$/, 'fielderror.too_short', (m) => ({ min: Number(m[1]) })],
  [/^names no printer/, 'fielderror.unknown_printer'],
  [/^is taken by another printer$/, 'fielderror.printer_taken'],
  [/^is taken$|^exists already$/, 'fielderror.taken'],
  [/^must be a port number/, 'fielderror.port'],
  [/^must be a host name or IP address/, 'fielderror.host'],
  [/^must be an http:\/\/ or https:\/\/ URL$/, 'fielderror.url'],
  [/^must be a PEM certificate/, 'fielderror.pem'],
  [/^must be a SHA-256 fingerprint/, 'fielderror.fingerprint'],
  [/^is set by printdesk when it first connects/, 'fielderror.fingerprint_set'],
  [/^must be 1–64 characters of a–z, 0–9, '-' or '_'$/, 'fielderror.printer_id_format'],
  [/^must be 1-64 characters, each a letter|^may contain only letters a-z/, 'fielderror.username_format'],
  [/^must be 1–32 letters and digits$/, 'fielderror.serial_format'],
  [/^or username and password are required for a prusalink connection$/, 'fielderror.prusalink_auth'],
  [/^cannot be combined with username and password$/, 'fielderror.prusalink_combined'],
  [/^needs a connection to watch the printer through$/, 'fielderror.monitoring_needs_connection'],
  [/^is not a setting of an? \w+ connection$|^is not a connection setting$/, 'fielderror.not_a_setting'],
  [/^is not editable$|^is set by the server|^is set at registration/, 'fielderror.not_editable'],
  [/^is not a field of/, 'fielderror.unknown_field'],
  [/^must be true or false$/, 'fielderror.boolean'],
  [/^must be a string( or null)?$/, 'fielderror.string'],
  [/^must be an integer or null$|^must be a whole number/, 'fielderror.number'],
  [/^must be one of pending, running, completed, failed$/, 'fielderror.status'],
  [/^must be one of viewer, operator, admin$/, 'fielderror.role'],
  [/^must be one of /, 'fielderror.one_of'],
  [/^appears more than once$|^must be given at most once$/, 'fielderror.repeated'],
  [/^must name at least one job$/, 'fielderror.no_jobs'],
  [/^must name at most (\d+) jobs$/, 'fielderror.too_many_jobs', (m) => ({ max: Number(m[1]) })],
  [/^and its repetition differ$/, 'fielderror.password_repeat'],
];

/** `{field} must not be empty` in the page's language, with the field's translated name. */
export function fieldErrorText(field, message, label) {
  const name = label ?? field;
  for (const [pattern, key, params] of FIELD_MESSAGES) {
    const m = pattern.exec(String(message ?? ''));
    if (m) return t(key, { field: name, ...(params ? params(m) : {}) });
  }
  return t('fielderror.invalid', { field: name });
}

/** An API call that did not succeed: the server said no (status > 0) or was not reached (0). */
export class ApiError extends Error {
  /**
   * @param {object} init
   * @param {number} init.status  HTTP status, 0 when the server could not be reached
   * @param {object|null} [init.problem]  the problem+json body, if any
   * @param {string} init.message
   * @param {unknown} [init.cause]
   */
  constructor({ status, problem = null, message, cause }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    /** The server's own sentence (English; for logs and matching, never shown). */
    this.detail = typeof problem?.detail === 'string' ? problem.detail : '';
  }

  /** The server was not reached (offline, refused, DNS, CORS …). */
  get isNetwork() { return this.status === 0; }
  /** 400: rules broken; see fieldErrors. */
  get isValidation() { return this.status === 400; }
  /** 401: a (valid) token is needed. */
  get isUnauthorized() { return this.status === 401; }
  get isNotFound() { return this.status === 404; }
  /** 412: If-Match did not match; `current` holds the job as it is now. */
  get isConflict() { return this.status === 412; }
  /** 409: the status workflow refused the move (`problem.allowed` lists the moves it allows). */
  get isRefusedMove() { return this.status === 409; }

  /** `[{field, message}]` from the problem body (may be empty). */
  get fieldErrors() {
    const errors = this.problem && Array.isArray(this.problem.errors) ? this.problem.errors : [];
    return errors.filter((e) => e && typeof e.field === 'string');
  }

  /** The resource as it is now, sent with a 412. */
  get current() { return this.problem ? this.problem.current ?? null : null; }
}

// Authentication: `tokenProvider()` gives the bearer token to send (or null); on a 401 the
// `unauthorizedHandler` may obtain a token (the page shows a dialog) and resolve true, and the
// request is then sent again with it. 401 means nothing was done, so repeating is safe.
let tokenProvider = () => null;
let unauthorizedHandler = null;

/** `fn()` returns the bearer token to send, or null. */
export function setTokenProvider(fn) { tokenProvider = fn; }
/**
 * `fn(error)` is told about every 401. When it returns (a promise of) `true`, a token was
 * obtained and the request is sent again; otherwise the 401 error is thrown.
 */
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

/** `"3"` or `W/"3"` → 3; anything else → null. */
export function parseEtag(value) {
  if (!value) return null;
  const m = /^(?:W\/)?"(\d+)"$/.exec(value.trim());
  return m ? Number(m[1]) : null;
}

function queryString(params) {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

/**
 * One API request.
 * @param {string} method
 * @param {string} path   below /api/v1, e.g. `/jobs/…`
 * @param {object} [options]
 * @param {unknown} [options.body]      sent as JSON
 * @param {number|null} [options.ifMatch] a version, sent as `If-Match: "<version>"`
 * @param {object} [options.query]      query parameters; empty values are left out
 * @param {AbortSignal} [options.signal]
 * @param {string|null} [options.token]  this token instead of the provider's (null: none)
 * @param {boolean} [options.authRetry]  false: a 401 is thrown without asking for a token
 * @returns {Promise<{data: any, etag: number|null, status: number}>}
 */
export async function request(method, path, options = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const tokenSent = tokenProvider();
    try {
      return await send(method, path, options);
    } catch (err) {
      // Another request got a new token meanwhile: just send this one again with it.
      if (err instanceof ApiError && err.isUnauthorized && options.token === undefined
          && tokenProvider() && tokenProvider() !== tokenSent && attempt < 3) continue;
      // A few rounds at most: each one is the user giving a token the server then accepted.
      if (!(err instanceof ApiError) || !err.isUnauthorized || !unauthorizedHandler) throw err;
      if (options.authRetry === false || attempt >= 3) throw err;
      if (options.signal?.aborted) throw err;
      if (!(await unauthorizedHandler(err))) throw err;
    }
  }
}

async function send(method, path, {
  body, ifMatch = null, query, signal, token,
} = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch !== null && ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  const bearer = token === undefined ? tokenProvider() : token;
  if (bearer) headers.Authorization = `Bearer ${bearer}`;

  let res;
  try {
    res = await fetch(`${BASE}${path}${queryString(query)}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch (cause) {
    if (cause && cause.name === 'AbortError') throw cause;
    throw new ApiError({ status: 0, message: t('problem.network'), cause });
  }

  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text && type.includes('json')) {
      try { data = JSON.parse(text); } catch { data = null; }
    } else if (text && !res.ok) {
      data = { detail: text.slice(0, 300) };
    }
  }

  if (!res.ok) {
    const problem = data && typeof data === 'object' ? data : {};
    throw new ApiError({ status: res.status, problem, message: problemMessage(res.status, problem) });
  }
  return { data, etag: parseEtag(res.headers.get('ETag')), status: res.status };
}

export const jobsApi = {
  /** `{jobs, total_count, limit, offset}` */
  async list(params, { signal } = {}) {
    return (await request('GET', '/jobs', { query: params, signal })).data;
  },
  async get(id) {
    return (await request('GET', `/jobs/${encodeURIComponent(id)}`)).data;
  },
  async create(fields) {
    return (await request('POST', '/jobs', { body: fields })).data;
  },
  /** Partial update; `version` becomes If-Match (null: last write wins). */
  async update(id, patch, version) {
    return (await request('PUT', `/jobs/${encodeURIComponent(id)}`, { body: patch, ifMatch: version })).data;
  },
  async remove(id, version) {
    await request('DELETE', `/jobs/${encodeURIComponent(id)}`, { ifMatch: version });
  },
  /**
   * The status workflow: moves the job to `status` (409 when the move is not allowed;
   * `force` confirms reopening a completed job). `version` becomes If-Match.
   */
  async setStatus(id, status, { force = false, version = null } = {}) {
    const body = force ? { status, force: true } : { status, force: false };
    return (await request('POST', `/jobs/${encodeURIComponent(id)}/status`, { body, ifMatch: version })).data;
  },
  /**
   * One change to many jobs, all or nothing. `ifVersions`: `{id: version}`.
   * @returns {Promise<object[]>} the jobs as they now are, in the order of `ids`
   */
  async bulkEdit(ids, changes, ifVersions) {
    const body = { ids, changes };
    if (ifVersions && Object.keys(ifVersions).length) body.if_versions = ifVersions;
    const data = (await request('POST', '/jobs/bulk-edit', { body })).data;
    return Array.isArray(data?.jobs) ? data.jobs : [];
  },
  /** `{events, total_count, limit, offset}`, newest first. */
  async history(id, { limit = 50, offset = 0 } = {}) {
    return (await request('GET', `/jobs/${encodeURIComponent(id)}/history`, { query: { limit, offset } })).data;
  },
};

/** Query keys of the list that are not filters: the exports refuse them (they hold every job). */
const NOT_EXPORTED = new Set(['limit', 'offset']);

/** The browser's time zone (IANA name), for the exports' local times; null when unknown. */
export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

/**
 * An export's address (`format`: `csv` or `xlsx`) for the list's `query`: every filter and the
 * sort as on screen (paging left out), the page's language and the browser's time zone, and
 * for the CSV the delimiter a spreadsheet in that language splits on (`;` in German).
 */
export function exportUrl(format, query = {}) {
  const picked = {};
  for (const [key, raw] of Object.entries(query)) {
    if (NOT_EXPORTED.has(key)) continue;
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value !== undefined && value !== null && value !== '') picked[key] = value;
  }
  picked.lang = lang;
  const tz = browserTimeZone();
  if (tz) picked.tz = tz;
  if (format === 'csv') picked.delimiter = lang === 'de' ? ';' : ',';
  return `${BASE}/jobs/export.${format}${queryString(picked)}`;
}

/** The CSV export's address (see exportUrl). */
export const exportCsvUrl = (query = {}) => exportUrl('csv', query);

const EXPORT_ACCEPT = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * Downloads an export with the bearer token (a plain link cannot send the header).
 * @returns {Promise<{blob: Blob, filename: string}>}
 */
export async function fetchExport(url, format = 'csv') {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { Accept: `${EXPORT_ACCEPT[format] ?? '*/*'}, application/problem+json` };
    const token = tokenProvider();
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' });
    } catch (cause) {
      throw new ApiError({ status: 0, message: t('problem.network'), cause });
    }
    if (res.ok) {
      const disposition = res.headers.get('Content-Disposition') || '';
      const m = /filename="([^"]+)"/.exec(disposition);
      return { blob: await res.blob(), filename: m ? m[1] : `printdesk-jobs.${format}` };
    }
    let problem = {};
    try { problem = await res.json(); } catch { /* not JSON */ }
    const error = new ApiError({ status: res.status, problem, message: problemMessage(res.status, problem) });
    if (!error.isUnauthorized || !unauthorizedHandler || attempt >= 3 || !(await unauthorizedHandler(error))) throw error;
  }
}

/** The CSV export with the bearer token (see fetchExport). */
export const fetchExportCsv = (url) => fetchExport(url, 'csv');

export const printersApi = {
  /** `[printer]` */
  async list() {
    const data = (await request('GET', '/printers')).data;
    return Array.isArray(data?.printers) ? data.printers : [];
  },
  async get(id) {
    return (await request('GET', `/printers/${encodeURIComponent(id)}`)).data;
  },
  async create(fields) {
    return (await request('POST', '/printers', { body: fields })).data;
  },
  /** JSON merge-patch: absent keeps, null clears. */
  async update(id, patch) {
    return (await request('PATCH', `/printers/${encodeURIComponent(id)}`, { body: patch })).data;
  },
  async remove(id) {
    await request('DELETE', `/printers/${encodeURIComponent(id)}`);
  },
  /**
   * "Test connection": `{reachable, state, detail}` within about 10 s. `printerId`: the stored
   * printer whose secrets stand in for the ones not typed (they are never sent back).
   */
  async testConnection(connection, printerId = null, { signal } = {}) {
    const body = { connection };
    if (printerId) body.printer_id = printerId;
    return (await request('POST', '/printers/test', { body, signal })).data;
  },
  /** How many jobs name the printer (they lose it when it is deleted). */
  async jobCount(id) {
    const data = (await request('GET', '/jobs', { query: { printer_id: id, limit: 1 } })).data;
    return typeof data?.total_count === 'number' ? data.total_count : 0;
  },
};
