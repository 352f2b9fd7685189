//! One end-to-end test's world: a fake SES, a broker namespace of its own, a
//! worker built by the same constructor as `herald run`, and a tap on the
//! status events it publishes.

use std::time::Duration;

use crate::broker::{Events, TestBroker};
use crate::fake_ses::FakeSes;
use crate::unique;
use crate::worker::{ses_config, spawn_worker, TestWorker};

/// The world of a test that starts its worker itself (a `herald run`
/// process, one it kills or floods): a fake SES, a namespace named `ns`, and
/// a tap on its events, opened before anything is published.
pub struct Stage {
    pub ses: FakeSes,
    pub broker: TestBroker,
    pub events: Events,
    pub ns: String,
}

impl Stage {
    /// The world of a test named `label`, with retry tiers `tiers`.
    pub async fn start(label: &str, tiers: &[Duration]) -> Stage {
        let ses = FakeSes::start().await;
        let ns = unique(label);
        let broker = TestBroker::new(&ns, tiers).await;
        let events = broker.events().await;
        Stage {
            ses,
            broker,
            events,
            ns,
        }
    }
}

pub struct TestApp {
    pub ses: FakeSes,
    pub broker: TestBroker,
    pub worker: TestWorker,
    pub events: Events,
}

impl TestApp {
    /// The world for a test named `label`, its retry tiers `tiers`, and the
    /// worker's environment `prod` sending to the fake SES with `extra` TOML
    /// lines (see [`ses_config`]).
    pub async fn start(label: &str, tiers: &[Duration], extra: &str) -> TestApp {
        TestApp::configured(label, tiers, |ses| ses_config(&ses.url, extra)).await
    }

    /// The same, with the whole configuration made from the fake SES.
    pub async fn configured(
        label: &str,
        tiers: &[Duration],
        config: impl FnOnce(&FakeSes) -> String,
    ) -> TestApp {
        let Stage {
            ses,
            broker,
            events,
            ..
        } = Stage::start(label, tiers).await;
        let worker = spawn_worker(&broker, &config(&ses)).await;
        TestApp {
            ses,
            broker,
            worker,
            events,
        }
    }

    /// Publishes a job for `email` in `prod` under a fresh id; returns the id.
    pub async fn send_to(&self, email: &str) -> String {
        self.broker.send_to(email).await
    }

    /// The terminal events of the next `n` jobs to end, within `timeout`.
    pub async fn terminal(&mut self, n: usize, timeout: Duration) -> Vec<herald_shared::Event> {
        self.events.terminal(n, timeout).await
    }

    /// Stops the worker (it must stop cleanly) and removes the namespace.
    pub async fn stop(self) {
        self.worker.stop().await.expect("the worker stops cleanly");
        self.broker.cleanup().await;
    }
}
