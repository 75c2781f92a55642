//! The live view of a load run, on stderr. On a terminal, a bar redrawn
//! five times a second; without one (CI, cron, `2>log`), a `progress:`
//! line every `--progress-interval-seconds` and a last one when sending
//! stops. Both show the rate of accepted (2xx) messages only, the failed
//! requests by status, and an ETA that ends at `--duration-seconds` when
//! that comes before `--count` is reached.

use crate::live::{LiveCounts, LiveSnapshot};
use crate::stats::per_second;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the live view needs to know about the run.
#[derive(Debug, Clone, Copy)]
pub struct ProgressPlan {
    /// Messages `--count` asks for.
    pub total: u64,
    pub origin: Instant,
    /// When `--duration-seconds` stops the run.
    pub deadline: Option<Instant>,
    /// How often to print a line without a terminal; `None`: never.
    pub line_interval: Option<Duration>,
}

/// The running live view; [`Progress::finish`] stops it.
pub struct Progress {
    bar: Option<ProgressBar>,
    ticker: tokio::task::JoinHandle<()>,
    live: Arc<LiveCounts>,
    plan: ProgressPlan,
}

/// Starts the bar (stderr is a terminal) or the `progress:` lines.
pub fn start(live: Arc<LiveCounts>, plan: ProgressPlan) -> Option<Progress> {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(plan.total);
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} msgs ({msg})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        let (ticking, counts) = (bar.clone(), Arc::clone(&live));
        let ticker = tokio::spawn(async move {
            loop {
                let snapshot = counts.snapshot();
                let now = Instant::now();
                ticking.set_position(snapshot.sent_messages);
                let eta = eta(
                    snapshot.sent_messages,
                    plan.total,
                    now - plan.origin,
                    time_left(plan.deadline, now),
                );
                ticking.set_message(format!(
                    "{}, eta {}",
                    status_text(&snapshot, now - plan.origin),
                    eta_text(eta)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        return Some(Progress {
            bar: Some(bar),
            ticker,
            live,
            plan,
        });
    }
    let interval = plan.line_interval?;
    let counts = Arc::clone(&live);
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            eprintln!("{}", line(&counts.snapshot(), &plan, Instant::now(), false));
        }
    });
    Some(Progress {
        bar: None,
        ticker,
        live,
        plan,
    })
}

impl Progress {
    /// Clears the bar, or prints the last `progress:` line.
    pub fn finish(self) {
        self.ticker.abort();
        match self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!(
                "{}",
                line(&self.live.snapshot(), &self.plan, Instant::now(), true)
            ),
        }
    }
}

/// `progress: 12.0 s, 35000/50000 msgs sent, 2900 accepted msgs/s, 3 failed
/// requests (HTTP 429 ×3), eta 5 s` (or `, done` for the last line).
pub fn line(snapshot: &LiveSnapshot, plan: &ProgressPlan, now: Instant, done: bool) -> String {
    let elapsed = now.saturating_duration_since(plan.origin);
    let end = if done {
        "done".to_owned()
    } else {
        format!(
            "eta {}",
            eta_text(eta(
                snapshot.sent_messages,
                plan.total,
                elapsed,
                time_left(plan.deadline, now)
            ))
        )
    };
    format!(
        "progress: {:.1} s, {}/{} msgs sent, {}, {end}",
        elapsed.as_secs_f64(),
        snapshot.sent_messages,
        plan.total,
        status_text(snapshot, elapsed)
    )
}

/// `2900 accepted msgs/s, 3 failed requests (HTTP 401 ×2, timeout ×1)`.
pub fn status_text(snapshot: &LiveSnapshot, elapsed: Duration) -> String {
    let rate = per_second(snapshot.accepted_messages, elapsed).unwrap_or(0.0);
    let mut text = format!(
        "{rate:.0} accepted msgs/s, {} failed requests",
        snapshot.failed_requests
    );
    if !snapshot.failures.is_empty() {
        let parts: Vec<String> = snapshot
            .failures
            .iter()
            .map(|(label, n)| format!("{label} ×{n}"))
            .collect();
        text.push_str(&format!(" ({})", parts.join(", ")));
    }
    text
}

