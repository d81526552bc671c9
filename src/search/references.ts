// References to this server's resources as the search index splits them (type, id, version).
// Its own module so that the audit worker thread can split them without loading the extractor.
const LOCAL_REF = /^(?:(?:https?:\/\/[^?#]*\/)?)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** Type and id of a reference to this server: relative ones, and absolute ones on one of
 * `bases` (the server's own base URLs). Other servers' URLs are never taken for local ids. */
export function localTarget(ref: string, bases: readonly string[]): RegExpExecArray | null {
  const m = LOCAL_REF.exec(ref);
  if (!m || !/^https?:/.test(ref)) return m;
  return bases.some((b) => ref.startsWith(`${b}/`)) ? m : null;
}
