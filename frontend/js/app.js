// The page's wiring: the table, the forms, the printer list, the address bar and live updates.

// The message catalog (every module that shows text imports it, and runs once it is loaded).
import { LANGUAGES, lang, setLanguage, t } from './i18n.js';
import { fetchExport, jobsApi, request as apiRequest } from './api.js';
import {
  currentSession, getToken, onSignedIn, onTokenChanged, refreshSession, setupAuth,
} from './auth.js';
import { BulkEditDialog } from './bulk-edit.js';
import { confirmDialog } from './dialogs.js';
import { byId, h } from './dom.js';
import { EditJobModal } from './edit-modal.js';
import { refreshRelativeTimes } from './format.js';
import { HistoryDialog } from './history.js';
import { JobsTable, paramsFromQuery, queryFromParams } from './jobs-table.js';
import { createLive } from './live.js';
import { setupAccount } from './user-edit.js';
import {
  applyPrinterStatus, fillPrinterSelect, isKnownPrinter, loadPrinters, onPrintersChanged,
  removePrinter, upsertPrinter,
} from './printers.js';
import { PrintersPage } from './printers-page.js';
import { AccessPage } from './access-page.js';
import { CustomerAutocomplete, SimilarCustomerWarning } from './customers.js';
import { OfficeFilters } from './office-filters.js';
import { ReportsPage, reportsTitle } from './reports-page.js';
import { hasUnsavedChanges } from './unsaved.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';
import { STATUS_ACTION_NAMES, runStatusAction } from './workflow.js';

// Before anything talks to the API: a 401 asks for a token.
setupAuth();
setupAccount(currentSession, refreshSession);

// ---- the address bar: #jobs?status=failed&sort=job_name:asc, #printers --------------------

