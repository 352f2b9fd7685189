//! One message's entry in the embedded store, and the claim rules applied to
//! it: pure functions of the entry and the time, so they are tested without
//! a file.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::story::{millis_rfc3339, ClaimEntry, ClaimKind, MessageStory};
use super::{Acceptance, Claim, ClaimToken};

/// Everything kept for one id, stored as JSON under the id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Entry {
    /// The claim that protects a send now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveClaim>,
    /// Every claim, takeover and release, oldest first.
    #[serde(default)]
    pub history: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
    /// When the entry is forgotten (ms since the epoch).
    pub expires_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LiveClaim {
    pub token: String,
    pub at_ms: u64,
    pub lease_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Step {
    pub at_ms: u64,
    pub kind: ClaimKind,
}

impl Entry {
    /// Applies a claim at `now_ms`: the rules of [`Claim`].
    pub fn claim(&mut self, now_ms: u64, lease: Duration, token: ClaimToken) -> Claim {
        if let Some(acceptance) = &self.acceptance {
            return Claim::Accepted(acceptance.clone());
        }
        let kind = match &self.live {
            Some(live) if now_ms < live.at_ms + live.lease_ms => {
                let left = live.at_ms + live.lease_ms - now_ms;
                return Claim::Held {
                    retry_after: Duration::from_millis(left),
                };
            }
            Some(_) => ClaimKind::InDoubt,
            None => ClaimKind::Claimed,
        };
        self.live = Some(LiveClaim {
            token: token.0.clone(),
            at_ms: now_ms,
            lease_ms: lease.as_millis().max(1) as u64,
        });
        self.history.push(Step {
            at_ms: now_ms,
            kind,
        });
        match kind {
            ClaimKind::InDoubt => Claim::InDoubt(token),
            _ => Claim::Acquired(token),
        }
    }

    /// Ends the live claim if `token` owns it.
    pub fn release(&mut self, now_ms: u64, token: &ClaimToken) -> bool {
        match &self.live {
            Some(live) if live.token == token.0 => {
                self.live = None;
                self.history.push(Step {
                    at_ms: now_ms,
                    kind: ClaimKind::Released,
                });
                true
            }
            _ => false,
        }
    }

    /// Keeps the entry at least until `ttl` from now, rounded up to a step
    /// of a hundredth of `ttl` (at most a second): a job's record, a moment
    /// after its claim, then finds the expiry unchanged and leaves the
    /// purge's index alone.
    pub fn keep_for(&mut self, now_ms: u64, ttl: Duration) {
        let ttl_ms = ttl.as_millis() as u64;
        let step = (ttl_ms / 100).clamp(1, 1000);
        let until = (now_ms + ttl_ms).div_ceil(step) * step;
        self.expires_ms = self.expires_ms.max(until);
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_ms <= now_ms
    }

    pub fn into_story(self, id: &str) -> MessageStory {
        MessageStory {
            id: id.to_owned(),
            claims: self
                .history
                .into_iter()
                .map(|s| ClaimEntry {
                    at: millis_rfc3339(s.at_ms),
                    kind: s.kind,
                })
                .collect(),
            acceptance: self.acceptance,
            events: self.events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_millis(1000);

    fn acquired(claim: Claim) -> ClaimToken {
        match claim {
            Claim::Acquired(token) => token,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    #[test]
    fn a_live_claim_holds_others_off_until_its_lease_ends() {
        let mut entry = Entry::default();
        acquired(entry.claim(10_000, LEASE, ClaimToken::new()));
        assert_eq!(
            entry.claim(10_400, LEASE, ClaimToken::new()),
            Claim::Held {
                retry_after: Duration::from_millis(600)
            }
        );
        let taken = entry.claim(11_000, LEASE, ClaimToken::new());
        assert!(matches!(taken, Claim::InDoubt(_)), "{taken:?}");
        let kinds: Vec<_> = entry.history.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [ClaimKind::Claimed, ClaimKind::InDoubt]);
    }

    #[test]
    fn a_released_claim_is_claimed_afresh_not_in_doubt() {
        let mut entry = Entry::default();
        let token = acquired(entry.claim(0, LEASE, ClaimToken::new()));
        assert!(!entry.release(5, &ClaimToken::new()), "a stranger's token");
        assert!(entry.release(10, &token));
        acquired(entry.claim(5_000, LEASE, ClaimToken::new()));
    }

    #[test]
    fn an_acceptance_wins_over_any_claim() {
        let mut entry = Entry::default();
        acquired(entry.claim(0, LEASE, ClaimToken::new()));
        let acceptance = Acceptance {
            provider_message_id: "0100".into(),
            accepted_at: "2026-11-30T12:00:00Z".into(),
            attempts: 2,
            event: serde_json::value::to_raw_value(&serde_json::json!({"type": "message.sent"}))
                .unwrap(),
        };
        entry.acceptance = Some(acceptance.clone());
        assert_eq!(
            entry.claim(1, LEASE, ClaimToken::new()),
            Claim::Accepted(acceptance)
        );
    }

    #[test]
    fn an_entry_is_kept_for_the_longest_ttl_it_was_given() {
        let mut entry = Entry::default();
        entry.keep_for(1_000, Duration::from_secs(10));
        entry.keep_for(2_000, Duration::from_secs(1));
        assert_eq!(entry.expires_ms, 11_000);
        assert!(!entry.is_expired(10_999));
        assert!(entry.is_expired(11_000));
    }

    #[test]
    fn a_record_soon_after_its_claim_keeps_the_claims_expiry() {
        let ttl = Duration::from_secs(7 * 24 * 3600);
        let mut entry = Entry::default();
        entry.keep_for(1_000_100, ttl);
        let claimed = entry.expires_ms;
        assert_eq!(claimed % 1000, 0, "a whole second");
        assert!(claimed >= 1_000_100 + ttl.as_millis() as u64);
        entry.keep_for(1_000_700, ttl);
        assert_eq!(entry.expires_ms, claimed);
        entry.keep_for(1_001_200, ttl);
        assert_eq!(entry.expires_ms, claimed + 1000);
    }
}
