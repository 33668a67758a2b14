//! The `-F` config file: text in, [`WorkloadSpec`] out (config stage, no I/O).
//!
//! The grammar is memaslap's (`ms_parse_cfg_file`):
//! - a line that is empty or whose first non-blank character is `#` is
//!   skipped;
//! - a line *starting at column 0* with `key`, `value` or `cmd` opens that
//!   section (a prefix match, so `keys` opens the key section too);
//! - `key` and `value` rows are `start_len end_len proportion`;
//! - `cmd` rows are `cmd_type proportion`, with 0 = SET and 1 = GET.
//!
//! Where memaslap silently misreads a file, this parser either does what the
//! file says or stops with the line number:
//! - the cmd type column is honoured (memaslap uses file order), and any other
//!   type than 0 or 1 is an error;
//! - sections may come in any order (memaslap drops everything after `cmd`);
//! - rows that do not parse, data before any header, `start > end`, lengths
//!   out of range, proportions that are not finite or outside `0..=1`,
//!   duplicate cmd types, duplicate or empty sections are errors;
//! - a `#` comment may follow the fields of a row;
//! - a line of text (not starting like a number) before the first header, or right after a
//!   comment line (a comment wrapped without `#`, as in memaslap's man page sample), is
//!   skipped with a warning, as memaslap skips it; elsewhere it is an error.
//!
//! A missing key or value section means memaslap's default for it (`64 64 1`,
//! `1024 1024 1`); a missing cmd section means `0 0.1` / `1 0.9`. A cmd type
//! missing from a cmd section has proportion 0. Proportions are not
//! normalised; see [`WorkloadSpec`]. Key or value proportions that do not
//! total 1 give a warning that says how they are applied ([`parse_cfg_file`]).

use std::fmt;

use shardslap_proto::MAX_KEY_LEN;

use crate::spec::{check_proportion, check_range, SizeRange, WorkloadSpec, MIN_KEY_LEN};

/// A config file error with the 1-based line it was found on.
///
/// Displays as `line 7: key length 8 is out of range (16..=250)`; errors about
/// the file as a whole have `line == 0` and display without the prefix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", LinePrefix(*.line))]
pub struct CfgError {
    /// 1-based line number, or 0 when the error concerns the whole file.
    pub line: usize,
    /// What is wrong.
    pub kind: CfgErrorKind,
}

/// What is wrong with a config file or a [`WorkloadSpec`].
///
/// Text quoted from the file is shown escaped (`{:?}`), so a message is always one printable
/// line whatever bytes the file holds.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CfgErrorKind {
    /// The file has no `key`, `value` or `cmd` header at all.
    #[error("no key, value or cmd section")]
    NoSection,
    /// A data row appears before the first section header.
    #[error("data row before any key, value or cmd section header")]
    DataBeforeHeader,
    /// A section header appears twice.
    #[error("duplicate {section} section (first on line {first_line})")]
    DuplicateSection {
        /// The repeated section.
        section: Section,
        /// Line of the first header of that section.
        first_line: usize,
    },
    /// A section header is followed by no data row.
    #[error("{section} section has no rows")]
    EmptySection {
        /// The empty section.
        section: Section,
    },
    /// A key or value row is not `start_len end_len proportion`.
    #[error("expected `start_len end_len proportion` (two integers and a number) in the {section} section, found {found:?}")]
    BadSizeRow {
        /// The section the row is in.
        section: Section,
        /// The offending line, trimmed.
        found: String,
    },
    /// A cmd row is not `cmd_type proportion`.
    #[error(
        "expected `cmd_type proportion` (0 or 1 and a number) in the cmd section, found {found:?}"
    )]
    BadCmdRow {
        /// The offending line, trimmed.
        found: String,
    },
    /// The cmd type field is not an integer (e.g. the man page's `1.0 0.9`).
    #[error("cmd type must be an integer 0 or 1, found {found:?}")]
    CmdTypeNotInteger {
        /// The cmd type field as written.
        found: String,
    },
    /// The cmd type is an integer other than 0 (set) or 1 (get).
    #[error("cmd type {cmd_type} is not supported (0 = set, 1 = get)")]
    UnknownCmdType {
        /// The cmd type as written.
        cmd_type: i64,
    },
    /// The same cmd type is given twice.
    #[error("duplicate cmd type {cmd_type} (first on line {first_line})")]
    DuplicateCmdType {
        /// The repeated cmd type.
        cmd_type: i64,
        /// Line of its first row.
        first_line: usize,
    },
    /// Both the set and the get proportion are zero.
    #[error("cmd proportions are all zero (give cmd type 0 or 1 a proportion above 0)")]
    CmdProportionsZero,
    /// A range's start length exceeds its end length.
    #[error("{section} start length {start} is greater than end length {end}")]
    StartAfterEnd {
        /// The section the row is in.
        section: Section,
        /// Start length, in bytes.
        start: usize,
        /// End length, in bytes.
        end: usize,
    },
    /// A key length outside 16..=250.
    #[error("key length {len} is out of range ({MIN_KEY_LEN}..={MAX_KEY_LEN})")]
    KeyLenOutOfRange {
        /// The length, in bytes.
        len: usize,
    },
    /// A value length outside 1..=1 MiB.
    #[error("value length {len} is out of range (1..=1048576)")]
    ValueLenOutOfRange {
        /// The length, in bytes.
        len: usize,
    },
    /// A proportion that is NaN or infinite.
    #[error("proportion {proportion} is not a finite number")]
    ProportionNotFinite {
        /// The proportion as parsed.
        proportion: f64,
    },
    /// A proportion below 0 or above 1.
    #[error("proportion {proportion} is out of range (0..=1)")]
    ProportionOutOfRange {
        /// The proportion as parsed.
        proportion: f64,
    },
}

