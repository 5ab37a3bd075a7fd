//! Config: every error class names file, line and key; layering; interpolation; the example loads.

use opsboard::config::{self, ConfigError, Sources};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn no_env(_: &str) -> Option<String> {
    None
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Loads `text` as the user's file and returns the error it must produce.
fn error_of(text: &str) -> (PathBuf, ConfigError) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "board.toml", text);
    let sources = Sources { user: Some(path.clone()), explicit: true, override_file: None };
    let err = config::load(&sources, &no_env).expect_err("config should be rejected");
    (path, err)
}

fn assert_located(text: &str, line: usize, key: &str) -> ConfigError {
    let (path, err) = error_of(text);
    assert_eq!(err.file, path, "{err}");
    assert_eq!(err.line, Some(line), "{err}");
    assert_eq!(err.key.as_deref(), Some(key), "{err}");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("{}:{line}", path.display())), "{shown}");
    assert!(shown.contains(key), "{shown}");
    err
}

const GOOD_SERVICE: &str = "[services.api]\nscrape = true\ninstances = [\"http://127.0.0.1:8080\"]\n";

#[test]
fn unknown_key_names_line_and_suggests_the_near_miss() {
    let err = assert_located(&format!("{GOOD_SERVICE}intervl = \"5s\"\n"), 4, "services.api.intervl");
    assert_eq!(err.hint.as_deref(), Some("did you mean `interval`?"));
}

#[test]
fn an_env_that_names_no_environment_is_an_error_not_a_dropped_guard() {
    let text = "[environments.prod]\nread_only = true\n[services.api]\nenv = \"prd\"\ninstances = [\"http://127.0.0.1:8080\"]\n";
    let err = assert_located(text, 4, "services.api.env");
    assert!(err.message.contains("`prd` is not a table in [environments]"), "{err}");
    assert_eq!(err.hint.as_deref(), Some("did you mean `prod`?"));
}

#[test]
fn an_unknown_action_placeholder_is_named() {
    let text = format!(
        "{GOOD_SERVICE}[actions.rollback]\nkey = \"R\"\ncommand = \"deploy {{servce}} && awk '{{print $1}}'\"\n"
    );
    let err = assert_located(&text, 6, "actions.rollback.command");
    assert!(err.message.contains("unknown placeholder `{servce}`"), "{err}");
    assert_eq!(err.hint.as_deref(), Some("did you mean `service`?"));
}

#[test]
fn a_timeout_longer_than_the_interval_is_refused() {
    let text = format!("{GOOD_SERVICE}interval = \"5s\"\ntimeout = \"30s\"\n");
    let err = assert_located(&text, 5, "services.api.timeout");
    assert!(err.message.contains("timeout 30s is longer than the interval 5s"), "{err}");
    let err = assert_located(
        "[defaults]\ntimeout = \"30s\"\n[services.api]\ninstances = [\"http://127.0.0.1:1\"]\n",
        2,
        "defaults.timeout",
    );
    assert!(err.message.contains("longer than the interval 10s"), "{err}");
}

#[test]
fn a_window_shorter_than_the_interval_is_refused() {
    let text = format!("{GOOD_SERVICE}interval = \"30s\"\nwindow = \"10s\"\n");
    let err = assert_located(&text, 5, "services.api.window");
    assert!(err.message.contains("it would never hold a scrape"), "{err}");
}

#[test]
fn a_serve_address_that_is_not_host_port_is_named() {
    let text = format!("{GOOD_SERVICE}[serve]\nfont_size = 20\nlisten = \"0.0.0.0\"\n");
    let err = assert_located(&text, 6, "serve.listen");
    assert!(err.message.contains("`0.0.0.0` is not host:port"), "{err}");
}

#[test]
fn a_status_page_naming_an_unknown_service_or_with_nothing_to_show_is_named() {
    let text = format!("{GOOD_SERVICE}[[status.components]]\nname = \"Website\"\nservices = [\"apii\"]\n");
    let err = assert_located(&text, 6, "status.components.services");
    assert!(err.message.contains("names service `apii`, which is not in [services]"), "{err}");
    let text = format!("{GOOD_SERVICE}[serve]\nstatus_listen = \"0.0.0.0:8080\"\n");
    let err = assert_located(&text, 5, "serve.status_listen");
    assert!(err.message.contains("the status page has nothing to show"), "{err}");
    let text = format!("{GOOD_SERVICE}[status]\ndays = 400\n");
    let err = assert_located(&text, 5, "status.days");
    assert!(err.message.contains("outside 1..=90"), "{err}");
}

