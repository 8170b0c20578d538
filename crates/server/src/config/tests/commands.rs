//! CONFIG GET and CONFIG SET. Replies were recorded from redis-server 7.0.15.

use super::super::{Config, ConfigSetError};
use super::{get, load};

fn config_get(config: &Config, patterns: &[&str]) -> Vec<(String, String)> {
    let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
    config.get(&patterns)
}

fn names(reply: &[(String, String)]) -> Vec<&str> {
    let mut names: Vec<&str> = reply.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names
}

fn config_set(config: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    config.set(&pairs).map_err(|e| e.to_string())
}

#[test]
fn get_exact_names_keep_the_spelling_sent() {
    let config = Config::default();
    assert_eq!(
        config_get(&config, &["port"]),
        [("port".to_owned(), "6379".to_owned())]
    );
    assert_eq!(
        config_get(&config, &["PORT"]),
        [("PORT".to_owned(), "6379".to_owned())]
    );
    assert_eq!(names(&config_get(&config, &["PORT", "port"])), ["PORT"]);
    assert_eq!(names(&config_get(&config, &["port", "PORT"])), ["port"]);
    assert_eq!(names(&config_get(&config, &["p*rt", "PORT"])), ["port"]);
    assert_eq!(names(&config_get(&config, &["port", "p*rt"])), ["port"]);
    assert!(config_get(&config, &["nonexist"]).is_empty());
    assert!(config_get(&config, &["port\\"]).is_empty());
    assert!(
        config_get(&config, &["po\\rt"]).is_empty(),
        "no glob character: an exact name"
    );
}

#[test]
fn get_patterns() {
    let config = Config::default();
    assert_eq!(
        config_get(&config, &["*"]).len(),
        192,
        "Redis 7.0.15 lists 192 names"
    );
    assert_eq!(
        names(&config_get(&config, &["tcp-k*", "TCP-K*", "port"])),
        ["port", "tcp-keepalive"]
    );
    assert_eq!(
        names(&config_get(&config, &["slave*"])),
        [
            "slave-announce-ip",
            "slave-announce-port",
            "slave-ignore-maxmemory",
            "slave-lazy-flush",
            "slave-priority",
            "slave-read-only",
            "slave-serve-stale-data",
            "slaveof"
        ]
    );
    assert_eq!(
        names(&config_get(&config, &["hash-max-*"])),
        [
            "hash-max-listpack-entries",
            "hash-max-listpack-value",
            "hash-max-ziplist-entries",
            "hash-max-ziplist-value"
        ]
    );
}

#[test]
fn hidden_directives_need_their_exact_name() {
    let config = Config::default();
    assert_eq!(
        names(&config_get(
            &config,
            &["key-load-delay", "key-*", "KEY-LOAD-DELAY"]
        )),
        ["key-load-delay"]
    );
    assert!(config_get(&config, &["key-*"]).is_empty());
    for hidden in [
        "use-exit-on-panic",
        "rdb-key-save-delay",
        "watchdog-period",
        "loading-process-events-interval-bytes",
    ] {
        assert!(!config_get(&config, &["*"]).iter().any(|(n, _)| n == hidden));
        assert_eq!(config_get(&config, &[hidden]).len(), 1);
    }
}

#[test]
fn values_are_formatted_like_redis() {
    let config = load(
        "maxmemory 1GB\nmaxmemory-clients 10%\nhz 1000\nnotify-keyspace-events Ex\nappendfsync ALWAYS\n\
         protected-mode YES\nshutdown-on-sigterm \"force now nosave\"\nlatency-tracking-info-percentiles 0.0000001 99.90\n",
    );
    assert_eq!(get(&config, "maxmemory"), "1073741824");
    assert_eq!(get(&config, "maxmemory-clients"), "10%");
    assert_eq!(get(&config, "hz"), "500");
    assert_eq!(get(&config, "notify-keyspace-events"), "xE");
    assert_eq!(get(&config, "appendfsync"), "always");
    assert_eq!(get(&config, "protected-mode"), "yes");
    assert_eq!(get(&config, "shutdown-on-sigterm"), "nosave now force");
    assert_eq!(get(&config, "latency-tracking-info-percentiles"), "0 99.9");
    let defaults = Config::default();
    assert_eq!(get(&defaults, "save"), "3600 1 300 100 60 10000");
    assert_eq!(
        get(&defaults, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&defaults, "bind"), "* -::*");
    assert_eq!(get(&defaults, "oom-score-adj-values"), "0 200 800");
}

