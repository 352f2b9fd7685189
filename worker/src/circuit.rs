//! A circuit breaker per channel/environment (and per region), SPEC §11.
//!
//! `failures` consecutive provider failures (5xx, timeouts, connection
//! errors) open it for `open_for`; while open no request is made and jobs
//! wait in the retry tiers with their attempts untouched. Then one probe
//! goes through (half-open): a success closes it, a failure opens it again
//! for twice as long, up to `max_open_for`. Recipient errors such as
//! `MessageRejected` mean SES works, and count as successes; throttling and
//! refused credentials change nothing. A paused account opens it for as long
//! as the caller says (the longest retry tier).
//!
//! The breaker is a small state machine under a mutex, with the time passed
//! in, so that it is tested without waiting; callers turn the transitions it
//! reports into metrics and logs.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// `[circuit_breaker]`, globally and per environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    /// Consecutive provider failures that open the breaker; 0 never opens it.
    pub failures: u32,
    /// The first open period.
    #[serde(with = "humantime_serde")]
    pub open_for: Duration,
    /// The longest open period, reached by doubling.
    #[serde(with = "humantime_serde")]
    pub max_open_for: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failures: 5,
            open_for: Duration::from_secs(30),
            max_open_for: Duration::from_secs(300),
        }
    }
}

impl BreakerSettings {
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.open_for.is_zero() {
            problems.push(format!("{at}.open_for: must be longer than zero"));
        }
        if self.max_open_for < self.open_for {
            problems.push(format!("{at}.max_open_for: must be at least open_for"));
        }
        problems
    }
}

/// The breaker's state, as `herald_circuit_state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::HalfOpen => "half_open",
            Phase::Open => "open",
        }
    }
}

/// What a request may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Closed: send.
    Send,
    /// Half-open: this request is the one probe; its result decides.
    Probe,
    /// Open (or a probe is out): no request for about this long.
    Wait(Duration),
}

/// How a request ended, for the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// SES answered, accepting or refusing the email itself.
    Success,
    /// 5xx, a timeout, a connection error.
    ProviderFailure,
    /// The account's sending is paused: open for this long.
    Paused(Duration),
    /// Says nothing of SES's health (throttling, credentials), or no request
    /// was made after all.
    Neutral,
}

/// A change of phase, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: Phase,
    /// How long it stays open (when `to` is `Open`).
    pub open_for: Duration,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        open_for: Duration,
    },
    HalfOpen {
        probe: Option<Instant>,
        open_for: Duration,
    },
}

