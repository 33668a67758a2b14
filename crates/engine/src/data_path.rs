//! Which data path a run's bytes take, chosen once at start-up: the driver's own ring (TCP), or
//! glommio's sockets — for UDP and facebook mode (datagrams gain nothing from the ring), when
//! `SHARDSLAP_DATA_PATH=glommio` asks for it, or when this kernel cannot set up the ring.

use shardslap_config::RunConfig;

/// The environment variable that forces a data path (`ring` or `glommio`).
pub const DATA_PATH_ENV: &str = "SHARDSLAP_DATA_PATH";

/// How a run moves its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataPath {
    /// One driver per executor on an io_uring of its own (`SINGLE_ISSUER | DEFER_TASKRUN`).
    Ring,
    /// glommio's `TcpStream`/`UdpSocket`, one task per concurrency.
    Glommio(GlommioReason),
}

/// Why a run is on glommio's sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlommioReason {
    /// `-U` or `-a`: datagrams stay on glommio's sockets.
    Datagrams,
    /// `SHARDSLAP_DATA_PATH=glommio`.
    Forced,
    /// The ring could not be set up here; the kernel's words.
    RingUnavailable(String),
}

impl DataPath {
    /// The data path for `cfg` in this process, probing the kernel once.
    pub fn choose(cfg: &RunConfig) -> DataPath {
        let forced = std::env::var(DATA_PATH_ENV).ok();
        Self::decide(
            cfg.transport.uses_datagrams(),
            forced.as_deref(),
            crate::uring::probe,
        )
    }

    fn decide(
        datagrams: bool,
        forced: Option<&str>,
        probe: impl FnOnce() -> std::io::Result<()>,
    ) -> DataPath {
        if datagrams {
            return DataPath::Glommio(GlommioReason::Datagrams);
        }
        if forced.is_some_and(|path| path.eq_ignore_ascii_case("glommio")) {
            return DataPath::Glommio(GlommioReason::Forced);
        }
        match probe() {
            Ok(()) => DataPath::Ring,
            Err(err) => DataPath::Glommio(GlommioReason::RingUnavailable(err.to_string())),
        }
    }

    /// Its name in the results: `ring` or `glommio`.
    pub fn name(&self) -> &'static str {
        match self {
            DataPath::Ring => "ring",
            DataPath::Glommio(_) => "glommio",
        }
    }

    /// What to say once on stderr about this choice, if anything: only a fallback the user
    /// did not ask for is news.
    pub fn notice(&self) -> Option<String> {
        match self {
            DataPath::Glommio(GlommioReason::RingUnavailable(why)) => Some(format!(
                "shardslap: the io_uring data path is unavailable ({why}); using glommio's \
                 sockets, which cost more CPU per request"
            )),
            _ => None,
        }
    }
}

impl GlommioReason {
    /// Why, in a few words.
    pub fn describe(&self) -> String {
        match self {
            GlommioReason::Datagrams => "UDP moves through glommio's sockets".to_owned(),
            GlommioReason::Forced => format!("{DATA_PATH_ENV}=glommio"),
            GlommioReason::RingUnavailable(why) => format!("io_uring is unavailable: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn works() -> io::Result<()> {
        Ok(())
    }

    #[test]
    fn tcp_takes_the_ring_when_the_kernel_has_it() {
        assert_eq!(DataPath::decide(false, None, works), DataPath::Ring);
        assert_eq!(DataPath::decide(false, Some("ring"), works), DataPath::Ring);
        assert_eq!(DataPath::Ring.notice(), None);
    }

    #[test]
    fn datagrams_and_a_forced_choice_stay_on_glommio_silently() {
        let udp = DataPath::decide(true, None, works);
        assert_eq!(udp, DataPath::Glommio(GlommioReason::Datagrams));
        assert_eq!(udp.notice(), None);
        let forced = DataPath::decide(false, Some("GLOMMIO"), works);
        assert_eq!(forced, DataPath::Glommio(GlommioReason::Forced));
        assert_eq!(forced.notice(), None);
    }

    #[test]
    fn a_kernel_without_the_ring_falls_back_and_says_so_once() {
        let refuse = || Err(io::Error::from_raw_os_error(libc::EINVAL));
        let path = DataPath::decide(false, None, refuse);
        let notice = path.notice().expect("a notice");
        assert!(
            notice.contains("io_uring data path is unavailable"),
            "{notice}"
        );
        assert!(notice.contains("glommio"), "{notice}");
        assert!(!notice.contains('\n'));
    }
}
