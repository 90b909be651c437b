// The page's wiring: the table, the forms, the printer list, the address bar and live updates.

import { fetchExportCsv, jobsApi } from './api.js';
import { getToken, onTokenChanged, setupAuth } from './auth.js';
import { BulkEditDialog } from './bulk-edit.js';
import { confirmDialog } from './dialogs.js';
import { byId } from './dom.js';
import { EditJobModal } from './edit-modal.js';
import { refreshRelativeTimes } from './format.js';
import { HistoryDialog } from './history.js';
import { JobsTable, paramsFromQuery, queryFromParams } from './jobs-table.js';
import { createLive } from './live.js';
import { fillPrinterSelect, isKnownPrinter, loadPrinters, onPrintersChanged } from './printers.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';
import { STATUS_ACTION_NAMES, runStatusAction } from './workflow.js';

// Before anything talks to the API: a 401 asks for a token.
setupAuth();

// ---- the address bar: #jobs?status=failed&sort=job_name:asc ------------------------------

function queryFromHash() {
  const hash = location.hash.replace(/^#/, '');
  const [route, search = ''] = hash.split('?');
  return route === 'jobs' || route === '' ? queryFromParams(new URLSearchParams(search)) : null;
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

const table = new JobsTable({
  onQueryChange: writeHash,
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

onPrintersChanged(() => {
  fillPrinterSelect(byId('filterPrinter'));
  fillPrinterSelect(byId('printerId'));
  if (table.loaded) table.render();
});

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
  onState: (state, detail) => {
    indicator.dataset.state = state;
    indicator.querySelector('.conn-label').textContent = STATE_LABELS[state] ?? state;
    indicator.title = detail;
  },
  // Events from before the first connection (or from a restarted server) were not seen:
  // re-read the page once. This also replaces a first load that may have raced the connection.
  onResync: () => table.load({ quiet: true }),
  token: getToken,
});

// A new token (typed after a 401): reconnect the live updates with it at once.
onTokenChanged((token) => { if (token) live.restart(); });

// ---- start -------------------------------------------------------------------------------

window.addEventListener('hashchange', () => {
  const query = queryFromHash();
  if (query) table.setQuery(query, { notify: false });
});

table.setQuery(queryFromHash() ?? queryFromParams(new URLSearchParams()), { notify: false });
refreshPrinters();
live.start();
setInterval(() => refreshRelativeTimes(document.body), 30000);