/// A config file section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `key`: key size ranges.
    Key,
    /// `value`: value size ranges.
    Value,
    /// `cmd`: command proportions.
    Cmd,
}

impl Section {
    const ALL: [Section; 3] = [Section::Key, Section::Value, Section::Cmd];

    fn name(self) -> &'static str {
        match self {
            Section::Key => "key",
            Section::Value => "value",
            Section::Cmd => "cmd",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Renders `line N: ` for N > 0 and nothing for 0.
struct LinePrefix(usize);

impl fmt::Display for LinePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            Ok(())
        } else {
            write!(f, "line {}: ", self.0)
        }
    }
}

/// memaslap's built-in config text, the same spec as
/// [`WorkloadSpec::memaslap_default`].
pub const MEMASLAP_DEFAULT_CFG: &str = "key\n64 64 1\nvalue\n1024 1024 1\ncmd\n0 0.1\n1 0.9\n";

/// Parses a `-F` config file.
///
/// # Errors
///
/// [`CfgError`] with the line of the first problem (see the module docs for
/// the list), or line 0 when the file has no section at all.
pub fn parse_cfg(text: &str) -> Result<WorkloadSpec, CfgError> {
    parse_cfg_file(text).map(|parsed| parsed.spec)
}

/// A parsed `-F` file: the workload and what the user should hear about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCfg {
    /// The workload the file describes.
    pub spec: WorkloadSpec,
    /// One line each, `line N: …`: text lines skipped as memaslap skips them, and key or
    /// value proportions that do not total 1 (with how they are applied).
    pub warnings: Vec<String>,
}

/// Parses a `-F` config file like [`parse_cfg`], keeping the warnings.
///
/// memaslap's own sample file (from its man page) wraps comments onto lines without `#`
/// ("generated keys"). A line of text that cannot be a data row (it does not start with a
/// digit, sign or dot) is skipped with a warning when it comes before any section header or
/// right after a comment line (a wrapped comment); anywhere else it is still an error.
///
/// # Errors
///
/// As [`parse_cfg`].
pub fn parse_cfg_file(text: &str) -> Result<ParsedCfg, CfgError> {
    let mut parser = Parser::default();
    for (idx, line) in text.lines().enumerate() {
        let line_no = idx + 1;
        parser.line(line_no, line)?;
    }
    let mut warnings = std::mem::take(&mut parser.warnings);
    let header_line = parser.header_line;
    let spec = parser.finish()?;
    for (section, ranges) in [(Section::Key, &spec.keys), (Section::Value, &spec.values)] {
        // A section the file does not have is the default, which totals 1.
        if let Some(line) = header_line[section.index()] {
            if let Some(warning) = proportion_warning(section, ranges, &spec) {
                warnings.push(format!("line {line}: {warning}"));
            }
        }
    }
    Ok(ParsedCfg { spec, warnings })
}

