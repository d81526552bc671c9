// Where in a JSON text each element is: a small JSON parser that records the line every value
// starts on, and the walk from a FHIRPath expression of the validator (Patient.name[0].given[1],
// Observation.value.ofType(Quantity), Patient.extension('url')) to the deepest element it names.

/** The tree of a JSON text: { line, kind: 'object', keys: Map } | { line, kind: 'array',
 * items: [] } | { line, kind: 'value', value }. Throws SyntaxError naming the line. */
export function parseWithLines(text) {
  let i = 0;
  let line = 1;
  const fail = (what) => {
    throw new SyntaxError(`Line ${line}: ${what}`);
  };
  const space = () => {
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
  };
  const string = () => {
    const start = i;
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === '\n') fail('line break inside a string');
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = () => {
    space();
    const at = line;
    const c = text[i];
    if (c === '{') {
      const keys = new Map();
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return { line: at, kind: 'object', keys };
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a property name');
        const key = string();
        space();
        if (text[i] !== ':') fail(`expected ':' after "${key}"`);
        i++;
        keys.set(key, value());
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return { line: at, kind: 'object', keys };
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      const items = [];
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return { line: at, kind: 'array', items };
      }
      for (;;) {
        items.push(value());
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return { line: at, kind: 'array', items };
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return { line: at, kind: 'value', value: string() };
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail(c === undefined ? 'unexpected end of text' : `unexpected '${c}'`);
    i += m[0].length;
    return { line: at, kind: 'value', value: JSON.parse(m[0]) };
  };
  const root = value();
  space();
  if (i < text.length) fail('text after the end of the resource');
  return root;
}

/** The segments of a FHIRPath expression, dots inside parentheses and quotes kept. */
function segments(expression) {
  const out = [];
  let depth = 0;
  let quote = false;
  let current = '';
  for (const c of expression) {
    if (c === "'") quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth--;
    if (c === '.' && !depth && !quote) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function child(node, name) {
  if (node.kind === 'array') node = node.items[0];
  if (node?.kind !== 'object') return undefined;
  if (node.keys.has(name)) return node.keys.get(name);
  // a choice element: value → valueQuantity
  for (const [k, v] of node.keys) if (k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length))) return v;
  return undefined;
}

/** The line of the deepest element of `tree` that `expression` reaches (the root's line when
 * it reaches none). */
export function lineOf(tree, expression) {
  let node = tree;
  const parts = segments(expression);
  // the leading type name (Patient.…) is the root itself
  if (/^[A-Z]/.test(parts[0] ?? '')) parts.shift();
  for (const part of parts) {
    const ext = /^extension\('([^']*)'\)$/.exec(part);
    if (ext) {
      const list = child(node, 'extension');
      const found = list?.kind === 'array' ? list.items.find((x) => x.kind === 'object' && x.keys.get('url')?.value === ext[1]) : undefined;
      if (!found) break;
      node = found;
      continue;
    }
    const m = /^([A-Za-z_][\w-]*)(?:\[(\d+)\])?$/.exec(part);
    // functions (ofType, where, resolve…) narrow the element found so far
    if (!m) continue;
    let next = child(node, m[1]);
    if (!next) break;
    if (m[2] !== undefined) {
      if (next.kind !== 'array') {
        if (m[2] !== '0') break;
      } else {
        const item = next.items[Number(m[2])];
        if (!item) {
          node = next;
          break;
        }
        next = item;
      }
    }
    node = next;
  }
  return node.line;
}