#[test]
fn an_action_on_a_board_key_and_a_webhook_that_is_not_a_url_are_named() {
    let text = format!("{GOOD_SERVICE}[actions.mute]\nkey = \"m\"\ncommand = \"true\"\n");
    let err = assert_located(&text, 5, "actions.mute.key");
    assert!(err.message.contains("`m` is one of the board's own keys"), "{err}");
    // A key the board took later: the error says what it means now.
    let text = format!("{GOOD_SERVICE}[actions.ack]\nkey = \"a\"\ncommand = \"true\"\n");
    let err = assert_located(&text, 5, "actions.ack.key");
    assert!(err.message.contains("`a` is one of the board's own keys: take an incident"), "{err}");
    let text = format!("{GOOD_SERVICE}[[notify]]\nurl = \"http://127.0.0.1:9/\"\nrepeat = \"0s\"\n");
    let err = assert_located(&text, 6, "notify.repeat");
    assert!(err.message.contains("0s would remind on every tick"), "{err}");
    let text = format!("{GOOD_SERVICE}[[notify]]\nformat = \"slack\"\nurl = \"hooks.example/T0/s3cret\"\n");
    let err = assert_located(&text, 6, "notify.url");
    assert!(err.message.contains("is not an http(s) URL"), "{err}");
    let text = format!("{GOOD_SERVICE}[[notify]]\nurl = \"http://127.0.0.1:9/\"\nmin_state = \"ok\"\n");
    let err = opsboard::config::load_str("x.toml", &text).unwrap_err();
    assert!(err.to_string().contains("min_state"), "{err}");
}

#[test]
fn an_attach_url_that_is_not_http_is_named() {
    let text = format!("{GOOD_SERVICE}[attach]\nnotify = true\nurl = \"ftp://board:7878\"\n");
    let err = assert_located(&text, 6, "attach.url");
    assert!(err.message.contains("`ftp://board:7878` is not an http:// or https:// URL"), "{err}");
    let text = format!("{GOOD_SERVICE}[serve]\ntls_cert = \"/etc/opsboard/cert.pem\"\n");
    let err = assert_located(&text, 5, "serve.tls_cert");
    assert!(err.message.contains("needs tls_key too"), "{err}");
}

#[test]
fn an_operator_without_a_token_or_with_a_short_one_is_named() {
    let text = format!("{GOOD_SERVICE}[[serve.operators]]\nname = \"alice\"\n");
    let err = opsboard::config::load_str("x.toml", &text).unwrap_err();
    assert!(err.to_string().contains("operator `alice` needs one of token or token_file"), "{err}");
    let text = format!("{GOOD_SERVICE}[[serve.operators]]\nname = \"bob\"\ntoken = \"short\"\n");
    let err = opsboard::config::load_str("x.toml", &text).unwrap_err();
    assert!(err.to_string().contains("operator `bob`'s token is shorter than 16 characters"), "{err}");
    assert!(err.to_string().contains("serve.operators"), "{err}");
}

#[test]
fn unknown_top_level_table_is_named() {
    let err = assert_located("[servics.api]\ninstances = []\n", 1, "servics.api");
    assert_eq!(err.hint.as_deref(), Some("did you mean `services`?"));
}

#[test]
fn wrong_type_names_the_key() {
    let err = assert_located("[polling]\nmax_in_flight = \"lots\"\n", 2, "polling.max_in_flight");
    assert!(err.message.contains("integer") || err.message.contains("invalid type"), "{err}");
}

#[test]
fn bad_duration_explains_the_form() {
    let err = assert_located(&format!("{GOOD_SERVICE}timeout = \"2 parsecs\"\n"), 4, "services.api.timeout");
    assert!(err.message.contains("not a duration"), "{err}");
}

#[test]
fn unknown_mode_suggests_wall() {
    let err = assert_located("[board]\nmode = \"wal\"\n", 2, "board.mode");
    assert_eq!(err.hint.as_deref(), Some("did you mean `wall`?"));
}

