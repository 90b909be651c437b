//! The process's open-file limit, and the connection cap that stays below it.
//!
//! Every connection is a file descriptor, and so is everything else the server has open (the
//! database's files and connections, the log, the listener, the printer monitor's sockets).
//! A server that runs out of them can accept nothing, not even a health probe: the soft
//! limit is raised to the hard one at start, and connections are capped below it, with room
//! left for the rest.

use std::io;

/// The open-file limit before and after start-up raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    /// The soft limit the process was started with.
    pub was: u64,
    /// The soft limit now (the hard limit, unless raising it failed).
    pub now: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit.
pub fn raise_open_file_limit() -> io::Result<FileLimit> {
    let (was, _hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    let now = rlimit::increase_nofile_limit(u64::MAX)?;
    Ok(FileLimit { was, now })
}

/// The most connections to serve at once with `limit` descriptors: an eighth of them, and at
/// least 256, stay for everything else (a monitored printer takes one; each SQLite
/// connection three).
pub fn connection_cap(limit: u64) -> usize {
    let reserve = (limit / 8).max(256);
    let cap = limit.saturating_sub(reserve).max(16);
    usize::try_from(cap).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_below_the_descriptor_limit() {
        assert_eq!(connection_cap(1024), 768);
        assert_eq!(connection_cap(1_048_576), 917_504);
        assert_eq!(connection_cap(100), 16);
        for limit in [300, 1024, 4096, 65_536] {
            assert!((connection_cap(limit) as u64) < limit - 200, "{limit}");
        }
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let limit = raise_open_file_limit().unwrap();
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!(limit.now, soft);
        assert!(limit.now >= limit.was);
        // On Linux the hard limit may exceed what the kernel allows a process (nr_open);
        // rlimit stops there.
        assert!(soft == hard || soft >= 1 << 20, "{soft} {hard}");
    }
}
