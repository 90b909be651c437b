// Toasts: short, non-blocking messages (`.toast.success`, `.toast.error`, `.toast.info`).

import { byId, h } from './dom.js';
import { t } from './i18n.js';

const DURATIONS = { success: 4000, info: 5000, error: 9000 };

/**
 * Shows a toast. The message is text, never HTML.
 * @param {string} message
 * @param {{type?: 'success'|'error'|'info', timeout?: number}} [options]  timeout 0 = stays
 * @returns {() => void} dismisses the toast
 */
export function toast(message, { type = 'info', timeout = DURATIONS[type] ?? 5000 } = {}) {
  const region = byId('toasts');
  const dismiss = () => {
    if (!el.isConnected) return;
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 180);
  };
  const el = h('div', { class: `toast ${type}`, role: type === 'error' ? 'alert' : 'status' },
    h('span', { class: 'toast-icon', 'aria-hidden': 'true', text: type === 'success' ? '✓' : type === 'error' ? '!' : 'i' }),
    h('span', { class: 'toast-text', text: message }),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': t('toast.dismiss'), text: '×', on: { click: dismiss } }));
  region.append(el);
  // Keep the stack short.
  while (region.children.length > 4) region.firstElementChild.remove();
  if (timeout > 0) {
    let timer = setTimeout(dismiss, timeout);
    el.addEventListener('mouseenter', () => clearTimeout(timer));
    el.addEventListener('mouseleave', () => { timer = setTimeout(dismiss, 2000); });
  }
  return dismiss;
}

export const toastSuccess = (message) => toast(message, { type: 'success' });
export const toastError = (message) => toast(message, { type: 'error' });
export const toastInfo = (message) => toast(message, { type: 'info' });
