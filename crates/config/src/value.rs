//! memaslap's value syntax: durations (`30`, `10s`, `2m`, `1.5h`, `1d`) and
//! counts with a binary suffix (`10240`, `10k`, `1m`, `1g`). Parsing only;
//! range checks live with the flag in `run_config`.

use std::time::Duration;

use crate::ConfigError;

const DURATION_EXPECTED: &str = "expected a duration like 30, 10s, 2m, 1h";
const COUNT_EXPECTED: &str = "expected a number with an optional k/m/g suffix (x1024), like 10k";

/// Parses a duration for `flag`: a non-negative decimal number followed by
/// an optional unit `s`, `m`, `h` or `d` (either case). No unit means
/// seconds. `1.5s` is 1.5 s (memaslap's `atoi` would make it 1 s).
///
/// # Errors
///
/// [`ConfigError::InvalidValue`] naming `flag` when `raw` is not of that
/// form or does not fit in a [`Duration`].
pub(crate) fn parse_duration(flag: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    let invalid = || ConfigError::invalid(flag, raw, DURATION_EXPECTED);
    let text = raw.trim();
    let (number, unit_secs) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => {
            let unit_secs = match unit.to_ascii_lowercase() {
                's' => 1.0,
                'm' => 60.0,
                'h' => 3600.0,
                'd' => 86_400.0,
                _ => return Err(invalid()),
            };
            (&text[..at], unit_secs)
        }
        _ => (text, 1.0),
    };
    let secs = parse_decimal(number).ok_or_else(invalid)?;
    Duration::try_from_secs_f64(secs * unit_secs).map_err(|_| invalid())
}

/// Parses a count for `flag`: a non-negative integer followed by an
/// optional `k`, `m` or `g` (either case) meaning ×1024, ×1024², ×1024³,
/// as memaslap's `-w` and `-P`. No suffix means the plain number.
///
/// # Errors
///
/// [`ConfigError::InvalidValue`] naming `flag` when `raw` is not of that
/// form or overflows `u64`.
pub(crate) fn parse_count(flag: &'static str, raw: &str) -> Result<u64, ConfigError> {
    let invalid = || ConfigError::invalid(flag, raw, COUNT_EXPECTED);
    let text = raw.trim();
    let (number, multiplier) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => {
            let multiplier: u64 = match unit.to_ascii_lowercase() {
                'k' => 1 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                _ => return Err(invalid()),
            };
            (&text[..at], multiplier)
        }
        _ => (text, 1),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(invalid)
}

/// `digits[.digits]` as f64; `None` for anything else (signs, exponents,
/// `inf`, `nan`, an empty string, a lone `.`).
fn parse_decimal(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_memaslap_suffixes_and_plain_seconds() {
        let cases = [
            ("30", 30.0),
            ("10s", 10.0),
            ("10S", 10.0),
            ("2m", 120.0),
            ("2M", 120.0),
            ("1h", 3600.0),
            ("1d", 86_400.0),
            ("1.5s", 1.5),
            ("1.5m", 90.0),
            ("0.25", 0.25),
            (".5", 0.5),
            ("5.", 5.0),
            ("0", 0.0),
        ];
        for (raw, secs) in cases {
            let got = parse_duration("--time", raw).unwrap();
            assert_eq!(got, Duration::from_secs_f64(secs), "{raw}");
        }
    }

    #[test]
    fn bad_durations_name_the_flag() {
        for raw in [
            "",
            "s",
            "10parsecs",
            "10x",
            "-1",
            "+1",
            "1e3",
            "inf",
            "nan",
            "1.2.3",
            ".",
            "1 s",
            "1ms",
            "99999999999999999999d",
        ] {
            let err = parse_duration("--time", raw).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid value '{raw}' for --time: expected a duration like 30, 10s, 2m, 1h"
                ),
            );
        }
    }

    #[test]
    fn counts_take_binary_suffixes_and_plain_numbers() {
        let cases = [
            ("10240", 10_240),
            ("10k", 10_240),
            ("10K", 10_240),
            ("1m", 1 << 20),
            ("1G", 1 << 30),
            ("0", 0),
            ("0k", 0),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_count("--win-size", raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn bad_counts_name_the_flag() {
        for raw in ["", "k", "1.5k", "-1", "10t", "ten", "99999999999999999g"] {
            let err = parse_count("--win-size", raw).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid value '{raw}' for --win-size: expected a number with an \
                     optional k/m/g suffix (x1024), like 10k"
                ),
            );
        }
    }
}
