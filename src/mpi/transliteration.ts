// Transliteration tables for Patient/$match, one per script or orthography, as data. Each maps
// a letter (or letter group) to the Latin spellings registrars actually use for it — several, not
// one: ج is "j" in Syria and "g" in Egypt, و is the consonant "w" or the vowel "u", Ukrainian
// г is "h" where Russian writes "g", Greek χ is "h" in a Greek registrar's Χασάν and "kh"/"ch" in
// ELOT 743. src/mpi/names.ts expands a word into its candidate Latin forms from these tables.
// Sources (details in docs/match.md, "Transliteration sources"):
//   Arabic script — ALA-LC romanization tables for Arabic, Persian, Urdu, Pashto and Kurdish
//     (Library of Congress), BGN/PCGN 1956 Arabic and 1958 Persian, ICAO Doc 9303 Part 3
//     (Arabic, recommended transliteration in MRTDs); the alternatives are the common
//     anglophone/francophone spellings of the same letters.
//   Greek — ELOT 743:2001 / ISO 843 (and ICAO 9303 Part 3), read backwards for the digraphs Greek
//     registrars use for foreign sounds (μπ = b, ντ = d, γκ = g, τζ = j, τσ = ch, ου = u/w).
//   Cyrillic — Ukrainian national transliteration (Cabinet of Ministers Resolution 55, 2010),
//     BGN/PCGN Russian, ICAO 9303 Part 3.
//   Latin orthographies, rewritten into the English-style forms the other tables produce —
//     Somali official orthography (1972): x = ħ ("h"), c = ʕ (not written in English spellings),
//     dh = ɖ; German (Duden) transliteration of Russian/Ukrainian: sch, tsch, w, j, ch;
//     Polish: sz, cz, szcz, w, j, ch, rz, ż; French: ou, tch, ch, dj.
//   Ge'ez (Tigrinya, Amharic) is left to any-ascii, whose Ethiopic table is syllabic
//     (ተስፋዬ → tesfaye), i.e. writes the vowels the names have.

/** Arabic-script letters (Arabic, Persian, Urdu, Pashto, Sorani Kurdish) → Latin spellings, commonest first. */
export const ARABIC_SCRIPT: Record<string, string[]> = {
  // hamza and its seats, alif
  'ء': [''], 'آ': ['a'], 'أ': ['a'], 'إ': ['i'], 'ؤ': ['u'], 'ئ': [''], 'ا': ['a'], 'ٱ': ['a'],
  'ب': ['b'], 'پ': ['p'], 'ت': ['t'], 'ٹ': ['t'], 'ټ': ['t'], 'ث': ['th', 's'], 'ج': ['j', 'g'], 'چ': ['ch'], 'ځ': ['dz', 'z'], 'څ': ['ts', 's'],
  'ح': ['h'], 'خ': ['kh'], 'د': ['d'], 'ڈ': ['d'], 'ډ': ['d'], 'ذ': ['dh', 'z'], 'ر': ['r'], 'ڑ': ['r'], 'ړ': ['r'], 'ڕ': ['r'],
  'ز': ['z'], 'ژ': ['zh'], 'ږ': ['zh', 'g'], 'س': ['s'], 'ش': ['sh'], 'ښ': ['sh', 'kh'], 'ص': ['s'], 'ض': ['d', 'z'], 'ط': ['t'], 'ظ': ['z'],
  // ayn is not written in most Latin spellings (Somali writes it c)
  'ع': [''], 'غ': ['gh'], 'ف': ['f'], 'ڤ': ['v'], 'ق': ['q', 'g'], 'ك': ['k'], 'ک': ['k'], 'گ': ['g'], 'ګ': ['g'],
  'ل': ['l'], 'ڵ': ['l'], 'م': ['m'], 'ن': ['n'], 'ں': ['n'], 'ڼ': ['n'],
  'ه': ['h'], 'ھ': ['h'], 'ہ': ['h'], 'ۂ': ['a'], 'ة': ['a'], 'ە': ['e', 'a'],
  // waw and yeh are consonants (w, y) or long vowels (u/o, i/e): both readings are kept
  'و': ['w', 'u'], 'ۆ': ['o'], 'ي': ['y', 'i'], 'ی': ['y', 'i'], 'ى': ['a'], 'ێ': ['e'], 'ې': ['e'], 'ۍ': ['ai'], 'ے': ['e'],
  // short-vowel marks when written; shadda and sukun add nothing
  '\u064e': ['a'], '\u0650': ['i'], '\u064f': ['u'], '\u064b': ['an'], '\u064d': ['in'], '\u064c': ['un'], '\u0651': [''], '\u0652': [''], '\u0670': ['a'],
  '\u0640': [''], '\u200c': [''],
};