#[test]
fn toml_syntax_error_is_located() {
    let (path, err) = error_of("[board]\ntitle = \"unterminated\n");
    assert_eq!(err.file, path);
    assert_eq!(err.line, Some(2), "{err}");
}

#[test]
fn unknown_key_inside_an_instance_table() {
    assert_located(
        "[services.api]\ninstances = [{ url = \"http://127.0.0.1:1\", nmae = \"a\" }]\n",
        2,
        "services.api.instances",
    );
}

#[test]
fn service_without_instances_points_at_its_table() {
    let err = assert_located("[board]\ntitle = \"x\"\n\n[services.lonely]\nenv = \"prod\"\n", 4, "services.lonely");
    assert!(err.message.contains("no instances"), "{err}");
}

#[test]
fn instance_that_is_not_a_url() {
    let err = assert_located("[services.api]\ninstances = [\"10.0.0.1:8080\"]\n", 2, "services.api.instances");
    assert!(err.message.contains("10.0.0.1:8080"), "{err}");
}

#[test]
fn an_address_listed_twice_is_refused_it_names_the_instance() {
    let text = "[services.api]\ninstances = [\"http://10.0.0.1:8080\", \"http://10.0.0.1:8080/\"]\n";
    let err = assert_located(text, 2, "services.api.instances");
    assert!(err.message.contains("listed twice"), "{err}");
}

#[test]
fn out_of_range_value_is_located() {
    assert_located(&format!("[polling]\njitter = 0.9\n{GOOD_SERVICE}"), 2, "polling.jitter");
}

#[test]
fn unset_environment_variable_is_located() {
    let text = format!("{GOOD_SERVICE}[services.api.headers]\nAuthorization = \"Bearer ${{API_TOKEN}}\"\n");
    let err = assert_located(&text, 5, "services.api.headers.Authorization");
    assert!(err.message.contains("API_TOKEN"), "{err}");
}

#[test]
fn environment_variables_fill_header_values() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{GOOD_SERVICE}headers = {{ Authorization = \"Bearer ${{API_TOKEN}}\", X-Team = \"${{TEAM:-ops}}\" }}\n"
    );
    let path = write(dir.path(), "board.toml", &text);
    let env = |k: &str| (k == "API_TOKEN").then(|| "s3cret".to_string());
    let sources = Sources { user: Some(path), explicit: true, override_file: None };
    let loaded = config::load(&sources, &env).unwrap();
    let headers = &loaded.fleet.services[0].check.headers;
    assert!(headers.contains(&("Authorization".into(), "Bearer s3cret".into())), "{headers:?}");
    assert!(headers.contains(&("X-Team".into(), "ops".into())), "{headers:?}");
}

#[test]
fn layers_apply_defaults_then_file_then_override() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "board.toml",
        "[defaults]\ninterval = \"5s\"\ntimeout = \"3s\"\n[board]\ntitle = \"from file\"\n\n\
         [services.api]\nenv = \"staging\"\ninstances = [\"http://127.0.0.1:8080\"]\n",
    );
    let over = write(
        dir.path(),
        "prod.toml",
        "[defaults]\ntimeout = \"1s\"\n[services.api]\nenv = \"prod\"\n[environments.prod]\nread_only = true\n",
    );
    let env_vars = |k: &str| (k == config::OVERRIDE_ENV).then(|| over.display().to_string());
    let sources = Sources::discover(Some(user.clone()), &env_vars);
    assert_eq!(sources.override_file.as_deref(), Some(over.as_path()));
    let loaded = config::load(&sources, &env_vars).unwrap();
    let api = &loaded.fleet.services[0];
    assert_eq!(api.check.interval, Duration::from_secs(5), "file beats defaults");
    assert_eq!(api.check.timeout, Duration::from_secs(1), "override beats file");
    assert_eq!(api.check.slow_after, Duration::from_millis(750), "defaults fill the rest");
    assert_eq!(api.env.name, "prod");
    assert!(api.env.read_only);
    assert_eq!(api.instances.len(), 1, "override kept the file's instances");
    assert_eq!(loaded.config.board.title, "from file");
    assert_eq!(loaded.files, vec![user, over]);
}

