//! The config section as `shardslap-config` writes it (its golden files) holds every field
//! `WorkloadSettings` compares, under the same name: a field renamed on either side fails
//! here instead of silently dropping out of `merge`'s workload check.

use shardslap_schema::{ProtocolName, WorkloadSettings};

const GOLDEN: [(&str, &str); 5] = [
    (
        "facebook_open_loop",
        include_str!("../../config/src/run_config/section_golden/facebook_open_loop.json"),
    ),
    (
        "key_space_pipeline",
        include_str!("../../config/src/run_config/section_golden/key_space_pipeline.json"),
    ),
    (
        "pool_ketama",
        include_str!("../../config/src/run_config/section_golden/pool_ketama.json"),
    ),
    (
        "replicated_binary_tps",
        include_str!("../../config/src/run_config/section_golden/replicated_binary_tps.json"),
    ),
    (
        "udp",
        include_str!("../../config/src/run_config/section_golden/udp.json"),
    ),
];

#[test]
fn every_workload_setting_is_in_every_written_config_section() {
    for (name, text) in GOLDEN {
        let section: serde_json::Value = serde_json::from_str(text).expect(name);
        let settings = WorkloadSettings::from_config(&section).expect(name);
        for (field, value) in settings.fields() {
            assert!(
                value.is_some() && section.get(field).is_some(),
                "{name}: the config section has no {field:?}"
            );
        }
    }
}

#[test]
fn the_protocol_written_agrees_with_binary() {
    for (name, text) in GOLDEN {
        let section: serde_json::Value = serde_json::from_str(text).expect(name);
        let settings = WorkloadSettings::from_config(&section).expect(name);
        let binary = settings.binary == Some(true);
        assert_eq!(
            settings.protocol == Some(ProtocolName::Binary),
            binary,
            "{name}"
        );
    }
}
