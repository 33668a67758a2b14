//! Fuzz target: `parse_cfg`, the `-F` config parser, on arbitrary text.
//!
//! The real caller reads the file with `read_to_string`, so input that is not UTF-8 never reaches
//! the parser and is skipped here.
//!
//! Checks: no panic; an accepted file gives a spec that passes `validate` and that the
//! distribution builder takes without panicking; a rejected file names a line that exists (or
//! line 0 for "no section"), and its message is one printable line (it goes to stderr as is).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shardslap_workload::{build_distribution, char_block_len, parse_cfg, CfgErrorKind, UNIT_SLOTS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_cfg(text) {
        Ok(spec) => {
            assert_eq!(spec.validate(), Ok(()), "{spec:?}");
            assert!(!spec.keys.is_empty() && !spec.values.is_empty());
            let mut rng = fastrand::Rng::with_seed(u64::from(data.len() as u32));
            let block_len = char_block_len(&spec, None);
            let slots = build_distribution(&spec, None, UNIT_SLOTS + 1, block_len, &mut rng);
            assert_eq!(slots.len(), UNIT_SLOTS + 1);
        }
        Err(err) => {
            let lines = text.lines().count();
            if err.kind == CfgErrorKind::NoSection {
                assert_eq!(err.line, 0);
            } else {
                assert!(
                    (1..=lines).contains(&err.line),
                    "line {} of {lines}",
                    err.line
                );
            }
            let message = err.to_string();
            assert!(
                !message.chars().any(char::is_control),
                "message is not one printable line: {message:?}"
            );
        }
    }
});