#[test]
fn error_in_the_override_names_the_override_file() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(dir.path(), "board.toml", GOOD_SERVICE);
    let over = write(dir.path(), "over.toml", "[services.api]\ntimeout = \"0s\"\n");
    let sources = Sources { user: Some(user), explicit: true, override_file: Some(over.clone()) };
    let err = config::load(&sources, &no_env).unwrap_err();
    assert_eq!(
        (err.file.as_path(), err.line, err.key.as_deref()),
        (over.as_path(), Some(2), Some("services.api.timeout"))
    );
}

#[test]
fn missing_explicit_file_is_an_error() {
    let sources = Sources { user: Some("/nonexistent/opsboard.toml".into()), explicit: true, override_file: None };
    let err = config::load(&sources, &no_env).unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/opsboard.toml: cannot read"), "{err}");
}

#[test]
fn example_config_loads_and_documents_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let sources = Sources { user: Some(path.clone()), explicit: true, override_file: None };
    let loaded = config::load(&sources, &no_env).unwrap();
    assert_eq!(loaded.fleet.services.len(), 6);
    let prod = &loaded.fleet.aws[0];
    assert_eq!((prod.ecs[0].service.as_str(), prod.ecs[0].cluster.as_str()), ("web", "prod"));
    assert_eq!((prod.codedeploy[0].application.as_str(), prod.codedeploy[0].group.as_str()), ("web", "prod"));
    let api = loaded.fleet.services.iter().find(|s| s.name == "api").unwrap();
    let kinds: Vec<String> = api.discovery.iter().map(|d| d.describe()).collect();
    assert_eq!(
        kinds,
        [
            "targets from Prometheus",
            "file_sd /etc/prometheus/targets/api-*.json",
            "DNS api.internal",
            "DNS SRV _http._tcp.api.internal",
            "target group api-prod",
            "ASG api-prod-asg"
        ]
    );
    assert_eq!(api.max_instances, 10_000);
    assert_eq!(loaded.fleet.aws[0].queries.len(), 7, "alb (3) + rds (3) + one custom");
    let alarms = loaded.fleet.aws[0].alarms.as_ref().unwrap();
    assert_eq!(alarms.service_of("orders-db-storage-low"), Some("checkout-api"), "as mapped");
    assert_eq!(alarms.service_of("prod-checkout-api-latency"), Some("checkout-api"), "by the name in it");
    assert!(alarms.warns("prod-checkout-api-latency"));
    let emails = &loaded.fleet.aws[0].queues[0];
    assert_eq!((emails.max_depth, emails.dead_letter.as_deref()), (Some(1000), Some("emails-dlq")));
    let orders = &loaded.fleet.aws[0].databases[0];
    assert_eq!((orders.cluster, orders.dr.as_ref().map(|(r, _)| r.as_str())), (false, Some("eu-central-1")));
    let cache = loaded.fleet.services.iter().find(|s| s.name == "cache").unwrap();
    assert_eq!(cache.check.tcp_send.as_deref(), Some("PING\r\n"));
    assert!(!cache.check.scrape, "a TCP-only service is not scraped");
    let checkout = &loaded.fleet.services[0];
    assert_eq!(checkout.instances[1].label, "checkout-b");
    assert_eq!(checkout.instances[0].health_url, "http://10.0.3.7:8080/actuator/health");
    assert!(checkout.env.read_only);
    // Every key the schema knows appears in the example, commented or not.
    let text = std::fs::read_to_string(&path).unwrap();
    for key in [
        "bell",
        "notify",
        "listen",
        "token",
        "font_size",
        "operator_token",
        "token_file",
        "url",
        "format",
        "min_state",
        "envs",
        "cooldown",
        "group_wait",
        "retries",
        "tls_expiry_warn",
        "tls_expiry_crit",
        "ca_file",
        "tls_verify",
        "send",
        "expect",
        "expect_status",
        "up",
        "instance_label",
        "body_contains",
        "body_regex",
        "conditions",
        "title",
        "mode",
        "theme",
        "read_only",
        "mouse",
        "max_fps",
        "log_file",
        "max_in_flight",
        "jitter",
        "backoff_max",
        "stale_after_intervals",
        "history",
        "interval",
        "timeout",
        "slow_after",
        "health_path",
        "metrics_path",
        "headers",
        "label",
        "color",
        "env",
        "instances",
        "url",
        "name",
        "instances_from",
        "max_instances",
        "file_sd",
        "dns_srv",
        "dns_server",
        "name_label",
        "grace",
        "scheme",
        "target_group",
        "asg",
        "aws",
        "address",
        "port",
        "prefix",
        "names",
        "services",
        "warn",
        "max_depth",
        "max_age",
        "dead_letter",
        "cluster",
        "dr_region",
        "dr_max_age",
        "min_free_storage",
        "depends_on",
        "budget_alerts",
        "dependency_wait",
        "slo",
        "weekly",
        "cron",
        "tz",
        "duration",
        "reason",
    ] {
        assert!(text.contains(&format!("{key} =")) || text.contains(&format!("{key} ")), "example lacks `{key}`");
    }
    assert!(text.contains("# [attach]"), "example lacks [attach]");
    assert!(text.contains("# [[serve.operators]]"), "example lacks [[serve.operators]]");
}

