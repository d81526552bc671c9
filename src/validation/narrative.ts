// Narrative XHTML (https://hl7.org/fhir/R4/narrative.html#xhtml): well-formed XML (parsed with
// sax, strict), a root <div> in the XHTML namespace, and only the HTML subset FHIR allows: no
// head/body, scripts, forms, frames, objects, base/link, event-handler attributes or script
// URLs. The element and attribute lists are those the HL7 reference validator accepts.
import sax from 'sax';

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

/** Why the narrative is not acceptable FHIR XHTML, or undefined when it is. */
export function narrativeError(xhtml: string): string | undefined {
  const parser = sax.parser(true, { xmlns: true, position: false });
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
