//! The wire protocol a run speaks: `--protocol ascii | meta | binary` (`-B` is memaslap's
//! spelling of `binary`).

use std::fmt;

/// The wire protocol of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Protocol {
    /// memcached's classic text protocol (`get`/`set`; memaslap's default).
    #[default]
    Ascii,
    /// memcached 1.6's meta text protocol (`mg`/`ms`/`mn`).
    Meta,
    /// The binary protocol (`-B`).
    Binary,
}

impl Protocol {
    /// The name `--protocol` takes.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ascii => "ascii",
            Protocol::Meta => "meta",
            Protocol::Binary => "binary",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// In the config JSON a protocol is two fields: `"binary"` (what every earlier file holds,
/// and what older readers compare) and `"protocol"` (which also tells meta from ascii).
impl serde::Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("binary", &(*self == Protocol::Binary))?;
        map.serialize_entry("protocol", self.name())?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Holder {
        before: u8,
        #[serde(flatten)]
        protocol: Protocol,
        after: u8,
    }

    #[test]
    fn json_keeps_the_binary_flag_and_names_the_protocol() {
        let json = |protocol| {
            serde_json::to_string(&Holder {
                before: 1,
                protocol,
                after: 2,
            })
            .unwrap()
        };
        assert_eq!(
            json(Protocol::Binary),
            r#"{"before":1,"binary":true,"protocol":"binary","after":2}"#
        );
        assert_eq!(
            json(Protocol::Meta),
            r#"{"before":1,"binary":false,"protocol":"meta","after":2}"#
        );
    }
}