#[test]
fn validate_command_exits_non_zero_and_points_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.toml", &format!("{GOOD_SERVICE}intervl = \"5s\"\n"));
    let out = Command::new(env!("CARGO_BIN_EXE_opsboard")).arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}:4", path.display())), "{stderr}");
    assert!(stderr.contains("did you mean `interval`?"), "{stderr}");

    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_opsboard")).arg("validate").arg(&example).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 6 services, 7 instances and 6 sources of instances"));
}

#[test]
fn a_source_of_instances_that_lacks_what_it_needs_names_its_line_and_key() {
    let text = "[services.api]\nhealth_path = \"/health\"\ninstances_from = [\n  { dns = \"api.internal\" },\n]\n";
    let err = config::load_str("fleet.toml", text).unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("services.api.instances_from")), "{err}");
    assert!(err.message.contains("entry 1: `dns` needs a `port`"), "{err}");
    let typo = "[services.api]\ninstances_from = [{ file_sd = \"/x/*.json\", gracee = \"1m\" }]\n";
    let err = config::load_str("fleet.toml", typo).unwrap_err();
    assert!(err.to_string().contains("gracee"), "{err}");
    let both = "[prometheus]\nurl = \"http://127.0.0.1:9090\"\n[services.api]\ninstances_from = [{ prometheus = 'job=\"api\"' }]\n\
                [services.api.promql]\nup = 'up{job=\"api\"}'\n";
    let err = config::load_str("fleet.toml", both).unwrap_err();
    assert!(err.message.contains("not both"), "{err}");
}

#[test]
fn a_database_needs_an_id_or_a_cluster_and_a_dr_age_its_region() {
    let account = "[aws.prod]\nregion = \"eu-west-1\"\n";
    let (_, err) = error_of(&format!("{GOOD_SERVICE}{account}[[aws.prod.databases]]\nservice = \"api\"\n"));
    assert!(err.message.contains("databases #1: needs one of `id`"), "{err}");
    let (_, err) =
        error_of(&format!("{GOOD_SERVICE}{account}[[aws.prod.databases]]\nid = \"db\"\ndr_max_age = \"1h\"\n"));
    assert!(err.message.contains("`dr_max_age` needs `dr_region`"), "{err}");
}

#[test]
fn alarms_without_a_prefix_or_names_or_of_no_service_are_named() {
    let account = "[aws.prod]\nregion = \"eu-west-1\"\n";
    let (_, err) = error_of(&format!("{GOOD_SERVICE}{account}[aws.prod.alarms]\nwarn = [\"x\"]\n"));
    assert_eq!(err.key.as_deref(), Some("aws.prod.alarms"), "{err}");
    assert!(err.message.contains("needs `prefix` or `names`"), "{err}");
    let text =
        format!("{GOOD_SERVICE}{account}[aws.prod.alarms]\nprefix = \"p-\"\nservices = {{ \"p-5xx\" = \"apii\" }}\n");
    let (_, err) = error_of(&text);
    assert!(err.message.contains("alarm `p-5xx` names no service `apii`"), "{err}");
    assert_located(&format!("{GOOD_SERVICE}{account}[aws.prod.alarms]\nprefx = \"p-\"\n"), 7, "aws.prod.alarms.prefx");
}

