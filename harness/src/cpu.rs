//! The generator's own CPU use, so a load figure says how much of the
//! machine the harness took from the gateway it measured.
//!
//! Read from `/proc/self/stat` (user + system time of every thread of the
//! process), Linux only; elsewhere the report says `null`.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Clock ticks per second of `/proc` times; 100 on every Linux
/// configuration this runs on (reading `sysconf` would need `unsafe`).
const TICKS_PER_SECOND: f64 = 100.0;

/// User and system CPU time of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTime {
    pub user: Duration,
    pub system: Duration,
}

/// CPU time used by this process so far.
pub fn process_cpu_time() -> Option<CpuTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

/// Parses utime and stime out of a `/proc/<pid>/stat` line. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after
/// its closing parenthesis.
pub fn parse_stat(stat: &str) -> Option<CpuTime> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = |n: u64| Duration::from_secs_f64(n as f64 / TICKS_PER_SECOND);
    Some(CpuTime { user: ticks(utime), system: ticks(stime) })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuUse {
    pub cpu_seconds: f64,
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// CPU seconds per wall second: 1.0 is one core busy.
    pub cores_busy: f64,
    pub micros_per_request: Option<f64>,
    pub resolution_ms: f64,
}

pub fn cpu_use(before: Option<CpuTime>, after: Option<CpuTime>, wall: Duration, requests: u64) -> Option<CpuUse> {
    let (before, after) = (before?, after?);
    let user = after.user.checked_sub(before.user)?.as_secs_f64();
    let system = after.system.checked_sub(before.system)?.as_secs_f64();
    let used = user + system;
    let wall = wall.as_secs_f64();
    Some(CpuUse {
        cpu_seconds: crate::stats::round3(used),
        user_seconds: crate::stats::round3(user),
        system_seconds: crate::stats::round3(system),
        cores_busy: if wall > 0.0 { crate::stats::round3(used / wall) } else { 0.0 },
        micros_per_request: (requests > 0).then(|| crate::stats::round3(used * 1e6 / requests as f64)),
        resolution_ms: 1000.0 / TICKS_PER_SECOND,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_an_awkward_name() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
        assert_eq!(parse_stat(line), Some(CpuTime { user: Duration::from_millis(2500), system: Duration::from_millis(750) }));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(process_cpu_time().is_some());
        }
    }

    #[test]
    fn cpu_use_maths() {
        let at = |user: u64, system: u64| Some(CpuTime { user: Duration::from_millis(user), system: Duration::from_millis(system) });
        let used = cpu_use(at(1000, 0), at(2500, 500), Duration::from_secs(4), 1000).expect("both known");
        assert_eq!((used.cpu_seconds, used.user_seconds, used.system_seconds), (2.0, 1.5, 0.5));
        assert_eq!((used.cores_busy, used.micros_per_request), (0.5, Some(2000.0)));
        assert!(cpu_use(None, at(0, 0), Duration::from_secs(1), 1).is_none());
    }
}