/** Arabic-script letter groups read as one: the article inside "Abd al-" compounds is Abdul, Abdel or Abdal; Allah in compounds is -ullah/-allah. */
export const ARABIC_SCRIPT_GROUPS: Record<string, string[]> = {
  'عبدال': ['abdal', 'abdul', 'abdel'],
  'الله': ['allah', 'ullah', 'ollah'],
};

/** Greek letter groups → Latin spellings, digraphs first (they are matched before single letters). */
export const GREEK: [string, string[]][] = [
  ['μπ', ['b', 'mb']], ['ντ', ['d', 'nd']], ['γκ', ['g', 'ng']], ['γγ', ['ng']], ['τζ', ['j', 'dz']], ['τσ', ['ts', 'ch']],
  ['ου', ['u', 'w']], ['αι', ['e', 'ai']], ['ει', ['i', 'ei']], ['οι', ['i', 'oi']], ['αυ', ['av', 'af']], ['ευ', ['ev', 'ef']],
  ['γι', ['y', 'gi']], ['σσ', ['s']],
  ['α', ['a']], ['β', ['v', 'b']], ['γ', ['g', 'gh']], ['δ', ['d']], ['ε', ['e']], ['ζ', ['z']], ['η', ['i']], ['θ', ['th']],
  ['ι', ['i']], ['κ', ['k']], ['λ', ['l']], ['μ', ['m']], ['ν', ['n']], ['ξ', ['x']], ['ο', ['o']], ['π', ['p']], ['ρ', ['r']],
  ['σ', ['s', 'sh']], ['ς', ['s', 'sh']], ['τ', ['t']], ['υ', ['i', 'y']], ['φ', ['f']], ['χ', ['h', 'kh']], ['ψ', ['ps']], ['ω', ['o']],
];

/** Cyrillic (Ukrainian and Russian letters) → Latin spellings: the Ukrainian reading first, the Russian one next. */
export const CYRILLIC: Record<string, string[]> = {
  'а': ['a'], 'б': ['b'], 'в': ['v'], 'г': ['h', 'g'], 'ґ': ['g'], 'д': ['d'], 'е': ['e', 'ye'], 'є': ['ye', 'ie'], 'ё': ['yo', 'e'],
  'ж': ['zh'], 'з': ['z'], 'и': ['y', 'i'], 'і': ['i'], 'ї': ['yi', 'i'], 'й': ['y', 'i'], 'к': ['k'], 'л': ['l'], 'м': ['m'], 'н': ['n'],
  'о': ['o'], 'п': ['p'], 'р': ['r'], 'с': ['s'], 'т': ['t'], 'у': ['u'], 'ф': ['f'], 'х': ['kh', 'h'], 'ц': ['ts'], 'ч': ['ch'],
  'ш': ['sh'], 'щ': ['shch'], 'ъ': [''], 'ы': ['y'], 'ь': [''], 'э': ['e'], 'ю': ['yu', 'iu'], 'я': ['ya', 'ia'], "'": [''], 'ʼ': [''],
};

/**
 * Latin orthographies rewritten into English-style spellings: [name, when it may apply, rewrites in order].
 * Each yields one extra candidate form; the spelling as written is always kept too.
 */
