//! Named API tokens, kept only as SHA-256 hashes, and their verification in constant time.
//!
//! A token is a random secret handed to a person or a program once; the server keeps its name
//! and the SHA-256 of the token, never the token. Lists of them come as `NAME:SHA256HEX`
//! entries: one per line in a tokens file (blank lines and `#` comments allowed), or
//! comma-separated in one setting. A request's token is hashed and compared against every
//! stored hash with [`subtle`]'s constant-time equality, all of them every time, so neither
//! the answer's timing nor an early exit tells which entry (if any) was close.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// What every token [`generate_token`] makes starts with, so that a leaked one is recognisable
/// (secret scanners, log searches).
pub const TOKEN_PREFIX: &str = "pd_";

/// Random bytes in a generated token: 256 bits of entropy.
const TOKEN_ENTROPY_BYTES: usize = 32;

/// Longest token name.
const MAX_NAME_CHARS: usize = printdesk_domain::access::TokenName::MAX_CHARS;

/// The SHA-256 of a token. Its `Debug` shows nothing of it: hashes stay out of logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash of `token`.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Reads 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            *byte = u8::try_from(digit(pair[0])? << 4 | digit(pair[1])?).ok()?;
        }
        Some(Self(bytes))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

/// A token's name: what the audit trail records as the actor of every change made with it.
/// 1–64 characters, each an ASCII letter or digit or one of `.`, `_`, `-`, `@`: the domain's
/// rule for every token name ([`printdesk_domain::access::TokenName`]), stored tokens' too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenName(String);

impl TokenName {
    /// Checks a name.
    pub fn parse(name: &str) -> Result<Self, InvalidTokenName> {
        printdesk_domain::access::TokenName::parse(name)
            .map(|valid| Self(valid.as_str().to_owned()))
            .map_err(|_| InvalidTokenName)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name that [`TokenName::parse`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTokenName;

impl fmt::Display for InvalidTokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a token name is 1 to {MAX_NAME_CHARS} characters, each a letter, a digit, \
             '.', '_', '-' or '@'"
        )
    }
}

impl std::error::Error for InvalidTokenName {}

/// Where in a list an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A line of a tokens file, from 1.
    Line(usize),
    /// An entry of a comma-separated list, from 1.
    Entry(usize),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Entry(n) => write!(f, "entry {n}"),
        }
    }
}

/// Why an entry of a token list was refused. The message never repeats the entry itself: a
/// token pasted by mistake where its hash belongs must not end up in a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenEntryProblem {
    /// Not `NAME:SHA256HEX`.
    Malformed,
    /// The name breaks [`TokenName`]'s rule.
    InvalidName,
    /// Not 64 hex digits after the colon.
    InvalidHash,
    /// The name is already taken by an earlier entry.
    DuplicateName(TokenName),
    /// The same token (hash) is already registered, under this name.
    DuplicateToken(TokenName),
}

/// An entry of a token list that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntryError {
    /// Where it is.
    pub position: Position,
    /// What is wrong with it.
    pub problem: TokenEntryProblem,
}

impl fmt::Display for TokenEntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.position)?;
        match &self.problem {
            TokenEntryProblem::Malformed => f.write_str(
                "expected NAME:SHA256 (a token name, a colon, and the 64 hex digits of the \
                 token's SHA-256 hash)",
            ),
            TokenEntryProblem::InvalidName => write!(f, "{InvalidTokenName}"),
            TokenEntryProblem::InvalidHash => f.write_str(
                "the part after the colon must be 64 hex digits: the SHA-256 hash of the \
                 token, not the token itself",
            ),
            TokenEntryProblem::DuplicateName(name) => {
                write!(f, "the name '{name}' is given to two tokens")
            }
            TokenEntryProblem::DuplicateToken(name) => {
                write!(f, "this token is already registered as '{name}'")
            }
        }
    }
}

impl std::error::Error for TokenEntryError {}

