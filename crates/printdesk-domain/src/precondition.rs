//! What a change demands of the job's version before it applies: the domain's reading of an
//! HTTP `If-Match`, so that every adapter and every store judges it the same way.

use crate::job::Version;

/// The version a change is conditional on.
///
/// `If-Match` absent or `*` is [`VersionCondition::Any`]; a list of entity tags is
/// [`VersionCondition::OneOf`] the versions they name. An empty list (every tag was
/// something other than a version) admits no version at all, so the change is refused with
/// the job as it is now.
///
/// ```
/// use printdesk_domain::{Version, VersionCondition};
///
/// assert!(VersionCondition::Any.admits(Version::new(7)));
/// let seen = VersionCondition::OneOf(vec![Version::new(3), Version::new(4)]);
/// assert!(seen.admits(Version::new(4)));
/// assert!(!seen.admits(Version::new(5)));
/// assert!(!VersionCondition::OneOf(vec![]).admits(Version::FIRST));
/// assert_eq!(VersionCondition::from(Version::new(2)), VersionCondition::OneOf(vec![Version::new(2)]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum VersionCondition {
    /// Whatever the current version is (last write wins).
    #[default]
    Any,
    /// Only if the current version is one of these.
    OneOf(Vec<Version>),
}

impl VersionCondition {
    /// Whether a job at `current` may take the change.
    pub fn admits(&self, current: Version) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(versions) => versions.contains(&current),
        }
    }
}

/// Exactly this version, as a client that read the job at `version` asks.
impl From<Version> for VersionCondition {
    fn from(version: Version) -> Self {
        Self::OneOf(vec![version])
    }
}
