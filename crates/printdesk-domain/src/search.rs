//! Text search over a job's `job_name`, `customer_name`, `notes` and `file_name`, the same in
//! every store.
//!
//! Both sides of a match are *folded* first ([`fold`]): compatibility forms, case (full
//! Unicode case folding) and accents are ignored, so `muller` finds `Müller`, `δέλτα` finds
//! `ΔΈΛΤΑ` and `strasse` finds `Straße`. The query is split at white space into words, and a
//! job matches when every word occurs in its folded text:
//!
//! - a word of three or more characters anywhere (`pumpe` finds `Ölpumpe`);
//! - a word of one or two characters at the start of a word only (`fü` finds `für`, `ür`
//!   does not). A word starts at a letter or digit that does not follow a letter or digit;
//!   every CJK ideograph and kana starts a word of its own (CJK text has no spaces).
//!
//! Everything else in a query is plain text: `%`, `_`, `\`, `"`, `*`, `-`, `AND`, `NEAR(`
//! are looked for as written.
//!
//! A store keeps each job's [`SearchDocument`] (the folded text with its word starts marked)
//! and an index of its [`SearchDocument::terms`]; a [`SearchQuery`] says which index ranges
//! narrow the candidates ([`SearchQuery::index_ranges`]) and which substrings each candidate's
//! document must contain ([`SearchQuery::patterns`]). The patterns alone decide, so every
//! store returns the same jobs; the index only makes finding them fast.

use std::{collections::BTreeSet, fmt, sync::LazyLock};

use icu_casemap::CaseMapperBorrowed;
use icu_normalizer::DecomposingNormalizerBorrowed;
use icu_properties::{CodePointMapData, props::GeneralCategory};

use crate::{job::Job, validation::FieldViolation};

/// The longest query, in characters.
pub const SEARCH_MAX_CHARS: usize = 200;

/// Marks the start of a word in a [`SearchDocument`] (a control character, which [`fold`]
/// never lets through from the text itself).
const WORD_START: char = '\u{1}';

/// Separates the fields in a [`SearchDocument`]: white space, so no query word spans two
/// fields.
const FIELD_SEPARATOR: char = '\n';

/// The longest index term, in characters: a longer word is indexed by its first
/// `MAX_TERM_CHARS` characters from each position, and the document check does the rest.
const MAX_TERM_CHARS: usize = 16;

/// Folds `text` for matching: compatibility decomposition (NFKD: `ﬁ` → `fi`, `²` → `2`), full
/// Unicode case folding (`ß` → `ss`, `Σ`/`ς` → `σ`), accents and other non-spacing marks
/// removed (`é` → `e`, `İ` → `i`), and the Turkish dotless `ı` taken as `i`, so that `ışık`,
/// `IŞIK` and `isik` find each other. Control characters are dropped.
///
/// ```
/// use printdesk_domain::search::fold;
/// assert_eq!(fold("MÜLLER"), "muller");
/// assert_eq!(fold("Straße"), "strasse");
/// assert_eq!(fold("ΔΈΛΤΑ"), fold("δέλτα"));
/// ```
pub fn fold(text: &str) -> String {
    static NFKD: DecomposingNormalizerBorrowed<'static> = DecomposingNormalizerBorrowed::new_nfkd();
    static CASE: CaseMapperBorrowed<'static> = CaseMapperBorrowed::new();
    let categories = CodePointMapData::<GeneralCategory>::new();
    // Decomposed first, so that compatibility forms fold too (`Ⅻ` → `XII` → `xii`), and
    // after folding again, since a folding may compose (`İ` → `i̇`).
    let decomposed = NFKD.normalize(text);
    let folded = CASE.fold_string(&decomposed);
    NFKD.normalize(&folded)
        .chars()
        .filter(|&c| {
            !c.is_control() && categories.get(c) != GeneralCategory::NonspacingMark
                || matches!(c, '\n' | '\t' | '\r')
        })
        .map(|c| match c {
            'ı' => 'i',
            c => c,
        })
        .collect()
}

/// A letter or digit: what words are made of.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// CJK ideographs and kana: each one starts a word, since CJK text does not separate words.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}' // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK Extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK Unified Ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK Compatibility Ideographs
        | '\u{20000}'..='\u{3FFFF}' // CJK Extensions B and later
    )
}

