// Promise-returning wrappers around the page's native <dialog>s.

import { byId, trapFocus } from './dom.js';
import { t } from './i18n.js';

/**
 * Opens `dialog` (whose buttons live in a `<form method="dialog">` with `value`s) and resolves
 * with the value of the button pressed, or '' for Esc.
 */
export function choose(dialog) {
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue || ''), { once: true });
    dialog.showModal();
  });
}

let confirmReady = false;

/**
 * A confirmation dialog (instead of window.confirm). Resolves true when confirmed.
 * @param {{title: string, message: string, confirmLabel?: string, cancelLabel?: string,
 *          tone?: 'danger'|'primary'}} options  text only; `tone` styles the confirming button
 */
export async function confirmDialog({
  title, message, confirmLabel = t('confirm.delete'), cancelLabel = t('common.cancel'), tone = 'danger',
}) {
  const dialog = byId('confirmDialog');
  if (!confirmReady) {
    trapFocus(dialog);
    confirmReady = true;
  }
  byId('confirmTitle').textContent = title;
  byId('confirmMessage').textContent = message;
  const ok = byId('confirmOkBtn');
  ok.textContent = confirmLabel;
  byId('confirmCancelBtn').textContent = cancelLabel;
  ok.classList.toggle('btn-danger', tone === 'danger');
  ok.classList.toggle('btn-primary', tone !== 'danger');
  const choice = await choose(dialog);
  return choice === 'confirm';
}
