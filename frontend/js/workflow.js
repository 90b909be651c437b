// The status workflow (`POST /jobs/{id}/status`): which moves a row offers, and making one.
// The table mirrors docs/api.md ("Status workflow"); the server has the last word (409).

import { jobsApi } from './api.js';
import { choose, confirmDialog } from './dialogs.js';
import { byId, trapFocus } from './dom.js';
import { NOTES_MAX, STATUS_LABELS, charCount } from './format.js';
import { t } from './i18n.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';

/**
 * From each status, the moves a row offers, in button order; `label` is the button's catalog
 * key. `force`: the server needs `force: true`, and the page asks for a confirmation first.
 */
export const STATUS_ACTIONS = Object.freeze({
  pending: [
    { action: 'start-job', to: 'running', label: 'workflow.start', tone: 'go' },
    { action: 'fail-job', to: 'failed', label: 'workflow.fail', tone: 'stop' },
  ],
  running: [
    { action: 'complete-job', to: 'completed', label: 'workflow.complete', tone: 'done' },
    { action: 'fail-job', to: 'failed', label: 'workflow.fail', tone: 'stop' },
  ],
  failed: [
    { action: 'retry-job', to: 'pending', label: 'workflow.retry', tone: 'plain' },
  ],
  completed: [
    { action: 'reopen-job', to: 'pending', label: 'workflow.reopen', tone: 'plain', force: true },
  ],
});

/** Every action name above. */
export const STATUS_ACTION_NAMES = new Set(
  Object.values(STATUS_ACTIONS).flat().map((a) => a.action),
);

/** The move `action` offers from `status`, or null. */
export function moveFor(status, action) {
  return (STATUS_ACTIONS[status] || []).find((a) => a.action === action) ?? null;
}

const DONE = {
  running: (name) => t('workflow.done.running', { name }),
  completed: (name) => t('workflow.done.completed', { name }),
  failed: (name) => t('workflow.done.failed', { name }),
  pending: (name, from) => (from === 'completed' ? t('workflow.done.reopened', { name }) : t('workflow.done.pending', { name })),
};

/** The notes after a failure's reason was added: on a line of its own below what was there. */
export function notesWithReason(notes, reason) {
  const line = t('fail.notes_line', { reason: reason.trim() });
  const before = typeof notes === 'string' ? notes.replace(/\s+$/, '') : '';
  return before ? `${before}\n${line}` : line;
}

let failReady = false;

/**
 * Asks before failing `job`, with an optional reason. Resolves `{reason}` ('' for none) when
 * confirmed, null when not. A reason that would take the notes past their limit is refused
 * here, with how much too long it is.
 */
export async function askFail(job) {
  const dialog = byId('failDialog');
  const reason = byId('failReason');
  const counter = byId('failReasonCounter');
  const error = byId('failReasonError');
  const ok = byId('failOkBtn');
  const check = () => {
    const text = reason.value.trim();
    const total = text ? charCount(notesWithReason(job.notes, text)) : charCount(job.notes ?? '');
    const over = text ? total - NOTES_MAX : 0;
    counter.textContent = t('fail.counter', { used: String(total), max: String(NOTES_MAX) });
    counter.classList.toggle('over', over > 0);
    error.hidden = over <= 0;
    error.textContent = over > 0 ? t('fail.too_long', { count: over, max: String(NOTES_MAX) }) : '';
    ok.disabled = over > 0;
    reason.toggleAttribute('aria-invalid', over > 0);
  };
  if (!failReady) {
    trapFocus(dialog);
    failReady = true;
  }
  reason.oninput = check;
  // Ctrl/Cmd+Enter confirms from the reason (Enter is a new line there).
  reason.onkeydown = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !ok.disabled) {
      e.preventDefault();
      ok.click();
    }
  };
  byId('failMessage').textContent = t('fail.message', { name: job.job_name });
  reason.value = '';
  check();
  const opened = choose(dialog);
  reason.focus();
  const choice = await opened;
  const text = reason.value.trim();
  reason.value = '';
  if (choice !== 'confirm') return null;
  if (text && charCount(notesWithReason(job.notes, text)) > NOTES_MAX) return null;
  return { reason: text };
}

/**
 * Makes the move `action` on `job` (as the row shows it, its version is the If-Match).
 * @param {object} job
 * @param {string} action
 * @param {object} table  the JobsTable: `saved(job)`, `removed(id)`
 * @returns {Promise<object|null>} the job after the move, or null
 */
export async function runStatusAction(job, action, table) {
  const move = moveFor(job.status, action);
  if (!move) return null;
  if (move.force) {
    const ok = await confirmDialog({
      title: t('workflow.reopen_confirm.title'),
      message: t('workflow.reopen_confirm.message', { name: job.job_name }),
      confirmLabel: t('workflow.reopen_confirm.confirm'),
      tone: 'primary',
    });
    if (!ok) return null;
  }
  let reason = '';
  if (move.to === 'failed') {
    const answer = await askFail(job);
    if (!answer) return null;
    reason = answer.reason;
  }
  let updated;
  try {
    updated = await jobsApi.setStatus(job.id, move.to, { force: Boolean(move.force), version: job.version });
    table.saved(updated);
  } catch (err) {
    statusFailed(err, job, table);
    return null;
  }
  if (!reason) {
    toastSuccess(DONE[move.to](updated.job_name, job.status));
    return updated;
  }
  // The reason goes into the notes, against the version the move produced.
  try {
    const noted = await jobsApi.update(updated.id, { notes: notesWithReason(updated.notes, reason) }, updated.version);
    table.saved(noted);
    toastSuccess(t('workflow.done.failed_reason', { name: noted.job_name }));
    return noted;
  } catch (err) {
    if (err.isConflict && err.current) table.saved(err.current);
    toastError(t('fail.notes_failed', { name: updated.job_name, reason: err.message }));
    return updated;
  }
}

/** Why a move was not made, as a toast; the row shows the job as it now is. */
function statusFailed(err, job, table) {
  if (err.isConflict) {
    // Someone changed the job since this row was drawn: show it as it is now.
    const current = err.current;
    if (current) table.saved(current);
    toastInfo(current
      ? t('workflow.conflict_now', { name: job.job_name, status: STATUS_LABELS[current.status] ?? current.status })
      : t('workflow.conflict', { name: job.job_name }));
  } else if (err.isRefusedMove) {
    toastError(err.message);
  } else if (err.isNotFound) {
    table.removed(job.id);
    toastInfo(t('workflow.gone', { name: job.job_name }));
  } else {
    toastError(t('workflow.failed', { reason: err.message }));
  }
}
