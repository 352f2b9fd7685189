//! `herald run` with no broker to reach: every failed attempt is logged at
//! once with its real cause, `/readyz` answers 503, and SIGTERM ends it
//! cleanly. One-shot commands name the cause once too.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald_tests::worker::example_templates_dir;
use herald_tests::{free_port, herald_bin, send_signal, unique};

#[tokio::test]
async fn a_worker_without_a_broker_says_why_at_once_and_stops_cleanly_on_sigterm() {
    let (broker_port, http_port) = (free_port(), free_port());
    let file = std::env::temp_dir().join(format!("{}.toml", unique("no-broker")));
    let config = format!(
        "[amqp]\nurl = \"amqp://guest:guest@127.0.0.1:{broker_port}/%2f\"\n\
         [server]\nlisten = \"127.0.0.1:{http_port}\"\n[templates]\ndir = \"{}\"\n",
        example_templates_dir().display()
    );
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(herald_bin())
        .args(["run", "--config", file.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });

    let started = Instant::now();
    let mut refused = Vec::new();
    while refused.len() < 2 && started.elapsed() < Duration::from_secs(10) {
        if let Ok(line) = received.recv_timeout(Duration::from_millis(100)) {
            if line.contains("refused") {
                refused.push((started.elapsed(), line));
            }
        }
    }
    assert!(
        refused.len() == 2 && refused[0].0 < Duration::from_secs(3),
        "each failed attempt is logged at once: {refused:?}"
    );
    let readyz = reqwest::get(format!("http://127.0.0.1:{http_port}/readyz"))
        .await
        .unwrap();
    assert_eq!(readyz.status().as_u16(), 503, "not ready without a broker");

    assert!(send_signal(child.id(), "TERM"));
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    reader.join().unwrap();
    let rest: Vec<String> = received.try_iter().collect();
    let all: Vec<&String> = refused.iter().map(|(_, l)| l).chain(&rest).collect();
    let _ = std::fs::remove_file(file);
    assert_eq!(status.code(), Some(0), "{all:#?}");
    for line in &all {
        assert!(!line.contains("panicked"), "no panic: {all:#?}");
        assert!(
            !line.contains('\u{1b}'),
            "no colour codes in a pipe: {line:?}"
        );
        assert!(
            line.matches("refused").count() <= 1,
            "cause said once: {line}"
        );
    }
}

#[test]
fn a_refused_login_is_named_once_and_the_password_never() {
    let url =
        herald_tests::broker::amqp_url().replacen("guest:guest@", "guest:not-the-password@", 1);
    assert!(
        url.contains("not-the-password"),
        "AMQP_URL has guest:guest: {url}"
    );
    let file = std::env::temp_dir().join(format!("{}.toml", unique("bad-login")));
    std::fs::write(&file, format!("[amqp]\nurl = \"{url}\"\n")).unwrap();
    let out = Command::new(herald_bin())
        .args(["topology", "declare", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("authentication refused"), "{stderr}");
    assert_eq!(stderr.matches("ACCESS_REFUSED").count(), 1, "{stderr}");
    assert!(!stderr.contains("not-the-password"), "{stderr}");
}
