// Narrative XHTML (https://hl7.org/fhir/R4/narrative.html#xhtml): well-formed XML (parsed with
// sax, strict), a root <div> in the XHTML namespace, and only the HTML subset FHIR allows: no
// head/body, scripts, forms, frames, objects, base/link, event-handler attributes or script
// URLs. The element and attribute lists are those the HL7 reference validator accepts.
// Most narratives are plain: a scanner accepts those in one pass (sax was a fifth of validation
// time), and anything it is not sure of — any problem, and any construct it does not read
// (comments, prefixes, other entities, nested xmlns) — goes to sax, which gives the verdict and
// the message.
import { createRequire } from 'node:module';
import type sax from 'sax';

/** sax, loaded on the first narrative the scanner leaves to it (plain ones never need it). */
let saxLib: typeof sax | undefined;

const XHTML = 'http://www.w3.org/1999/xhtml';

const ELEMENTS = new Set([
  'p', 'br', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'span', 'b', 'em', 'i', 'strong', 'small', 'big', 'tt', 'small', 'dfn', 'q', 'var', 'abbr', 'acronym',
  'cite', 'blockquote', 'hr', 'address', 'bdo', 'kbd', 'samp', 'code', 'pre', 'sub', 'sup', 'ins', 'del', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'table', 'caption', 'colgroup',
  'col', 'thead', 'tr', 'tfoot', 'tbody', 'th', 'td', 'img', 'map', 'area', 'u', 's', 'strike', 'center', 'font', 'wbr', 'figure', 'figcaption', 'section', 'article',
  'header', 'footer', 'nav', 'aside', 'mark', 'time', 'details', 'summary',
]);

const ATTRIBUTES = new Set([
  'title', 'style', 'class', 'id', 'lang', 'xml:lang', 'dir', 'accesskey', 'tabindex', 'xmlns', 'xmlns:xhtml',
  // a, img, area, map
  'href', 'name', 'rel', 'rev', 'shape', 'coords', 'src', 'alt', 'longdesc', 'height', 'width', 'usemap', 'ismap', 'hreflang', 'type', 'target',
  // tables and lists
  'span', 'summary', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding', 'align', 'char', 'charoff', 'valign', 'abbr', 'axis', 'headers', 'scope',
  'rowspan', 'colspan', 'bgcolor', 'nowrap', 'start', 'value', 'compact', 'cite', 'datetime', 'size', 'color', 'face', 'noshade', 'clear',
]);

const ROOT_OPEN = '<div xmlns="http://www.w3.org/1999/xhtml"';
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});/;

/** An entity sax reads without complaint: XML's five, or a character reference written as sax
 * writes it back (no leading zeros) within Unicode. */
function entityOk(s: string, i: number): boolean {
  const m = ENTITY.exec(s.slice(i, i + 12));
  if (!m) return false;
  const e = m[1];
  if (e[0] !== '#') return true;
  const hex = e[1] === 'x' || e[1] === 'X';
  const num = parseInt(hex ? e.slice(2) : e.slice(1), hex ? 16 : 10);
  const xmlChar = num === 0x9 || num === 0xa || num === 0xd || (num >= 0x20 && num <= 0xd7ff) || (num >= 0xe000 && num <= 0xfffd) || (num >= 0x10000 && num <= 0x10ffff);
  return `#${hex ? 'x' : ''}${num.toString(hex ? 16 : 10)}` === e.toLowerCase() && xmlChar;
}
// tag and attribute name characters by code, as /[a-z]/, /[a-z0-9]/ and /[a-zA-Z:_.-]/ would
// test them one character at a time
function nameStart(c: number): boolean {
  return c >= 97 && c <= 122;
}
function nameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}
function attrNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 58 || c === 95 || c === 46 || c === 45;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

const SUSPECT = /[\x00-\x08\x0b\x0c\x0e-\x1f<&\]\ufffe\uffff]/g;

/** Text (character data or an attribute value) a plain narrative may hold: no markup but
 * XML's own entities and character references, no control characters, no `]]>`. */
function plainText(s: string, attribute: boolean): boolean {
  // the characters that need a look, found by the regular expression engine (a native scan,
  // two to three times the speed of a loop over every character in JavaScript)
  SUSPECT.lastIndex = 0;
  for (let m = SUSPECT.exec(s); m; m = SUSPECT.exec(s)) {
    const i = m.index;
    const c = s.charCodeAt(i);
    if (c === 0x26) {
      if (!entityOk(s, i)) return false; // '&'
    } else if (c === 0x5d) {
      if (!attribute && s.startsWith(']]>', i)) return false;
    } else return false; // control characters, '<', U+FFFE, U+FFFF
  }
  return true;
}

/** Whether a narrative is certainly acceptable, read in one pass: `true` only when sax would
 * find nothing wrong; `false` means "not sure", never "wrong". */
