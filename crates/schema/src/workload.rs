//! The part of a result's `config` section that defines the workload: what `merge` requires
//! every input to share, typed, so a field renamed here breaks the merge check's compilation
//! instead of silently dropping out of it. The section itself is written by
//! `shardslap-config` (`run_config/section.rs`); its golden files are checked against this
//! struct (`tests/config_section.rs`), so a rename there fails a test.
//!
//! Not here, so runs that differ in them may merge: servers, shards, cores, concurrency,
//! seed, run time, outputs, and TLS (`tls`): encryption changes what a request costs the
//! client, like the server address or core count, not which requests the workload makes.
//! Config fields this struct does not list (the section gains some, e.g. `distribution`) are
//! ignored by the check.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Declares [`WorkloadSettings`] and its [`WorkloadSettings::fields`] from one list, so the
/// comparison sees every field, named as serde names it, in declaration order.
macro_rules! workload_settings {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$field_meta:meta])* pub $field:ident: Option<$ty:ty>,)*
    }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: Option<$ty>,)*
        }

        impl $name {
            /// Every field by its name in the section, in declaration order: its value as
            /// JSON, `None` when the section lacks it. What `merge` compares.
            #[must_use]
            pub fn fields(&self) -> Vec<(&'static str, Option<Value>)> {
                vec![$((
                    stringify!($field),
                    self.$field.as_ref().map(|v| serde_json::to_value(v).unwrap_or(Value::Null)),
                ),)*]
            }
        }
    };
}

workload_settings! {
/// The workload settings of a `config` section. Every field is `None` when the section
/// lacks it (files written before it existed); two sections that both lack one agree on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSettings {
    /// Key and value sizes and the GET/SET mix (`WorkloadSpec`), compared as the JSON it is,
    /// so a difference names its path inside (`workload.set_proportion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Value>,
    /// `--win_size`, items per concurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_len: Option<u64>,
    /// `--fixed_size`; `Some(None)` is the section's `null` (sizes from the distribution).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub fixed_value_len: Option<Option<u64>>,
    /// `--verify` proportion (0 = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<f64>,
    /// `--division`: keys per multi-get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_get_keys: Option<u64>,
    /// `--exp_verify` proportion (0 = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp_verify: Option<f64>,
    /// `--overwrite` proportion (0 = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<f64>,
    /// `--udp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<bool>,
    /// `--facebook`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook: Option<bool>,
    /// `--binary`; kept beside `protocol` for readers that know only it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<bool>,
    /// `--protocol`; files written before it existed have only `binary`, from which
    /// [`WorkloadSettings::from_config`] derives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<ProtocolName>,
    /// `--pipeline`: requests in flight per connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<u64>,
    /// `--rep_write`: servers each SET goes to (0 = off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_write: Option<u64>,
    /// `-S`: the reporting period in seconds; `Some(None)` is `null`, the default period.
    /// Runs merge period by period, so they must share it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub stat_freq_secs: Option<Option<f64>>,
}
}

impl WorkloadSettings {
    /// The workload settings of a result's `config` section, `protocol` derived from `binary`
    /// when the section predates it (a binary run was binary, any other ascii).
    ///
    /// # Errors
    ///
    /// A listed field of the wrong type, with serde's reason.
    pub fn from_config(config: &Value) -> Result<Self, serde_json::Error> {
        let mut settings = Self::deserialize(config)?;
        if settings.protocol.is_none() {
            settings.protocol = settings.binary.map(|binary| {
                if binary {
                    ProtocolName::Binary
                } else {
                    ProtocolName::Ascii
                }
            });
        }
        Ok(settings)
    }

    /// The reporting period the section sets (`stat_freq_secs`), `None` when it is `null` or
    /// absent (the run used the engine's default).
    #[must_use]
    pub fn period_s(&self) -> Option<f64> {
        self.stat_freq_secs.flatten()
    }
}

/// The wire protocol a run spoke: the section's `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolName {
    /// memcached's text protocol.
    Ascii,
    /// The meta text commands (`ms`, `mg`).
    Meta,
    /// The binary protocol.
    Binary,
}

/// A field that is present, `null` included: `Some(None)` for `null`, where `default` gives
/// `None` for an absent one.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn protocol_comes_from_binary_in_older_sections() {
        let old = |binary: bool| {
            WorkloadSettings::from_config(&json!({ "binary": binary }))
                .unwrap()
                .protocol
        };
        assert_eq!(old(true), Some(ProtocolName::Binary));
        assert_eq!(old(false), Some(ProtocolName::Ascii));
        let meta = json!({ "binary": false, "protocol": "meta" });
        assert_eq!(
            WorkloadSettings::from_config(&meta).unwrap().protocol,
            Some(ProtocolName::Meta)
        );
        assert_eq!(
            WorkloadSettings::from_config(&json!({})).unwrap().protocol,
            None
        );
    }

    #[test]
    fn fields_are_named_as_serde_names_them_in_declaration_order() {
        let all = json!({
            "workload": {"set_proportion": 0.1}, "window_len": 1, "fixed_value_len": null,
            "verify": 0.0, "multi_get_keys": 1, "exp_verify": 0.0, "overwrite": 0.0,
            "udp": false, "facebook": false, "binary": false, "protocol": "ascii",
            "pipeline": 1, "rep_write": 0, "stat_freq_secs": 1.0,
        });
        let s = WorkloadSettings::from_config(&all).unwrap();
        let fields = s.fields();
        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        let serialized = serde_json::to_value(&s).unwrap();
        let mut keys: Vec<&str> = serialized
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        keys.sort_unstable();
        assert_eq!(sorted, keys);
        assert_eq!(names[0], "workload");
        assert_eq!(names[names.len() - 1], "stat_freq_secs");
        for (name, value) in fields {
            assert_eq!(value.as_ref(), Some(&all[name]), "{name}");
        }
    }

    #[test]
    fn null_and_absent_are_told_apart_and_unknown_fields_ignored() {
        let null = json!({ "stat_freq_secs": null, "fixed_value_len": 100, "tls": {}, "distribution": "x" });
        let s = WorkloadSettings::from_config(&null).unwrap();
        assert_eq!(s.stat_freq_secs, Some(None));
        assert_eq!(s.period_s(), None);
        assert_eq!(s.fixed_value_len, Some(Some(100)));
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({ "stat_freq_secs": null, "fixed_value_len": 100 })
        );
        let absent = WorkloadSettings::from_config(&json!({})).unwrap();
        assert_eq!(absent, WorkloadSettings::default());
        assert_eq!(serde_json::to_value(&absent).unwrap(), json!({}));
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error() {
        let err = WorkloadSettings::from_config(&json!({ "window_len": "big" })).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }
}