/// How far a sum of proportions may be from 1 and still count as 1 (memaslap rounds
/// proportions to 0.001).
const SUM_TOLERANCE: f64 = 0.0005;

/// The warning for a key or value section whose proportions do not total 1, saying what the
/// run does with them (memaslap's rule, see [`WorkloadSpec`]).
fn proportion_warning(
    section: Section,
    ranges: &[SizeRange],
    spec: &WorkloadSpec,
) -> Option<String> {
    let sum: f64 = ranges.iter().map(|r| r.proportion).sum();
    if (sum - 1.0).abs() <= SUM_TOLERANCE {
        return None;
    }
    let avg_len = match section {
        Section::Value => spec.avg_value_len(),
        _ => spec.avg_key_len(),
    };
    let how = if sum < 1.0 {
        format!(
            "the other {:.1}% of {section}s get the average length, {avg_len} bytes",
            (1.0 - sum) * 100.0
        )
    } else {
        format!(
            "ranges take their share in file order and the last are cut short \
             (only the first {:.1}% of the total is used)",
            100.0 / sum
        )
    };
    Some(format!(
        "{section} proportions total {sum:.3}, not 1 (memaslap's docs say they must): \
         they are not rescaled; {how}"
    ))
}

/// Parser state across lines.
#[derive(Default)]
struct Parser {
    /// Number of the last line fed in (for end-of-file errors).
    line_no: usize,
    /// The section rows currently go to.
    current: Option<Section>,
    /// Header line of each section, by [`Section::index`].
    header_line: [Option<usize>; 3],
    /// Data rows seen in each section.
    rows: [usize; 3],
    keys: Vec<SizeRange>,
    values: Vec<SizeRange>,
    /// (proportion, line) of cmd type 0 (set) and 1 (get).
    cmd: [Option<(f64, usize)>; 2],
    /// Whether the last non-blank line was a `#` comment (a wrapped comment may follow).
    after_comment: bool,
    /// Lines skipped as memaslap skips them, `line N: …`.
    warnings: Vec<String>,
}

