// A small W3C WebDriver client (Node's fetch): just what the JHE Desktop e2e tests use, talking to
// tauri-driver, which forwards to WebKitWebDriver on Linux.
import { setTimeout as sleep } from 'node:timers/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecc';

export class WebDriverError extends Error {}

/** The id of an element reference (W3C key; older drivers say ELEMENT). */
function elId(e) {
  const id = e && (e[ELEMENT] ?? e.ELEMENT ?? Object.values(e)[0]);
  if (typeof id !== 'string') throw new WebDriverError(`not an element reference: ${JSON.stringify(e)}`);
  return id;
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, capabilities) {
    const r = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, r.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  /** Ends the session; never waits longer than `timeout` ms (a hung driver must not hold CI). */
  async quit(timeout = 15_000) {
    try {
      await request(this.base, 'DELETE', `/session/${this.id}`, undefined, timeout);
    } catch {
      // the window may already be gone, or the driver hangs: the caller kills what it started
    }
  }

  async find(css, root) {
    const path = root ? `/element/${root}/element` : '/element';
    const v = await this.cmd('POST', path, { using: 'css selector', value: css });
    return elId(v);
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map(elId);
  }

  async findXPath(xpath) {
    const v = await this.cmd('POST', '/element', { using: 'xpath', value: xpath });
    return elId(v);
  }

  /** Waits until `css` matches an element (and `pred(el)` holds, when given); returns it. */
  async waitFor(css, { timeout = 30_000, pred } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const els = await this.findAll(css);
        for (const el of els) {
          if (!pred || (await pred(el))) return el;
        }
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new WebDriverError(`timed out after ${timeout} ms waiting for ${css}${last ? ` (${last.message})` : ''}`);
      await sleep(200);
    }
  }

  async waitForXPath(xpath, timeout = 30_000) {
    const end = Date.now() + timeout;
    for (;;) {
      try {
        return await this.findXPath(xpath);
      } catch (e) {
        if (Date.now() > end) throw new WebDriverError(`timed out after ${timeout} ms waiting for ${xpath}: ${e.message}`);
      }
      await sleep(200);
    }
  }

  click(el) {
    return this.cmd('POST', `/element/${el}/click`, {});
  }

  async type(el, text) {
    await this.cmd('POST', `/element/${el}/clear`, {});
    return this.cmd('POST', `/element/${el}/value`, { text });
  }

  text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }

  attr(el, name) {
    return this.cmd('GET', `/element/${el}/attribute/${encodeURIComponent(name)}`);
  }

  exec(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  /** Waits until `fn()` returns a truthy value; returns it. */
  async until(fn, what, timeout = 30_000) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new WebDriverError(`timed out after ${timeout} ms: ${what}${last ? ` (${last.message})` : ''}`);
      await sleep(200);
    }
  }
}

async function request(base, method, path, body, timeout = 120_000) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    throw new WebDriverError(`${method} ${path}: ${v.error || res.status}: ${v.message || text.slice(0, 300)}`);
  }
  return json.value;
}

export async function waitForPort(url, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      await fetch(url + '/status');
      return;
    } catch {
      if (Date.now() > end) throw new WebDriverError(`nothing answers at ${url}`);
      await sleep(200);
    }
  }
}