export const LATIN_ORTHOGRAPHIES: [string, RegExp, [RegExp, string][]][] = [
  // Somali official orthography: Maxamed, Cumar, Xirsi, Cismaan, Faarax, Jaamac
  ['somali', /x|c(?![hkz])/, [[/x/g, 'h'], [/c(?![hkz])/g, ''], [/dh/g, 'd']]],
  // German (Duden) transliteration of Cyrillic: Schewtschenko, Jegorow, Polischtschuk, Wassili
  ['german', /sch|w|^j|j[aeiou]/, [[/schtsch/g, 'shch'], [/tsch/g, 'ch'], [/sch/g, 'sh'], [/w/g, 'v'], [/j(?=[aeiou])/g, 'y'], [/j$/g, 'y']]],
  // German sch also writes ж (Жук → Schuk)
  ['german-zh', /sch/, [[/tsch/g, 'ch'], [/sch/g, 'zh'], [/w/g, 'v']]],
  // Polish transliteration of Cyrillic: Szewczenko, Poliszczuk, Kowalczuk, Siergiej
  ['polish', /sz|cz|rz|w|j|ż/, [[/szcz/g, 'shch'], [/sz/g, 'sh'], [/cz/g, 'ch'], [/rz|ż/g, 'zh'], [/w/g, 'v'], [/j/g, 'y']]],
  // w written for a vowel (Kurdish Rebuar/Rebwar, Arabic و read as u)
  ['w-as-vowel', /w/, [[/w/g, 'u']]],
  // Egyptian and Sudanese Arabic write ج as g: Gamal is Jamal, Gomaa is Jumaa
  ['egyptian', /^g[aeiou]/, [[/^g/, 'j']]],
  // French: Chevtchenko, Darwich, Hachemi, Djaber, Mansour
  ['french', /ch|ou|dj/, [[/tch/g, '\u0001'], [/ch/g, 'sh'], [/\u0001/g, 'ch'], [/ou/g, 'u'], [/dj/g, 'j']]],
];

/**
 * Given names that are one name in Ukrainian, Russian and Polish forms (the same saint's name in
 * each language's tradition: Ukrainian Orthodox calendar names and their Russian and Polish
 * equivalents), written as the national transliterations spell them. A word spelled like one of
 * a group also has the group's other forms as candidates.
 */
export const GIVEN_NAME_EQUIVALENTS: string[][] = [
  ['mykola', 'nikolai', 'nikolay', 'mikolaj'], ['olena', 'elena', 'yelena', 'helena'], ['oleksandr', 'aleksandr', 'aleksander', 'alexander'],
  ['mykhailo', 'mikhail', 'michal'], ['volodymyr', 'vladimir', 'wlodzimierz'], ['hryhorii', 'hryhoriy', 'grigoriy', 'grigori', 'grzegorz'],
  ['kateryna', 'ekaterina', 'yekaterina', 'katarzyna'], ['petro', 'pyotr', 'piotr'], ['pavlo', 'pavel', 'pawel'], ['yurii', 'yuriy', 'yuri', 'jerzy'],
  ['andrii', 'andriy', 'andrey', 'andrei', 'andrzej'], ['serhii', 'serhiy', 'sergey', 'sergei'], ['dmytro', 'dmitry', 'dmitri', 'dmitriy'],
  ['oleh', 'oleg'], ['ihor', 'igor'], ['vasyl', 'vasily', 'vasiliy', 'wasyl'], ['yosyp', 'iosif', 'josef'], ['fedir', 'fyodor', 'fedor'],
  ['iryna', 'irina'], ['halyna', 'galina', 'halina'], ['tetiana', 'tetyana', 'tatiana', 'tatyana'], ['svitlana', 'svetlana'], ['nataliia', 'natalia', 'natalya'],
  ['olha', 'olga'], ['yuliia', 'yulia', 'yuliya', 'julia'], ['hanna', 'anna'], ['mariia', 'mariya', 'maria'], ['liudmyla', 'lyudmila', 'ludmila'],
];

/** Latin letters with marks or strokes that a plain diacritic strip would read wrongly. */
export const LATIN_LETTERS: Record<string, string> = {
  'ş': 'sh', 'š': 'sh', 'ș': 'sh', 'ç': 'ch', 'č': 'ch', 'ć': 'ch', 'ž': 'zh', 'ż': 'zh', 'ź': 'z', 'ğ': 'g', 'ı': 'i', 'ł': 'l', 'đ': 'dj', 'ß': 'ss', 'ø': 'o', 'æ': 'ae', 'œ': 'oe',
};
