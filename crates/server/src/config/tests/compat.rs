//! Compatibility with files written by the reference Redis 7.0, and `redis.conf.example`.

use super::super::load::load_text;
use super::super::table::TABLE;
use super::super::{example, Config, LogLevel};
use super::{get, load};

/// The stock redis.conf of redis-server 7.0.15 (Debian package, every directive documented).
const STOCK_CONF: &str = include_str!("../testdata/redis-7.0.conf");

/// `CONFIG GET` defaults of redis-server 7.0.15, one `name<TAB>value` per line.
///
/// Generated with the reference server started without a config file in an empty
/// directory, then queried for every name, hidden ones included:
///
/// ```text
/// cd "$(mktemp -d)" && redis-server &
/// { redis-cli CONFIG GET '*' | paste - -
///   for n in use-exit-on-panic rdb-key-save-delay key-load-delay watchdog-period \
///            loading-process-events-interval-bytes; do redis-cli CONFIG GET $n | paste - -; done
/// } | LC_ALL=C sort > config-get-defaults-7.0.txt
/// redis-cli shutdown nosave
/// ```
const REFERENCE_DEFAULTS: &str = include_str!("../testdata/config-get-defaults-7.0.txt");

/// The example file at the repository root.
const EXAMPLE: &str = include_str!("../../../../../redis.conf.example");

#[test]
fn the_stock_redis_conf_loads() {
    let mut config = Config::default();
    // The file names Debian paths (`dir /var/lib/redis`, a log file under /var/log); the
    // file system checks are for the machine it runs on, not for this test.
    load_text(&mut config, STOCK_CONF.as_bytes(), "redis-7.0.conf", false).unwrap();
    assert_eq!(config.bind(), ["127.0.0.1", "-::1"]);
    assert_eq!(config.port(), 6379);
    assert!(config.protected_mode());
    assert_eq!(config.loglevel(), LogLevel::Notice);
    assert_eq!(
        config.logfile().as_deref(),
        Some("/var/log/redis/redis-server.log")
    );
    assert_eq!(config.dir(), "/var/lib/redis");
    assert_eq!(get(&config, "save"), "3600 1 300 100 60 10000");
    assert_eq!(get(&config, "auto-aof-rewrite-min-size"), "67108864");
    assert_eq!(get(&config, "daemonize"), "yes");
    assert_eq!(config.unimplemented_set(), ["daemonize"]);
}

#[test]
fn defaults_equal_the_reference() {
    let config = Config::default();
    let mut compared = 0;
    for line in REFERENCE_DEFAULTS.lines() {
        let (name, expected) = line.split_once('\t').unwrap();
        // Machine dependent: the directory the reference ran in, and Ferrodis' thread count.
        if name == "dir" || name == "io-threads" {
            continue;
        }
        assert_eq!(get(&config, name), expected, "{name}");
        compared += 1;
    }
    assert_eq!(compared, 195);
    // And nothing more: 192 names from `*` plus 5 hidden ones.
    let listed: usize = TABLE
        .iter()
        .map(|d| 1 + usize::from(d.alias.is_some()))
        .sum();
    assert_eq!(listed, REFERENCE_DEFAULTS.lines().count());
}

#[test]
fn every_table_default_parses() {
    for (index, directive) in TABLE.iter().enumerate() {
        let value = super::super::parse_default(index);
        if directive.name != "dir" {
            assert_eq!(
                super::super::value::format(directive, &value),
                directive.default,
                "{}",
                directive.name
            );
        }
    }
}

#[test]
fn table_names_are_unique_and_lowercase() {
    let mut names: Vec<&str> = TABLE
        .iter()
        .flat_map(|d| std::iter::once(d.name).chain(d.alias))
        .collect();
    assert!(names.iter().all(|n| n.to_ascii_lowercase() == *n));
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
    assert_eq!(TABLE.len(), 178);
}

#[test]
fn the_example_file_is_generated_from_the_table() {
    let (missing, extra) = example::coverage_gaps();
    assert!(
        missing.is_empty(),
        "implemented but not in redis.conf.example: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "in redis.conf.example but not implemented: {extra:?}"
    );
    let expected = example::render();
    if EXAMPLE != expected {
        let path = std::env::temp_dir().join("redis.conf.example");
        std::fs::write(&path, &expected).unwrap();
        panic!("redis.conf.example is stale; the expected text is in {}: copy it to the repository root", path.display());
    }
}

#[test]
fn the_example_file_loads() {
    let config = load(EXAMPLE);
    assert_eq!(config.port(), 6379);
    assert_eq!(config.bind(), ["127.0.0.1", "-::1"]);
    assert_eq!(config.logfile(), None);
    assert_eq!(config.save_params(), [(3600, 1), (300, 100), (60, 10000)]);
    assert!(!config.appendonly());
    assert!(config.unimplemented_set().is_empty());
}