impl Parser {
    fn line(&mut self, line_no: usize, line: &str) -> Result<(), CfgError> {
        self.line_no = line_no;
        let at_line = |kind| CfgError {
            line: line_no,
            kind,
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        let after_comment = std::mem::replace(&mut self.after_comment, trimmed.starts_with('#'));
        if trimmed.starts_with('#') {
            return Ok(());
        }
        let header = header_of(line);
        if header.is_none() && is_text(trimmed) && (self.current.is_none() || after_comment) {
            let why = if after_comment {
                "a comment wrapped onto a line without '#'"
            } else {
                "text before the first key, value or cmd section"
            };
            self.warnings.push(format!(
                "line {line_no}: skipped {trimmed:?} ({why}; memaslap skips it too)"
            ));
            // A second wrapped line continues the same comment.
            self.after_comment = after_comment;
            return Ok(());
        }
        if let Some(section) = header {
            if let Some(first_line) = self.header_line[section.index()] {
                return Err(at_line(CfgErrorKind::DuplicateSection {
                    section,
                    first_line,
                }));
            }
            self.close_section()?;
            self.header_line[section.index()] = Some(line_no);
            self.current = Some(section);
            return Ok(());
        }
        let section = self
            .current
            .ok_or(CfgErrorKind::DataBeforeHeader)
            .map_err(at_line)?;
        self.row(line_no, section, trimmed).map_err(at_line)?;
        self.rows[section.index()] += 1;
        Ok(())
    }

    fn row(&mut self, line_no: usize, section: Section, trimmed: &str) -> Result<(), CfgErrorKind> {
        let fields: Vec<&str> = trimmed
            .split_whitespace()
            .take_while(|field| !field.starts_with('#'))
            .collect();
        match section {
            Section::Key => self.keys.push(size_row(section, trimmed, &fields)?),
            Section::Value => self.values.push(size_row(section, trimmed, &fields)?),
            Section::Cmd => self.cmd_row(line_no, trimmed, &fields)?,
        }
        Ok(())
    }

    fn cmd_row(
        &mut self,
        line_no: usize,
        trimmed: &str,
        fields: &[&str],
    ) -> Result<(), CfgErrorKind> {
        let bad_row = || CfgErrorKind::BadCmdRow {
            found: trimmed.to_owned(),
        };
        let &[type_field, proportion_field] = fields else {
            return Err(bad_row());
        };
        let proportion: f64 = proportion_field.parse().map_err(|_| bad_row())?;
        let cmd_type: i64 = type_field
            .parse()
            .map_err(|_| CfgErrorKind::CmdTypeNotInteger {
                found: type_field.to_owned(),
            })?;
        let slot = match cmd_type {
            0 => 0,
            1 => 1,
            _ => return Err(CfgErrorKind::UnknownCmdType { cmd_type }),
        };
        check_proportion(proportion)?;
        if let Some((_, first_line)) = self.cmd[slot] {
            return Err(CfgErrorKind::DuplicateCmdType {
                cmd_type,
                first_line,
            });
        }
        self.cmd[slot] = Some((proportion, line_no));
        Ok(())
    }

    /// Rejects the current section if it got no rows, at its header line.
    fn close_section(&self) -> Result<(), CfgError> {
        match self.current {
            Some(section) if self.rows[section.index()] == 0 => Err(CfgError {
                line: self.header_line[section.index()].unwrap_or(self.line_no),
                kind: CfgErrorKind::EmptySection { section },
            }),
            _ => Ok(()),
        }
    }

    fn finish(self) -> Result<WorkloadSpec, CfgError> {
        if self.header_line.iter().all(Option::is_none) {
            return Err(CfgError {
                line: 0,
                kind: CfgErrorKind::NoSection,
            });
        }
        self.close_section()?;
        let mut keys = self.keys;
        if keys.is_empty() {
            keys.push(WorkloadSpec::default_key_range());
        }
        let mut values = self.values;
        if values.is_empty() {
            values.push(WorkloadSpec::default_value_range());
        }
        let (set_proportion, get_proportion) = match self.header_line[Section::Cmd.index()] {
            None => {
                let default = WorkloadSpec::memaslap_default();
                (default.set_proportion, default.get_proportion)
            }
            Some(cmd_line) => {
                let set = self.cmd[0].map_or(0.0, |(p, _)| p);
                let get = self.cmd[1].map_or(0.0, |(p, _)| p);
                if set == 0.0 && get == 0.0 {
                    return Err(CfgError {
                        line: cmd_line,
                        kind: CfgErrorKind::CmdProportionsZero,
                    });
                }
                (set, get)
            }
        };
        Ok(WorkloadSpec {
            keys,
            values,
            set_proportion,
            get_proportion,
        })
    }
}

/// Whether a line is text that no data row can be: it does not start like a number.
fn is_text(trimmed: &str) -> bool {
    trimmed
        .chars()
        .next()
        .is_some_and(|c| !(c.is_ascii_digit() || matches!(c, '+' | '-' | '.')))
}

/// The section a line opens, if it is a header (prefix match at column 0).
fn header_of(line: &str) -> Option<Section> {
    Section::ALL
        .into_iter()
        .find(|section| line.starts_with(section.name()))
}

/// Parses and checks one `start_len end_len proportion` row.
fn size_row(section: Section, trimmed: &str, fields: &[&str]) -> Result<SizeRange, CfgErrorKind> {
    let bad_row = || CfgErrorKind::BadSizeRow {
        section,
        found: trimmed.to_owned(),
    };
    let &[start, end, proportion] = fields else {
        return Err(bad_row());
    };
    let range = SizeRange {
        start: start.parse().map_err(|_| bad_row())?,
        end: end.parse().map_err(|_| bad_row())?,
        proportion: proportion.parse().map_err(|_| bad_row())?,
    };
    check_range(section, &range)?;
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse_cfg(text) {
            Ok(spec) => panic!("expected an error for {text:?}, got {spec:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn memaslap_default_text_gives_default_spec() {
        assert_eq!(
            parse_cfg(MEMASLAP_DEFAULT_CFG),
            Ok(WorkloadSpec::memaslap_default())
        );
    }

    #[test]
    fn good_inputs() {
        let default = WorkloadSpec::memaslap_default();
        let cases: Vec<(&str, WorkloadSpec)> = vec![
            // Cmd section first, type column honoured.
            (
                "cmd\n1 0.9\n0 0.1\nkey\n32 32 1\nvalue\n10 20 1\n",
                WorkloadSpec {
                    keys: vec![SizeRange::new(32, 32, 1.0)],
                    values: vec![SizeRange::new(10, 20, 1.0)],
                    set_proportion: 0.1,
                    get_proportion: 0.9,
                },
            ),
            // Get-only: missing set row means 0; missing value section is default.
            (
                "key\n64 64 1\ncmd\n1 1\n",
                WorkloadSpec {
                    set_proportion: 0.0,
                    get_proportion: 1.0,
                    ..default.clone()
                },
            ),
            // Only a value section; sums below and above 1 are kept as written.
            (
                "values\n1 100 0.3\n1000 2000 0.9\n",
                WorkloadSpec {
                    values: vec![SizeRange::new(1, 100, 0.3), SizeRange::new(1000, 2000, 0.9)],
                    ..default.clone()
                },
            ),
            // Bounds are inclusive.
            (
                "key\n16 250 1\nvalue\n1 1048576 0\ncmd\n0 1\n1 0\n",
                WorkloadSpec {
                    keys: vec![SizeRange::new(16, 250, 1.0)],
                    values: vec![SizeRange::new(1, 1_048_576, 0.0)],
                    set_proportion: 1.0,
                    get_proportion: 0.0,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_cfg(text).as_ref(), Ok(&want), "{text:?}");
        }
    }

    #[test]
    fn indented_header_is_a_bad_row() {
        assert_eq!(
            err("key\n64 64 1\n  value\n"),
            "line 3: expected `start_len end_len proportion` (two integers and a number) \
             in the key section, found \"value\""
        );
    }

    #[test]
    fn crlf_and_trailing_comments() {
        let text = "# a comment\r\n\r\nkey\r\n  16 100 0.5  # small\r\n\t200 250 0.5\r\n";
        let spec = parse_cfg(text).expect("valid");
        assert_eq!(
            spec.keys,
            vec![SizeRange::new(16, 100, 0.5), SizeRange::new(200, 250, 0.5)]
        );
    }

    #[test]
    fn bad_inputs() {
        let cases: &[(&str, &str)] = &[
            ("", "no key, value or cmd section"),
            ("# only\n\n   # comments\n", "no key, value or cmd section"),
            ("64 64 1\nkey\n", "line 1: data row before any key, value or cmd section header"),
            (
                "key\n64 64\n",
                "line 2: expected `start_len end_len proportion` (two integers and a number) \
                 in the key section, found \"64 64\"",
            ),
            (
                "value\n10 20 0.5 extra\n",
                "line 2: expected `start_len end_len proportion` (two integers and a number) \
                 in the value section, found \"10 20 0.5 extra\"",
            ),
            (
                "value\n-1 20 0.5\n",
                "line 2: expected `start_len end_len proportion` (two integers and a number) \
                 in the value section, found \"-1 20 0.5\"",
            ),
            (
                "cmd\n0\n",
                "line 2: expected `cmd_type proportion` (0 or 1 and a number) in the cmd \
                 section, found \"0\"",
            ),
            (
                "cmd\n0 lots\n",
                "line 2: expected `cmd_type proportion` (0 or 1 and a number) in the cmd \
                 section, found \"0 lots\"",
            ),
            // The man page's sample row.
            ("cmd\n0 0.1\n1.0 0.9\n", "line 3: cmd type must be an integer 0 or 1, found \"1.0\""),
            ("cmd\n2 0.5\n", "line 2: cmd type 2 is not supported (0 = set, 1 = get)"),
            ("cmd\n-1 0.5\n", "line 2: cmd type -1 is not supported (0 = set, 1 = get)"),
            ("cmd\n0 0.1\n\n0 0.2\n", "line 4: duplicate cmd type 0 (first on line 2)"),
            ("cmd\n0 0\n1 0\n", "line 1: cmd proportions are all zero (give cmd type 0 or 1 a proportion above 0)"),
            ("key\n100 50 1\n", "line 2: key start length 100 is greater than end length 50"),
            ("# x\n\n\n\n\nkey\n8 64 1\n", "line 7: key length 8 is out of range (16..=250)"),
            ("key\n16 251 1\n", "line 2: key length 251 is out of range (16..=250)"),
            ("value\n0 10 1\n", "line 2: value length 0 is out of range (1..=1048576)"),
            ("value\n1 1048577 1\n", "line 2: value length 1048577 is out of range (1..=1048576)"),
            ("value\n1 10 1.5\n", "line 2: proportion 1.5 is out of range (0..=1)"),
            ("value\n1 10 -0.1\n", "line 2: proportion -0.1 is out of range (0..=1)"),
            ("value\n1 10 nan\n", "line 2: proportion NaN is not a finite number"),
            ("cmd\n0 inf\n", "line 2: proportion inf is not a finite number"),
            ("cmd\n0 9\n", "line 2: proportion 9 is out of range (0..=1)"),
            ("key\n64 64 1\nkey\n32 32 1\n", "line 3: duplicate key section (first on line 1)"),
            ("key\nvalue\n1 1 1\n", "line 1: key section has no rows"),
            ("value\n1 1 1\ncmd\n\n# nothing\n", "line 3: cmd section has no rows"),
            ("key\n64 64 1\nbogus line\n", "line 3: expected `start_len end_len proportion` (two integers and a number) in the key section, found \"bogus line\""),
        ];
        for (text, want) in cases {
            assert_eq!(err(text), *want, "{text:?}");
        }
    }

    /// Found by the `cfg_parse` fuzz target: a NUL (or any control character) in a bad row
    /// went to stderr raw. Quoted text is escaped, so the message stays one printable line.
    #[test]
    fn quoted_text_is_escaped_to_one_printable_line() {
        let cases: &[(&str, &str)] = &[
            (
                "key\n64 64 1\n  valu\0e\n",
                "line 3: expected `start_len end_len proportion` (two integers and a number) \
                 in the key section, found \"valu\\0e\"",
            ),
            (
                "cmd\n0 0.1\r5\n",
                "line 2: expected `cmd_type proportion` (0 or 1 and a number) in the cmd \
                 section, found \"0 0.1\\r5\"",
            ),
            (
                "cmd\n\u{1b}[2J 0.5\n",
                "line 2: cmd type must be an integer 0 or 1, found \"\\u{1b}[2J\"",
            ),
            (
                "value\n\"1\" 2 1\n",
                "line 2: expected `start_len end_len proportion` (two integers and a number) \
                 in the value section, found \"\\\"1\\\" 2 1\"",
            ),
        ];
        for (text, want) in cases {
            let message = err(text);
            assert_eq!(message, *want, "{text:?}");
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
    }

    /// The shape of memaslap's man page sample: comments wrapped onto lines without `#`,
    /// one before the first section and one inside the key section.
    const WRAPPED_COMMENTS: &str = "#comments start with '#'\n\
        #proportion: the share of the keys generated from one range, of all\n\
        generated keys\n\
        #\n\
        key\n\
        128 128 1\n\
        #proportion: the share of the values generated from one range, of all\n\
        generated values\n\
        #\n\
        value\n\
        2048 2048 1\n\
        cmd\n\
        0    0.1\n\
        1    0.9\n";

    #[test]
    fn comments_wrapped_without_a_hash_are_skipped_with_a_warning() {
        let parsed = parse_cfg_file(WRAPPED_COMMENTS).expect("memaslap accepts it");
        assert_eq!(parsed.spec.keys, vec![SizeRange::new(128, 128, 1.0)]);
        assert_eq!(parsed.spec.values, vec![SizeRange::new(2048, 2048, 1.0)]);
        assert_eq!(
            (parsed.spec.set_proportion, parsed.spec.get_proportion),
            (0.1, 0.9)
        );
        assert_eq!(
            parsed.warnings,
            [
                "line 3: skipped \"generated keys\" (a comment wrapped onto a line without '#'; \
                 memaslap skips it too)",
                "line 8: skipped \"generated values\" (a comment wrapped onto a line without '#'; \
                 memaslap skips it too)",
            ]
        );
        // Text before any section needs no comment above it.
        let parsed = parse_cfg_file("generated by hand\nkey\n64 64 1\n").unwrap();
        assert_eq!(
            parsed.warnings,
            [
                "line 1: skipped \"generated by hand\" (text before the first key, value or cmd \
              section; memaslap skips it too)"
            ]
        );
        // Two wrapped lines in a row continue one comment.
        let parsed = parse_cfg_file("key\n64 64 1\n# a long\ncomment\nwrapped twice\n").unwrap();
        assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
    }

    #[test]
    fn data_rows_and_stray_text_after_a_row_are_still_errors() {
        // A numeric line before any header is a data row out of place, not a comment.
        assert_eq!(
            err("#c\n64 64 1\nkey\n"),
            "line 2: data row before any key, value or cmd section header"
        );
        // Text right after a data row is no wrapped comment.
        assert_eq!(
            err("key\n64 64 1\nbogus line\n"),
            "line 3: expected `start_len end_len proportion` (two integers and a number) in \
             the key section, found \"bogus line\""
        );
        // The man page's `1.0 0.9` cmd row is a real (bad) data row, even after a comment.
        assert_eq!(
            err("cmd\n0 0.1\n# get\n1.0 0.9\n"),
            "line 4: cmd type must be an integer 0 or 1, found \"1.0\""
        );
    }

    #[test]
    fn proportions_that_do_not_total_one_warn_and_say_how_they_apply() {
        let parsed = parse_cfg_file("key\n16 100 0.5\n200 250 0.4\nvalue\n10 10 1\n").unwrap();
        assert_eq!(
            parsed.warnings,
            [
                "line 1: key proportions total 0.900, not 1 (memaslap's docs say they must): they \
              are not rescaled; the other 10.0% of keys get the average length, 119 bytes"
            ]
        );
        let parsed = parse_cfg_file("key\n64 64 1\nvalue\n10 10 0.75\n20 20 0.75\n").unwrap();
        assert_eq!(
            parsed.warnings,
            [
                "line 3: value proportions total 1.500, not 1 (memaslap's docs say they must): \
              they are not rescaled; ranges take their share in file order and the last are cut \
              short (only the first 66.7% of the total is used)"
            ]
        );
        // Totals of 1, within memaslap's 0.001 precision, and default sections: no warning.
        for text in [
            MEMASLAP_DEFAULT_CFG,
            "key\n16 100 0.8\n101 200 0.1\n201 249 0.1\n",
            "value\n1 10 0.3333\n11 20 0.3333\n21 30 0.3333\n",
            "cmd\n0 0.5\n1 0.9\n",
        ] {
            assert_eq!(
                parse_cfg_file(text).unwrap().warnings,
                Vec::<String>::new(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn error_fields() {
        let e = parse_cfg("key\n8 64 1\n").expect_err("bad key length");
        assert_eq!(
            e,
            CfgError {
                line: 2,
                kind: CfgErrorKind::KeyLenOutOfRange { len: 8 }
            }
        );
    }

    #[test]
    fn parsed_specs_validate() {
        for text in [
            MEMASLAP_DEFAULT_CFG,
            "cmd\n1 1\n",
            "values\n1 100 0.3\n1000 2000 0.9\n",
        ] {
            let spec = parse_cfg(text).expect("valid");
            assert_eq!(spec.validate(), Ok(()), "{text:?}");
        }
    }
}
