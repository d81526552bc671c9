// Whether a custom SearchParameter's expression could read migration data. A parameter whose
// index rows depend on sensitive content is refused to clients without the migration-data
// scope (src/auth/sensitive-search.ts), and the rows are marked from the data. But the data
// alone would make the refusal an oracle: a client could write a parameter that yields rows
// only when one patient has one status (`Patient.where(id='p1').extension.where(url=…)…
// where(code='irregular')`), reindex, and read the answer from 403 against 200. So a custom
// parameter whose expression *could* read sensitive content is refused whatever the data, and
// the data check remains for what this reading of the text cannot foresee.
//
// Sensitive content lives only in extensions (the IG's migration extensions), in answers to
// questions marked sensitive (QuestionnaireResponse items) and in base64 content (Binary,
// attachments). An expression reaches none of them unless it names `extension`,
// `modifierExtension`, `item`, `answer`, `data`, or walks the tree by reflection (`children()`,
// `descendants()`, `repeat()`) or decodes (`decode()`). The one form that is known safe is a
// navigation into an extension by a literal, non-sensitive url, and on into its own
// sub-extensions: `extension('http://…/patient-nationality').extension('code').value`, or the
// same with `extension.where(url = '…')`.
import { isSensitiveExtension } from './sensitive.ts';

const LITERAL = String.raw`'((?:[^'\\]|\\.)*)'`;
const QUALIFIER = String.raw`(?:\(\s*${LITERAL}\s*\)|\s*\.\s*where\s*\(\s*url\s*=\s*${LITERAL}\s*\))`;
/** `extension('url')` or `extension.where(url = 'url')`, then any sub-extension steps. */
const EXTENSION_CHAIN = new RegExp(String.raw`\b(?:modifierExtension|extension)${QUALIFIER}(?:\s*\.\s*(?:modifierExtension|extension)${QUALIFIER}?)*`, 'g');
const REACHING = /\b(?:extension|modifierExtension|item|answer|data|children|descendants|repeat|decode)\b/;

/** Whether the extension chain's urls are all literal and none is a sensitive extension's. */
function safeChain(chain: string): boolean {
  const literals = [...chain.matchAll(new RegExp(LITERAL, 'g'))].map((m) => m[1]);
  // escapes could spell a sensitive url the pattern would not see
  return literals.every((url) => !url.includes('\\') && !isSensitiveExtension(url) && !isSensitiveExtension(url.replace(/\/+$/, '')));
}

/** Whether an expression could read sensitive content (see above); conservative. */
export function couldReadSensitive(expression: string | undefined): boolean {
  if (!expression) return false;
  // an identifier in backticks may hold escapes that spell a reaching name
  if (/`[^`]*\\/.test(expression)) return true;
  const withoutSafe = expression.replace(EXTENSION_CHAIN, (chain) => (safeChain(chain) ? 'x' : chain));
  const withoutStrings = withoutSafe.replace(new RegExp(LITERAL, 'g'), "''");
  return REACHING.test(withoutStrings);
}