function routeOf() {
  const hash = location.hash.replace(/^#/, '');
  const [route, search = ''] = hash.split('?');
  const known = route === 'printers' || route === 'access' || route === 'reports';
  return { route: known ? route : 'jobs', params: new URLSearchParams(search) };
}

function queryFromHash() {
  const { route, params } = routeOf();
  return route === 'jobs' ? queryFromParams(params) : null;
}

function writeHash(query) {
  const params = paramsFromQuery(query).toString();
  const hash = params ? `#jobs?${params}` : '#jobs';
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

// ---- the parts ---------------------------------------------------------------------------

const historyDialog = new HistoryDialog();

const modal = new EditJobModal({
  onSaved: (job) => table.saved(job),
  onCreated: (job) => table.created(job),
  onShowHistory: (job) => historyDialog.open(job),
});

// The customer and date filters (their own module); the table tells them the query it shows.
const officeFilters = new OfficeFilters(byId('officeFilters'), {
  onChange: (partial) => table.setQuery({ ...partial, offset: 0 }),
});

// The job form's and the bulk edit's customer fields suggest the names the jobs have.
const customerInput = byId('customerName');
new CustomerAutocomplete(customerInput);
new SimilarCustomerWarning(customerInput, { storedName: () => modal.job?.customer_name ?? null });
new CustomerAutocomplete(byId('bulkCustomer'));

const table = new JobsTable({
  onQueryChange: (query) => {
    officeFilters.sync(query);
    writeHash(query);
  },
  onSelectionChange: (count) => showSelection(count),
  onAction: (action, job, button) => {
    if (STATUS_ACTION_NAMES.has(action)) return runStatusAction(job, action, table);
    if (action === 'edit-job') modal.openEdit(job, button);
    else if (action === 'job-history') historyDialog.open(job);
    else if (action === 'delete-job') deleteJob(job, button);
    return undefined;
  },
});

// ---- selection and bulk edit -------------------------------------------------------------

const bulkDialog = new BulkEditDialog(table);
const bulkBar = byId('bulkBar');

function showSelection(count) {
  bulkBar.hidden = count === 0;
  document.body.classList.toggle('has-selection', count > 0);
  byId('selectionCount').textContent = t('selection.count', { count });
}

byId('editSelectedBtn').addEventListener('click', (e) => bulkDialog.open(e.currentTarget));
byId('clearSelectionBtn').addEventListener('click', () => {
  table.clearSelection();
  byId('selectAll').focus();
});

// ---- exports (CSV, Excel) ------------------------------------------------------------------

// Without a token a link downloads by itself. A link cannot send a token, so with one the
// file is fetched with it and handed to the browser as a download.
async function exportClicked(e, format) {
  if (!getToken()) return;
  e.preventDefault();
  const link = e.currentTarget;
  if (link.getAttribute('aria-disabled') === 'true') return;
  link.setAttribute('aria-disabled', 'true');
  try {
    const { blob, filename } = await fetchExport(link.href, format);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    toastError(t('export.failed', { reason: err.message }));
  } finally {
    link.removeAttribute('aria-disabled');
  }
}
byId('exportCsvLink').addEventListener('click', (e) => exportClicked(e, 'csv'));
byId('exportXlsxLink').addEventListener('click', (e) => exportClicked(e, 'xlsx'));

async function deleteJob(job, button) {
  const ok = await confirmDialog({
    title: t('jobs.delete.title'),
    message: t('jobs.delete.message', { name: job.job_name }),
    confirmLabel: t('jobs.delete.confirm'),
  });
  if (!ok) {
    if (button.isConnected) button.focus();
    return;
  }
  try {
    await jobsApi.remove(job.id, job.version);
    table.removed(job.id);
    toastSuccess(t('jobs.delete.done', { name: job.job_name }));
  } catch (err) {
    if (err.isConflict) {
      if (err.current) table.saved(err.current);
      toastError(t('jobs.delete.conflict'));
    } else if (err.isNotFound) {
      table.removed(job.id);
      toastInfo(t('jobs.delete.gone'));
    } else {
      toastError(t('jobs.delete.failed', { reason: err.message }));
    }
  }
}

byId('newJobBtn').addEventListener('click', (e) => modal.openCreate(e.currentTarget));

// ---- printers ----------------------------------------------------------------------------

// Taken once: while the printer dialog is open, #printerId is also its id field.
const jobPrinterSelect = byId('printerId');
const filterPrinter = byId('filterPrinter');
const bulkPrinter = byId('bulkPrinter');

onPrintersChanged(() => {
  fillPrinterSelect(filterPrinter);
  fillPrinterSelect(jobPrinterSelect);
  fillPrinterSelect(bulkPrinter);
  if (table.loaded) table.render();
});

const printersPage = new PrintersPage({
  jobName: (id) => table.jobs.find((j) => j.id === id)?.job_name ?? null,
  // Its jobs were kept without a printer: show them as they now are.
  onDeleted: () => table.load({ quiet: true }),
});

/** A live printer message: its status, or the printer created, changed or deleted elsewhere. */
function applyPrinterMessage(msg) {
  if (typeof msg.printer_id !== 'string') return;
  if (msg.type === 'printer_status') applyPrinterStatus(msg.printer_id, msg.status);
  else if (msg.type === 'printer_changed') {
    if (msg.printer) upsertPrinter(msg.printer);
    else removePrinter(msg.printer_id);
  }
}

// ---- pages -------------------------------------------------------------------------------

const pages = { jobs: byId('jobs'), printers: byId('printersPage'), access: byId('accessPage') };
const TITLES = { jobs: t('title.jobs'), printers: t('title.printers'), access: t('title.access') };
const accessPage = new AccessPage();
pages.reports = byId('reportsPage');
TITLES.reports = reportsTitle();
const reportsPage = new ReportsPage({
  onChange: (params) => {
    const search = params.toString();
    const hash = search ? `#reports?${search}` : '#reports';
    if (location.hash !== hash) history.replaceState(null, '', hash);
  },
});

function showRoute() {
  const { route, params } = routeOf();
  for (const [name, section] of Object.entries(pages)) section.hidden = name !== route;
  for (const a of document.querySelectorAll('.app-nav a')) {
    if (a.getAttribute('href') === `#${route}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = TITLES[route];
  if (route === 'jobs' && params.has('job')) openJobFromLink(params.get('job'));
  if (route === 'access') accessPage.load();
  if (route === 'reports') reportsPage.show(params);
}

/** `#jobs?job=<id>` (a printer card's current job): the job opens in the edit form. */
async function openJobFromLink(id) {
  writeHash(table.query);
  try {
    modal.openEdit(await jobsApi.get(id));
  } catch (err) {
    toastError(err.isNotFound ? t('jobs.link.gone') : t('jobs.link.failed', { reason: err.message }));
  }
}

function refreshPrinters() {
  loadPrinters().catch((err) => toastError(t('printers.load_failed', { reason: err.message })));
}

// ---- live updates ------------------------------------------------------------------------

/**
 * The server closed the live connection because the page's access changed: a new role is
 * shown at once (what it may not do hides); an ended session or revoked token brings the
 * sign-in (or token) dialog up, as the next request would, and the connection restarts after.
 */
function accessChanged(why) {
  if (why === 'role') {
    refreshSession();
    return;
  }
  // A 401 here opens the dialog; signing in restarts the live connection (onSignedIn).
  apiRequest('GET', '/session').then(() => refreshSession(), () => refreshSession());
}

const indicator = byId('connectionStatus');
const STATE_LABELS = { live: t('live.state.live'), connecting: t('live.state.connecting'), offline: t('live.state.offline') };

const live = createLive({
  onEvent: (event) => {
    table.applyEvent(event);
    modal.onJobEvent(event);
    historyDialog.onJobEvent(event);
    const printer = event.job?.printer_id;
    if (printer && !isKnownPrinter(printer)) refreshPrinters();
  },
  onPrinter: applyPrinterMessage,
  onState: (state, detail) => {
    indicator.dataset.state = state;
    indicator.querySelector('.conn-label').textContent = STATE_LABELS[state] ?? state;
    indicator.title = detail;
  },
  // Events from before the first connection (or from a restarted server) were not seen:
  // re-read the page once. This also replaces a first load that may have raced the connection.
  // Printers are re-read too: printer_changed messages sent meanwhile were not seen.
  onResync: () => {
    table.load({ quiet: true });
    refreshPrinters();
  },
  token: getToken,
  onAccessChanged: accessChanged,
});

// A new token (typed after a 401): reconnect the live updates with it at once.
onTokenChanged((token) => { if (token) live.restart(); });
// Signed in (after a 401): likewise, with the session cookie.
onSignedIn(() => live.restart());

// ---- the language switch -------------------------------------------------------------------

const langSwitch = byId('langSwitch');
langSwitch.replaceChildren(...LANGUAGES.map((code) => h('option', { value: code, text: t(`lang.${code}`) })));
langSwitch.value = lang;
langSwitch.addEventListener('change', () => {
  // Switching reloads the page: a form with unsaved changes asks first.
  // The forms are modal, so none is open here; the check is for a form opened meanwhile.
  if (hasUnsavedChanges()) {
    langSwitch.value = lang;
    return;
  }
  setLanguage(langSwitch.value);
});

// ---- keyboard shortcuts: `/` searches, `n` makes a new job ---------------------------------

/** Whether a key press is typing (into a field) rather than a shortcut. */
function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key !== '/' && e.key !== 'n') return;
  if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
  // Only where the jobs list is shown, and `n` only for who may create (the button is shown).
  if (byId('jobs').hidden) return;
  if (e.key === '/') {
    e.preventDefault();
    const search = byId('jobSearch');
    search.focus();
    search.select();
  } else {
    const button = byId('newJobBtn');
    if (button.getClientRects().length === 0 || button.disabled) return;
    e.preventDefault();
    modal.openCreate(button);
  }
});

// ---- start -------------------------------------------------------------------------------

window.addEventListener('hashchange', () => {
  const query = queryFromHash();
  if (query) table.setQuery(query, { notify: false });
  officeFilters.sync(table.query);
  showRoute();
});

table.setQuery(queryFromHash() ?? queryFromParams(new URLSearchParams()), { notify: false });
officeFilters.sync(table.query);
showRoute();
printersPage.render();
refreshPrinters();
live.start();
setInterval(() => refreshRelativeTimes(document.body), 30000);
// Running jobs' durations count up.
setInterval(() => table.tickDurations(), 1000);