#[test]
fn notify_keyspace_events_are_printed_in_redis_order() {
    // Including Redis' habit of dropping `n` once `A` is printed.
    let cases = [
        ("KEA", "AKE"),
        ("nmdtexzhsl$gEK", "AKEm"),
        ("nmdtexzhsl$KE", "$lshzxetdnKEm"),
        ("ndtexzhslg", "glshzxetdn"),
        ("KEn", "nKE"),
        ("EmK", "KEm"),
        ("AAK", "AK"),
        ("", ""),
    ];
    let mut config = Config::default();
    for (set, shown) in cases {
        config_set(&mut config, &[("notify-keyspace-events", set)]).unwrap();
        assert_eq!(get(&config, "notify-keyspace-events"), shown, "{set}");
    }
}

#[test]
fn set_errors_have_redis_texts() {
    let mut config = Config::default();
    let cases: [(&[(&str, &str)], &str); 12] = [
        (&[("foo", "1")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("port", "0"), ("FOO", "1")], "ERR Unknown option or number of arguments for CONFIG SET - 'FOO'"),
        (&[("DATABASES", "1")], "ERR CONFIG SET failed (possibly related to argument 'DATABASES') - can't set immutable config"),
        (&[("timeout", "1"), ("databases", "2"), ("foo", "1")], "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
        (&[("timeout", "1"), ("foo", "1"), ("databases", "2")], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&[("timeout", "1"), ("TIMEOUT", "2")], "ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter"),
        (&[("SLAVE-PRIORITY", "abc")], "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
        (&[("Port", "abc")], "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"),
        (&[("Dir", "/tmp")], "ERR CONFIG SET failed (possibly related to argument 'Dir') - can't set protected config"),
        (&[("save", "900  1")], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&[("shutdown-on-sigterm", "now  force")], "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - argument(s) must be one of the following: default, save, nosave, now, force"),
        (&[("latency-tracking-info-percentiles", "1  2")], "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters"),
    ];
    for (pairs, expected) in cases {
        assert_eq!(
            config_set(&mut config, pairs).unwrap_err(),
            expected,
            "{pairs:?}"
        );
    }
    let immutable = ConfigSetError::Failed {
        name: "unixsocketperm".into(),
        reason: "can't set immutable config".into(),
    };
    assert_eq!(config.set(&[(b"unixsocketperm", b"700")]), Err(immutable));
}

#[test]
fn set_is_all_or_nothing() {
    let mut config = Config::default();
    let err = config_set(&mut config, &[("timeout", "7"), ("port", "abc")]).unwrap_err();
    assert!(err.contains("'port'"));
    assert_eq!(config.timeout_secs(), 0);
    let changed = config_set(
        &mut config,
        &[("timeout", "7"), ("port", "7000"), ("hz", "10")],
    )
    .unwrap();
    assert_eq!(changed, ["timeout", "port"], "hz did not change");
    assert_eq!((config.timeout_secs(), config.port()), (7, 7000));
}

#[test]
fn an_alias_and_its_directive_are_two_parameters() {
    let mut config = Config::default();
    let changed = config_set(
        &mut config,
        &[("slave-priority", "1"), ("replica-priority", "2")],
    )
    .unwrap();
    assert_eq!(changed, ["replica-priority"]);
    assert_eq!(get(&config, "replica-priority"), "2");
}

#[test]
fn set_values_like_redis() {
    let mut config = Config::default();
    let cases = [
        ("maxmemory", "1g", "1000000000"),
        ("maxmemory", "18446744073709551616", "18446744073709551615"),
        ("maxmemory", "", "0"),
        ("maxmemory-clients", "0%", "0"),
        ("maxmemory-clients", "1mb", "1048576"),
        ("maxmemory-clients", "18446744073709551615", "1%"),
        ("hz", "0", "1"),
        ("repl-backlog-size", "1kb", "16384"),
        ("repl-backlog-size", "1mb", "1048576"),
        // hz is 1 here: two ticks are 2000 ms.
        ("watchdog-period", "1", "2000"),
        ("watchdog-period", "0", "0"),
        ("save", "", ""),
        ("save", "1 0", "1 0"),
        ("bind", "", ""),
        ("bind", "127.0.0.1 -::1", "127.0.0.1 -::1"),
        (
            "client-output-buffer-limit",
            "replica 1mb 2MB 3",
            "normal 0 0 0 slave 1048576 2097152 3 pubsub 33554432 8388608 60",
        ),
        (
            "client-output-buffer-limit",
            "",
            "normal 0 0 0 slave 1048576 2097152 3 pubsub 33554432 8388608 60",
        ),
        ("oom-score-adj-values", "0 200 +8", "0 200 8"),
        ("shutdown-on-sigint", "default save", "save"),
        ("replica-announce-ip", "x y", "x y"),
        ("loglevel", "DEBUG", "debug"),
        ("latency-tracking-info-percentiles", "", ""),
        ("cluster-announce-hostname", "ok-host.x", "ok-host.x"),
        ("proc-title-template", "x{{y}}", "x{{y}}"),
        ("proc-title-template", "{port}", "{port}"),
    ];
    for (name, value, shown) in cases {
        config_set(&mut config, &[(name, value)])
            .unwrap_or_else(|e| panic!("{name} {value:?}: {e}"));
        assert_eq!(get(&config, name), shown, "{name} {value:?}");
    }
    assert_eq!(config.loglevel(), super::super::LogLevel::Debug);
    for (name, value) in [
        ("timeout", "01"),
        ("timeout", "+1"),
        ("timeout", " 1"),
        ("maxmemory", "-1"),
        ("maxmemory", " 1"),
    ] {
        assert!(
            config_set(&mut config, &[(name, value)]).is_err(),
            "{name} {value:?}"
        );
    }
    let err = config_set(&mut config, &[("proc-title-template", "{server-mode}")]).unwrap_err();
    assert!(err.ends_with("template format is invalid or contains unknown variables"));
}

#[test]
fn protected_directives_follow_enable_protected_configs() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().canonicalize().unwrap().display().to_string();
    let mut config = load("enable-protected-configs local\n");
    assert!(config.set(&[(b"dir", target.as_bytes())]).is_err());
    let changed = config
        .set_for_client(&[(b"dir", target.as_bytes())], true)
        .unwrap();
    assert_eq!((changed, config.dir()), (vec!["dir"], target.clone()));
    let mut config = load("enable-protected-configs yes\n");
    config.set(&[(b"dbfilename", b"x.rdb")]).unwrap();
    let err = config
        .set(&[(b"dir", b"/nonexistent-ferrodis-dir")])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    );
    let err = config.set(&[(b"dbfilename", b"a/b")]).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("- dbfilename can't be a path, just a filename"));
}