/// `text` folded, with [`WORD_START`] before each word start and white space as `' '`.
fn marked(text: &str, out: &mut String) {
    let mut in_word = false;
    for c in fold(text).chars() {
        if c.is_whitespace() {
            out.push(' ');
            in_word = false;
        } else if is_word_char(c) {
            if !in_word || is_cjk(c) {
                out.push(WORD_START);
            }
            out.push(c);
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
}

/// A job's searchable text as the stores keep it: its four text fields folded, word starts
/// marked. Never shown to anyone; stored so that a search reads it instead of folding every
/// job again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchDocument(String);

impl SearchDocument {
    /// The document of `job`.
    pub fn of(job: &Job) -> Self {
        Self::of_fields([
            Some(job.job_name.as_str()),
            job.customer_name.as_ref().map(|v| v.as_str()),
            job.notes.as_ref().map(|v| v.as_str()),
            job.file_name.as_ref().map(|v| v.as_str()),
        ])
    }

    /// The document of a job with these `job_name`, `customer_name`, `notes` and `file_name`
    /// (for a store that holds them as plain strings).
    pub fn of_fields(fields: [Option<&str>; 4]) -> Self {
        let mut text = String::new();
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                text.push(FIELD_SEPARATOR);
            }
            if let Some(field) = field {
                marked(field, &mut text);
            }
        }
        Self(text)
    }

    /// This document with some of its fields replaced (`Some`: the field's new value, in the
    /// order of [`Self::of_fields`]); the others are kept as they are, not folded again (an
    /// edit of the notes folds the notes only). The same as [`Self::of_fields`] with every
    /// field's current value.
    ///
    /// ```
    /// use printdesk_domain::SearchDocument;
    /// let before = SearchDocument::of_fields([Some("Gehäuse"), Some("Müller"), Some("alt"), None]);
    /// let after = before.with_fields([None, None, Some(Some("neu")), None]);
    /// assert_eq!(after, SearchDocument::of_fields([Some("Gehäuse"), Some("Müller"), Some("neu"), None]));
    /// ```
    pub fn with_fields(&self, fields: [Option<Option<&str>>; 4]) -> Self {
        let mut kept = self.0.split(FIELD_SEPARATOR);
        let mut text = String::with_capacity(self.0.len() + 16);
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                text.push(FIELD_SEPARATOR);
            }
            let current = kept.next().unwrap_or_default();
            match field {
                Some(Some(value)) => marked(value, &mut text),
                Some(None) => {}
                None => text.push_str(current),
            }
        }
        Self(text)
    }

    /// A document as a store kept it.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The text a store keeps.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The index terms of this document: for every word, [`WORD_START`] followed by its first
    /// two characters (for one- and two-character query words), and the first
    /// [`MAX_TERM_CHARS`] characters from each position that leaves at least three (for longer
    /// words, found anywhere in a word). A store indexes each (term, job) once.
    pub fn terms(&self) -> BTreeSet<String> {
        self.term_slices().into_iter().map(str::to_owned).collect()
    }

    /// [`Self::terms`] as slices of the document, sorted, each once: every term is a piece of
    /// the document (a word is always preceded by its [`WORD_START`] mark), so none is
    /// allocated.
    pub fn term_slices(&self) -> Vec<&str> {
        let text = self.0.as_str();
        let mut terms: Vec<&str> = Vec::new();
        let mut bounds: Vec<usize> = Vec::new();
        let mut rest = text.char_indices().peekable();
        while let Some(&(start, c)) = rest.peek() {
            if !is_word_char(c) {
                rest.next();
                continue;
            }
            // One word: the byte offset of each of its characters, and of its end.
            bounds.clear();
            while let Some(&(at, c)) = rest.peek() {
                if !is_word_char(c) {
                    break;
                }
                bounds.push(at);
                rest.next();
            }
            let end = rest.peek().map_or(text.len(), |&(at, _)| at);
            bounds.push(end);
            let chars = bounds.len() - 1;
            // (A document this module wrote always has the mark; one stored otherwise only
            // loses its short-word terms, and the patterns still decide.)
            if let Some(mark) = start.checked_sub(WORD_START.len_utf8())
                && text[mark..].starts_with(WORD_START)
            {
                terms.push(&text[mark..bounds[chars.min(2)]]);
            }
            for from in 0..chars.saturating_sub(2) {
                let to = (from + MAX_TERM_CHARS).min(chars);
                terms.push(&text[bounds[from]..bounds[to]]);
            }
        }
        terms.sort_unstable();
        terms.dedup();
        terms
    }
}

