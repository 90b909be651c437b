// The page's wiring: the table, the forms, the printer list, the address bar and live updates.

// The message catalog (every module that shows text imports it, and runs once it is loaded).
import './i18n.js';
import { fetchExportCsv, jobsApi } from './api.js';
import {
  getToken, onSignedIn, onTokenChanged, setupAuth,
} from './auth.js';
import { BulkEditDialog } from './bulk-edit.js';
import { confirmDialog } from './dialogs.js';
import { byId } from './dom.js';
import { EditJobModal } from './edit-modal.js';
import { refreshRelativeTimes } from './format.js';
import { HistoryDialog } from './history.js';
import { JobsTable, paramsFromQuery, queryFromParams } from './jobs-table.js';
import { createLive } from './live.js';
import {
  applyPrinterStatus, fillPrinterSelect, isKnownPrinter, loadPrinters, onPrintersChanged,
  removePrinter, upsertPrinter,
} from './printers.js';
import { PrintersPage } from './printers-page.js';
import { AccessPage } from './access-page.js';
import { CustomerAutocomplete, SimilarCustomerWarning } from './customers.js';
import { OfficeFilters } from './office-filters.js';
import { ReportsPage, reportsTitle } from './reports-page.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';
import { STATUS_ACTION_NAMES, runStatusAction } from './workflow.js';

// Before anything talks to the API: a 401 asks for a token.
setupAuth();

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
  byId('selectionCount').textContent = `${count} selected`;
}

byId('editSelectedBtn').addEventListener('click', (e) => bulkDialog.open(e.currentTarget));
byId('clearSelectionBtn').addEventListener('click', () => {
  table.clearSelection();
  byId('selectAll').focus();
});

// ---- CSV export --------------------------------------------------------------------------

// Without a token the link downloads by itself. A link cannot send a token, so with one the
// file is fetched with it and handed to the browser as a download.
byId('exportCsvLink').addEventListener('click', async (e) => {
  if (!getToken()) return;
  e.preventDefault();
  const link = e.currentTarget;
  if (link.getAttribute('aria-disabled') === 'true') return;
  link.setAttribute('aria-disabled', 'true');
  try {
    const { blob, filename } = await fetchExportCsv(link.href);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    toastError(`The export failed: ${err.message}`);
  } finally {
    link.removeAttribute('aria-disabled');
  }
});

async function deleteJob(job, button) {
  const ok = await confirmDialog({
    title: 'Delete this job?',
    message: `“${job.job_name}” will be removed from the list. Its history is kept.`,
    confirmLabel: 'Delete job',
  });
  if (!ok) {
    if (button.isConnected) button.focus();
    return;
  }
  try {
    await jobsApi.remove(job.id, job.version);
    table.removed(job.id);
    toastSuccess(`Deleted “${job.job_name}”.`);
  } catch (err) {
    if (err.isConflict) {
      if (err.current) table.saved(err.current);
      toastError('Not deleted: someone changed the job meanwhile. Check it and try again.');
    } else if (err.isNotFound) {
      table.removed(job.id);
      toastInfo('That job had already been deleted.');
    } else {
      toastError(`Not deleted: ${err.message}`);
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
const TITLES = { jobs: 'Jobs · printdesk', printers: 'Printers · printdesk', access: 'Access · printdesk' };
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
    toastError(err.isNotFound ? 'That job no longer exists.' : `The job could not be opened: ${err.message}`);
  }
}

function refreshPrinters() {
  loadPrinters().catch((err) => toastError(`Printers could not be loaded: ${err.message}`));
}

// ---- live updates ------------------------------------------------------------------------

const indicator = byId('connectionStatus');
const STATE_LABELS = { live: 'Live', connecting: 'Connecting…', offline: 'Offline' };

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
});

// A new token (typed after a 401): reconnect the live updates with it at once.
onTokenChanged((token) => { if (token) live.restart(); });
// Signed in (after a 401): likewise, with the session cookie.
onSignedIn(() => live.restart());

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