#[test]
fn immutable_directives() {
    // Every one of these was refused by CONFIG SET on redis-server 7.0.15 (with its value).
    let expected = [
        "unixsocket",
        "unixsocketperm",
        "tcp-backlog",
        "socket-mark-id",
        "daemonize",
        "supervised",
        "pidfile",
        "logfile",
        "syslog-enabled",
        "syslog-ident",
        "syslog-facility",
        "databases",
        "always-show-logo",
        "set-proc-title",
        "enable-protected-configs",
        "enable-debug-command",
        "enable-module-command",
        "rdbchecksum",
        "replicaof",
        "aclfile",
        "io-threads",
        "io-threads-do-reads",
        "disable-thp",
        "server_cpulist",
        "bio_cpulist",
        "aof_rewrite_cpulist",
        "bgsave_cpulist",
        "appendfilename",
        "appenddirname",
        "cluster-enabled",
        "cluster-config-file",
        "cluster-port",
    ];
    let mut config = Config::default();
    let mut immutable = Vec::new();
    for (name, value) in config_get(&Config::default(), &["*"]) {
        let err = config_set(&mut config, &[(&name, &value)]);
        if err
            .as_ref()
            .is_err_and(|e| e.ends_with("can't set immutable config"))
        {
            immutable.push(name);
        }
    }
    let mut expected: Vec<String> = expected
        .iter()
        .map(|n| (*n).to_owned())
        .chain(["slaveof".to_owned()])
        .collect();
    expected.sort();
    immutable.sort();
    assert_eq!(immutable, expected);
}