/// One range of index terms: those that start with `prefix`, i.e. from `prefix` up to (not
/// including) `end`, in code point order (UTF-8 byte order, SQLite's `BINARY` and
/// PostgreSQL's `"C"` collation). `end` is `None` when no string above the range exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermRange {
    /// The smallest term in the range.
    pub prefix: String,
    /// The first term after the range.
    pub end: Option<String>,
}

impl TermRange {
    /// The range of the strings that start with `prefix`.
    pub fn starting_with(prefix: String) -> Self {
        let mut end: Vec<char> = prefix.chars().collect();
        let end = loop {
            match end.pop() {
                None => break None,
                Some(c) => {
                    let next = (c as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
                    if let Some(next) = next {
                        end.push(next);
                        break Some(end.into_iter().collect());
                    }
                }
            }
        };
        Self { prefix, end }
    }

    /// Whether `term` is in the range.
    pub fn contains(&self, term: &str) -> bool {
        term.starts_with(&self.prefix)
    }
}

/// One word of a query: what a document must contain, and how the index finds candidates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SearchWord {
    /// The substring a matching document contains.
    pattern: String,
    /// Index ranges every matching document has a term in (none: the index cannot help).
    ranges: Vec<TermRange>,
    /// Whether having a term in each range already means containing the pattern.
    exact: bool,
}

impl SearchWord {
    fn new(word: &str) -> Option<Self> {
        let mut pattern = String::new();
        marked(word, &mut pattern);
        let length = pattern.chars().filter(|&c| c != WORD_START).count();
        if length == 0 {
            return None;
        }
        // Three characters or more: anywhere, so not necessarily at a word start.
        let anywhere = length >= 3;
        if anywhere && pattern.starts_with(WORD_START) {
            pattern.remove(0);
        }
        // The pattern's pieces of letters and digits: one after a word start begins a word
        // of the document; the first one of an `anywhere` pattern may end a longer word.
        let mut ranges = Vec::new();
        let mut pieces = 0;
        let mut piece: Vec<char> = Vec::new();
        let mut begins = !anywhere;
        let mut flush = |piece: &mut Vec<char>, begins: bool| {
            if piece.is_empty() {
                return;
            }
            pieces += 1;
            if piece.len() >= 3 {
                ranges.push(TermRange::starting_with(
                    piece.iter().take(MAX_TERM_CHARS).collect(),
                ));
            } else if begins {
                ranges.push(TermRange::starting_with(
                    std::iter::once(WORD_START)
                        .chain(piece.iter().copied())
                        .collect(),
                ));
            }
            piece.clear();
        };
        for c in pattern.chars() {
            if c == WORD_START {
                flush(&mut piece, begins);
                begins = true;
            } else if is_word_char(c) {
                piece.push(c);
            } else {
                flush(&mut piece, begins);
                begins = false;
            }
        }
        flush(&mut piece, begins);
        // A single word of letters or digits, no longer than the terms: a term in its range is
        // exactly an occurrence of it.
        let plain = pieces == 1
            && ranges.len() == 1
            && pattern.chars().filter(|&c| c != WORD_START).count() <= MAX_TERM_CHARS
            && pattern
                .chars()
                .all(|c| c == WORD_START || (is_word_char(c) && !is_cjk(c)));
        Some(Self {
            pattern,
            ranges,
            exact: plain,
        })
    }
}

/// The text filter of the job list (`q`): at most [`SEARCH_MAX_CHARS`] characters, split at
/// white space into words that must all match (see the [module documentation](self)).
///
/// ```
/// use printdesk_domain::search::{SearchDocument, SearchQuery};
/// let doc = SearchDocument::of_fields([Some("GEHÄUSE FÜR ÖLPUMPE"), Some("Müller"), None, None]);
/// let q = |text: &str| SearchQuery::parse(text).unwrap().unwrap();
/// assert!(q("gehause olpumpe").matches(&doc));
/// assert!(q("muller fü").matches(&doc));
/// assert!(!q("ür").matches(&doc));
/// assert!(SearchQuery::parse("   ").unwrap().is_none());
/// assert!(SearchQuery::parse(&"x".repeat(201)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    text: String,
    words: Vec<SearchWord>,
}

