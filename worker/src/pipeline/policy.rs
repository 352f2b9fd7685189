//! The retry policy as pure functions: how many quick retries a delivery may
//! make, and what a failed delivery comes to (retry on which tier, or give
//! up). Queue names stay in `amqp::topology`; the counts come from
//! `amqp::headers::history`.

use crate::ses::Retry;
use crate::settings::RetrySettings;

/// Where a delivery stands in the retry policy, read from its headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// SES requests already made for this job.
    pub attempts: u32,
    /// Delayed retries already taken.
    pub retries: u32,
}

/// What to do after a delivery's SES requests failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait in the retry queue of this tier (an index into `tiers`).
    Delay { tier: usize },
    /// Retrying cannot help.
    Permanent,
    /// Every allowed attempt was used.
    Exhausted,
}

/// Quick in-process retries this delivery may make after its first request:
/// only on a job's first delivery, and never past `max_attempts`.
pub fn quick_retries(policy: &RetrySettings, history: History) -> u32 {
    if history.attempts > 0 {
        return 0;
    }
    let budget = policy.max_attempts.max(1);
    policy.in_process.attempts.min(budget - 1)
}

/// What a delivery whose last request failed with `retry` comes to, once
/// `attempts` requests (all deliveries together) have been made.
pub fn after_failure(
    policy: &RetrySettings,
    history: History,
    attempts: u32,
    retry: Retry,
) -> Next {
    match retry {
        Retry::Permanent => return Next::Permanent,
        // The environment's credentials failed, or its circuit is open: not
        // the job. It waits, whatever its count.
        Retry::Credentials | Retry::CircuitOpen(_) => {
            return Next::Delay {
                tier: delay_tier(policy, history, retry),
            }
        }
        Retry::Transient | Retry::Paused => {}
    }
    if attempts >= policy.max_attempts {
        return Next::Exhausted;
    }
    Next::Delay {
        tier: delay_tier(policy, history, retry),
    }
}

/// The tier of the next delayed retry: one further each time, the last one
/// repeating; a paused account waits on the longest, an open circuit on the
/// first that outlasts it (see [`tier_for_wait`]).
pub fn delay_tier(policy: &RetrySettings, history: History, retry: Retry) -> usize {
    let last = policy.tiers.len().saturating_sub(1);
    match retry {
        Retry::Paused | Retry::Credentials => last,
        Retry::CircuitOpen(wait) => tier_for_wait(policy, wait),
        _ => usize::try_from(history.retries).map_or(last, |r| r.min(last)),
    }
}

/// The shortest tier that waits at least `wait` (the last one if none
/// does): a job whose circuit is open comes back once it may be probed.
pub fn tier_for_wait(policy: &RetrySettings, wait: std::time::Duration) -> usize {
    policy
        .tiers
        .iter()
        .position(|t| *t >= wait)
        .unwrap_or(policy.tiers.len().saturating_sub(1))
}

/// The history a job carries into its next delivery.
pub fn next_history(history: History, attempts: u32) -> History {
    History {
        attempts,
        retries: history.retries.saturating_add(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetrySettings {
        RetrySettings::default()
    }

    fn at(attempts: u32, retries: u32) -> History {
        History { attempts, retries }
    }

    fn secs(s: u64) -> std::time::Duration {
        std::time::Duration::from_secs(s)
    }

    #[test]
    fn quick_retries_happen_only_on_the_first_delivery_and_within_the_budget() {
        let mut p = policy();
        assert_eq!(quick_retries(&p, at(0, 0)), 2);
        assert_eq!(quick_retries(&p, at(3, 1)), 0);
        p.max_attempts = 2;
        assert_eq!(quick_retries(&p, at(0, 0)), 1);
        p.max_attempts = 0;
        assert_eq!(quick_retries(&p, at(0, 0)), 0);
    }

    #[test]
    fn each_failure_maps_to_one_next_step() {
        use Next::{Delay, Exhausted};
        use Retry::{Paused, Transient};
        let p = policy(); // 8 attempts, 5 tiers
        let table = [
            // (history, attempts after this delivery, error) -> next
            (at(0, 0), 3, Transient, Delay { tier: 0 }),
            (at(3, 1), 4, Transient, Delay { tier: 1 }),
            (at(6, 4), 7, Transient, Delay { tier: 4 }),
            (at(7, 9), 7, Transient, Delay { tier: 4 }),
            (at(7, 5), 8, Transient, Exhausted),
            (at(9, 5), 10, Transient, Exhausted),
            (at(0, 0), 1, Paused, Delay { tier: 4 }),
            (at(0, 0), 1, Retry::Permanent, Next::Permanent),
            (at(7, 5), 8, Retry::Permanent, Next::Permanent),
            (at(7, 5), 8, Retry::Credentials, Delay { tier: 4 }),
            (at(0, 0), 0, Retry::Credentials, Delay { tier: 4 }),
            // An open circuit: whatever the count, the first tier that
            // outlasts the time left, else the last.
            (at(7, 5), 8, Retry::CircuitOpen(secs(30)), Delay { tier: 1 }),
            (at(0, 0), 0, Retry::CircuitOpen(secs(0)), Delay { tier: 0 }),
            (
                at(0, 0),
                0,
                Retry::CircuitOpen(secs(1200)),
                Delay { tier: 4 },
            ),
            (at(0, u32::MAX), 1, Transient, Delay { tier: 4 }),
        ];
        for (history, attempts, retry, next) in table {
            assert_eq!(
                after_failure(&p, history, attempts, retry),
                next,
                "{history:?} after {attempts} attempts, {retry:?}"
            );
        }
    }

    #[test]
    fn the_next_history_counts_one_more_delayed_retry_and_never_wraps() {
        assert_eq!(next_history(at(1, 0), 3), at(3, 1));
        assert_eq!(next_history(at(1, u32::MAX), 3), at(3, u32::MAX));
    }
}