#[test]
fn periods_to_alarm_are_checked_against_the_periods_judged() {
    let text = format!("{GOOD_SERVICE}[services.api.thresholds]\ndatapoints_to_alarm = 4\nevaluation_periods = 3\n");
    let err = assert_located(&text, 5, "services.api.thresholds.datapoints_to_alarm");
    assert!(err.message.contains("4 is outside 1..=3 (evaluation_periods)"), "{err}");
    let text = format!("{GOOD_SERVICE}[services.api.thresholds]\nevaluation_periods = 20\n");
    let err = assert_located(&text, 5, "services.api.thresholds.evaluation_periods");
    assert!(err.message.contains("outside 1..=8"), "{err}");
    let text = format!("[defaults.thresholds]\ntreat_missing_data = \"ignore\"\n{GOOD_SERVICE}");
    let (_, err) = error_of(&text);
    assert_eq!(err.line, Some(2), "{err}");
    assert!(err.to_string().contains("missing") && err.to_string().contains("notBreaching"), "{err}");
}

#[test]
fn deploy_sources_and_native_rollbacks_are_checked_where_they_are_written() {
    let aws = "[aws.prod]\nregion = \"eu-west-1\"\n";
    let text = format!("{GOOD_SERVICE}[services.api.ecs]\naws = \"prd\"\ncluster = \"prod\"\nservice = \"api\"\n{aws}");
    let err = assert_located(&text, 5, "services.api.ecs.aws");
    assert!(err.message.contains("AWS account `prd` is not in [aws]"), "{err}");
    assert_eq!(err.hint.as_deref(), Some("accounts: prod"));
    let text = format!("{GOOD_SERVICE}{aws}[actions.rollback]\nkind = \"ecs_rollback\"\nkey = \"R\"\n");
    let err = assert_located(&text, 7, "actions.rollback.kind");
    assert!(err.message.contains("no service has a [services.NAME.ecs] to roll back"), "{err}");
    let text = format!(
        "{GOOD_SERVICE}[services.api.codedeploy]\naws = \"prod\"\napplication = \"api\"\ngroup = \"prod\"\n{aws}\
         [actions.rollback]\nkind = \"codedeploy_rollback\"\nkey = \"R\"\ncommand = \"deploy.sh\"\n"
    );
    let err = assert_located(&text, 13, "actions.rollback.command");
    assert!(err.message.contains("runs no command"), "{err}");
    let text = format!("{GOOD_SERVICE}[actions.rollback]\nkind = \"ecs_rolback\"\nkey = \"R\"\n");
    let err = opsboard::config::load_str("x.toml", &text).unwrap_err();
    assert!(err.to_string().contains("ecs_rollback"), "the kinds are listed: {err}");
    let text = format!("{GOOD_SERVICE}[actions.restart]\nkey = \"X\"\n");
    let err = assert_located(&text, 4, "actions.restart.command");
    assert!(err.message.contains("needs a command"), "{err}");
}

#[test]
fn hosts_from_cloudwatch_need_one_account_and_no_node_exporter() {
    let hosts = "[services.api.hosts]\ncloudwatch = true\n";
    let err = assert_located(&format!("{GOOD_SERVICE}{hosts}"), 5, "services.api.hosts.cloudwatch");
    assert!(err.message.contains("needs an [aws.NAME] account"), "{err}");
    let two = "[aws.prod]\nregion = \"eu-west-1\"\n[aws.stage]\nregion = \"eu-west-1\"\n";
    let err = assert_located(&format!("{GOOD_SERVICE}{hosts}{two}"), 5, "services.api.hosts.cloudwatch");
    assert_eq!(err.hint.as_deref(), Some("accounts: prod, stage"));
    let both = format!("{GOOD_SERVICE}{hosts}node_exporter_port = 9100\n{two}");
    let err = assert_located(&both, 5, "services.api.hosts.cloudwatch");
    assert!(err.message.contains("not both"), "{err}");
    let named = format!("{GOOD_SERVICE}{hosts}aws = \"stage\"\n{two}");
    let loaded = opsboard::config::load_str("x.toml", &named).unwrap();
    assert_eq!(loaded.fleet.services[0].check.hosts.aws.as_deref(), Some("stage"));
    let only = format!("{GOOD_SERVICE}{hosts}[aws.prod]\nregion = \"eu-west-1\"\n");
    let loaded = opsboard::config::load_str("x.toml", &only).unwrap();
    assert_eq!(loaded.fleet.services[0].check.hosts.aws.as_deref(), Some("prod"), "the only account");
}
