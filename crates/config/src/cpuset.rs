//! CPU sets: the `--cores` list syntax (`0-3,8,10-11`, as in cpuset and
//! `taskset -c`) and the process's CPU affinity mask, which is the default
//! and the limit for `--cores`.

use std::fmt::Write as _;

use crate::ConfigError;

/// The largest CPU id + 1 that `sched_getaffinity`'s fixed-size set holds.
const MAX_CPUS: usize = libc::CPU_SETSIZE as usize;

/// Parses a CPU list like `0-3,8,10-11` into sorted, deduplicated CPU ids.
///
/// # Errors
///
/// [`ConfigError::InvalidValue`] for `--cores` on an empty list or item, a
/// non-number, a reversed range (`3-1`) or a CPU id of 1024 or more.
pub fn parse_cpu_list(s: &str) -> Result<Vec<usize>, ConfigError> {
    let invalid = |why: String| ConfigError::invalid("--cores", s, why);
    if s.trim().is_empty() {
        return Err(invalid("expected a CPU list like 0-3,8".to_owned()));
    }
    let cpu = |text: &str, item: &str| -> Result<usize, ConfigError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid(format!(
                "'{}' is missing a CPU number",
                item.trim()
            )));
        }
        let id = text
            .parse::<usize>()
            .ok()
            .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| invalid(format!("'{text}' is not a CPU number")))?;
        if id >= MAX_CPUS {
            return Err(invalid(format!(
                "CPU {id} is beyond the largest CPU id ({})",
                MAX_CPUS - 1
            )));
        }
        Ok(id)
    };
    let mut cpus = Vec::new();
    for item in s.split(',') {
        if item.trim().is_empty() {
            return Err(invalid("empty item in the list".to_owned()));
        }
        match item.split_once('-') {
            Some((first, last)) => {
                let (first, last) = (cpu(first, item)?, cpu(last, item)?);
                if first > last {
                    return Err(invalid(format!(
                        "range '{}' is reversed (write {last}-{first})",
                        item.trim()
                    )));
                }
                cpus.extend(first..=last);
            }
            None => cpus.push(cpu(item, item)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Renders CPU ids back in list syntax, merging runs: `[0, 1, 2, 5]` →
/// `0-2,5`. Expects sorted, deduplicated ids (as [`parse_cpu_list`] and
/// [`affinity_cpus`] return).
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut out = String::new();
    let mut rest = cpus;
    while let Some((&first, tail)) = rest.split_first() {
        let run = tail
            .iter()
            .zip(first + 1..)
            .take_while(|(&cpu, want)| cpu == *want)
            .count();
        if !out.is_empty() {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = match run {
            0 => write!(out, "{first}"),
            _ => write!(out, "{first}-{}", first + run),
        };
        rest = &tail[run..];
    }
    out
}

/// The CPUs this process may run on (`sched_getaffinity`), sorted. This
/// honours `taskset` and cgroup cpusets, unlike counting online CPUs.
///
/// # Errors
///
/// [`ConfigError::Affinity`] if the syscall fails or the mask is empty.
pub fn affinity_cpus() -> Result<Vec<usize>, ConfigError> {
    // SAFETY: cpu_set_t is a plain bit array, so all-zero is a valid value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is this thread; the size and pointer describe `set`,
    // which outlives the call.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return Err(ConfigError::Affinity {
            reason: crate::error::os_reason(&std::io::Error::last_os_error()),
        });
    }
    // SAFETY: CPU_ISSET only reads `set`, and `cpu` < CPU_SETSIZE.
    let cpus: Vec<usize> = (0..MAX_CPUS)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    if cpus.is_empty() {
        return Err(ConfigError::Affinity {
            reason: "the mask is empty".to_owned(),
        });
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_sorted_and_deduplicated() {
        let cases: [(&str, &[usize]); 7] = [
            ("0", &[0]),
            ("0-3", &[0, 1, 2, 3]),
            ("0-3,8,10-11", &[0, 1, 2, 3, 8, 10, 11]),
            ("8,0-1", &[0, 1, 8]),
            ("1,1,0-2", &[0, 1, 2]),
            (" 2 , 4 - 5 ", &[2, 4, 5]),
            ("3-3", &[3]),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_cpu_list(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn rejects_bad_lists_with_a_reason() {
        let cases = [
            ("", "expected a CPU list like 0-3,8"),
            ("0,,2", "empty item in the list"),
            ("0,", "empty item in the list"),
            ("a", "'a' is not a CPU number"),
            ("1-", "'1-' is missing a CPU number"),
            ("-1", "'-1' is missing a CPU number"),
            ("1-2-3", "'2-3' is not a CPU number"),
            ("+1", "'+1' is not a CPU number"),
            ("3-1", "range '3-1' is reversed (write 1-3)"),
            ("1024", "CPU 1024 is beyond the largest CPU id (1023)"),
            ("0-99999", "CPU 99999 is beyond the largest CPU id (1023)"),
        ];
        for (raw, why) in cases {
            let err = parse_cpu_list(raw).unwrap_err().to_string();
            assert_eq!(err, format!("invalid value '{raw}' for --cores: {why}"));
        }
    }

    #[test]
    fn formats_runs_back_in_list_syntax() {
        assert_eq!(format_cpu_list(&[]), "");
        assert_eq!(format_cpu_list(&[0]), "0");
        assert_eq!(format_cpu_list(&[0, 1]), "0-1");
        assert_eq!(format_cpu_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        for raw in ["0-3,8,10-11", "5", "0,2,4"] {
            assert_eq!(format_cpu_list(&parse_cpu_list(raw).unwrap()), raw);
        }
    }

    #[test]
    fn affinity_mask_is_not_empty_and_sorted() {
        let cpus = affinity_cpus().unwrap();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]));
    }
}
