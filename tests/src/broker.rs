//! One test's own topology on the shared broker, and ways to look into it.

use std::time::Duration;

use futures_util::StreamExt;
use herald_shared::producer::Producer;
use herald_shared::Event;
use herald_worker::amqp::topology;
use herald_worker::settings::AmqpSettings;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, Consumer};

/// The broker tests use; `AMQP_URL` overrides it.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A test's namespace of exchanges and queues, declared and ready.
pub struct TestBroker {
    pub amqp: AmqpSettings,
    pub tiers: Vec<Duration>,
    pub connection: Connection,
    pub channel: Channel,
    producer: Producer,
    cleaned: bool,
}

/// A dead letter as read back from the dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub body: Vec<u8>,
    pub headers: FieldTable,
}

impl DeadLetter {
    /// A header as text (strings and numbers).
    pub fn header(&self, key: &str) -> Option<String> {
        match self.headers.inner().get(key)? {
            AMQPValue::LongString(s) => Some(s.to_string()),
            AMQPValue::ShortString(s) => Some(s.to_string()),
            AMQPValue::LongInt(n) => Some(n.to_string()),
            AMQPValue::LongLongInt(n) => Some(n.to_string()),
            other => Some(format!("{other:?}")),
        }
    }

    /// Asserts what the worker wrote on a job it gave up on: the failure
    /// reason, the error code and how many SES attempts it made.
    pub fn assert_failure(&self, reason: &str, error: &str, attempts: u32) {
        assert_eq!(
            self.header("x-herald-failure-reason").as_deref(),
            Some(reason)
        );
        assert_eq!(self.header("x-herald-error").as_deref(), Some(error));
        assert_eq!(self.header("x-herald-attempts"), Some(attempts.to_string()));
    }
}

impl TestBroker {
    /// Declares the topology of `namespace` with these retry tiers.
    pub async fn new(namespace: &str, tiers: &[Duration]) -> TestBroker {
        TestBroker::new_with(namespace, tiers, |_| {}).await
    }

    /// [`TestBroker::new`] with settings changed first (a small delivery
    /// limit, …).
    pub async fn new_with(
        namespace: &str,
        tiers: &[Duration],
        adjust: impl FnOnce(&mut AmqpSettings),
    ) -> TestBroker {
        let mut amqp = AmqpSettings {
            url: herald_worker::settings::Secret::new(amqp_url()),
            ..AmqpSettings::default()
        }
        .namespaced(&format!("{namespace}."));
        adjust(&mut amqp);
        let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
            .await
            .expect("RabbitMQ must run on AMQP_URL (see README: Tests)");
        let channel = connection.create_channel().await.unwrap();
        topology::declare(&channel, &amqp, tiers).await.unwrap();
        let producer = Producer::new(&connection)
            .await
            .unwrap()
            .with_target(&amqp.jobs_exchange, &amqp.routing_key);
        TestBroker {
            amqp,
            tiers: tiers.to_vec(),
            connection,
            channel,
            producer,
            cleaned: false,
        }
    }

    /// Publishes a job body as is, confirmed.
    pub async fn publish(&self, body: &[u8]) {
        let id = herald_shared::Job::peek_id(body).unwrap_or_default();
        self.producer.publish_raw(body, &id).await.unwrap();
    }

    /// Publishes a JSON job, confirmed.
    pub async fn publish_json(&self, job: &serde_json::Value) {
        self.publish(&serde_json::to_vec(job).unwrap()).await;
    }

    /// Publishes a job for `email` in `prod` under a fresh id; returns the id.
    pub async fn send_to(&self, email: &str) -> String {
        let id = crate::unique("m");
        self.publish_json(&crate::job_json(&id, "prod", email))
            .await;
        id
    }

    /// Publishes `n` jobs for ada@example.com in `prod`, their ids
    /// `<prefix>-00000`, `<prefix>-00001`, …; returns the ids in order.
    pub async fn publish_numbered(&self, prefix: &str, n: usize) -> Vec<String> {
        let ids: Vec<String> = (0..n).map(|i| format!("{prefix}-{i:05}")).collect();
        for id in &ids {
            self.publish_json(&crate::job_json(id, "prod", "ada@example.com"))
                .await;
        }
        ids
    }

