//! Reading config files and the command line. Behaviours and texts were observed on
//! redis-server 7.0.15 with the same input.

use std::io::Write;

use super::super::load::CommandLine;
use super::super::{Config, ConfigError, LogLevel};
use super::{get, load, load_err, reason, words};

#[test]
fn comments_blanks_case_and_crlf() {
    let config =
        load("# a comment\n\n   # indented comment\n\t\n  PORT 7001  \r\nProtected-Mode NO\r\n");
    assert_eq!(config.port(), 7001);
    assert!(!config.protected_mode());
}

#[test]
fn a_hash_after_a_value_is_not_a_comment() {
    assert_eq!(reason("port 6379 # comment"), "wrong number of arguments");
}

#[test]
fn the_last_line_wins() {
    let config =
        load("maxmemory 1mb\nmaxmemory 2MB\nMaxMemory \"3kB\"\nloglevel debug\nloglevel WARNING\n");
    assert_eq!(get(&config, "maxmemory"), "3072");
    assert_eq!(config.loglevel(), LogLevel::Warning);
    assert_eq!(get(&config, "loglevel"), "warning");
}

#[test]
fn aliases_set_their_directive() {
    let config = load("slave-priority 5\nslaveof 10.0.0.1 6380\nhash-max-ziplist-entries 7\n");
    assert_eq!(get(&config, "replica-priority"), "5");
    assert_eq!(get(&config, "replicaof"), "10.0.0.1 6380");
    assert_eq!(get(&config, "slaveof"), "10.0.0.1 6380");
    assert_eq!(get(&config, "hash-max-listpack-entries"), "7");
}

#[test]
fn save_lines_add_up_and_empty_save_clears() {
    let cases = [
        ("", "3600 1 300 100 60 10000"),
        ("save 900 1\nsave 300 10\n", "900 1 300 10"),
        ("save 900 1\nsave \"\"\n", ""),
        ("save \"\"\nsave 900 1\n", "900 1"),
        ("save 900 1\nsave \"\"\nsave 300 10\n", "300 10"),
        ("save 900 1 300 10\n", "900 1 300 10"),
        ("save \"900 1\"\n", "900 1"),
        ("save\n", ""),
        ("save 900 1\nsave\n", "900 1"),
        // An unbalanced quote inside the one argument reads as no argument at all.
        ("save \"\\\"900 1\"\n", ""),
        ("save 1 0\n", "1 0"),
        ("save \" +5\" 1\n", "5 1"),
    ];
    for (text, expected) in cases {
        assert_eq!(get(&load(text), "save"), expected, "{text:?}");
    }
    for bad in [
        "save 0 1",
        "save 1",
        "save 1 -1",
        "save a b",
        "save 1 1 \"\"",
        "save \"\" 1 1",
        "save \"1 1\" \"2 2\"",
    ] {
        assert_eq!(reason(bad), "Invalid save parameters", "{bad}");
    }
    assert_eq!(
        load("save 900 1\nsave 60 5").save_params(),
        [(900, 1), (60, 5)]
    );
}

#[test]
fn a_save_line_after_an_include_starts_over() {
    // Redis forgets it is reading a file once an include returns; kept for compatibility.
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("s.conf");
    std::fs::write(&inc, "save 5 5\n").unwrap();
    let inc = inc.display();
    assert_eq!(
        get(&load(&format!("save 900 1\ninclude {inc}\n")), "save"),
        "900 1 5 5"
    );
    assert_eq!(
        get(&load(&format!("include {inc}\nsave 1 1\n")), "save"),
        "1 1"
    );
}

