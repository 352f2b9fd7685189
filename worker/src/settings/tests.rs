use super::*;

const SAMPLE: &str = r#"
[amqp]
url = "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
prefetch = 32

[retry]
tiers = ["1s", "2m"]

[channels.ses.environments.development]
sandbox = true
from_address = "dev@example.com"

[channels.ses.environments.production]
region = "eu-west-1"
auth = { scheme = "access_key", access_key_id = "${KEY_ID}", secret_access_key = "${SECRET}" }
from_address = "notify@{{ vars.domain }}"
max_send_rate = "auto"
vars = { domain = "example.com", AppName = "Example" }
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "KEY_ID" => Some("AKIDEXAMPLE".into()),
        "SECRET" => Some("wJalrXUtnFEMI".into()),
        _ => None,
    }
}

#[test]
fn a_full_file_loads_with_interpolated_secrets_and_kept_key_case() {
    let settings = Settings::from_toml("sample", SAMPLE, &env).unwrap();
    assert_eq!(settings.amqp.prefetch, 32);
    assert_eq!(
        settings.retry.tiers,
        vec![Duration::from_secs(1), Duration::from_secs(120)]
    );
    let prod = &settings.channels["ses"].environments["production"];
    assert_eq!(prod.vars["AppName"], "Example");
    assert_eq!(prod.max_send_rate, Some(SendRate::Auto));
    let Some(Auth::AccessKey {
        secret_access_key, ..
    }) = &prod.auth
    else {
        panic!("auth scheme not parsed: {:?}", prod.auth)
    };
    assert_eq!(secret_access_key.expose(), "wJalrXUtnFEMI");
    assert!(!format!("{settings:?}").contains("wJalrXUtnFEMI"));
}

#[test]
fn every_missing_variable_is_reported_with_its_location() {
    let err = Settings::from_toml("sample", SAMPLE, &|_| None).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert!(err
        .to_string()
        .contains("channels.ses.environments.production.auth.access_key_id"));
    assert!(err.to_string().contains("SECRET"));
}

#[test]
fn unknown_fields_and_semantic_problems_are_errors() {
    let typo = "[channels.ses.environments.dev]\nsandbox = true\nfrom_adress = \"a@b.c\"\n";
    let err = Settings::from_toml("typo", typo, &env).unwrap_err();
    assert!(err.to_string().contains("from_adress"), "{err}");
    let no_region = "[channels.ses.environments.prod]\nfrom_address = \"a@b.c\"\n";
    let err = Settings::from_toml("x", no_region, &env).unwrap_err();
    assert!(
        err.to_string()
            .contains("channels.ses.environments.prod.region"),
        "{err}"
    );
}

#[test]
fn the_embedded_configuration_is_valid() {
    Settings::from_toml("embedded", EMBEDDED_CONFIG, &|_| None).unwrap();
}

#[test]
fn namespacing_prefixes_every_name_but_the_routing_key() {
    let amqp = AmqpSettings::default().namespaced("t1.");
    assert_eq!(amqp.jobs_queue, "t1.herald.jobs");
    assert_eq!(amqp.events_exchange, "t1.herald.events");
    assert_eq!(amqp.routing_key, "send");
}

#[test]
fn every_unknown_key_and_type_error_is_reported_in_one_run_with_its_location() {
    let broken = r#"
[amqp]
prefech = 64
prefetch = "many"

[retry]
max_attemps = 3
tiers = ["10s", "soon"]

[channels.ses.environments.dev]
sandbox = true
max_send_rate_fallback = "fast"
from_adress = "a@b.c"
from_address = "a@b.c"

[channels.ses.environments.prod]
region = "eu-west-1"
"#;
    let err = Settings::from_toml("broken", broken, &env).unwrap_err();
    let text = err.to_string();
    for expected in [
        "amqp.prefech: unknown field `prefech`",
        "amqp.prefetch: invalid type: string \"many\"",
        "retry.max_attemps: unknown field `max_attemps`",
        "retry.tiers: \"soon\" is not a duration",
        "channels.ses.environments.dev.max_send_rate_fallback: invalid type",
        "channels.ses.environments.dev.from_adress: unknown field `from_adress`",
        "channels.ses.environments.prod: missing field `from_address`",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert_eq!(err.problems.len(), 7, "{text}");
}

#[test]
fn a_missing_variable_and_a_typo_are_reported_together() {
    let broken = "[amqp]\nurl = \"${NOT_SET_ANYWHERE}\"\nprefech = 1\n";
    let err = Settings::from_toml("broken", broken, &|_| None).unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
    assert!(err.to_string().contains("NOT_SET_ANYWHERE"), "{err}");
    assert!(err.to_string().contains("amqp.prefech"), "{err}");
}
