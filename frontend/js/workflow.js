// The status workflow (`POST /jobs/{id}/status`): which moves a row offers, and making one.
// The table mirrors docs/api.md ("Status workflow"); the server has the last word (409).

import { jobsApi } from './api.js';
import { confirmDialog } from './dialogs.js';
import { STATUS_LABELS } from './format.js';
import { toastError, toastInfo, toastSuccess } from './toast.js';

/**
 * From each status, the moves a row offers, in button order. `force`: the server needs
 * `force: true`, and the page asks for a confirmation first.
 */
export const STATUS_ACTIONS = Object.freeze({
  pending: [
    { action: 'start-job', to: 'running', label: 'Start', tone: 'go' },
    { action: 'fail-job', to: 'failed', label: 'Fail', tone: 'stop' },
  ],
  running: [
    { action: 'complete-job', to: 'completed', label: 'Complete', tone: 'done' },
    { action: 'fail-job', to: 'failed', label: 'Fail', tone: 'stop' },
  ],
  failed: [
    { action: 'retry-job', to: 'pending', label: 'Retry', tone: 'plain' },
  ],
  completed: [
    { action: 'reopen-job', to: 'pending', label: 'Reopen', tone: 'plain', force: true },
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
  running: (name) => `Started “${name}”.`,
  completed: (name) => `Completed “${name}”.`,
  failed: (name) => `Marked “${name}” as failed.`,
  pending: (name, from) => (from === 'completed' ? `Reopened “${name}”.` : `“${name}” is pending again.`),
};

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
      title: 'Reopen this job?',
      message: `“${job.job_name}” is completed. Reopening sets it back to pending and clears its completion time; its start time is kept.`,
      confirmLabel: 'Reopen job',
      tone: 'primary',
    });
    if (!ok) return null;
  }
  try {
    const updated = await jobsApi.setStatus(job.id, move.to, { force: Boolean(move.force), version: job.version });
    table.saved(updated);
    toastSuccess(DONE[move.to](updated.job_name, job.status));
    return updated;
  } catch (err) {
    if (err.isConflict) {
      // Someone changed the job since this row was drawn: show it as it is now.
      const current = err.current;
      if (current) table.saved(current);
      const now = current ? ` It is now ${STATUS_LABELS[current.status] ?? current.status}.` : '';
      toastInfo(`Not changed: someone else changed “${job.job_name}” meanwhile; the row shows it as it is now.${now} Check it and try again.`);
    } else if (err.isRefusedMove) {
      toastError(err.message);
    } else if (err.isNotFound) {
      table.removed(job.id);
      toastInfo(`“${job.job_name}” had been deleted.`);
    } else {
      toastError(`Status not changed: ${err.message}`);
    }
    return null;
  }
}