    /// Publishes dead letters straight to the dead-letter exchange, as the
    /// worker would, each `(body, headers)`; confirms are awaited together.
    pub async fn publish_dead_letters(&self, letters: &[(Vec<u8>, FieldTable)]) {
        let channel = self.connection.create_channel().await.unwrap();
        channel
            .confirm_select(lapin::options::ConfirmSelectOptions::default())
            .await
            .unwrap();
        let mut confirms = Vec::with_capacity(letters.len());
        for (body, headers) in letters {
            let id = herald_shared::Job::peek_id(body).unwrap_or_default();
            let properties = lapin::BasicProperties::default()
                .with_delivery_mode(2)
                .with_message_id(id.as_str().into())
                .with_headers(headers.clone());
            let confirm = channel
                .basic_publish(
                    self.amqp.dead_letter_exchange.as_str().into(),
                    "".into(),
                    lapin::options::BasicPublishOptions::default(),
                    body,
                    properties,
                )
                .await
                .unwrap();
            confirms.push(confirm);
        }
        for confirm in confirms {
            assert!(confirm.await.unwrap().is_ack());
        }
        let _ = channel.close(200, "".into()).await;
    }

    /// A new channel and an exclusive queue on it bound to every event.
    pub async fn events_queue(&self) -> (Channel, lapin::types::ShortString) {
        let channel = self.connection.create_channel().await.unwrap();
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions::exclusive().auto_delete(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let name = queue.name().clone();
        self.bind_events(&channel, &name).await;
        (channel, name)
    }

    async fn bind_events(&self, channel: &Channel, queue: &lapin::types::ShortString) {
        channel
            .queue_bind(
                queue.clone(),
                self.amqp.events_exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
    }

    /// Takes every delivery of the jobs queue and rejects it back, as a
    /// worker that crashes on the job would, until the broker stops
    /// delivering it; returns how many deliveries there were.
    pub async fn reject_until_dead_lettered(&self) -> usize {
        let channel = self.connection.create_channel().await.unwrap();
        let queue = self.amqp.jobs_queue.as_str();
        let options = lapin::options::BasicConsumeOptions::default();
        let mut consumer = channel
            .basic_consume(queue.into(), "".into(), options, FieldTable::default())
            .await
            .unwrap();
        let mut deliveries = 0;
        while let Ok(Some(Ok(delivery))) =
            tokio::time::timeout(Duration::from_secs(3), consumer.next()).await
        {
            deliveries += 1;
            let requeue = lapin::options::BasicRejectOptions { requeue: true };
            delivery.reject(requeue).await.unwrap();
        }
        let _ = channel.close(200, "".into()).await;
        deliveries
    }

    /// Starts collecting every event; call before publishing.
    pub async fn events(&self) -> Events {
        let (channel, queue) = self.events_queue().await;
        let consumer = channel
            .basic_consume(
                queue.clone(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        Events {
            _channel: channel,
            consumer,
            seen: Vec::new(),
        }
    }

    /// A new channel and a durable quorum queue on it bound to every event,
    /// as a user's events queue would be.
    pub async fn durable_events_queue(&self) -> (Channel, lapin::types::ShortString) {
        let channel = self.connection.create_channel().await.unwrap();
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        let name: lapin::types::ShortString = self.durable_events_name().into();
        channel
            .queue_declare(name.clone(), QueueDeclareOptions::durable(), arguments)
            .await
            .unwrap();
        self.bind_events(&channel, &name).await;
        (channel, name)
    }

    fn durable_events_name(&self) -> String {
        format!("{}.durable", self.amqp.events_exchange)
    }

    /// Declares a durable queue that keeps every event, surviving this
    /// connection; read it with [`TestBroker::take_all`].
    pub async fn capture_events(&self) -> String {
        let name = format!("{}.capture", self.amqp.events_exchange);
        self.channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        self.bind_events(&self.channel, &name.as_str().into()).await;
        name
    }

    /// Messages ready in a queue of this namespace.
    pub async fn queue_len(&self, queue: &str) -> u32 {
        let channel = self.connection.create_channel().await.unwrap();
        let q = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions::durable().passive(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let _ = channel.close(200, "".into()).await;
        q.message_count()
    }

    /// Takes every message of the dead-letter queue.
    pub async fn take_dead_letters(&self) -> Vec<DeadLetter> {
        self.take_all(&self.amqp.dead_queue.clone()).await
    }

    /// Takes every message of a queue.
    pub async fn take_all(&self, queue: &str) -> Vec<DeadLetter> {
        let mut letters = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            let delivery = message.delivery;
            letters.push(DeadLetter {
                body: delivery.data.clone(),
                headers: delivery.properties.headers().clone().unwrap_or_default(),
            });
            delivery.ack(BasicAckOptions::default()).await.unwrap();
        }
        letters
    }

    /// Waits until the dead-letter queue holds `n` messages, then takes them.
    pub async fn wait_dead_letters(&self, n: usize, timeout: Duration) -> Vec<DeadLetter> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut letters = Vec::new();
        while letters.len() < n && tokio::time::Instant::now() < deadline {
            letters.extend(self.take_dead_letters().await);
            if letters.len() < n {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        letters
    }

    /// Deletes every queue and exchange of the namespace. A broker dropped
    /// without it (a failed test) deletes them on drop.
    pub async fn cleanup(mut self) {
        let (queues, exchanges) = self.names();
        delete_all(&self.channel, &queues, &exchanges).await;
        let _ = self.connection.close(200, "".into()).await;
        self.cleaned = true;
    }

    /// The namespace's queues and exchanges.
    fn names(&self) -> (Vec<String>, Vec<String>) {
        let a = &self.amqp;
        let mut queues = vec![
            a.jobs_queue.clone(),
            a.dead_queue.clone(),
            a.dead_events_queue.clone(),
        ];
        // A `herald` process started on this namespace may have declared the
        // default tiers too.
        let mut tiers = self.tiers.clone();
        tiers.extend(herald_worker::settings::RetrySettings::default().tiers);
        queues.extend(topology::retry_queue_names(a, &tiers));
        queues.push(format!("{}.capture", a.events_exchange));
        queues.push(self.durable_events_name());
        let exchanges = vec![
            a.jobs_exchange.clone(),
            a.dead_letter_exchange.clone(),
            a.events_exchange.clone(),
        ];
        (queues, exchanges)
    }
}

async fn delete_all(channel: &Channel, queues: &[String], exchanges: &[String]) {
    for queue in queues {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in exchanges {
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let (queues, exchanges) = self.names();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
                    .await
                    .ok()?;
                let channel = connection.create_channel().await.ok()?;
                delete_all(&channel, &queues, &exchanges).await;
                connection.close(200, "".into()).await.ok()
            })
        })
        .join();
    }
}

/// Status events as they arrive.
pub struct Events {
    _channel: Channel,
    consumer: Consumer,
    /// Every event received so far, in order.
    pub seen: Vec<Event>,
}

impl Events {
    /// The next event, or `None` after `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<Event> {
        let delivery = tokio::time::timeout(timeout, self.consumer.next())
            .await
            .ok()??
            .ok()?;
        delivery.ack(BasicAckOptions::default()).await.ok()?;
        let event: Event = serde_json::from_slice(&delivery.data).expect("events are valid JSON");
        assert_eq!(
            delivery.routing_key.as_str(),
            event.kind.as_str(),
            "routing key = type"
        );
        self.seen.push(event.clone());
        Some(event)
    }

    /// Collects events until `n` terminal ones arrived or `timeout` passed.
    pub async fn terminal(&mut self, n: usize, timeout: Duration) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut terminal = Vec::new();
        while terminal.len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(event) if event.kind.is_terminal() => terminal.push(event),
                Some(_) => {}
                None => break,
            }
        }
        terminal
    }

    /// Waits `quiet` for any further event; returns it if one came.
    pub async fn expect_quiet(&mut self, quiet: Duration) -> Option<Event> {
        self.next(quiet).await
    }
}

impl TestBroker {
    /// The `[amqp]` section that points a `herald` process at this namespace.
    pub fn amqp_toml(&self, prefetch: u16) -> String {
        let a = &self.amqp;
        format!(
            "[amqp]\nurl = \"{}\"\nprefetch = {prefetch}\njobs_exchange = \"{}\"\njobs_queue = \"{}\"\n\
             retry_queue_prefix = \"{}\"\ndead_letter_exchange = \"{}\"\ndead_queue = \"{}\"\n\
             dead_events_queue = \"{}\"\nevents_exchange = \"{}\"\n",
            amqp_url(),
            a.jobs_exchange,
            a.jobs_queue,
            a.retry_queue_prefix,
            a.dead_letter_exchange,
            a.dead_queue,
            a.dead_events_queue,
            a.events_exchange,
        )
    }
}
