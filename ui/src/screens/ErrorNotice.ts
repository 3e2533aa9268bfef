// Every failure on screen: what happened (the backend's plain message) and what to do next.
import { warnIcon } from '../lib/icons';
import { html, nothing, type TemplateResult } from 'lit-html';
import { ifDefined } from 'lit-html/directives/if-defined.js';
import type { BackendError } from '../backend/types';
import { helpFor } from '../lib/errors';

export interface ErrorNoticeOptions {
  id?: string;
  retry?: () => void;
  retryLabel?: string;
}

export function errorNotice(err: BackendError, opts: ErrorNoticeOptions = {}): TemplateResult {
  const help = helpFor(err);
  return html`<div class="error-notice" role="alert" id=${ifDefined(opts.id)} data-kind=${err.kind}>
    <p class="error-title">${warnIcon()} ${help.title}</p>
    <p class="error-message">${err.message}</p>
    <p class="error-next"><strong>What to do:</strong> ${help.next}</p>
    ${opts.retry ? html`<button type="button" class="btn" @click=${opts.retry}>${opts.retryLabel ?? 'Try again'}</button>` : nothing}
  </div>`;
}