#[test]
fn output_buffer_limits_update_per_class() {
    let config = load(
        "client-output-buffer-limit \"pubsub 1 2 3\"\nclient-output-buffer-limit replica 4 5 6\n",
    );
    assert_eq!(
        get(&config, "client-output-buffer-limit"),
        "normal 0 0 0 slave 4 5 6 pubsub 1 2 3"
    );
    let config = load("client-output-buffer-limit normal 1kb 2MB 3 Slave 1 1 1\n");
    assert_eq!(
        get(&config, "client-output-buffer-limit"),
        "normal 1024 2097152 3 slave 1 1 1 pubsub 33554432 8388608 60"
    );
    let cases = [
        (
            "client-output-buffer-limit normal 1",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit \"\"",
            "Wrong number of arguments in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit master 1 2 3",
            "Invalid client class specified in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit normal 1x 2 3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
        (
            "client-output-buffer-limit normal 1 2 -3",
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(reason(text), expected, "{text}");
    }
}

#[test]
fn special_directives() {
    let config = load(
        "bind 10.0.0.1 -::1\noom-score-adj-values \"4 5 6\"\nnotify-keyspace-events KEA\n\
         shutdown-on-sigint \"save now\"\nlatency-tracking-info-percentiles 50.5 1e2\n\
         unixsocketperm 700\nreplicaof 127.0.0.1 \"+5\"\n",
    );
    assert_eq!(config.bind(), ["10.0.0.1", "-::1"]);
    assert_eq!(get(&config, "oom-score-adj-values"), "4 5 6");
    assert_eq!(get(&config, "notify-keyspace-events"), "AKE");
    assert_eq!(get(&config, "shutdown-on-sigint"), "save now");
    assert_eq!(
        get(&config, "latency-tracking-info-percentiles"),
        "50.5 100"
    );
    assert_eq!(config.unixsocketperm(), 0o700);
    assert_eq!(get(&config, "unixsocketperm"), "700");
    assert_eq!(get(&config, "replicaof"), "127.0.0.1 5");
    let config = load("bind \"\"\nlatency-tracking-info-percentiles \"\"\nreplicaof 1.2.3.4 5\nreplicaof NO ONE\n");
    assert!(config.bind().is_empty());
    assert_eq!(get(&config, "latency-tracking-info-percentiles"), "");
    assert_eq!(get(&config, "replicaof"), "");
    assert_eq!(get(&load("bind\n"), "bind"), "");
    assert_eq!(get(&load("unixsocketperm \"\"\n"), "unixsocketperm"), "0");
    assert_eq!(get(&load("hz 100000\n"), "hz"), "500");
    assert_eq!(load("hz 0").hz(), 1);
}

#[test]
fn every_error_reason_matches_redis() {
    let cases = [
        ("foo bar", "Bad directive or wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        ("include a b", "Bad directive or wrong number of arguments"),
        ("rename-command get", "Bad directive or wrong number of arguments"),
        ("user", "Bad directive or wrong number of arguments"),
        ("loadmodule", "Bad directive or wrong number of arguments"),
        ("list-max-ziplist-entries 5 6", "Bad directive or wrong number of arguments"),
        ("port", "wrong number of arguments"),
        ("port 1 2", "wrong number of arguments"),
        ("replicaof a", "wrong number of arguments"),
        ("oom-score-adj-values", "wrong number of arguments"),
        ("port \"12", "Unbalanced quotes in configuration line"),
        ("port abc", "argument couldn't be parsed into an integer"),
        ("port 70000", "argument must be between 0 and 65535 inclusive"),
        ("timeout -1", "argument must be between 0 and 2147483647 inclusive"),
        ("maxclients 0", "argument must be between 1 and 4294967295 inclusive"),
        ("slowlog-log-slower-than -2", "argument must be between -1 and 9223372036854775807 inclusive"),
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("loglevel nothing", "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("shutdown-on-sigint", "argument(s) must be one of the following: default, save, nosave, now, force"),
        ("shutdown-on-sigterm \"save nosave\"", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("maxmemory 1.5gb", "argument must be a memory value"),
        ("maxmemory-clients abc", "argument must be a memory or percent value"),
        ("maxmemory-clients -1%", "argument must be a memory or percent value"),
        ("maxmemory-clients 101%", "percentage argument must be less or equal to 100"),
        ("proto-max-bulk-len 1k", "argument must be between 1048576 and 9223372036854775807 inclusive"),
        ("client-query-buffer-limit 18446744073709551615", "argument must be between 1048576 and 9223372036854775807 inclusive"),
        ("unixsocketperm 8", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1000", "argument must be between 0 and 777 inclusive"),
        ("unixsocketperm -1", "argument must be between 0 and 777 inclusive"),
        ("io-threads 129", "argument must be between 1 and 128 inclusive"),
        ("replicaof a b", "Invalid master port"),
        ("replicaof a 70000", "Invalid master port"),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("oom-score-adj-values 1 2 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ("notify-keyspace-events ab", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("latency-tracking-info-percentiles 50 abc", "Invalid latency-tracking-info-percentiles parameters"),
        ("latency-tracking-info-percentiles 101", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("appenddirname \"\"", "appenddirname can't be empty"),
        ("appenddirname a/b", "appenddirname can't be a path, just a dirname"),
        ("dbfilename a/b", "dbfilename can't be a path, just a filename"),
        ("dbfilename a\\b", "dbfilename can't be a path, just a filename"),
        ("cluster-announce-hostname a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ("proc-title-template {title}", "template format is invalid or contains unknown variables"),
        ("proc-title-template \"{TITLE} x\"", "template format is invalid or contains unknown variables"),
        ("activedefrag yes", "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"),
        ("dir /nonexistent-ferrodis-dir", "No such file or directory"),
        ("dir /etc/passwd", "Not a directory"),
        ("foo.bar", "Module config specified without value"),
        ("sentinel monitor a 1.2.3.4 6379 2", "sentinel directive while not in sentinel mode"),
        ("user bob on\nuser bob off", "Error in user declaration 'bob': Duplicate user found. A user can only be defined once in config files"),
    ];
    for (text, expected) in cases {
        assert_eq!(reason(text), expected, "{text}");
    }
    let long = format!("cluster-announce-hostname {}", "a".repeat(300));
    assert_eq!(reason(&long), "Hostnames must be less than 256 characters");
}

#[test]
fn the_error_block_has_redis_shape() {
    let err = load_err("port 1\n\n  port abc  \n");
    assert_eq!(
        err.to_string(),
        format!(
            "*** FATAL CONFIG FILE ERROR (Ferrodis {}) ***\n\
             Reading the configuration file, at line 3 (test.conf)\n\
             >>> 'port abc'\n\
             argument couldn't be parsed into an integer",
            env!("CARGO_PKG_VERSION")
        )
    );
    let err = load_err("cluster-enabled yes\nreplicaof 1.2.3.4 6379\n");
    assert!(
        err.to_string()
            .ends_with(" ***\nreplicaof directive not allowed in cluster mode"),
        "{err}"
    );
    let err = load_err("logfile /nonexistent-ferrodis-dir/x.log\n");
    assert_eq!(
        err,
        ConfigError::Invalid {
            reason: "Can't open the log file: No such file or directory".to_owned()
        }
    );
}

#[test]
fn accepted_without_effect() {
    // Redis 7.0 still takes these three names and ignores them.
    let config =
        load("list-max-ziplist-entries 5\nlist-max-ziplist-value 6\nlua-replicate-commands yes\n");
    assert!(config.unimplemented_set().is_empty());
    let config = load(
        "rename-command get g2\nrename-command FLUSHALL \"\"\nuser bob on >pw ~* +@all\n\
         loadmodule /x/mod.so a b\nsentinel\nmymod.opt 1\nmymod.opt 2\n",
    );
    assert_eq!(
        config.directive_lines("rename-command"),
        [vec!["get", "g2"], vec!["FLUSHALL", ""]]
    );
    assert_eq!(
        config.directive_lines("user"),
        [vec!["bob", "on", ">pw", "~*", "+@all"]]
    );
    assert_eq!(
        config.directive_lines("loadmodule"),
        [vec!["/x/mod.so", "a", "b"]]
    );
    assert_eq!(config.directive_lines("mymod.opt"), [vec!["2"]]);
    assert_eq!(
        config.unimplemented_set(),
        [
            "rename-command",
            "user",
            "loadmodule",
            "sentinel",
            "module configuration"
        ]
    );
}

#[test]
fn unimplemented_directives_are_listed_when_changed() {
    let config = load(
        "port 7000\nappendonly no\nmaxmemory 100mb\ndaemonize yes\nmaxmemory-policy allkeys-lru\n\
         replica-ignore-maxmemory no\n",
    );
    // maxmemory and maxmemory-policy are implemented (eviction): not listed.
    assert_eq!(
        config.unimplemented_set(),
        ["daemonize", "replica-ignore-maxmemory"]
    );
    assert!(Config::default().unimplemented_set().is_empty());
}

#[test]
fn include_reads_files_relative_to_the_current_dir() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/c.conf"), "timeout 13\n").unwrap();
    std::fs::write(root.join("a.conf"), "timeout 11\n").unwrap();
    std::fs::write(root.join("b.conf"), "timeout 12\n").unwrap();
    // Relative to `dir`, because Redis chdir()s when it reads `dir`.
    let config = load(&format!("dir {}/sub\ninclude c.conf\n", root.display()));
    assert_eq!(config.timeout_secs(), 13);
    assert_eq!(config.dir(), root.join("sub").display().to_string());
    // A glob reads every match in name order; no match is not an error.
    let config = load(&format!(
        "include {}/*.conf\ninclude {}/none*.conf\n",
        root.display(),
        root.display()
    ));
    assert_eq!(config.timeout_secs(), 12);
    // Relative dir chains.
    let config = load(&format!("dir {}\ndir sub\n", root.display()));
    assert_eq!(config.dir(), root.join("sub").display().to_string());
}

#[test]
fn include_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "# first\nport abc\n").unwrap();
    match load_err(&format!("timeout 1\ninclude {}\n", bad.display())) {
        ConfigError::Line {
            origin,
            line_number,
            line,
            reason,
        } => {
            assert_eq!(origin, bad.display().to_string());
            assert_eq!(line_number, 2);
            assert_eq!(line, "port abc");
            assert_eq!(reason, "argument couldn't be parsed into an integer");
        }
        other => panic!("{other:?}"),
    }
    let missing = load_err("include /nonexistent-ferrodis-dir/x.conf\n");
    assert_eq!(
        missing.to_string(),
        "Fatal error, can't open config file '/nonexistent-ferrodis-dir/x.conf': No such file or directory"
    );
    let cycle = dir.path().join("cycle.conf");
    std::fs::write(&cycle, format!("include {}\n", cycle.display())).unwrap();
    assert!(matches!(
        load_err(&format!("include {}", cycle.display())),
        ConfigError::Line { .. }
    ));
}

#[test]
fn command_line_is_rewritten_like_redis_server() {
    let parse = |args: &[&str]| CommandLine::parse(&words(args));
    let cmd = parse(&[
        "/etc/redis.conf",
        "--port",
        "7000",
        "--bind",
        "127.0.0.1",
        "::1",
    ]);
    assert_eq!(cmd.file.as_deref(), Some("/etc/redis.conf"));
    assert_eq!(cmd.options, "port \"7000\" \nbind \"127.0.0.1\" \"::1\" ");
    assert_eq!(
        parse(&["--save", "--appendonly", "yes"]).options,
        "save \"\"\nappendonly \"yes\" "
    );
    assert_eq!(
        parse(&["--port", "1", "--save"]).options,
        "port \"1\" \nsave \"\""
    );
    assert_eq!(parse(&["--save", ""]).options, "save \"\" ");
    assert_eq!(parse(&["--save", "900 1"]).options, "save \"900 1\" ");
    // An option without a value yet takes the next word even if it starts with --.
    assert_eq!(
        parse(&["--timeout", "--port", "5"]).options,
        "timeout \"--port\" \"5\" "
    );
    assert_eq!(parse(&["--timeout 7"]).options, "timeout 7 ");
    assert_eq!(parse(&["x.conf", "extra"]).options, "\"extra\" ");
    let stdin_first = parse(&["-", "--port", "1"]);
    assert!(stdin_first.from_stdin && stdin_first.file.is_none());
    let stdin_last = parse(&["x.conf", "--port", "1", "-"]);
    assert!(stdin_last.from_stdin);
    assert_eq!(stdin_last.options, "port \"1\" ");
    let cmd = parse(&["--sentinel", "--port", "1"]);
    assert_eq!(cmd.options, "sentinel \nport \"1\" ");
}

#[test]
fn command_line_overrides_the_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "port 1\nsave 900 1\ntimeout 3").unwrap();
    let path = file.path().display().to_string();
    let args = words(&[
        &path,
        "--port",
        "7000",
        "--save",
        "60",
        "5",
        "--bind",
        "127.0.0.1",
        "::1",
    ]);
    let config = Config::from_args(&args, &mut std::io::empty()).unwrap();
    assert_eq!(config.port(), 7000);
    assert_eq!(config.timeout_secs(), 3);
    assert_eq!(get(&config, "save"), "900 1 60 5");
    assert_eq!(config.bind(), ["127.0.0.1", "::1"]);
    assert_eq!(config.config_file(), Some(path.as_str()));
    let config = Config::from_args(&words(&[&path, "--save", ""]), &mut std::io::empty()).unwrap();
    assert_eq!(get(&config, "save"), "");
}

#[test]
fn stdin_and_options() {
    let mut stdin = "timeout 9\nport 5\n".as_bytes();
    let config = Config::from_args(&words(&["-", "--port", "6"]), &mut stdin).unwrap();
    assert_eq!((config.timeout_secs(), config.port()), (9, 6));
    let config = Config::from_args(&[], &mut std::io::empty()).unwrap();
    assert_eq!(config.port(), 6379);
}

#[test]
fn option_errors_are_numbered_after_the_file() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "port 0\nunixsocket /tmp/x.sock\n").unwrap();
    let path = file.path().display().to_string();
    let err = Config::from_args(&words(&[&path, "extra"]), &mut std::io::empty()).unwrap_err();
    let expected = ConfigError::Line {
        origin: "command line".to_owned(),
        line_number: 4,
        line: "\"extra\"".to_owned(),
        reason: "Bad directive or wrong number of arguments".to_owned(),
    };
    assert_eq!(err, expected);
    let err = Config::from_args(&words(&["--port", "abc"]), &mut std::io::empty()).unwrap_err();
    match err {
        ConfigError::Line {
            line_number, line, ..
        } => assert_eq!((line_number, line.as_str()), (2, "port \"abc\"")),
        other => panic!("{other:?}"),
    }
    let err = Config::from_args(&words(&["--timeout", "--port", "5"]), &mut std::io::empty())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(">>> 'timeout \"--port\" \"5\"'\nwrong number of arguments"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file() {
    let err = Config::from_args(
        &words(&["/nonexistent-ferrodis.conf"]),
        &mut std::io::empty(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Fatal error, can't open config file '/nonexistent-ferrodis.conf': No such file or directory"
    );
}
