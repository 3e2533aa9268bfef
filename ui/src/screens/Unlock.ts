// "This export is encrypted": the passphrase form shown where an encrypted export (.tar.age) was
// opened. The backend says when one is needed (kind `passphrase`), and again when the one typed
// does not open it; the file is decrypted into memory only.
import { html, nothing, type TemplateResult } from 'lit-html';
import { closeOnEscape } from '../lib/dialog';

export interface Locked {
  /** The encrypted file. */
  path: string;
  /** Set after a passphrase did not open it. */
  wrong: boolean;
}

/** The file's name, as the user saved it. */
function fileName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

export function unlockForm(
  locked: Locked,
  busy: boolean,
  open: (passphrase: string) => void,
  cancel: () => void,
): TemplateResult {
  const submit = (e: Event): void => {
    e.preventDefault();
    const typed = (e.currentTarget as HTMLFormElement).querySelector<HTMLInputElement>('#open-passphrase')?.value ?? '';
    if (typed) open(typed);
  };
  return html`<form class="unlock" id="unlock" aria-labelledby="unlock-title" @submit=${submit} @keydown=${closeOnEscape(cancel)}>
    <p id="unlock-title"><strong>${fileName(locked.path)}</strong> is encrypted. Enter the passphrase it was exported with.</p>
    <label>Passphrase
      <input type="password" id="open-passphrase" autocomplete="off" ?disabled=${busy}
        aria-invalid=${locked.wrong ? 'true' : 'false'} aria-describedby=${locked.wrong ? 'unlock-wrong' : nothing} /></label>
    ${locked.wrong
      ? html`<p class="inline-error" id="unlock-wrong" role="alert">That passphrase does not open it. Check it (capital letters count)
          and try again.</p>`
      : nothing}
    <div class="actions">
      <button type="submit" class="btn primary" id="open-passphrase-go" ?disabled=${busy}>Open</button>
      <button type="button" class="btn" ?disabled=${busy} @click=${cancel}>Cancel</button>
    </div>
  </form>`;
}