fn time_left(deadline: Option<Instant>, now: Instant) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(now))
}

/// Time until sending stops: the messages left at the rate so far, or the
/// time left of `--duration-seconds`, whichever ends first. `None` while
/// there is nothing to go on (no message sent, no deadline).
pub fn eta(
    sent: u64,
    total: u64,
    elapsed: Duration,
    time_left: Option<Duration>,
) -> Option<Duration> {
    let by_count = if sent >= total {
        Some(Duration::ZERO)
    } else if sent == 0 || elapsed.is_zero() {
        None
    } else {
        let seconds = elapsed.as_secs_f64() * (total - sent) as f64 / sent as f64;
        Duration::try_from_secs_f64(seconds).ok()
    };
    match (by_count, time_left) {
        (Some(count), Some(left)) => Some(count.min(left)),
        (count, left) => count.or(left),
    }
}

fn eta_text(eta: Option<Duration>) -> String {
    match eta {
        None => "unknown".to_owned(),
        Some(d) if d.as_secs() >= 3600 => {
            format!("{}h{:02}m", d.as_secs() / 3600, d.as_secs() % 3600 / 60)
        }
        Some(d) if d.as_secs() >= 60 => format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60),
        Some(d) => format!("{} s", d.as_secs_f64().ceil() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_eta_ends_at_the_duration_limit_when_that_comes_first() {
        // 1,000 of 1,000,000 in 10 s: the count would take 9,990 s more, but the run stops in 5 s.
        assert_eq!(
            eta(1_000, 1_000_000, secs(10), Some(secs(5))),
            Some(secs(5))
        );
        // Without a duration limit, the count decides.
        assert_eq!(eta(500, 1_000, secs(10), None), Some(secs(10)));
        // The count ends first.
        assert_eq!(eta(500, 1_000, secs(10), Some(secs(60))), Some(secs(10)));
        assert_eq!(eta(0, 1_000, secs(1), None), None);
        assert_eq!(eta(0, 1_000, secs(1), Some(secs(3))), Some(secs(3)));
        assert_eq!(
            eta(1_000, 1_000, secs(1), Some(secs(3))),
            Some(Duration::ZERO)
        );
        assert_eq!(
            (
                eta_text(None),
                eta_text(Some(secs(5))),
                eta_text(Some(secs(125))),
                eta_text(Some(secs(7300)))
            ),
            (
                "unknown".into(),
                "5 s".into(),
                "2m05s".into(),
                "2h01m".into()
            )
        );
    }

    #[test]
    fn lines_count_accepted_messages_only_and_name_failed_statuses() {
        let origin = Instant::now();
        let plan = ProgressPlan {
            total: 1_800,
            origin,
            deadline: None,
            line_interval: Some(secs(5)),
        };
        let refused = LiveSnapshot {
            sent_messages: 1_800,
            accepted_messages: 0,
            failed_requests: 180,
            failures: vec![("HTTP 401".into(), 180)],
        };
        assert_eq!(
            line(&refused, &plan, origin + secs(3), true),
            "progress: 3.0 s, 1800/1800 msgs sent, 0 accepted msgs/s, 180 failed requests (HTTP 401 ×180), done"
        );
        let healthy = LiveSnapshot {
            sent_messages: 600,
            accepted_messages: 600,
            failed_requests: 0,
            failures: Vec::new(),
        };
        assert_eq!(
            line(&healthy, &plan, origin + secs(2), false),
            "progress: 2.0 s, 600/1800 msgs sent, 300 accepted msgs/s, 0 failed requests, eta 4 s"
        );
        let limited = ProgressPlan {
            deadline: Some(origin + secs(3)),
            ..plan
        };
        assert!(line(&healthy, &limited, origin + secs(2), false).ends_with("eta 1 s"));
        assert_eq!(
            status_text(&healthy, Duration::ZERO),
            "0 accepted msgs/s, 0 failed requests"
        );
    }
}
