//! `--tls` and its companions → a [`TlsSettings`]: whom to trust, who we are, and which name
//! the server's certificate must carry. The files are checked for readability here, so a
//! typo fails before anything starts; the engine parses them into rustls's configuration.

use std::path::{Path, PathBuf};

use crate::error::os_reason;
use crate::{Args, ConfigError};

/// Where a system's CA bundle usually is (Debian/Ubuntu/Alpine, then Fedora/RHEL).
const SYSTEM_CA_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// How a TLS run talks to its servers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TlsSettings {
    /// Which certificates the servers' chains must lead to.
    pub trust: TlsTrust,
    /// `--tls-cert` + `--tls-key`: the certificate shardslap presents (mutual TLS).
    pub identity: Option<ClientIdentity>,
    /// `--tls-server-name`: the name the servers' certificates are checked against (and sent
    /// as SNI); without it, each server's `-s` host.
    pub server_name: Option<String>,
}

/// Whom a TLS run trusts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsTrust {
    /// The CA certificates in a PEM file: `--tls-ca`, or the system's bundle without it.
    CaFile(PathBuf),
    /// `--tls-insecure`: any certificate, unchecked (still encrypted).
    Insecure,
}

/// A client certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientIdentity {
    /// `--tls-cert`.
    pub cert: PathBuf,
    /// `--tls-key`.
    pub key: PathBuf,
}

/// The TLS settings the flags ask for: `None` without `--tls`.
///
/// # Errors
/// A companion flag without `--tls`, a certificate without its key (or the reverse),
/// `--tls-insecure` with `--tls-ca`, or a file that cannot be read.
pub(crate) fn tls_settings(args: &Args) -> Result<Option<TlsSettings>, ConfigError> {
    if !args.tls {
        let companion = [
            ("--tls-ca", args.tls_ca.is_some()),
            ("--tls-cert", args.tls_cert.is_some()),
            ("--tls-key", args.tls_key.is_some()),
            ("--tls-server-name", args.tls_server_name.is_some()),
            ("--tls-insecure", args.tls_insecure),
        ]
        .into_iter()
        .find(|&(_, given)| given);
        return match companion {
            Some((flag, _)) => Err(ConfigError::Needs {
                flag,
                needs: "--tls",
            }),
            None => Ok(None),
        };
    }
    let trust = match (&args.tls_ca, args.tls_insecure) {
        (Some(_), true) => {
            return Err(ConfigError::Conflict {
                flag: "--tls-insecure",
                other: "--tls-ca",
            })
        }
        (Some(ca), false) => TlsTrust::CaFile(readable("--tls-ca", ca)?),
        (None, true) => TlsTrust::Insecure,
        (None, false) => TlsTrust::CaFile(system_bundle()?),
    };
    let identity = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ClientIdentity {
            cert: readable("--tls-cert", cert)?,
            key: readable("--tls-key", key)?,
        }),
        (Some(_), None) => {
            return Err(ConfigError::Needs {
                flag: "--tls-cert",
                needs: "--tls-key",
            })
        }
        (None, Some(_)) => {
            return Err(ConfigError::Needs {
                flag: "--tls-key",
                needs: "--tls-cert",
            })
        }
        (None, None) => None,
    };
    if args.tls_server_name.as_deref() == Some("") {
        return Err(ConfigError::invalid(
            "--tls-server-name",
            "",
            "a DNS name or an IP address",
        ));
    }
    Ok(Some(TlsSettings {
        trust,
        identity,
        server_name: args.tls_server_name.clone(),
    }))
}

/// `path`, once it is known to be a readable file.
fn readable(flag: &'static str, path: &Path) -> Result<PathBuf, ConfigError> {
    match std::fs::File::open(path).and_then(|file| file.metadata()) {
        Ok(meta) if meta.is_file() => Ok(path.to_path_buf()),
        Ok(_) => Err(ConfigError::UnreadableFile {
            flag,
            path: path.to_path_buf(),
            reason: "not a file".to_owned(),
        }),
        Err(err) => Err(ConfigError::UnreadableFile {
            flag,
            path: path.to_path_buf(),
            reason: os_reason(&err),
        }),
    }
}

/// The system's CA bundle, for `--tls` without `--tls-ca`.
fn system_bundle() -> Result<PathBuf, ConfigError> {
    SYSTEM_CA_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or(ConfigError::NoSystemCaBundle)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn settings(flags: &[&str]) -> Result<Option<TlsSettings>, ConfigError> {
        let argv = ["shardslap", "-s", "a"].iter().chain(flags);
        tls_settings(&Args::try_parse_from(argv).unwrap())
    }

    fn message(flags: &[&str]) -> String {
        settings(flags).unwrap_err().to_string()
    }

    #[test]
    fn without_tls_there_are_no_settings_and_companions_need_it() {
        assert_eq!(settings(&[]).unwrap(), None);
        assert_eq!(message(&["--tls-insecure"]), "--tls-insecure needs --tls");
        assert_eq!(message(&["--tls-ca", "x.pem"]), "--tls-ca needs --tls");
    }

    #[test]
    fn trust_identity_and_name_come_from_their_flags() {
        let file = std::env::temp_dir().join(format!("shardslap-tls-{}.pem", std::process::id()));
        std::fs::write(&file, "pem").unwrap();
        let path = file.to_str().unwrap();
        let got = settings(&[
            "--tls",
            "--tls-ca",
            path,
            "--tls-cert",
            path,
            "--tls-key",
            path,
            "--tls-server-name",
            "cache.example",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(got.trust, TlsTrust::CaFile(file.clone()));
        assert_eq!(
            got.identity,
            Some(ClientIdentity {
                cert: file.clone(),
                key: file.clone(),
            })
        );
        assert_eq!(got.server_name.as_deref(), Some("cache.example"));
        let insecure = settings(&["--tls", "--tls-insecure"]).unwrap().unwrap();
        assert_eq!(insecure.trust, TlsTrust::Insecure);
        assert_eq!(
            message(&["--tls", "--tls-cert", path]),
            "--tls-cert needs --tls-key"
        );
        assert_eq!(
            message(&["--tls", "--tls-insecure", "--tls-ca", path]),
            "--tls-insecure cannot be combined with --tls-ca"
        );
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn a_missing_file_is_named_with_its_reason() {
        assert_eq!(
            message(&["--tls", "--tls-ca", "/nonexistent/ca.pem"]),
            "cannot read --tls-ca /nonexistent/ca.pem: No such file or directory"
        );
        assert_eq!(
            message(&["--tls", "--tls-ca", "/"]),
            "cannot read --tls-ca /: not a file"
        );
    }
}
