//! `herald preview` in a real browser: headless Chromium loads the pages of
//! a preview started on a free port, the test reads the DOM after scripts ran
//! and keeps screenshots of the welcome email and of a broken template.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_tests::{free_port, herald_bin, unique};

/// The `herald preview` this test started; killed (only it) when dropped.
struct PreviewProcess {
    child: Child,
    base: String,
}

impl Drop for PreviewProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A project folder: the example templates, a broken workflow and a
/// configuration with one sandbox environment.
fn project(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(label));
    let templates = dir.join("templates");
    for workflow in ["welcome", "password-reset", "broken"] {
        std::fs::create_dir_all(templates.join(workflow)).unwrap();
    }
    let examples = repo().join("examples/templates");
    for file in [
        "layout.html.liquid",
        "welcome/subject.liquid",
        "welcome/html.liquid",
        "welcome/text.liquid",
        "welcome/sample.json",
        "password-reset/subject.liquid",
        "password-reset/text.liquid",
        "password-reset/sample.json",
    ] {
        std::fs::copy(examples.join(file), templates.join(file)).unwrap();
    }
    std::fs::write(
        templates.join("broken/subject.liquid"),
        "Broken {{ recipient.name }}",
    )
    .unwrap();
    std::fs::write(
        templates.join("broken/html.liquid"),
        "<p>Fine so far.</p>\n<p>Then {% if %} breaks.</p>\n",
    )
    .unwrap();
    let config = r#"
[templates]
dir = "templates"
[channels.ses.environments.development]
sandbox = true
from_address = "dev@{{ vars.domain }}"
from_name = "{{ vars.app_name }} (dev)"
reply_to = "support@{{ vars.domain }}"
vars = { domain = "example.com", app_name = "Example" }
"#;
    std::fs::write(dir.join("herald.toml"), config).unwrap();
    dir
}

fn start_preview(dir: &Path) -> PreviewProcess {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(herald_bin())
        .args(["preview", "--config", "herald.toml", "--listen", &listen])
        .current_dir(dir)
        .env_remove("HERALD_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("herald preview starts");
    let preview = PreviewProcess {
        child,
        base: format!("http://{listen}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            Instant::now() < deadline,
            "herald preview did not listen on {listen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    preview
}

/// Runs headless Chromium with `args` and a fresh profile; its stdout.
fn chromium(profile: &Path, args: &[&str]) -> String {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium runs (scripts/test installs the Debian package)");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).map(|_| out)
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("chromium status").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader
        .join()
        .expect("reader thread")
        .expect("chromium's output")
}

fn dump_dom(profile: &Path, url: &str) -> String {
    chromium(profile, &["--dump-dom", url])
}

fn screenshot(profile: &Path, url: &str, file: &Path) -> Vec<u8> {
    let target = format!("--screenshot={}", file.display());
    chromium(profile, &[&target, "--window-size=1100,1000", url]);
    std::fs::read(file).unwrap_or_default()
}

fn assert_png(bytes: &[u8], what: &str) {
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{what} is not a PNG"
    );
    assert!(
        bytes.len() > 10_000,
        "{what} is nearly empty ({} bytes)",
        bytes.len()
    );
}

#[test]
fn the_welcome_email_and_a_broken_template_show_in_a_browser() {
    let dir = project("preview-browser");
    let preview = start_preview(&dir);
    let profile = dir.join("chromium-profile");

    let index = dump_dom(&profile, &format!("{}/", preview.base));
    assert!(
        index.contains("Welcome to Example, Ada Lovelace!"),
        "{index}"
    );
    assert!(index.contains("Reset your Example password"), "{index}");
    assert!(
        index.contains("render error"),
        "the broken workflow is not marked: {index}"
    );

    let welcome_url = format!("{}/email/welcome/ses/development", preview.base);
    let welcome = dump_dom(&profile, &welcome_url);
    for shown in [
        "Welcome to Example, Ada Lovelace!",
        "Example (dev) &lt;dev@example.com&gt;",
        "Ada Lovelace &lt;ada@example.com&gt;",
        "support@example.com",
        "Grace invited you to acme on the pro plan.",
        "welcome/sample.json",
    ] {
        assert!(
            welcome.contains(shown),
            "{shown:?} missing from:\n{welcome}"
        );
    }
    assert!(
        welcome.contains(r#"sandbox="""#)
            && welcome.contains("/email/welcome/ses/development/html"),
        "the HTML part is not in a sandboxed frame:\n{welcome}"
    );
    let html_part = dump_dom(&profile, &format!("{welcome_url}/html"));
    assert!(
        html_part.contains("<h1>Hi Ada Lovelace,</h1>"),
        "{html_part}"
    );

    let broken_url = format!("{}/email/broken/ses/development", preview.base);
    let broken = dump_dom(&profile, &broken_url);
    assert!(broken.contains("Render error at"), "{broken}");
    assert!(
        broken.contains("templates/broken/html.liquid:2:"),
        "the error has no file:line:column:\n{broken}"
    );
    assert!(!broken.contains(r#"id="subject""#), "{broken}");

    let shots = dir.join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let welcome_png = screenshot(&profile, &welcome_url, &shots.join("welcome.png"));
    assert_png(&welcome_png, "the welcome screenshot");
    let broken_png = screenshot(&profile, &broken_url, &shots.join("broken.png"));
    assert_png(&broken_png, "the broken-template screenshot");
    assert_ne!(welcome_png, broken_png);
    eprintln!("screenshots in {}", shots.display());
}

#[test]
fn a_template_change_wakes_the_page_and_shows_the_new_text() {
    let dir = project("preview-reload");
    let preview = start_preview(&dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let version = |body: serde_json::Value| body["version"].as_u64().expect("a version");
        let now = version(
            client
                .get(format!("{}/changes", preview.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
        );
        let waiting = client
            .get(format!("{}/changes?since={now}", preview.base))
            .send();
        let edit = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let subject = dir.join("templates/welcome/subject.liquid");
            std::fs::write(subject, "Hello again, {{ recipient.name }}").unwrap();
        };
        let (answer, ()) = tokio::join!(waiting, edit);
        let next = version(answer.unwrap().json().await.unwrap());
        assert!(next > now, "the version did not move: {now} -> {next}");
        let page = client
            .get(format!("{}/email/welcome/ses/development", preview.base))
            .send()
            .await
            .unwrap();
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let page = page.text().await.unwrap();
        assert!(page.contains("Hello again, Ada Lovelace"), "{page}");
        assert!(page.contains(&format!("data-version=\"{next}\"")), "{page}");
    });
}
