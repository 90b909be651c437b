// Unsaved changes: a form dialog with changes asks before Esc, its Cancel / × buttons or
// closing the tab throw them away.

import { confirmDialog } from './dialogs.js';
import { t } from './i18n.js';

/** The guarded dialogs: `{dialog, isDirty}`. */
const guarded = new Set();

/** Asks whether to throw the form's changes away; true to discard. */
export function confirmDiscard() {
  return confirmDialog({
    title: t('unsaved.title'),
    message: t('unsaved.message'),
    confirmLabel: t('unsaved.discard'),
    cancelLabel: t('unsaved.keep'),
  });
}

/**
 * Guards `dialog`: while `isDirty()`, Esc and the returned `requestClose` ask first, and
 * leaving the page asks the browser's own question. `close()` closes the dialog for real.
 * @param {HTMLDialogElement} dialog
 * @param {{isDirty: () => boolean, close: () => void}} form
 * @returns {() => Promise<boolean>} requestClose: resolves true once the dialog closed
 */
export function guardDialog(dialog, { isDirty, close }) {
  guarded.add({ dialog, isDirty });
  let asking = false;
  const requestClose = async () => {
    if (!dialog.open || asking) return false;
    if (isDirty()) {
      asking = true;
      let discard;
      try {
        discard = await confirmDiscard();
      } finally {
        asking = false;
      }
      if (!discard || !dialog.open) return false;
    }
    close();
    return true;
  };
  // Esc is taken before the dialog's own close request (which a page may cancel only once
  // per user activation): every Esc goes through the question.
  dialog.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.isComposing || e.defaultPrevented) return;
    e.preventDefault();
    requestClose();
  });
  dialog.addEventListener('cancel', (e) => {
    if (!isDirty()) return;
    e.preventDefault();
    requestClose();
  });
  return requestClose;
}

/** Whether an open guarded dialog has changes (reload, closing the tab, another language). */
export const hasUnsavedChanges = () => [...guarded].some((g) => g.dialog.open && g.isDirty());

window.addEventListener('beforeunload', (e) => {
  if (!hasUnsavedChanges()) return;
  e.preventDefault();
  e.returnValue = ''; // older browsers ask only when returnValue is set
});