export function plainNarrative(x: string): boolean {
  if (!x.startsWith(ROOT_OPEN)) return false;
  const stack: string[] = [];
  let i = 0;
  const n = x.length;
  let rootClosed = false;
  while (i < n) {
    const lt = x.indexOf('<', i);
    const text = lt < 0 ? x.slice(i) : x.slice(i, lt);
    if (text) {
      if (rootClosed || !stack.length) {
        // only whitespace after the root element
        if (text.trim()) return false;
      } else if (!plainText(text, false)) return false;
    }
    if (lt < 0) break;
    if (rootClosed) return false;
    i = lt + 1;
    if (x.charCodeAt(i) === 0x2f) {
      // a closing tag: </name>, optional space
      i++;
      const start = i;
      while (i < n && nameChar(x.charCodeAt(i))) i++;
      const name = x.slice(start, i);
      while (i < n && isSpace(x.charCodeAt(i))) i++;
      if (x[i] !== '>' || stack.pop() !== name) return false;
      i++;
      if (!stack.length) rootClosed = true;
      continue;
    }
    // an opening tag; anything else (<!--, <!DOCTYPE, <![CDATA[, <?) is sax's to read
    if (!nameStart(x.charCodeAt(i))) return false;
    const start = i;
    while (i < n && nameChar(x.charCodeAt(i))) i++;
    const name = x.slice(start, i);
    if (!ELEMENTS.has(name)) return false;
    const root = stack.length === 0 && !rootClosed;
    if (root && name !== 'div') return false;
    const seen: string[] = [];
    for (;;) {
      const before = i;
      while (i < n && isSpace(x.charCodeAt(i))) i++;
      if (x[i] === '>' || (x[i] === '/' && x[i + 1] === '>')) break;
      if (i === before) return false; // attributes are separated by space
      const a0 = i;
      while (i < n && attrNameChar(x.charCodeAt(i))) i++;
      const attr = x.slice(a0, i);
      if (!attr || attr.includes(':') || seen.includes(attr) || !ATTRIBUTES.has(attr) || /^on/i.test(attr)) return false;
      seen.push(attr);
      while (i < n && isSpace(x.charCodeAt(i))) i++;
      if (x[i] !== '=') return false;
      i++;
      while (i < n && isSpace(x.charCodeAt(i))) i++;
      const q = x[i];
      if (q !== '"' && q !== "'") return false;
      const end = x.indexOf(q, i + 1);
      if (end < 0) return false;
      const value = x.slice(i + 1, end);
      i = end + 1;
      if (!plainText(value, true)) return false;
      // the namespace is declared once, on the root, as the XHTML one
      if (attr === 'xmlns' && (!root || value !== 'http://www.w3.org/1999/xhtml')) return false;
      if ((attr === 'href' || attr === 'src') && /^\s*(javascript|vbscript):/i.test(value)) return false;
      // a character reference may spell a script URL or anything else: sax decodes
      if ((attr === 'href' || attr === 'src') && value.includes('&')) return false;
    }
    if (root && !seen.includes('xmlns')) return false;
    if (x[i] === '/') {
      i += 2;
      if (root) rootClosed = true;
    } else {
      i++;
      stack.push(name);
    }
  }
  return rootClosed && !stack.length;
}

/** Why the narrative is not acceptable FHIR XHTML, or undefined when it is. */
export function narrativeError(xhtml: string): string | undefined {
  if (plainNarrative(xhtml)) return undefined;
  saxLib ??= createRequire(import.meta.url)('sax') as typeof sax;
  const parser = saxLib.parser(true, { xmlns: true, position: false });
  let problem: string | undefined;
  let depth = 0;
  let sawRoot = false;
  parser.onerror = (err) => {
    problem ??= `the narrative is not well-formed XHTML: ${err.message.split('\n')[0]}`;
    // stop at the first error
    (parser as unknown as { error: unknown }).error = null;
    parser.close();
  };
  parser.onopentag = (tag) => {
    if (problem) return;
    const t = tag as sax.QualifiedTag;
    if (depth === 0) {
      if (sawRoot) problem = 'the narrative must be a single <div> element';
      else if (t.local !== 'div' || t.uri !== XHTML) problem = 'narrative must be an XHTML <div> element in the namespace http://www.w3.org/1999/xhtml';
      sawRoot = true;
    } else if (t.uri !== XHTML) {
      problem = `the element <${t.name}> is not in the XHTML namespace`;
    } else if (!ELEMENTS.has(t.local)) {
      problem = `the element <${t.local}> is not allowed in a narrative`;
    }
    if (!problem) {
      for (const a of Object.values(t.attributes) as sax.QualifiedAttribute[]) {
        const name = a.prefix === 'xmlns' || a.name === 'xmlns' ? 'xmlns' : a.name;
        if (/^on/i.test(a.local)) problem = `the attribute ${a.name} (an event handler) is not allowed in a narrative`;
        else if (!ATTRIBUTES.has(name) && !ATTRIBUTES.has(a.local)) problem = `the attribute ${a.name} is not allowed on <${t.local}> in a narrative`;
        else if ((a.local === 'href' || a.local === 'src') && /^\s*(javascript|vbscript):/i.test(a.value)) problem = `script URLs are not allowed in a narrative (${a.local})`;
        if (problem) break;
      }
    }
    depth++;
  };
  parser.onclosetag = () => {
    depth--;
  };
  parser.ontext = (text) => {
    if (!problem && depth === 0 && text.trim()) problem = 'the narrative has text outside its <div>';
  };
  parser.oncdata = () => {
    problem ??= 'CDATA sections are not allowed in a narrative';
  };
  parser.ondoctype = () => {
    problem ??= 'a DOCTYPE is not allowed in a narrative';
  };
  try {
    parser.write(xhtml).close();
  } catch (err) {
    problem ??= `the narrative is not well-formed XHTML: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!problem && !sawRoot) problem = 'narrative must be an XHTML <div> element';
  return problem;
}
