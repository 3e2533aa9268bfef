// Small inline SVG icons instead of emoji: emoji need a colour-emoji font, which many Linux
// desktops (and CI's Xvfb) do not have, so they showed as empty boxes. Each is decorative
// (aria-hidden), sized to the text and drawn in `currentColor`.
import { svg, html, type TemplateResult } from 'lit-html';

const icon = (body: TemplateResult, cls: string) =>
  html`<svg class=${`icon ${cls}`} viewBox="0 0 16 16" width="1em" height="1em" aria-hidden="true" focusable="false"
    fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

/** A warning triangle with an exclamation mark. */
export const warnIcon = () =>
  icon(svg`<path d="M8 1.8 15 14.2H1z"/><path d="M8 6.2v3.6"/><circle cx="8" cy="12" r=".5" fill="currentColor"/>`, 'icon-warn');

/** A flask (demo data). */
export const demoIcon = () => icon(svg`<path d="M6 1.5h4M6.6 1.5v4.6L2.2 13.4a.8.8 0 0 0 .7 1.1h10.2a.8.8 0 0 0 .7-1.1L9.4 6.1V1.5"/><path d="M4.2 10.2h7.6"/>`, 'icon-demo');

/** A folder (files on disk). */
export const folderIcon = () => icon(svg`<path d="M1.5 4a1 1 0 0 1 1-1h3.6l1.6 1.6h5.8a1 1 0 0 1 1 1V13a1 1 0 0 1-1 1h-11a1 1 0 0 1-1-1z"/>`, 'icon-folder');