/// The configured tokens: names and hashes. Empty means authentication is off. Its `Debug`
/// lists the names only.
#[derive(Clone, Default)]
pub struct TokenSet {
    entries: Vec<(TokenName, TokenHash)>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenSet {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none (authentication is off).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// Whether a token has this name.
    pub fn contains_name(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// Adds a token; refused if its name or its hash is taken already.
    pub fn insert(&mut self, name: TokenName, hash: TokenHash) -> Result<(), TokenEntryProblem> {
        if self.contains_name(name.as_str()) {
            return Err(TokenEntryProblem::DuplicateName(name));
        }
        if let Some((other, _)) = self.entries.iter().find(|(_, h)| *h == hash) {
            return Err(TokenEntryProblem::DuplicateToken(other.clone()));
        }
        self.entries.push((name, hash));
        Ok(())
    }

    /// Adds the entries of a tokens file: one `NAME:SHA256HEX` per line, surrounding spaces
    /// ignored; blank lines and lines starting with `#` skipped. The first bad line is
    /// refused with its number, and then nothing is added.
    pub fn add_file(&mut self, text: &str) -> Result<(), TokenEntryError> {
        let entries = text
            .lines()
            .enumerate()
            .map(|(i, line)| (Position::Line(i + 1), line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
        self.add_entries(entries)
    }

    /// Adds the entries of a comma-separated list of `NAME:SHA256HEX` (empty entries skipped).
    /// The first bad entry is refused with its position, and then nothing is added.
    pub fn add_list(&mut self, list: &str) -> Result<(), TokenEntryError> {
        let entries = list
            .split(',')
            .enumerate()
            .map(|(i, entry)| (Position::Entry(i + 1), entry.trim()))
            .filter(|(_, entry)| !entry.is_empty());
        self.add_entries(entries)
    }

    fn add_entries<'a>(
        &mut self,
        entries: impl Iterator<Item = (Position, &'a str)>,
    ) -> Result<(), TokenEntryError> {
        let mut added = self.clone();
        for (position, entry) in entries {
            let error = |problem| TokenEntryError { position, problem };
            let (name, hash) = entry
                .split_once(':')
                .ok_or_else(|| error(TokenEntryProblem::Malformed))?;
            let name =
                TokenName::parse(name.trim()).map_err(|_| error(TokenEntryProblem::InvalidName))?;
            let hash = TokenHash::from_hex(hash.trim())
                .ok_or_else(|| error(TokenEntryProblem::InvalidHash))?;
            added.insert(name, hash).map_err(error)?;
        }
        *self = added;
        Ok(())
    }

    /// The name of the token `presented` is, if it is one of them.
    ///
    /// The presented token is hashed and compared with every stored hash in constant time;
    /// every comparison is made whatever the earlier ones found, and the match is picked with
    /// a constant-time select, so the time taken depends only on the number of tokens.
    pub fn verify(&self, presented: &str) -> Option<&TokenName> {
        self.verify_with(presented, |stored, given| stored[..].ct_eq(&given[..]))
    }

    /// [`verify`](Self::verify) with the comparison given, so that tests can watch it.
    fn verify_with(
        &self,
        presented: &str,
        mut equal: impl FnMut(&[u8; 32], &[u8; 32]) -> Choice,
    ) -> Option<&TokenName> {
        let given = TokenHash::of(presented);
        // 0: no match; n: the n-th entry.
        let mut found: u64 = 0;
        for (n, (_, stored)) in (1u64..).zip(&self.entries) {
            found.conditional_assign(&n, equal(&stored.0, &given.0));
        }
        let index = usize::try_from(found.checked_sub(1)?).ok()?;
        self.entries.get(index).map(|(name, _)| name)
    }
}

/// A new random token: [`TOKEN_PREFIX`] and 32 bytes from the operating system's random source
/// in unpadded base64url, so only letters, digits, `-` and `_` (valid in an HTTP header and in
/// a WebSocket subprotocol name).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_ENTROPY_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// SHA-256 of "secret-a", as `printf %s secret-a | sha256sum` prints it.
    const HASH_A: &str = "8766b9cb08e6040b704f1e3ee1e186efccf2635b1d2634d6525333007e6aeae1";

    fn hash(token: &str) -> String {
        TokenHash::of(token).to_hex()
    }

    fn set(tokens: &[(&str, &str)]) -> TokenSet {
        let mut set = TokenSet::new();
        for (name, token) in tokens {
            set.insert(TokenName::parse(name).unwrap(), TokenHash::of(token))
                .unwrap();
        }
        set
    }

    #[test]
    fn hashes_are_sha256_in_hex() {
        // The well-known SHA-256 of the empty string.
        assert_eq!(
            hash(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(hash("secret-a"), HASH_A);
        let upper = TokenHash::from_hex(&HASH_A.to_uppercase()).unwrap();
        assert_eq!(upper, TokenHash::of("secret-a"));
        for bad in [
            "",
            "abc",
            &HASH_A[1..],
            &format!("{}g", &HASH_A[1..]),
            "é".repeat(32).as_str(),
        ] {
            assert_eq!(TokenHash::from_hex(bad), None, "{bad}");
        }
        assert_eq!(format!("{:?}", TokenHash::of("x")), "TokenHash(..)");
    }

    #[test]
    fn verify_names_the_matching_token_only() {
        let tokens = set(&[("till", "secret-a"), ("ha", "secret-b")]);
        assert_eq!(
            tokens.verify("secret-a").map(TokenName::as_str),
            Some("till")
        );
        assert_eq!(tokens.verify("secret-b").map(TokenName::as_str), Some("ha"));
        for wrong in ["", "secret-", "secret-a ", "SECRET-A", "secret-c", HASH_A] {
            assert_eq!(tokens.verify(wrong), None, "{wrong:?}");
        }
        assert_eq!(TokenSet::new().verify("secret-a"), None);
    }

    #[test]
    fn verify_compares_every_hash_whatever_matches() {
        let tokens = set(&[("a", "one"), ("b", "two"), ("c", "three"), ("d", "four")]);
        for (presented, expected) in [
            ("one", Some("a")),
            ("three", Some("c")),
            ("four", Some("d")),
            ("none", None),
        ] {
            let comparisons = Cell::new(0);
            let name = tokens.verify_with(presented, |stored, given| {
                comparisons.set(comparisons.get() + 1);
                stored[..].ct_eq(&given[..])
            });
            assert_eq!(name.map(TokenName::as_str), expected, "{presented}");
            assert_eq!(comparisons.get(), 4, "{presented}: every hash is compared");
        }
    }

    #[test]
    fn verify_compares_whole_hashes_in_constant_time() {
        // Two hashes that differ in the last byte only are different: no prefix comparison.
        let mut near = TokenHash::of("one");
        near.0[31] ^= 1;
        let mut tokens = TokenSet::new();
        tokens
            .insert(TokenName::parse("near").unwrap(), near)
            .unwrap();
        assert_eq!(tokens.verify("one"), None);
        // The comparison is subtle's: its `Choice` is what picks the match.
        let given = TokenHash::of("one");
        assert!(!bool::from(near.0[..].ct_eq(&given.0[..])));
        assert!(bool::from(given.0[..].ct_eq(&given.0[..])));
    }

    #[test]
    fn a_tokens_file_has_names_hashes_comments_and_blank_lines() {
        let file = format!(
            "# printdesk API tokens\n\n  till:{}  \n# ha:{}\nha : {}\r\n",
            hash("secret-a"),
            hash("secret-x"),
            hash("secret-b").to_uppercase(),
        );
        let mut tokens = TokenSet::new();
        tokens.add_file(&file).unwrap();
        assert_eq!(tokens.names().collect::<Vec<_>>(), ["till", "ha"]);
        assert_eq!(tokens.verify("secret-b").map(TokenName::as_str), Some("ha"));
        assert_eq!(tokens.verify("secret-x"), None);

        let mut empty = TokenSet::new();
        empty.add_file("# nothing yet\n\n").unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number_and_not_its_content() {
        let good = format!("till:{}", hash("a"));
        let cases = [
            ("pd_Sup3rS3cretT0ken", TokenEntryProblem::Malformed),
            ("till pd_Sup3rS3cretT0ken", TokenEntryProblem::Malformed),
            ("till:pd_Sup3rS3cretT0ken", TokenEntryProblem::InvalidHash),
            (":0000", TokenEntryProblem::InvalidName),
            (
                &format!("front desk:{}", hash("b")),
                TokenEntryProblem::InvalidName,
            ),
            (
                &format!("tíll:{}", hash("b")),
                TokenEntryProblem::InvalidName,
            ),
            (
                &format!("till:{}", hash("b")),
                TokenEntryProblem::DuplicateName(TokenName::parse("till").unwrap()),
            ),
            (
                &format!("other:{}", hash("a")),
                TokenEntryProblem::DuplicateToken(TokenName::parse("till").unwrap()),
            ),
        ];
        for (line, problem) in cases {
            let file = format!("# tokens\n{good}\n\n{line}\nlast:{}\n", hash("c"));
            let mut tokens = TokenSet::new();
            let error = tokens.add_file(&file).unwrap_err();
            assert_eq!(error.position, Position::Line(4), "{line}");
            assert_eq!(error.problem, problem, "{line}");
            let message = error.to_string();
            assert!(message.starts_with("line 4: "), "{message}");
            assert!(!message.contains("Sup3rS3cret"), "{message}");
            assert!(tokens.is_empty(), "nothing is added from a bad file");
        }
    }

    #[test]
    fn a_list_is_comma_separated_and_adds_to_the_file() {
        let mut tokens = TokenSet::new();
        tokens.add_file(&format!("till:{}\n", hash("a"))).unwrap();
        tokens
            .add_list(&format!(" ha:{} ,, ci:{},", hash("b"), hash("c")))
            .unwrap();
        assert_eq!(tokens.names().collect::<Vec<_>>(), ["till", "ha", "ci"]);

        let error = tokens
            .add_list(&format!("new:{},till:{}", hash("d"), hash("e")))
            .unwrap_err();
        assert_eq!(error.position, Position::Entry(2));
        assert_eq!(
            error.to_string(),
            "entry 2: the name 'till' is given to two tokens"
        );
        assert_eq!(tokens.len(), 3, "nothing is added from a bad list");
        assert!(!tokens.contains_name("new"));
    }

    #[test]
    fn names() {
        for good in ["till", "HA.box-2", "ci_bot", "ana@shop", &"x".repeat(64)] {
            assert!(TokenName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", " till", "till:1", "a b", "a,b", "ä", &"x".repeat(65)] {
            assert_eq!(TokenName::parse(bad), Err(InvalidTokenName), "{bad}");
        }
    }

    #[test]
    fn generated_tokens_are_long_random_and_header_safe() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        let body = a.strip_prefix(TOKEN_PREFIX).unwrap();
        // 32 bytes in unpadded base64: 43 characters, 258 bits of which 256 are random.
        assert_eq!(body.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{a}"
        );
        let debug = format!("{:?}", set(&[("till", &a)]));
        assert!(!debug.contains(&a) && !debug.contains(&hash(&a)), "{debug}");
    }
}