pub struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Breaker {
        Breaker {
            settings,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    pub fn phase(&self) -> Phase {
        match *self.lock() {
            State::Closed { .. } => Phase::Closed,
            State::Open { .. } => Phase::Open,
            State::HalfOpen { .. } => Phase::HalfOpen,
        }
    }

    /// Whether a request may go now; an open breaker whose period ended
    /// becomes half-open and lets this request through as its probe.
    pub fn admit(&self, now: Instant) -> (Admit, Option<Transition>) {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => (Admit::Send, None),
            State::Open { until, .. } if now < until => (Admit::Wait(until - now), None),
            State::Open { open_for, .. } => {
                *state = State::HalfOpen {
                    probe: Some(now),
                    open_for,
                };
                let to = Transition {
                    to: Phase::HalfOpen,
                    open_for,
                };
                (Admit::Probe, Some(to))
            }
            // A probe that never reported (its job vanished) is given up
            // after one open period, and another goes.
            State::HalfOpen { probe, open_for } => match probe {
                Some(sent) if now.duration_since(sent) < open_for => {
                    (Admit::Wait(open_for - now.duration_since(sent)), None)
                }
                _ => {
                    *state = State::HalfOpen {
                        probe: Some(now),
                        open_for,
                    };
                    (Admit::Probe, None)
                }
            },
        }
    }

    /// Records how a request ended (`probe`: whether it was admitted as the
    /// probe).
    pub fn record(&self, now: Instant, probe: bool, verdict: Verdict) -> Option<Transition> {
        let s = self.settings;
        let mut state = self.lock();
        let longest = s.max_open_for.max(s.open_for);
        let open = |state: &mut State, open_for: Duration| {
            *state = State::Open {
                until: now + open_for,
                open_for,
            };
            Some(Transition {
                to: Phase::Open,
                open_for,
            })
        };
        match (*state, verdict) {
            (_, Verdict::Paused(d)) => open(&mut state, d),
            (State::Closed { .. }, Verdict::Success) => {
                *state = State::Closed { failures: 0 };
                None
            }
            (State::Closed { failures }, Verdict::ProviderFailure) => {
                let failures = failures.saturating_add(1);
                if s.failures > 0 && failures >= s.failures {
                    open(&mut state, s.open_for.min(longest))
                } else {
                    *state = State::Closed { failures };
                    None
                }
            }
            (State::HalfOpen { open_for, .. }, Verdict::ProviderFailure) if probe => {
                open(&mut state, open_for.saturating_mul(2).min(longest))
            }
            (State::HalfOpen { .. }, Verdict::Success) if probe => {
                *state = State::Closed { failures: 0 };
                Some(Transition {
                    to: Phase::Closed,
                    open_for: Duration::ZERO,
                })
            }
            (State::HalfOpen { open_for, .. }, Verdict::Neutral) if probe => {
                *state = State::HalfOpen {
                    probe: None,
                    open_for,
                };
                None
            }
            // A request admitted before the breaker opened, ending after:
            // its failure is already counted in what opened it.
            _ => None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            failures: 3,
            open_for: Duration::from_secs(30),
            max_open_for: Duration::from_secs(100),
        })
    }

    /// A breaker that three provider failures at the returned instant opened.
    fn opened_breaker() -> (Breaker, Instant) {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            b.record(t, false, Verdict::ProviderFailure);
        }
        (b, t)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn consecutive_provider_failures_open_it_and_a_success_resets_the_count() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.record(t, false, Verdict::ProviderFailure), None);
        }
        assert_eq!(
            b.record(t, false, Verdict::Success),
            None,
            "the count restarts"
        );
        assert_eq!(b.record(t, false, Verdict::ProviderFailure), None);
        assert_eq!(
            b.record(t, false, Verdict::Neutral),
            None,
            "throttling changes nothing"
        );
        assert_eq!(b.record(t, false, Verdict::ProviderFailure), None);
        let opened = b.record(t, false, Verdict::ProviderFailure);
        assert_eq!(
            opened.map(|o| (o.to, o.open_for)),
            Some((Phase::Open, secs(30)))
        );
        assert_eq!(b.phase(), Phase::Open);
        assert_eq!(b.admit(t + secs(10)).0, Admit::Wait(secs(20)));
    }

    #[test]
    fn after_the_open_period_one_probe_goes_and_its_result_decides() {
        let (b, t) = opened_breaker();
        let (admit, to) = b.admit(t + secs(30));
        assert_eq!(admit, Admit::Probe);
        assert_eq!(to.map(|t| t.to), Some(Phase::HalfOpen));
        assert!(
            matches!(b.admit(t + secs(31)).0, Admit::Wait(_)),
            "one probe at a time"
        );
        // The probe fails: open again, twice as long.
        let to = b
            .record(t + secs(31), true, Verdict::ProviderFailure)
            .unwrap();
        assert_eq!((to.to, to.open_for), (Phase::Open, secs(60)));
        assert_eq!(b.admit(t + secs(61)).0, Admit::Wait(secs(30)));
        // Again: doubling stops at max_open_for.
        assert_eq!(b.admit(t + secs(91)).0, Admit::Probe);
        let to = b
            .record(t + secs(91), true, Verdict::ProviderFailure)
            .unwrap();
        assert_eq!(to.open_for, secs(100));
        // A success closes it.
        assert_eq!(b.admit(t + secs(191)).0, Admit::Probe);
        let to = b.record(t + secs(191), true, Verdict::Success).unwrap();
        assert_eq!(to.to, Phase::Closed);
        assert_eq!(b.admit(t + secs(191)).0, Admit::Send);
    }

    #[test]
    fn a_probe_without_a_result_lets_another_go() {
        let (b, t) = opened_breaker();
        assert_eq!(b.admit(t + secs(30)).0, Admit::Probe);
        b.record(t + secs(30), true, Verdict::Neutral);
        assert_eq!(b.admit(t + secs(30)).0, Admit::Probe, "given back");
        // Lost without a word: another goes after one open period.
        assert!(matches!(b.admit(t + secs(40)).0, Admit::Wait(_)));
        assert_eq!(b.admit(t + secs(61)).0, Admit::Probe);
    }

    #[test]
    fn a_paused_account_opens_it_for_as_long_as_asked() {
        let b = breaker();
        let t = Instant::now();
        let to = b.record(t, false, Verdict::Paused(secs(900))).unwrap();
        assert_eq!(to.to, Phase::Open);
        assert_eq!(b.admit(t + secs(850)).0, Admit::Wait(secs(50)));
    }

    #[test]
    fn late_results_of_requests_admitted_before_it_opened_change_nothing() {
        let (b, t) = opened_breaker();
        assert_eq!(b.record(t, false, Verdict::ProviderFailure), None);
        assert_eq!(b.record(t, false, Verdict::Success), None);
        assert_eq!(b.phase(), Phase::Open);
    }

    #[test]
    fn zero_failures_never_opens() {
        let b = Breaker::new(BreakerSettings {
            failures: 0,
            ..BreakerSettings::default()
        });
        let t = Instant::now();
        for _ in 0..100 {
            assert_eq!(b.record(t, false, Verdict::ProviderFailure), None);
        }
        assert_eq!(b.admit(t).0, Admit::Send);
    }
}
