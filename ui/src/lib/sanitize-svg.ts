// Charts arrive as SVG text from our own Rust side. It is still parsed and cleaned before it
// enters the page: a value that reached the chart (a unit, a label) must never become markup that
// runs. Only drawing elements survive; scripts, event handlers, external references and embedded
// HTML are dropped.
const DROP = new Set(['script', 'foreignobject', 'iframe', 'object', 'embed', 'style', 'link', 'meta', 'animate', 'set', 'animatemotion', 'animatetransform', 'handler', 'listener']);
const URL_ATTRS = new Set(['href', 'xlink:href', 'src', 'action', 'formaction']);

export function sanitizeSvg(text: string, doc: Document = document): SVGSVGElement | null {
  const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = parsed.documentElement;
  if (!root || root.nodeName.toLowerCase() !== 'svg' || parsed.getElementsByTagName('parsererror').length) return null;
  clean(root);
  return doc.importNode(root, true) as unknown as SVGSVGElement;
}

function clean(el: Element): void {
  for (const attr of Array.from(el.attributes)) {
    const name = attr.name.toLowerCase();
    const value = attr.value.replace(/[\s\u0000-\u001f]+/g, '').toLowerCase();
    if (name.startsWith('on')) el.removeAttribute(attr.name);
    else if (URL_ATTRS.has(name) && !value.startsWith('#')) el.removeAttribute(attr.name);
    else if (value.includes('javascript:') || (name === 'style' && value.includes('url('))) el.removeAttribute(attr.name);
  }
  for (const child of Array.from(el.children)) {
    if (DROP.has(child.localName.toLowerCase())) child.remove();
    else clean(child);
  }
}