impl SearchQuery {
    /// The query `text` asks for, trimmed; `None` when it is empty or blank. Longer than
    /// [`SEARCH_MAX_CHARS`] characters is refused.
    pub fn parse(text: &str) -> Result<Option<Self>, FieldViolation> {
        if text.chars().count() > SEARCH_MAX_CHARS {
            return Err(FieldViolation::new(
                "q",
                format!("must be at most {SEARCH_MAX_CHARS} characters"),
            ));
        }
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let mut words: Vec<SearchWord> = Vec::new();
        for word in text.split_whitespace().filter_map(SearchWord::new) {
            if !words.contains(&word) {
                words.push(word);
            }
        }
        Ok(Some(Self {
            text: text.to_owned(),
            words,
        }))
    }

    /// The query as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a job with `document` matches.
    pub fn matches(&self, document: &SearchDocument) -> bool {
        self.patterns().all(|p| document.0.contains(p))
    }

    /// The substrings a matching document contains, all of them: what decides.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|w| w.pattern.as_str())
    }

    /// Index ranges that every matching job has a term in; candidates for [`Self::patterns`].
    /// Empty when the index cannot narrow the search (only words of punctuation), and a store
    /// then checks every job. The longest prefixes, which usually select the fewest jobs, come
    /// first: a store may look up only the first few.
    pub fn index_ranges(&self) -> Vec<&TermRange> {
        let mut ranges: Vec<&TermRange> = Vec::new();
        for range in self.words.iter().flat_map(|w| &w.ranges) {
            if !ranges.contains(&range) {
                ranges.push(range);
            }
        }
        // A word start counts as no letter: `\u{1}ab` narrows less than `abc`.
        ranges.sort_by_key(|r| {
            std::cmp::Reverse(r.prefix.chars().filter(|&c| c != WORD_START).count())
        });
        ranges
    }

    /// The patterns of the words that the index ranges do not decide on their own (a word
    /// with punctuation inside, `re-sliced`, or longer than the terms): a job with a term in
    /// each of [`Self::index_ranges`] matches when its document contains these.
    pub fn undecided_patterns(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|w| !w.exact)
            .map(|w| w.pattern.as_str())
    }

    /// Whether `range` belongs to a word the index decides on its own (see
    /// [`Self::undecided_patterns`]): a store must narrow by such a range, and may skip any
    /// other, since the patterns of undecided words are checked on every candidate anyway.
    pub fn range_decides(&self, range: &TermRange) -> bool {
        self.words
            .iter()
            .any(|w| w.exact && w.ranges.contains(range))
    }

    /// Whether a job with a term in each of [`Self::index_ranges`] matches for certain, so a
    /// store may count the matches from the index alone.
    pub fn index_is_exact(&self) -> bool {
        self.words.iter().all(|w| w.exact)
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The collator behind every text sort: the Unicode Collation Algorithm with the root
/// locale's order (CLDR root), tertiary strength: letters first (`a` < `b`), then accents
/// (`e` < `é`), then case (`a` < `A`); punctuation and spaces are not ignored.
static COLLATOR: LazyLock<icu_collator::CollatorBorrowed<'static>> = LazyLock::new(|| {
    icu_collator::CollatorBorrowed::try_new(
        Default::default(),
        icu_collator::options::CollatorOptions::default(),
    )
    .expect("the root collation is compiled in")
});

/// The sort key of `text`: keys compare byte by byte as the texts compare by [`COLLATOR`], so a
/// store orders by a stored, indexed key (`aufkleber` < `Ölwanne` < `Zylinder`).
///
/// ```
/// use printdesk_domain::search::sort_key;
/// assert!(sort_key("aufkleber") < sort_key("Ölwanne"));
/// assert!(sort_key("Ölwanne") < sort_key("Zylinder"));
/// ```
pub fn sort_key(text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() * 2 + 8);
    let Ok(()) = COLLATOR.write_sort_key_to(text, &mut key);
    key
}

/// How two texts compare in the list's text order (the order of their [`sort_key`]s).
pub fn collate(a: &str, b: &str) -> std::cmp::Ordering {
    COLLATOR.compare(a, b)
}
