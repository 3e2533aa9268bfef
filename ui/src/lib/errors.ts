// What the user can do about each kind of failure. The backend's `message` says what happened;
// this adds a short title and the next step, so every error on screen ends with an action.
import type { BackendError, ErrorKind } from '../backend/types';

export interface ErrorHelp {
  title: string;
  next: string;
}

const API_KEY_HINT = 'In JHE: Profile → API Key';

/** One entry per kind Rust can send (the compiler checks that none is missing or extra). */
export const ERROR_HELP: Record<ErrorKind, ErrorHelp> = {
  invalid_url: {
    title: 'That is not a server address',
    next: 'Type the full address of your JHE web portal, for example https://jhe.example.org.',
  },
  insecure_url: {
    title: 'This address is not secure',
    next: 'Use the address that starts with https:// — ask your study’s data manager if you are not sure.',
  },
  not_jhe: {
    title: 'This is not a JupyterHealth Exchange',
    next: 'Check the address with your study’s data manager. It is the address of the JHE web portal, without anything after the server name.',
  },
  network: {
    title: 'Could not reach the server',
    next: 'Check your internet connection (and VPN, if your institution uses one), then try again.',
  },
  unreachable: {
    title: 'Could not reach the server',
    next: 'Check the address and your internet connection (and VPN, if your institution uses one), then try again.',
  },
  sign_in_failed: {
    title: 'Sign-in was not accepted',
    next: `Copy your API key again (${API_KEY_HINT}) and paste it here, or sign in with your browser instead.`,
  },
  sign_in_again: {
    title: 'Please sign in again',
    next: 'Your sign-in has expired or was withdrawn. Sign in again to continue.',
  },
  not_signed_in: {
    title: 'You are not signed in',
    next: 'Sign in to the server to continue.',
  },
  patient_account: {
    title: 'This is a participant account',
    next: 'JHE Desktop is for research staff. Sign in with your staff (practitioner) account instead.',
  },
  forbidden: {
    title: 'Your account cannot see this',
    next: 'Ask the study’s manager to add you to the study’s organization.',
  },
  not_found: {
    title: 'Not found on the server',
    next: 'It may have been removed. Go back and open it again from the list.',
  },
  server: {
    title: 'The server had a problem',
    next: 'Wait a few minutes and try again. If it keeps happening, tell the server’s administrator.',
  },
  rate_limited: {
    title: 'The server is busy',
    next: 'Wait a few minutes and try again. An export continues where it stopped.',
  },
  bad_response: {
    title: 'The server sent something unexpected',
    next: 'Check that the address is your JHE server. If it is, report this message to the JHE Desktop team.',
  },
  rejected: {
    title: 'The server refused the request',
    next: 'Report this message to the JHE Desktop team; it may be a bug or an unexpected server version.',
  },
  cancelled: {
    title: 'Cancelled',
    next: 'Nothing was lost. Start again whenever you are ready.',
  },
  io: {
    title: 'The files could not be saved',
    next: 'Choose another folder, or free up disk space, then try again.',
  },
  export: {
    title: 'The files could not be saved',
    next: 'Choose another folder, or free up disk space, then run the export again; it continues where it stopped.',
  },
  passphrase: {
    title: 'This export needs its passphrase',
    next: 'Enter the passphrase it was exported with; whoever made the export can tell you.',
  },
  local_copy: {
    title: 'The study’s copy on this computer could not be used',
    next: 'Remove the local copy and sync the study again while online; the server still has all the data.',
  },
  keychain: {
    title: 'Your saved sign-in could not be read',
    next: 'Unlock your computer’s password store (Keychain / Credential Manager / Keyring) and try again.',
  },
  invalid_input: {
    title: 'Please check what you entered',
    next: 'Correct the highlighted value and try again.',
  },
  internal: {
    title: 'Something went wrong inside JHE Desktop',
    next: 'Try again. If it keeps happening, report this message to the JHE Desktop team.',
  },
};

const FALLBACK: ErrorHelp = {
  title: 'Something went wrong',
  next: 'Try again. If it keeps happening, report this message to the JHE Desktop team.',
};

export function helpFor(err: BackendError): ErrorHelp {
  return (ERROR_HELP as Partial<Record<string, ErrorHelp>>)[err.kind] ?? FALLBACK;
}

/** Kinds that are about the server address (shown under the address field). */
export const ADDRESS_KINDS = new Set<string>(['invalid_url', 'insecure_url', 'not_jhe', 'network', 'unreachable'] satisfies ErrorKind[]);
/** Kinds that are about the credentials (shown under the API key field). */
export const KEY_KINDS = new Set<string>(['sign_in_failed', 'patient_account'] satisfies ErrorKind[]);
